"""Storage of reference sets ("galleries") in SQLite: sets, symbols, their example sketches,
thumbnails and stored embeddings. Its one job is keeping rows; searching them is
:mod:`siamese.index`'s.

Layout: a reference set has symbols (names unique per set, enforced by the database); a symbol has
one or more examples (a 28x28 model input and a display thumbnail); an example has one embedding
per model that made it (``model_id``), so switching models recomputes embeddings instead of
mixing spaces. WAL mode, a busy timeout and one short transaction per write make concurrent
registrations from many sessions safe (sqlite.org/wal.html).
"""
from __future__ import annotations

import io
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image

from . import paths

MY_SYMBOLS = "My symbols"
DIGITS = "Digits"
OMNIGLOT_PREFIX = "Omniglot: "
MAX_NAME = 40
"""Longest symbol name, characters."""

SCHEMA_VERSION = 2
"""1: the first release; 2: ids never reused (``AUTOINCREMENT``), so a cache or a page keyed by
an id can never be served another row's data after a delete."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS ref_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS symbols (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    set_id INTEGER NOT NULL REFERENCES ref_sets(id) ON DELETE CASCADE,
    name TEXT NOT NULL, UNIQUE (set_id, name));
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol_id INTEGER NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
    model_input BLOB NOT NULL, thumbnail BLOB NOT NULL, created TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS embeddings (
    example_id INTEGER NOT NULL REFERENCES examples(id) ON DELETE CASCADE, model_id TEXT NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (example_id, model_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
_ROWID_TABLES = ("ref_sets", "symbols", "examples")


def _migrate(path: Path) -> None:
    """Bring a database written by an earlier release to ``SCHEMA_VERSION``, keeping every row.

    Version 1 tables used plain ``INTEGER PRIMARY KEY`` ids, which SQLite reuses after the row
    with the largest id is deleted. They are rebuilt with ``AUTOINCREMENT`` in one transaction,
    following sqlite.org/lang_altertable.html ("Making other kinds of table schema changes"):
    foreign keys off, create, copy, drop, rename, check. Safe when several processes start at
    once: the check for an old table is repeated inside the write lock.
    """
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout=30000")
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version and int(version[0]) >= SCHEMA_VERSION:
            return
        con.execute("PRAGMA foreign_keys=OFF")  # must be set outside a transaction
        con.execute("BEGIN IMMEDIATE")
        try:
            ddl = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
            old = [t for t in _ROWID_TABLES if t in ddl and "AUTOINCREMENT" not in ddl[t].upper()]
            for table in old:
                create = SCHEMA.split(f"CREATE TABLE IF NOT EXISTS {table} (", 1)[1].split(");", 1)[0]
                con.execute(f"CREATE TABLE {table}_v2 ({create})")
                con.execute(f"INSERT INTO {table}_v2 SELECT * FROM {table}")
                con.execute(f"DROP TABLE {table}")
                con.execute(f"ALTER TABLE {table}_v2 RENAME TO {table}")
            if old and con.execute("PRAGMA foreign_key_check").fetchall():
                raise sqlite3.DatabaseError("foreign keys broken by the migration")
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


class GalleryError(ValueError):
    """A request the gallery refuses: bad or duplicate name, unknown set or symbol. The message is
    meant for the user."""


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
        thumbnail: PNG bytes, or None unless asked for.
    """
    id: int
    symbol: str
    model_input: bytes
    vector: bytes | None = None
    thumbnail: bytes | None = None


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


