"""Storage of reference sets ("galleries"): sets, symbols, their example sketches, thumbnails and
stored embeddings, in SQLite (the default: a file under ``SIAMESE_HOME``) or PostgreSQL (set
``SIAMESE_DATABASE_URL``: several app servers share one gallery). Its one job is keeping rows;
searching them is :mod:`siamese.search.index`'s. The rules (who may write what, names, messages) and the
SQL live here, once; each database is one module of :mod:`siamese.gallery.stores`.

Layout: a reference set has symbols; a symbol has an owner (a student or the teacher, see
:mod:`siamese.classroom`) and a name unique among its owner's symbols in that set (enforced by the
database: two students may both call a symbol "star"); a symbol has one or more examples (a 28x28
model input and a display thumbnail); an example has one embedding
per model that made it (``model_id``), so switching models recomputes embeddings instead of
mixing spaces. Every write is one short transaction, serialised with the other writes to the
database (whichever server makes them), and bumps its set's revision, which caches key on.
"""
from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from siamese.classroom import (TEACHER_OWNER, Action, Actor, IdentityError, PermissionDenied, Role, new_token, require,
                               token_hash)
from siamese.data.codec import input_to_bytes, stored_input
from siamese.gallery.errors import GalleryError
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.stores import Conflict, open_store

MAX_NAME = 40
"""Longest symbol name (or display name), characters."""

_RESET = ("Your teacher has started a new class since you joined, so your old name and symbols are gone. "
          "Pick your name to join again.")


class SetKind(StrEnum):
    """What a reference set holds: symbols users registered or imported, or a default set built
    from a dataset (never deleted)."""
    USER = "user"
    DIGITS = "digits"
    OMNIGLOT = "omniglot"


@dataclass(frozen=True)
class StoredExample:
    """One stored example, as :meth:`Gallery.examples` lists it.

    Attributes:
        id: never reused, even after a delete; symbol: its symbol's name;
        model_input: 784 bytes (see :func:`input_to_bytes`);
        vector: the stored embedding by the requested model (``(d,) float32`` bytes) or None;
        thumbnail: PNG bytes, or None unless asked for; symbol_id: its symbol's id (two owners'
        symbols may share a name); owner, owner_name: the symbol's owner id and display name.
    """
    id: int
    symbol: str
    model_input: bytes
    vector: bytes | None = None
    thumbnail: bytes | None = None
    symbol_id: int = 0
    owner: int = TEACHER_OWNER
    owner_name: str = ""


MAX_MARKS = 16
"""Most code points in one user-perceived character (an emoji family is 7, a flag of a region
7, a kiss with two skin tones 10); beyond it, stacked marks ("Zalgo" text) overflow their line."""
_JOINERS = {"\u200c", "\u200d"}  # zero-width non-joiner (the Persian half-space) and joiner
_JOINING_SCRIPTS = ("ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "MANDAIC", "PHAGS-PA", "MANICHAEAN",
                    "PSALTER PAHLAVI", "HANIFI ROHINGYA", "SOGDIAN", "ADLAM")
"""Scripts whose letters join, where a non-joiner changes what a word looks like (Unicode
Standard, chapter 9; RFC 5892 appendix A.1 states the same rule by joining type)."""


def _neighbour(name: str, i: int, step: int) -> str:
    """The nearest character to ``name[i]`` in direction ``step`` that is not a combining mark
    or a variation selector ("" at either end)."""
    i += step
    while 0 <= i < len(name) and unicodedata.category(name[i]) in ("Mn", "Me"):
        i += step
    return name[i] if 0 <= i < len(name) else ""


def _visible_format_char(name: str, i: int) -> bool:
    """Whether the invisible format character ``name[i]`` (category Cf) does visible work here.

    Allowed, as in the contexts of RFC 5892 appendix A and Unicode's emoji sequences (UTS #51):
    a joiner after a virama (Indic conjuncts); a non-joiner between two letters of a joining
    script (Persian ``می‌خواهم``); a joiner between two emoji (``👩‍💻``); tag characters
    after a black flag (the flags of Scotland or Wales). Anything else (bidirectional overrides
    and isolates, zero-width spaces, a joiner at either end or between Latin letters) makes no
    visible difference or disguises the name, and is refused.
    """
    c = name[i]
    before, after = _neighbour(name, i, -1), _neighbour(name, i, +1)
    if c in _JOINERS and i > 0 and unicodedata.combining(name[i - 1]) == 9:
        return True  # after a virama
    if c == "\u200c":
        return all(x and unicodedata.category(x).startswith("L")
                   and unicodedata.name(x, "").startswith(_JOINING_SCRIPTS) for x in (before, after))
    if c == "\u200d":
        return bool(before and after) and unicodedata.category(before) in ("So", "Sk") and unicodedata.category(after) == "So"
    if "\U000e0020" <= c <= "\U000e007f":
        return i > 0 and (name[i - 1] == "\U0001f3f4" or "\U000e0020" <= name[i - 1] <= "\U000e007e")
    return False


