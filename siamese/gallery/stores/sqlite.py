"""The gallery in one SQLite file: the embedded default, nothing to set up (``sqlite3``, Python's
standard library). WAL mode lets readers go on while one writer writes (sqlite.org/wal.html);
``BEGIN IMMEDIATE`` takes the write lock up front and a 30 s busy timeout queues the other
writers, so concurrent registrations from many sessions never fail halfway. SQLite's atomic commit
(sqlite.org/atomiccommit.html) means a process killed in the middle of a write leaves the
transaction undone at the next open.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from siamese.classroom import TEACHER_OWNER
from siamese.gallery.schema import CLASS_SYMBOLS, OLD_CLASS_SYMBOLS, SCHEMA_VERSION
from siamese.gallery.errors import GalleryUnavailable
from siamese.gallery.stores import ID_TABLES, Conflict

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS owners (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, token_hash TEXT UNIQUE,
    retired INTEGER NOT NULL DEFAULT 0, created TEXT DEFAULT CURRENT_TIMESTAMP);
INSERT OR IGNORE INTO owners (id, name) VALUES ({TEACHER_OWNER}, 'Teacher');
CREATE TABLE IF NOT EXISTS ref_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS symbols (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    set_id INTEGER NOT NULL REFERENCES ref_sets(id) ON DELETE CASCADE,
    owner_id INTEGER NOT NULL DEFAULT {TEACHER_OWNER} REFERENCES owners(id),
    name TEXT NOT NULL, UNIQUE (set_id, owner_id, name));
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol_id INTEGER NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
    model_input BLOB NOT NULL, thumbnail BLOB NOT NULL, created TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS embeddings (
    example_id INTEGER NOT NULL REFERENCES examples(id) ON DELETE CASCADE, model_id TEXT NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (example_id, model_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, spec TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open', created TEXT DEFAULT CURRENT_TIMESTAMP, ended TEXT);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    owner_id INTEGER NOT NULL REFERENCES owners(id), trial INTEGER NOT NULL, choice INTEGER, ms INTEGER,
    model_input BLOB, thumbnail BLOB, guess TEXT, distance REAL, verdict TEXT,
    created TEXT DEFAULT CURRENT_TIMESTAMP, UNIQUE (round_id, owner_id, trial));
"""
"""Schema version 4 (see :data:`siamese.gallery.schema.SCHEMA_VERSION`). A version 3 database gets the
``rounds`` and ``answers`` tables (the class experiment, :mod:`siamese.experiment`) from the
``CREATE TABLE IF NOT EXISTS`` above, before :func:`_migrate` records the version."""
INDEXES = "CREATE INDEX IF NOT EXISTS symbols_by_owner ON symbols (owner_id);"
"""Run after the migration: an older ``symbols`` table has no ``owner_id`` until then."""
_ROWID_TABLES = ("ref_sets", "symbols", "examples")


def _columns(con, table: str) -> list[str]:
    return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]


def _newer(path: Path, version: int) -> GalleryUnavailable:
    return GalleryUnavailable(f"The gallery database {path} holds schema version {version}, written by a newer "
                              f"release; this release reads version {SCHEMA_VERSION}. Run the newer release, or "
                              "point SIAMESE_HOME at another directory.")