def clean_name(name: str) -> str:
    """Validate and normalise a symbol (or set) name, judged by what a person sees.

    Names are plain text: any script, emoji, HTML or markdown characters are kept as typed and
    always displayed as text, never rendered. Unicode NFC normalisation, surrounding whitespace
    stripped. Invisible format characters pass only where they change what the name looks like
    (see :func:`_visible_format_char`). Length counts user-perceived characters (extended
    grapheme clusters, Unicode UAX #29, via the ``regex`` package), so an emoji family is one.

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
        raise GalleryError("Please type a name for the symbol.")
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


def input_to_bytes(x: np.ndarray) -> bytes:
    """A model input ``(28, 28) float32`` in [0, 1] stored as 784 ``uint8`` bytes.

    Raises:
        ValueError: not a finite (28, 28) array (it would break the whole set later).
    """
    x = np.asarray(x, np.float32)
    if x.shape != (28, 28) or not np.isfinite(x).all():
        raise ValueError(f"a model input must be a finite (28, 28) array, not {x.shape}")
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8).tobytes()


def bytes_to_input(b: bytes) -> np.ndarray:
    """Inverse of :func:`input_to_bytes` (to within 1/255): ``(28, 28) float32``."""
    return np.frombuffer(b, np.uint8).reshape(28, 28).astype(np.float32) / 255.0


def stored_input(x: np.ndarray) -> np.ndarray:
    """A model input ``(28, 28) float32`` as it will read back after storing (8-bit): embed this,
    not ``x``, so a vector recomputed later from the database is the same vector.

    Raises:
        ValueError: see :func:`input_to_bytes`.
    """
    return bytes_to_input(input_to_bytes(x))


def thumbnail_png(image: np.ndarray, size: int = 96) -> bytes:
    """A dark-on-light PNG thumbnail, at most ``size`` pixels a side, of a grey ``(H, W) uint8``
    image (dark ink on light)."""
    img = Image.fromarray(np.asarray(image, np.uint8))
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class Gallery:
    """The reference-set database.

    Arguments:
        path: SQLite file; default ``$SIAMESE_HOME/gallery.sqlite3``. One connection per call, so
            an instance can be shared by the threads of all Streamlit sessions.
    """

    def __init__(self, path=None):
        self.path = Path(path or paths.home_dir() / "gallery.sqlite3")
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)  # a new database; an older one keeps its tables until _migrate
        _migrate(self.path)
        with self._connect() as con:
            con.execute("INSERT OR IGNORE INTO ref_sets (name, kind) VALUES (?, ?)", (MY_SYMBOLS, SetKind.USER))

    @contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

    @contextmanager
    def _write(self):
        """One write transaction (BEGIN IMMEDIATE: takes the write lock up front, so concurrent
        writers queue on the busy timeout instead of failing mid-transaction)."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # ---- reading ----
    def sets(self) -> list[dict]:
        """All reference sets: ``[{"name", "kind", "symbols", "examples"}]``, "My symbols" first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT r.name, r.kind, COUNT(DISTINCT s.id), COUNT(e.id) FROM ref_sets r "
                "LEFT JOIN symbols s ON s.set_id = r.id LEFT JOIN examples e ON e.symbol_id = s.id "
                "GROUP BY r.id ORDER BY r.kind != 'user', r.kind != 'digits', r.name").fetchall()
        return [{"name": n, "kind": SetKind(k), "symbols": s, "examples": e} for n, k, s, e in rows]

    def symbols(self, set_name: str) -> list[dict]:
        """Symbols of a set: ``[{"name", "examples", "example_id"}]`` (first example), by name."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT s.name, COUNT(e.id), MIN(e.id) FROM symbols s JOIN ref_sets r ON r.id = s.set_id "
                "LEFT JOIN examples e ON e.symbol_id = s.id WHERE r.name = ? GROUP BY s.id ORDER BY s.name",
                (set_name,)).fetchall()
        return [{"name": n, "examples": c, "example_id": i} for n, c, i in rows]

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
        """Every example of a set, in insertion order (or by symbol name, then insertion).

        Arguments:
            model_id: also return each example's stored embedding by this model (None if missing).
            thumbnails: also return the thumbnails (kept out of searches: they are the bulk).

        Raises:
            GalleryError: unknown set.
        """
        set_id, _ = self.revision(set_name)
        query = ("SELECT e.id, s.name, e.model_input, v.vector, " + ("e.thumbnail" if thumbnails else "NULL") +
                 " FROM examples e JOIN symbols s ON s.id = e.symbol_id "
                 "LEFT JOIN embeddings v ON v.example_id = e.id AND v.model_id = ? WHERE s.set_id = ? "
                 + ("ORDER BY s.name, e.id" if by_symbol else "ORDER BY e.id"))
        with self._connect() as con:
            rows = con.execute(query, (model_id, set_id)).fetchall()
        return [StoredExample(*row) for row in rows]

    def store_embeddings(self, model_id: str, vectors: dict) -> None:
        """Store embeddings ``{example id: (d,) float32}`` by one model; examples deleted meanwhile
        (by another session) are skipped. Does not change any revision: contents are the same."""
        with self._write() as con:
            con.executemany("INSERT OR REPLACE INTO embeddings SELECT ?, ?, ? WHERE EXISTS "
                            "(SELECT 1 FROM examples WHERE id = ?)",
                            [(i, model_id, np.asarray(v, np.float32).tobytes(), i) for i, v in vectors.items()])

    # ---- writing ----
    def add_example(self, set_name: str, symbol: str, model_input: np.ndarray, thumbnail: bytes,
                    embedding: tuple[str, np.ndarray] | None = None, new_symbol: bool = True) -> str:
        """Store one example of a symbol.

        Arguments:
            set_name: an existing reference set.
            symbol: the symbol's name (validated with :func:`clean_name`).
            model_input: ``(28, 28) float32`` from :func:`siamese.preprocess.to_model_input`.
            thumbnail: PNG bytes for display.
            embedding: ``(model id, (d,) float32)`` stored in the same transaction; compute it from
                :func:`stored_input` (what is stored), so a later recomputation gives the same vector.
            new_symbol: True: the name must be new in this set (registration). False: add
                another example of an existing symbol (several sketches improve matching).

        Returns:
            the stored (cleaned) name.

        Raises:
            GalleryError: bad name, duplicate name (with ``new_symbol``), unknown symbol
                (without), unknown set.
        """
        name = clean_name(symbol)
        stored = input_to_bytes(model_input)
        with self._write() as con:
            row = con.execute("SELECT id FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if row is None:
                raise GalleryError(f"There is no reference set called {set_name!r}.")
            set_id = row[0]
            if new_symbol:
                try:
                    sym_id = con.execute("INSERT INTO symbols (set_id, name) VALUES (?, ?)", (set_id, name)).lastrowid
                except sqlite3.IntegrityError:
                    raise GalleryError(f"{set_name} already has a symbol called “{name}”. Choose another "
                                       f"name, or add this sketch as another example of it.") from None
            else:
                found = con.execute("SELECT id FROM symbols WHERE set_id = ? AND name = ?", (set_id, name)).fetchone()
                if found is None:
                    raise GalleryError(f"{set_name} has no symbol called “{name}”.")
                sym_id = found[0]
            ex_id = con.execute("INSERT INTO examples (symbol_id, model_input, thumbnail) VALUES (?, ?, ?)",
                                (sym_id, stored, thumbnail)).lastrowid
            if embedding is not None:
                con.execute("INSERT INTO embeddings VALUES (?, ?, ?)",
                            (ex_id, embedding[0], np.asarray(embedding[1], np.float32).tobytes()))
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))
        return name

    def rename_symbol(self, set_name: str, old: str, new: str) -> str:
        """Rename a symbol; returns the cleaned new name. Raises GalleryError (duplicate, unknown)."""
        name = clean_name(new)
        with self._write() as con:
            try:
                cur = con.execute("UPDATE symbols SET name = ? WHERE name = ? AND set_id = "
                                  "(SELECT id FROM ref_sets WHERE name = ?)", (name, old, set_name))
            except sqlite3.IntegrityError:
                raise GalleryError(f"{set_name} already has a symbol called “{name}”.") from None
            if cur.rowcount == 0:
                raise GalleryError(f"{set_name} has no symbol called “{old}” (was it deleted?).")
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE name = ?", (set_name,))
        return name

    def delete_symbol(self, set_name: str, name: str) -> None:
        """Delete a symbol and all its examples. Raises GalleryError if it does not exist."""
        with self._write() as con:
            cur = con.execute("DELETE FROM symbols WHERE name = ? AND set_id = "
                              "(SELECT id FROM ref_sets WHERE name = ?)", (name, set_name))
            if cur.rowcount == 0:
                raise GalleryError(f"{set_name} has no symbol called “{name}”.")
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE name = ?", (set_name,))

    def delete_set(self, set_name: str) -> None:
        """Delete a user reference set (an imported one) with all its symbols. "My symbols" and
        the default sets built from the datasets cannot be deleted.

        Raises:
            GalleryError: unknown set, or one that cannot be deleted.
        """
        if set_name == MY_SYMBOLS:
            raise GalleryError(f"“{MY_SYMBOLS}” cannot be deleted; delete its symbols one by one.")
        with self._write() as con:
            row = con.execute("SELECT kind FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if row is None:
                raise GalleryError(f"There is no reference set called {set_name!r}.")
            if row[0] != SetKind.USER:
                raise GalleryError("The reference sets built from the datasets cannot be deleted.")
            con.execute("DELETE FROM ref_sets WHERE name = ?", (set_name,))

    def get_meta(self, key: str):
        with self._connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def add_set_bulk(self, set_name: str, kind: SetKind, items,
                     embeddings: tuple[str, np.ndarray] | None = None) -> bool:
        """Create a whole reference set in one transaction, if it does not exist yet.

        Arguments:
            items: list of ``(symbol name, model_input (28, 28) float32, thumbnail PNG bytes)``.
            embeddings: ``(model id, (n, d) float32)``, one row per item, computed from
                :func:`stored_input`; or None (they are computed on first search).

        Returns:
            True if created now, False if it already existed (left untouched).
        """
        stored = [input_to_bytes(x) for _, x, _ in items]
        vectors = None if embeddings is None else np.asarray(embeddings[1], np.float32)
        with self._write() as con:
            if con.execute("SELECT 1 FROM ref_sets WHERE name = ?", (set_name,)).fetchone():
                return False
            set_id = con.execute("INSERT INTO ref_sets (name, kind) VALUES (?, ?)", (set_name, kind)).lastrowid
            sym_ids = {}
            for i, (sym, x, thumb) in enumerate(items):
                if sym not in sym_ids:
                    sym_ids[sym] = con.execute("INSERT INTO symbols (set_id, name) VALUES (?, ?)",
                                               (set_id, sym)).lastrowid
                ex = con.execute("INSERT INTO examples (symbol_id, model_input, thumbnail) VALUES (?, ?, ?)",
                                 (sym_ids[sym], stored[i], thumb)).lastrowid
                if vectors is not None:
                    con.execute("INSERT INTO embeddings VALUES (?, ?, ?)", (ex, embeddings[0], vectors[i].tobytes()))
        return True