def clean_name(name: str, what: str = "a name for the symbol") -> str:
    """Validate and normalise a symbol, set or display name, judged by what a person sees.

    Names are plain text: any script, emoji, HTML or markdown characters are kept as typed and
    always displayed as text, never rendered. Unicode NFC normalisation, surrounding whitespace
    stripped. Invisible format characters pass only where they change what the name looks like
    (see :func:`_visible_format_char`). Length counts user-perceived characters (extended
    grapheme clusters, Unicode UAX #29, via the ``regex`` package), so an emoji family is one.

    Arguments:
        what: what to ask for when the name is empty ("Please type <what>.").

    Raises:
        GalleryError: not text; empty or whitespace only; more than ``MAX_NAME`` characters;
            one character stacking more than ``MAX_MARKS`` code points; control characters
            (newlines, tabs, NUL), line or paragraph separators, or invisible characters that can
            disguise a name (bidirectional overrides and isolates, zero-width spaces, stray
            joiners).
    """
    import regex  # third-party: Python's re has no grapheme clusters (\X)

    if not isinstance(name, str):
        raise GalleryError("The name must be text.")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise GalleryError(f"Please type {what}.")
    if len(name) > 20 * MAX_NAME:  # before the grapheme scan: bounded work for any input
        raise GalleryError(f"That name is far too long; please keep it to {MAX_NAME} characters.")
    bad = [i for i, c in enumerate(name) if unicodedata.category(c) in ("Cc", "Zl", "Zp")
           or (unicodedata.category(c) == "Cf" and not _visible_format_char(name, i))]
    if bad:
        raise GalleryError("The name contains invisible control characters; please retype it.")
    clusters = regex.findall(r"\X", name)
    if len(clusters) > MAX_NAME:
        raise GalleryError(f"That name is {len(clusters)} characters long; please keep it to {MAX_NAME}.")
    if max(len(c) for c in clusters) > MAX_MARKS:
        raise GalleryError("One character of the name carries too many accents or marks; please retype it.")
    return name