def _migrate(path: Path) -> None:
    """Bring a database written by an earlier release to ``SCHEMA_VERSION``, keeping every row.

    A table whose definition changed is rebuilt in one transaction, following
    sqlite.org/lang_altertable.html ("Making other kinds of table schema changes"): foreign keys
    off, create the new table, copy the columns both have, drop, rename, check. Version 1 tables
    used plain ``INTEGER PRIMARY KEY`` ids, which SQLite reuses after the row with the largest id
    is deleted: rebuilt with ``AUTOINCREMENT``. Version 2 ``symbols`` had no owner and names
    unique per set: rebuilt with ``owner_id`` (every existing symbol becomes the teacher's, the
    column's default) and names unique per owner; "My symbols" is renamed "Class symbols" (a set
    already called that, imported by hand, is renamed out of the way first). Safe when several
    processes start at once: what needs doing is decided again inside the write lock.

    Raises:
        GalleryUnavailable: the database holds a newer schema version than this release's.
    """
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout=30000")
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version and int(version[0]) > SCHEMA_VERSION:
            raise _newer(path, int(version[0]))
        if version and int(version[0]) == SCHEMA_VERSION:
            return
        con.execute("PRAGMA foreign_keys=OFF")  # must be set outside a transaction
        con.execute("BEGIN IMMEDIATE")
        try:
            version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version and int(version[0]) >= SCHEMA_VERSION:  # another process was first
                con.execute("ROLLBACK")
                return
            ddl = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
            rebuilt = False
            for table in (t for t in _ROWID_TABLES if t in ddl):
                create = SCHEMA.split(f"CREATE TABLE IF NOT EXISTS {table} (", 1)[1].split(");", 1)[0]
                con.execute(f"CREATE TABLE {table}_new ({create})")
                old, new = _columns(con, table), _columns(con, f"{table}_new")
                if "AUTOINCREMENT" in ddl[table].upper() and old == new:
                    con.execute(f"DROP TABLE {table}_new")
                    continue
                kept = ", ".join(c for c in new if c in old)
                con.execute(f"INSERT INTO {table}_new ({kept}) SELECT {kept} FROM {table}")
                used = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
                con.execute(f"DROP TABLE {table}")
                con.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
                if used:  # ids above the largest row's, once used then deleted, stay unused
                    _set_sequence(con, table, used[0])
                rebuilt = True
            if rebuilt and con.execute("PRAGMA foreign_key_check").fetchall():
                raise sqlite3.DatabaseError("foreign keys broken by the migration")
            names = {r[0] for r in con.execute("SELECT name FROM ref_sets")}
            if OLD_CLASS_SYMBOLS in names:
                if CLASS_SYMBOLS in names:
                    free, n = f"{CLASS_SYMBOLS} (imported)", 1
                    while free in names:
                        n += 1
                        free = f"{CLASS_SYMBOLS} (imported {n})"
                    con.execute("UPDATE ref_sets SET name = ? WHERE name = ?", (free, CLASS_SYMBOLS))
                con.execute("UPDATE ref_sets SET name = ? WHERE name = ?", (CLASS_SYMBOLS, OLD_CLASS_SYMBOLS))
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


def _set_sequence(con, table: str, used: int) -> None:
    """The next ``AUTOINCREMENT`` id of ``table`` comes after ``used`` and after every row's id."""
    con.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
    con.execute(f"INSERT INTO sqlite_sequence VALUES (?, (SELECT MAX(?, IFNULL(MAX(id), 0)) FROM {table}))",
                (table, used))


class _Session:
    """A :class:`siamese.gallery.stores.Session` over one ``sqlite3`` connection."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def execute(self, sql, params=()):
        try:
            return self.con.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc

    def executemany(self, sql, rows) -> None:
        try:
            self.con.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc

    def insert(self, sql, params=()) -> int:
        return self.execute(sql, params).lastrowid

    def savepoint(self):
        return nullcontext()  # a failed statement does not abort a SQLite transaction


def path_of(url: str) -> Path:
    """The file of ``sqlite:///absolute/path`` (or SQLAlchemy's ``sqlite:////absolute/path``, or
    ``sqlite:relative/path``)."""
    path = unquote(urlsplit(url).path)
    return Path(path[1:] if path.startswith("//") else path).absolute()


class SQLiteStore:
    """The gallery in a SQLite file (see the module's docstring). One connection per call, so one
    store serves the threads of all Streamlit sessions.

    Arguments:
        path: the database file; created, with schema version 4, if missing; an older version is
            migrated (:func:`_migrate`).

    Raises:
        GalleryUnavailable: the file cannot be opened, or holds a newer schema version.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.url = "sqlite://" + quote(str(self.path))
        self.where = str(self.path)
        try:
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(SCHEMA)  # a new database; an older one keeps its tables until _migrate
            _migrate(self.path)
            with self._connect() as con:
                con.executescript(INDEXES)
        except sqlite3.OperationalError as exc:
            raise GalleryUnavailable(f"The gallery database {self.path} cannot be opened: {exc}.") from exc

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
    def read(self):
        """A session for reading (each statement sees the latest commit)."""
        with self._connect() as con:
            yield _Session(con)

    @contextmanager
    def write(self):
        """One write transaction (``BEGIN IMMEDIATE``: takes the write lock up front, so concurrent
        writers queue on the busy timeout instead of failing mid-transaction)."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield _Session(con)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def last_ids(self, session) -> dict[str, int]:
        """``{table: the highest id it ever handed out}`` for :data:`siamese.gallery.stores.ID_TABLES`."""
        seq = dict(session.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
        return {t: max(seq.get(t) or 0, session.execute(f"SELECT IFNULL(MAX(id), 0) FROM {t}").fetchone()[0])
                for t in ID_TABLES}

    def advance_ids(self, session, last: dict[str, int]) -> None:
        """Make every table's next id come after ``last[table]`` (and after its rows' ids)."""
        for table, used in last.items():
            _set_sequence(session.con, table, used)

    def close(self) -> None:
        """Nothing to release: connections live for one call."""


def open(url: str) -> SQLiteStore:  # noqa: A001 - the stores' common entry point
    """The store of ``sqlite:///path`` (see :class:`SQLiteStore`)."""
    return SQLiteStore(path_of(url))
