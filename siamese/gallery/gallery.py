"""Storage of reference sets ("galleries"): sets, symbols, their example sketches, thumbnails and
stored embeddings, in SQLite (the default: a file under ``SIAMESE_HOME``) or PostgreSQL (set
``SIAMESE_DATABASE_URL``: several app servers share one gallery). Its one job is keeping rows;
searching them is :mod:`siamese.search.index`'s. The rules (who may write what, names, messages) and the
SQL live in this package, once; each database is one module of :mod:`siamese.gallery.stores`.
:class:`Gallery` is made of its parts: :mod:`~siamese.gallery.sets` (sets, examples, embeddings),
:mod:`~siamese.gallery.symbols` (a user's symbols), :mod:`~siamese.gallery.roster` (the class),
with the rules for names in :mod:`~siamese.gallery.names`.

Layout: a reference set has symbols; a symbol has an owner (a student or the teacher, see
:mod:`siamese.classroom`) and a name unique among its owner's symbols in that set (enforced by the
database: two students may both call a symbol "star"); a symbol has one or more examples (a 28x28
model input and a display thumbnail); an example has one embedding
per model that made it (``model_id``), so switching models recomputes embeddings instead of
mixing spaces. Every write is one short transaction, serialised with the other writes to the
database (whichever server makes them), and bumps its set's revision, which caches key on.
"""
from __future__ import annotations

from siamese.gallery.roster import Roster
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.sets import SetKind, SetRows, StoredExample
from siamese.gallery.stores import open_store
from siamese.gallery.symbols import SymbolEdits

__all__ = ["Gallery", "SetKind", "StoredExample"]


class Gallery(SetRows, SymbolEdits, Roster):
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
