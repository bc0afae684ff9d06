"""Where the gallery's rows live: one module per database, behind one small interface.

:class:`siamese.gallery.gallery.Gallery` keeps the rules (who may write what, names, messages) and its SQL,
written once in the dialect SQLite and PostgreSQL share: ``?`` parameters, ``ON CONFLICT``,
``COUNT``/``GROUP BY`` as both accept them. A store supplies what differs:

- ``open(url) -> store``: connect, create the schema (version
  :data:`siamese.gallery.schema.SCHEMA_VERSION`) where there is none, migrate or refuse another version.
- ``store.read()`` and ``store.write()``: context managers yielding a :class:`Session`; a write is
  one transaction, serialised with every other write to the same database (so a check followed by
  a write, such as "is this name free?", holds until the commit), rolled back whole on any error.
- ``store.last_ids(session)`` and ``store.advance_ids(session, ids)``: the highest id each table
  ever handed out (deleted rows included), so a copy keeps ids never reused.
- ``store.url`` (as given, to open it again), ``store.where`` (for messages: the URL without its
  password), ``store.path`` (the SQLite file, or None), ``store.close()``.

A third database is one new module here with those, and one line in :data:`BACKENDS`.
"""
from __future__ import annotations

import importlib
import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from siamese import paths

BACKENDS = {"sqlite": "siamese.gallery.stores.sqlite", "postgresql": "siamese.gallery.stores.postgres",
            "postgres": "siamese.gallery.stores.postgres"}
"""URL scheme -> the module that opens it (``postgres`` is libpq's other spelling)."""
TABLES = {
    "owners": ("id", "name", "token_hash", "retired", "created"),
    "ref_sets": ("id", "name", "kind", "revision"),
    "symbols": ("id", "set_id", "owner_id", "name"),
    "examples": ("id", "symbol_id", "model_input", "thumbnail", "created"),
    "embeddings": ("example_id", "model_id", "vector"),
    "meta": ("key", "value"),
    "rounds": ("id", "kind", "spec", "state", "created", "ended"),
    "answers": ("id", "round_id", "owner_id", "trial", "choice", "ms", "model_input", "thumbnail", "guess",
                "distance", "verdict", "created"),
}
"""Every table of schema version 4 and its columns, parents before children (the order a copy
inserts them in; the first column orders the rows, with ``model_id`` for embeddings)."""
ID_TABLES = ("owners", "ref_sets", "symbols", "examples", "rounds", "answers")
"""Tables whose ids are handed out by the database and never reused."""


class Conflict(Exception):
    """A write broke a unique (or foreign-key) constraint: a name already taken, a row gone. Raised
    by :meth:`Session.execute` and :meth:`Session.insert` inside :meth:`Session.savepoint`."""


class Session(Protocol):
    """What :class:`siamese.gallery.gallery.Gallery` runs its SQL through (one connection, one read or one
    write transaction). Parameters are ``?`` placeholders, in order."""

    def execute(self, sql: str, params=()):
        """Run one statement; returns a cursor (``fetchone``, ``fetchall``, ``rowcount``, iteration).
        Raises :class:`Conflict` on a constraint violation."""

    def executemany(self, sql: str, rows) -> None:
        """Run one statement once per parameter row."""

    def insert(self, sql: str, params=()) -> int:
        """Run one ``INSERT`` of one row into a table with an ``id`` column; returns the new id."""

    def savepoint(self) -> AbstractContextManager:
        """Around a statement that may raise :class:`Conflict` in a write: after the conflict the
        transaction goes on (PostgreSQL aborts a transaction at its first error unless a savepoint
        was set; SQLite needs none)."""


def _secrets(url: str) -> list[str]:
    """The password a URL holds (as written and decoded), in its user part or a ``password=``."""
    found = re.findall(r"://[^/?#@:]*:([^/?#@]*)@", url) + re.findall(r"[?&]password=([^&#]*)", url)
    return [v for s in found if s for v in {s, unquote(s)}]


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) with the URL's password replaced by ``***``."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact(url: str) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter), for messages
    and logs: ``postgresql://ana:secret@db:5432/siamese`` -> ``postgresql://ana@db:5432/siamese``.
    A plain file path is returned as it is; a URL too malformed to take apart, as its scheme."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return url.split("://", 1)[0] + "://(a malformed URL)"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = user.split(":", 1)[0] + "@" + host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def default_url() -> str:
    """``SIAMESE_DATABASE_URL`` if set, else ``sqlite:///$SIAMESE_HOME/gallery.sqlite3``."""
    return paths.database_url() or "sqlite://" + quote(str(paths.home_dir() / "gallery.sqlite3"))


def open_store(location=None):
    """Open the gallery database at ``location``.

    Arguments:
        location: ``postgresql://user@host:5432/dbname`` (libpq's URL: a password may also come
            from ``PGPASSWORD`` or ``~/.pgpass``), ``sqlite:///absolute/path.sqlite3``, a path to
            a SQLite file, or None: :func:`default_url`.

    Returns:
        a store (see the module's docstring).

    Raises:
        siamese.gallery.errors.GalleryUnavailable: an unknown scheme; the database cannot be reached, or
            refuses the credentials; it holds another schema version. The message names the
            database without its password.
    """
    from siamese.gallery.errors import GalleryUnavailable

    url = default_url() if location is None else location
    if isinstance(url, Path) or "://" not in str(url) and not str(url).startswith("sqlite:"):
        url = "sqlite://" + quote(str(Path(url).expanduser().absolute()))
    url = str(url)
    scheme = url.split(":", 1)[0].lower()
    if scheme not in BACKENDS:
        raise GalleryUnavailable(f"The gallery database {redact(url)} has an unknown scheme, “{scheme}”: use "
                                 "postgresql://user@host:5432/dbname or sqlite:///path/to/gallery.sqlite3 (or leave "
                                 "SIAMESE_DATABASE_URL unset for the SQLite file under SIAMESE_HOME).")
    return importlib.import_module(BACKENDS[scheme]).open(url)