class Gallery:
    """The reference-set database, and who owns what in it.

    Every write made for a user takes the :class:`~siamese.classroom.Actor` asking for it and
    checks :func:`siamese.classroom.require` before anything else: a write for the wrong owner
    raises :class:`~siamese.classroom.PermissionDenied` and changes nothing, whatever a page shows.

    Arguments:
        location: where the database is: ``postgresql://user@host:5432/dbname`` (several servers
            share it), ``sqlite:///path/to/gallery.sqlite3`` or a path to a SQLite file, or None:
            ``SIAMESE_DATABASE_URL`` if set, else ``$SIAMESE_HOME/gallery.sqlite3``
            (:func:`siamese.gallery.stores.open_store`). An instance can be shared by the threads of all
            Streamlit sessions.

    Attributes:
        url: the database's URL (with its password, if it has one: to open it again); where: the
            same without the password, for messages; path: the SQLite file, or None.

    Raises:
        GalleryUnavailable: the database cannot be reached or opened, refuses the credentials,
            holds another schema version, or has a URL of an unknown scheme.
    """

    def __init__(self, location=None):
        self._store = open_store(location)
        self.url, self.where, self.path = self._store.url, self._store.where, self._store.path
        if not self.has_set(CLASS_SYMBOLS):
            with self._write() as con:
                con.execute("INSERT INTO ref_sets (name, kind) SELECT ?, ? WHERE NOT EXISTS "
                            "(SELECT 1 FROM ref_sets WHERE name = ?)", (CLASS_SYMBOLS, SetKind.USER, CLASS_SYMBOLS))

    def _connect(self):
        """A read session (:class:`siamese.gallery.stores.Session`)."""
        return self._store.read()

    def _write(self):
        """One write transaction, serialised with every other write to the database."""
        return self._store.write()

    # ---- reading ----
    def sets(self) -> list[dict]:
        """All reference sets: ``[{"name", "kind", "symbols", "examples"}]``: "Class symbols" first,
        then the other user sets, the digits and the alphabets, each by name."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT r.name, r.kind, COUNT(DISTINCT s.id), COUNT(e.id) FROM ref_sets r "
                "LEFT JOIN symbols s ON s.set_id = r.id LEFT JOIN examples e ON e.symbol_id = s.id "
                "GROUP BY r.id ORDER BY r.name != ?, r.kind != 'user', r.kind != 'digits', r.name",
                (CLASS_SYMBOLS,)).fetchall()
        return [{"name": n, "kind": SetKind(k), "symbols": s, "examples": e} for n, k, s, e in rows]

    def symbols(self, set_name: str, owner: int | None = None) -> list[dict]:
        """Symbols of a set (only ``owner``'s, if given), by name then owner:
        ``[{"id", "name", "owner", "owner_name", "examples", "example_id"}]`` (``example_id``: the
        first example's, for a thumbnail)."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT s.id, s.name, s.owner_id, o.name, COUNT(e.id), MIN(e.id) FROM symbols s "
                "JOIN ref_sets r ON r.id = s.set_id JOIN owners o ON o.id = s.owner_id "
                "LEFT JOIN examples e ON e.symbol_id = s.id WHERE r.name = ? "
                + ("" if owner is None else "AND s.owner_id = ? ") +
                "GROUP BY s.id, o.id ORDER BY s.name, o.name, s.id",
                (set_name,) if owner is None else (set_name, int(owner))).fetchall()
        return [{"id": i, "name": n, "owner": o, "owner_name": on, "examples": c, "example_id": e}
                for i, n, o, on, c, e in rows]

    def symbol(self, symbol_id: int) -> dict | None:
        """One symbol by its id (ids are never reused): ``{"id", "set", "name", "owner",
        "owner_name"}``, or None once it is deleted."""
        with self._connect() as con:
            row = con.execute("SELECT s.id, r.name, s.name, s.owner_id, o.name FROM symbols s JOIN ref_sets r "
                              "ON r.id = s.set_id JOIN owners o ON o.id = s.owner_id WHERE s.id = ?",
                              (int(symbol_id),)).fetchone()
        return None if row is None else dict(zip(("id", "set", "name", "owner", "owner_name"), row))

    def thumbnail(self, example_id: int) -> bytes:
        """PNG bytes of an example's thumbnail. Raises GalleryError if it no longer exists."""
        with self._connect() as con:
            row = con.execute("SELECT thumbnail FROM examples WHERE id = ?", (int(example_id),)).fetchone()
        if row is None:
            raise GalleryError("That reference was deleted.")
        return row[0]

    def has_set(self, set_name: str) -> bool:
        """Whether a reference set of that name exists."""
        with self._connect() as con:
            return con.execute("SELECT 1 FROM ref_sets WHERE name = ?", (set_name,)).fetchone() is not None

    def revision(self, set_name: str) -> tuple[int, int]:
        """``(set id, revision)`` of a set. Ids are never reused and every write to a set bumps its
        revision, so the pair names one version of its contents (caches are keyed by it).

        Raises:
            GalleryError: unknown set.
        """
        with self._connect() as con:
            row = con.execute("SELECT id, revision FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
        if row is None:
            raise GalleryError(f"There is no reference set called {set_name!r}.")
        return row[0], row[1]

    def examples(self, set_name: str, model_id: str | None = None, thumbnails: bool = False,
                 by_symbol: bool = False) -> list[StoredExample]:
        """Every example of a set, in insertion order (or by symbol name, then symbol, then
        insertion: one symbol's examples together).

        Arguments:
            model_id: also return each example's stored embedding by this model (None if missing).
            thumbnails: also return the thumbnails (kept out of searches: they are the bulk).

        Raises:
            GalleryError: unknown set.
        """
        set_id, _ = self.revision(set_name)
        query = ("SELECT e.id, s.name, e.model_input, v.vector, " + ("e.thumbnail" if thumbnails else "NULL") +
                 ", s.id, s.owner_id, o.name FROM examples e JOIN symbols s ON s.id = e.symbol_id "
                 "JOIN owners o ON o.id = s.owner_id "
                 "LEFT JOIN embeddings v ON v.example_id = e.id AND v.model_id = ? WHERE s.set_id = ? "
                 + ("ORDER BY s.name, s.id, e.id" if by_symbol else "ORDER BY e.id"))
        with self._connect() as con:
            rows = con.execute(query, (model_id, set_id)).fetchall()
        return [StoredExample(*row) for row in rows]

    def store_embeddings(self, model_id: str, vectors: dict) -> None:
        """Store embeddings ``{example id: (d,) float32}`` by one model; examples deleted meanwhile
        (by another session) are skipped. Does not change any revision: contents are the same."""
        with self._write() as con:
            con.executemany("INSERT INTO embeddings (example_id, model_id, vector) SELECT ?, ?, ? WHERE EXISTS "
                            "(SELECT 1 FROM examples WHERE id = ?) "
                            "ON CONFLICT (example_id, model_id) DO UPDATE SET vector = excluded.vector",
                            [(int(i), model_id, np.asarray(v, np.float32).tobytes(), int(i))
                             for i, v in vectors.items()])

    # ---- the class ----
    def join_class(self, display_name: str) -> tuple[str, Actor]:
        """Add a student under the display name they chose. Two students may choose the same
        name: they stay two owners.

        Returns:
            ``(identity token, the student)``. The token is returned here only; the database
            keeps its hash (:func:`siamese.classroom.token_hash`).

        Raises:
            GalleryError: a name :func:`clean_name` refuses (empty, blank, too long, invisible
                control characters).
        """
        name = clean_name(display_name, "your name")
        token = new_token()
        with self._write() as con:
            owner = con.insert("INSERT INTO owners (name, token_hash) VALUES (?, ?)", (name, token_hash(token)))
        return token, Actor(Role.STUDENT, owner, name)

    def student(self, token) -> Actor:
        """The student an identity token belongs to.

        Raises:
            IdentityError: a malformed token, one this server never issued, or one from before the
                teacher reset the class.
        """
        digest = token_hash(token)
        with self._connect() as con:
            row = con.execute("SELECT id, name, retired FROM owners WHERE token_hash = ?", (digest,)).fetchone()
        if row is None:
            raise IdentityError("This server does not know the student in this address (was it made for another "
                                "server?). Pick your name to join the class.")
        if row[2]:
            raise IdentityError(_RESET)
        return Actor(Role.STUDENT, row[0], row[1])

    def students(self) -> list[dict]:
        """The class: ``[{"owner", "name", "symbols"}]`` of every student who joined since the last
        reset, in joining order."""
        with self._connect() as con:
            rows = con.execute("SELECT o.id, o.name, COUNT(s.id) FROM owners o "
                               "LEFT JOIN symbols s ON s.owner_id = o.id "
                               "WHERE o.id != ? AND o.retired = 0 GROUP BY o.id ORDER BY o.id",
                               (TEACHER_OWNER,)).fetchall()
        return [{"owner": o, "name": n, "symbols": c} for o, n, c in rows]

    def reset_class(self, actor: Actor) -> tuple[int, int]:
        """Start a new class: every student's symbols and experiment answers are deleted, every
        experiment round still open is ended, and every student identity is retired (their links
        then say so). The teacher's symbols and all sets stay.

        Returns:
            ``(students retired, symbols deleted)``.

        Raises:
            PermissionDenied: not the teacher.
        """
        require(actor, Action.RESET_CLASS)
        with self._write() as con:
            touched = [r[0] for r in con.execute("SELECT DISTINCT set_id FROM symbols WHERE owner_id != ?",
                                                 (TEACHER_OWNER,))]
            deleted = con.execute("DELETE FROM symbols WHERE owner_id != ?", (TEACHER_OWNER,)).rowcount
            con.execute("DELETE FROM answers WHERE owner_id != ?", (TEACHER_OWNER,))
            con.execute("UPDATE rounds SET state = 'ended', ended = ? WHERE state = 'open'",
                        (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),))
            con.executemany("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", [(i,) for i in touched])
            retired = con.execute("UPDATE owners SET retired = 1 WHERE id != ? AND retired = 0",
                                  (TEACHER_OWNER,)).rowcount
        return retired, deleted

    @staticmethod
    def _check_current(con, actor: Actor) -> None:
        """Inside a write: a student retired by a reset since their page loaded writes nothing."""
        if actor.role is Role.STUDENT:
            row = con.execute("SELECT retired FROM owners WHERE id = ?", (actor.owner,)).fetchone()
            if row is None or row[0]:
                raise IdentityError(_RESET)

    @staticmethod
    def _subject(con, actor: Actor, owner: int, set_name: str) -> tuple[str, str, str]:
        """How a message names whose symbols it means: ``(subject, verb, where)``, as in
        "Class symbols has", "You have ... in Class symbols", "Ana has ... in Class symbols"."""
        if actor.role is Role.SOLO:
            return set_name, "has", ""
        if owner == actor.owner:
            return "You", "have", f" in {set_name}"
        row = con.execute("SELECT name FROM owners WHERE id = ?", (owner,)).fetchone()
        return (row[0] if row else "Its owner"), "has", f" in {set_name}"

    # ---- writing ----
    def add_example(self, set_name: str, symbol: str, model_input: np.ndarray, thumbnail: bytes,
                    embedding: tuple[str, np.ndarray] | None = None, new_symbol: bool = True, *,
                    actor: Actor, owner: int | None = None) -> str:
        """Store one example of a symbol.

        Arguments:
            set_name: an existing reference set (for a student, only "Class symbols").
            symbol: the symbol's name (validated with :func:`clean_name`).
            model_input: ``(28, 28) float32`` from :func:`siamese.data.preprocess.to_model_input`.
            thumbnail: PNG bytes for display.
            embedding: ``(model id, (d,) float32)`` stored in the same transaction; compute it from
                :func:`stored_input` (what is stored), so a later recomputation gives the same vector.
            new_symbol: True: a new symbol of the actor's (registration); its name must be new
                among the actor's symbols in this set. False: add another example of an existing
                symbol (several sketches improve matching).
            actor: who asks; owner: whose existing symbol gets the example (default: the
                actor's own; only with ``new_symbol=False``).

        Returns:
            the stored (cleaned) name.

        Raises:
            PermissionDenied: the actor may not (another student's symbol, a student writing
                outside "Class symbols", a new symbol for another owner).
            IdentityError: a student retired by a class reset.
            GalleryError: bad name, duplicate name (with ``new_symbol``), unknown symbol
                (without), unknown set.
        """
        if new_symbol and owner not in (None, actor.owner):
            raise PermissionDenied("A new symbol belongs to whoever registers it; nobody registers for someone else.")
        owner = actor.owner if owner is None else owner
        require(actor, Action.REGISTER if new_symbol else Action.ADD_EXAMPLE, owner)
        if actor.role is Role.STUDENT and set_name != CLASS_SYMBOLS:
            raise PermissionDenied(f"Students register their symbols in {CLASS_SYMBOLS}; only the teacher can "
                                   f"change {set_name}.")
        name = clean_name(symbol)
        stored = input_to_bytes(model_input)
        with self._write() as con:
            self._check_current(con, actor)
            row = con.execute("SELECT id FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if row is None:
                raise GalleryError(f"There is no reference set called {set_name!r}.")
            set_id = row[0]
            if new_symbol:
                try:
                    with con.savepoint():
                        sym_id = con.insert("INSERT INTO symbols (set_id, owner_id, name) VALUES (?, ?, ?)",
                                            (set_id, owner, name))
                except Conflict:
                    who, verb, where = self._subject(con, actor, owner, set_name)
                    raise GalleryError(f"{who} already {verb} a symbol called “{name}”{where}. Choose another "
                                       f"name, or add this sketch as another example of it.") from None
            else:
                found = con.execute("SELECT id FROM symbols WHERE set_id = ? AND owner_id = ? AND name = ?",
                                    (set_id, owner, name)).fetchone()
                if found is None:
                    who, verb, where = self._subject(con, actor, owner, set_name)
                    raise GalleryError(f"{who} {verb} no symbol called “{name}”{where}.")
                sym_id = found[0]
            ex_id = con.insert("INSERT INTO examples (symbol_id, model_input, thumbnail) VALUES (?, ?, ?)",
                               (sym_id, stored, thumbnail))
            if embedding is not None:
                con.execute("INSERT INTO embeddings (example_id, model_id, vector) VALUES (?, ?, ?)",
                            (ex_id, embedding[0], np.asarray(embedding[1], np.float32).tobytes()))
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))
        return name

    def rename_symbol(self, set_name: str, old: str, new: str, *, actor: Actor, owner: int | None = None) -> str:
        """Rename ``owner``'s symbol ``old`` (default owner: the actor); returns the cleaned new name.

        Raises:
            PermissionDenied: another student's symbol. IdentityError: a retired student.
            GalleryError: bad or duplicate new name, unknown symbol.
        """
        owner = actor.owner if owner is None else owner
        require(actor, Action.RENAME, owner)
        name = clean_name(new)
        with self._write() as con:
            self._check_current(con, actor)
            try:
                with con.savepoint():
                    cur = con.execute("UPDATE symbols SET name = ? WHERE name = ? AND owner_id = ? AND set_id = "
                                      "(SELECT id FROM ref_sets WHERE name = ?)", (name, old, owner, set_name))
            except Conflict:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} already {verb} a symbol called “{name}”{where}.") from None
            if cur.rowcount == 0:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} {verb} no symbol called “{old}”{where} (was it deleted?).")
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE name = ?", (set_name,))
        return name

    def delete_symbol(self, set_name: str, name: str, *, actor: Actor, owner: int | None = None) -> None:
        """Delete ``owner``'s symbol (default owner: the actor) and all its examples.

        Raises:
            PermissionDenied: another student's symbol. IdentityError: a retired student.
            GalleryError: unknown symbol.
        """
        owner = actor.owner if owner is None else owner
        require(actor, Action.DELETE_SYMBOL, owner)
        with self._write() as con:
            self._check_current(con, actor)
            cur = con.execute("DELETE FROM symbols WHERE name = ? AND owner_id = ? AND set_id = "
                              "(SELECT id FROM ref_sets WHERE name = ?)", (name, owner, set_name))
            if cur.rowcount == 0:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} {verb} no symbol called “{name}”{where}.")
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE name = ?", (set_name,))

    def delete_set(self, set_name: str, *, actor: Actor) -> None:
        """Delete a user reference set (an imported one) with all its symbols. "Class symbols" and
        the default sets built from the datasets cannot be deleted.

        Raises:
            PermissionDenied: not the teacher.
            GalleryError: unknown set, or one that cannot be deleted.
        """
        require(actor, Action.DELETE_SET)
        if set_name == CLASS_SYMBOLS:
            raise GalleryError(f"“{CLASS_SYMBOLS}” cannot be deleted; delete its symbols one by one.")
        with self._write() as con:
            row = con.execute("SELECT kind FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if row is None:
                raise GalleryError(f"There is no reference set called {set_name!r}.")
            if row[0] != SetKind.USER:
                raise GalleryError("The reference sets built from the datasets cannot be deleted.")
            con.execute("DELETE FROM ref_sets WHERE name = ?", (set_name,))

    def get_meta(self, key: str):
        """The value stored under ``key`` (text), or None."""
        with self._connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` (text) under ``key``, replacing what was there."""
        with self._write() as con:
            con.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def add_set_bulk(self, set_name: str, kind: SetKind, items,
                     embeddings: tuple[str, np.ndarray] | None = None, replace: bool = False) -> bool:
        """Create a whole reference set in one transaction, if it does not exist yet; its symbols
        are the teacher's. Not a user's action by itself: the server builds the default sets, and
        :func:`siamese.gallery.exchange.import_set` checks who imports before calling this.

        Arguments:
            items: list of ``(symbol name, model_input (28, 28) float32, thumbnail PNG bytes)``.
            embeddings: ``(model id, (n, d) float32)``, one row per item, computed from
                :func:`stored_input`; or None (they are computed on first search).
            replace: rebuild a default set that exists (a new version of the Digits set), in the
                same transaction, so readers see the old set or the new one; a user's set is never
                replaced.

        Returns:
            True if created now, False if it already existed (left untouched).

        Raises:
            GalleryError: ``replace`` of a user's set.
        """
        kind = SetKind(kind)
        stored = [input_to_bytes(x) for _, x, _ in items]
        vectors = None if embeddings is None else np.asarray(embeddings[1], np.float32)
        with self._write() as con:
            row = con.execute("SELECT kind FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if row and not replace:
                return False
            if row:
                if row[0] == SetKind.USER:
                    raise GalleryError(f"{set_name!r} is a user's set: it is never replaced.")
                con.execute("DELETE FROM ref_sets WHERE name = ?", (set_name,))  # cascades to its rows
            set_id = con.insert("INSERT INTO ref_sets (name, kind) VALUES (?, ?)", (set_name, kind))
            sym_ids = {}
            for i, (sym, x, thumb) in enumerate(items):
                if sym not in sym_ids:
                    sym_ids[sym] = con.insert("INSERT INTO symbols (set_id, name) VALUES (?, ?)", (set_id, sym))
                ex = con.insert("INSERT INTO examples (symbol_id, model_input, thumbnail) VALUES (?, ?, ?)",
                                (sym_ids[sym], stored[i], thumb))
                if vectors is not None:
                    con.execute("INSERT INTO embeddings (example_id, model_id, vector) VALUES (?, ?, ?)",
                                (ex, embeddings[0], vectors[i].tobytes()))
        return True
