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
from siamese.gallery.errors import GalleryError, StaleChoice
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.stores import Conflict, open_store

MAX_NAME = 40
"""Longest symbol name (or display name), characters."""

_RESET = ("Your teacher has started a new class since you joined, so your old name and symbols are gone. "
          "Pick your name to join again.")


def _stale(shown: str, now: str | None) -> str:
    """The message of a :class:`StaleChoice`: the symbol shown as ``shown`` is now called ``now``
    (None: deleted)."""
    what = "was deleted" if now is None else f"was renamed to “{now}”"
    return f"“{shown}” {what} (in another tab, or by someone else) since this page showed it: choose again."


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


OWNER_SEPARATOR = " · "
"""Between a symbol's name and its owner's in a class's labels ("star · Ana", :func:`symbol_label`)."""
TEACHER_NAME = "Teacher"
"""The teacher's display name (owner 1 in every database): no student may take it, or one like it."""
_DOTS = {"\u00b7", "\u0387", "\u2022", "\u2027", "\u2219", "\u22c5", "\u30fb", "\uff65", "\u2e31", "\u1427",
         "\u00b8", "\u2981", "\u25cf", "\u25e6", "\u2024", "\u2e33", "\U00010101"}
"""The owner separator's dot and the characters that look like it (middle dots, bullets, dot
operators, the katakana and word-separator middle dots)."""


def symbol_label(name: str, owner_name: str, by_owner: bool) -> str:
    """How a symbol is shown: "star · Ana" where owners are shown (a class's Class symbols), else
    its name. Truthful whatever anyone typed: no name holds the separator or a look-alike
    (:func:`clean_name`), no student is called like the teacher or like another student of the
    class (:meth:`Gallery.join_class`), so the part after the one " · " is the owner."""
    return f"{name}{OWNER_SEPARATOR}{owner_name}" if by_owner else name


def name_key(name: str) -> str:
    """What two symbol names look like to a reader of the match list: NFKC (full-width and other
    compatibility forms folded), case folded, runs of spaces as one. One owner's symbols in a set
    have different keys: "alpha", "Alpha" and "ALPHA" are one name (#24: three symbols that look
    alike in the match list and on a projector are a trap, not three symbols)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def person_key(name: str) -> str:
    """What a display name reads as: :func:`name_key` with punctuation, spaces and invisible
    characters dropped, letters, digits, marks and symbols (emoji) kept ("Teacher!", "T-eacher"
    and "TEACHER" are all "teacher")."""
    return "".join(c for c in name_key(name) if unicodedata.category(c)[0] in "LNMS")


def _separator_like(name: str) -> bool:
    """Whether ``name`` holds the owner separator's dot or a look-alike. A middle dot between two
    letters (the Catalan "l·l", as Unicode recommends writing it) reads as part of a word and
    is kept."""
    for i, c in enumerate(name):
        if c in _DOTS:
            between_letters = (c == "\u00b7" and 0 < i < len(name) - 1 and name[i - 1].isalpha()
                               and name[i + 1].isalpha())
            if not between_letters:
                return True
    return False


def clean_name(name: str, what: str = "a name for the symbol", separator_ok: bool = False) -> str:
    """Validate and normalise a symbol, set or display name, judged by what a person sees.

    Names are plain text: any script, emoji, HTML or markdown characters are kept as typed and
    always displayed as text, never rendered. Unicode NFC normalisation, surrounding whitespace
    stripped. Invisible format characters pass only where they change what the name looks like
    (see :func:`_visible_format_char`). Length counts user-perceived characters (extended
    grapheme clusters, Unicode UAX #29, via the ``regex`` package), so an emoji family is one.

    Arguments:
        what: what to ask for when the name is empty ("Please type <what>.").
        separator_ok: True for a name that is never part of a symbol's label (a set's name).

    Raises:
        GalleryError: not text; empty or whitespace only; more than ``MAX_NAME`` characters;
            one character stacking more than ``MAX_MARKS`` code points; control characters
            (newlines, tabs, NUL), line or paragraph separators, or invisible characters that can
            disguise a name (bidirectional overrides and isolates, zero-width spaces, stray
            joiners); the owner separator's dot or a look-alike (:data:`OWNER_SEPARATOR`;
            a middle dot between two letters, the Catalan "l·l", is kept), so a label's owner
            part is always the owner's.
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
    if not separator_ok and _separator_like(name):
        raise GalleryError(f"The name may not contain “·” or a dot like it: the app writes it between a symbol and its "
                           f"owner (“star{OWNER_SEPARATOR}Ana”). Please use another character.")
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
        """All reference sets: ``[{"name", "kind", "symbols", "examples", "id"}]``: "Class symbols"
        first, then the other user sets, the digits and the alphabets, each by name (``id``: never
        reused, to bind an action to the set a page showed)."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT r.name, r.kind, COUNT(DISTINCT s.id), COUNT(e.id), r.id FROM ref_sets r "
                "LEFT JOIN symbols s ON s.set_id = r.id LEFT JOIN examples e ON e.symbol_id = s.id "
                "GROUP BY r.id ORDER BY r.name != ?, r.kind != 'user', r.kind != 'digits', r.name",
                (CLASS_SYMBOLS,)).fetchall()
        return [{"name": n, "kind": SetKind(k), "symbols": s, "examples": e, "id": i} for n, k, s, e, i in rows]

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
        """Add a student under the display name they chose, unique in the class (#24: a label must
        say truthfully whose a symbol is; two "Sam"s could not be told apart, and a second "Ana"
        would pass for the first).

        Returns:
            ``(identity token, the student)``. The token is returned here only; the database
            keeps its hash (:func:`siamese.classroom.token_hash`).

        Raises:
            GalleryError: a name :func:`clean_name` refuses (empty, blank, too long, invisible
                control characters, the owner separator); the teacher's name or one reading like
                it ("teacher!"); the name of a student of this class, or one reading like it
                (:func:`person_key`; checked in the write, so two joining at once cannot both
                take it). Labels then always say whose a symbol is (:func:`symbol_label`).
        """
        name = clean_name(display_name, "your name")
        if person_key(name) == person_key(TEACHER_NAME) or not person_key(name):
            raise GalleryError(f"“{name}” would read as the teacher's name (or as no name) next to your symbols; "
                               "please type your own name.")
        token = new_token()
        with self._write() as con:
            taken = [n for (n,) in con.execute("SELECT name FROM owners WHERE id != ? AND retired = 0",
                                               (TEACHER_OWNER,)) if person_key(n) == person_key(name)]
            if taken:
                raise GalleryError(f"Someone in this class is already called “{taken[0]}”, so your symbols would look like "
                                   "theirs. Add an initial or a nickname (e.g. “Ana B.”).")
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
                    actor: Actor, owner: int | None = None, symbol_id: int | None = None) -> str:
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
            symbol_id: with ``new_symbol=False``, the symbol the page showed (ids are never
                reused), as ``symbol`` named it then: the example goes to that symbol or nowhere.

        Returns:
            the stored (cleaned) name.

        Raises:
            PermissionDenied: the actor may not (another student's symbol, a student writing
                outside "Class symbols", a new symbol for another owner).
            IdentityError: a student retired by a class reset.
            StaleChoice: ``symbol_id`` was renamed or deleted since the page showed it.
            GalleryError: bad name, duplicate name (with ``new_symbol``; names differing only in
                case or compatibility forms count as one, :func:`name_key`), unknown symbol
                (without), unknown set.
        """
        if not new_symbol and symbol_id is not None:
            with self._write() as con:
                self._check_current(con, actor)
                sym_id, set_id, in_set, name, _ = self._chosen(con, symbol_id, symbol, actor, Action.ADD_EXAMPLE)
                if in_set != set_name:
                    raise StaleChoice(f"“{symbol}” is not in {set_name}: choose again.")
                self._insert_example(con, set_id, sym_id, input_to_bytes(model_input), thumbnail, embedding)
            return name
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
                if (alike := self._alike(con, set_id, owner, name)) is not None:
                    who, verb, where = self._subject(con, actor, owner, set_name)
                    same = "" if alike == name else ", which looks the same in the match list"
                    raise GalleryError(f"{who} already {verb} a symbol called “{alike}”{where}{same}. Choose another "
                                       "name, or add this sketch as another example of it.")
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
            self._insert_example(con, set_id, sym_id, stored, thumbnail, embedding)
        return name

    @staticmethod
    def _insert_example(con, set_id: int, sym_id: int, stored: bytes, thumbnail: bytes, embedding) -> None:
        ex_id = con.insert("INSERT INTO examples (symbol_id, model_input, thumbnail) VALUES (?, ?, ?)",
                           (sym_id, stored, thumbnail))
        if embedding is not None:
            con.execute("INSERT INTO embeddings (example_id, model_id, vector) VALUES (?, ?, ?)",
                        (ex_id, embedding[0], np.asarray(embedding[1], np.float32).tobytes()))
        con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))

    @staticmethod
    def _alike(con, set_id: int, owner: int, name: str, besides: int | None = None) -> str | None:
        """Inside a write: the name of ``owner``'s symbol in the set that reads like ``name``
        (:func:`name_key`), other than the symbol ``besides``; None if there is none."""
        key = name_key(name)
        for sym_id, other in con.execute("SELECT id, name FROM symbols WHERE set_id = ? AND owner_id = ?",
                                         (set_id, owner)):
            if sym_id != besides and name_key(other) == key:
                return other
        return None

    @staticmethod
    def _chosen(con, symbol_id: int, shown: str, actor: Actor, action: Action) -> tuple[int, int, str, str, int]:
        """Inside a write: the symbol a page showed as ``shown``, as it is now: ``(id, set id, set
        name, name, owner)``, after :func:`siamese.classroom.require` for ``action`` on it.

        Raises:
            StaleChoice: it was deleted, or renamed, since (another tab, its owner, the teacher).
            PermissionDenied: not the actor's to change.
        """
        row = con.execute("SELECT s.id, s.set_id, r.name, s.name, s.owner_id FROM symbols s JOIN ref_sets r "
                          "ON r.id = s.set_id WHERE s.id = ?", (int(symbol_id),)).fetchone()
        if row is None:
            raise StaleChoice(_stale(shown, None))
        require(actor, action, row[4])
        if row[3] != shown:
            raise StaleChoice(_stale(shown, row[3]))
        return tuple(row)

    def stale_reason(self, symbol_id: int, shown: str) -> str | None:
        """Why the symbol a page showed as ``shown`` is no longer that (renamed or deleted since),
        in the words an action on it would be refused with (:class:`StaleChoice`); None while it
        is as shown. For a page to say so as soon as it notices, before anyone presses a button."""
        now = self.symbol(symbol_id)
        if now is None or now["name"] != shown:
            return _stale(shown, None if now is None else now["name"])
        return None

    def rename_chosen(self, symbol_id: int, shown: str, new: str, *, actor: Actor) -> str:
        """Rename the symbol a page showed: ``symbol_id`` (ids are never reused), named ``shown``
        there. The rename applies to that symbol as the page showed it, or to nothing.

        Returns:
            the cleaned new name.

        Raises:
            StaleChoice: renamed or deleted since the page showed it.
            PermissionDenied: another student's symbol. IdentityError: a retired student.
            GalleryError: bad new name; its own name ("nothing to change"); the name of another of
                the owner's symbols in the set, or one reading like it (:func:`name_key`). A
                change of case alone ("alpha" to "Alpha") is a rename.
        """
        name = clean_name(new)
        with self._write() as con:
            self._check_current(con, actor)
            sym_id, set_id, set_name, old, owner = self._chosen(con, symbol_id, shown, actor, Action.RENAME)
            if name == old:
                raise GalleryError(f"It is already called “{old}”: type the new name, then press Rename.")
            if (alike := self._alike(con, set_id, owner, name, besides=sym_id)) is not None:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} already {verb} a symbol called “{alike}”{where}"
                                   + ("." if alike == name else ", which looks the same in the match list."))
            con.execute("UPDATE symbols SET name = ? WHERE id = ?", (name, sym_id))
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))
        return name

    def delete_chosen(self, symbol_id: int, shown: str, *, actor: Actor) -> None:
        """Delete the symbol a page showed (``symbol_id``, named ``shown`` there) and all its
        examples, or nothing.

        Raises:
            StaleChoice: renamed or deleted since the page showed it.
            PermissionDenied: another student's symbol. IdentityError: a retired student.
        """
        with self._write() as con:
            self._check_current(con, actor)
            sym_id, set_id, *_ = self._chosen(con, symbol_id, shown, actor, Action.DELETE_SYMBOL)
            con.execute("DELETE FROM symbols WHERE id = ?", (sym_id,))
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))

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
            row = con.execute("SELECT s.id, s.set_id FROM symbols s JOIN ref_sets r ON r.id = s.set_id "
                              "WHERE r.name = ? AND s.owner_id = ? AND s.name = ?", (set_name, owner, old)).fetchone()
            if row and (alike := self._alike(con, row[1], owner, name, besides=row[0])) is not None:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} already {verb} a symbol called “{alike}”{where}.")
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

    def delete_set(self, set_name: str, *, actor: Actor, set_id: int | None = None) -> None:
        """Delete a user reference set (an imported one) with all its symbols. "Class symbols" and
        the default sets built from the datasets cannot be deleted.

        Arguments:
            set_id: the set a page showed under ``set_name`` (``sets()``' ``"id"``; ids are never
                reused): deleted only if the set of that name is still that one.

        Raises:
            PermissionDenied: not the teacher.
            StaleChoice: the set the page showed was deleted since (another set may have been
                imported under its name).
            GalleryError: unknown set, or one that cannot be deleted.
        """
        require(actor, Action.DELETE_SET)
        if set_name == CLASS_SYMBOLS:
            raise GalleryError(f"“{CLASS_SYMBOLS}” cannot be deleted; delete its symbols one by one.")
        with self._write() as con:
            row = con.execute("SELECT kind, id FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if set_id is not None and (row is None or row[1] != set_id):
                raise StaleChoice(f"The set “{set_name}” this page showed was deleted (in another tab, or by someone "
                                  "else): choose again.")
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
