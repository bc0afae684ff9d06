"""The reference sets and their rows: listing sets, symbols and examples, a set's revision, stored
embeddings and thumbnails, building a whole default set, deleting an imported one, and the key/value
``meta`` table. A part of :class:`siamese.gallery.gallery.Gallery` (which opens the database)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from siamese.classroom import TEACHER_OWNER, Action, Actor, require
from siamese.data.codec import input_to_bytes
from siamese.gallery.errors import GalleryError, StaleChoice
from siamese.gallery.schema import CLASS_SYMBOLS


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
        model_input: 784 bytes (see :func:`~siamese.data.codec.input_to_bytes`);
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


class SetRows:
    """Reading the reference sets, and the writes that concern a whole set (not a user's symbol).
    Needs ``_connect()`` (a read session) and ``_write()`` (a write transaction), which
    :class:`~siamese.gallery.gallery.Gallery` provides."""

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

    def kind(self, set_name: str) -> SetKind:
        """What a set holds (:class:`SetKind`), as stored when it was made.

        Raises:
            GalleryError: unknown set.
        """
        return SetKind(self._set_row(set_name, "kind")[0])

    def revision(self, set_name: str) -> tuple[int, int]:
        """``(set id, revision)`` of a set. Ids are never reused and every write to a set bumps its
        revision, so the pair names one version of its contents (caches are keyed by it).

        Raises:
            GalleryError: unknown set.
        """
        set_id, revision = self._set_row(set_name, "id, revision")
        return set_id, revision

    def _set_row(self, set_name: str, columns: str) -> tuple:
        """``columns`` (SQL, written here, never a user's text) of the set's row in ``ref_sets``.

        Raises:
            GalleryError: unknown set.
        """
        with self._connect() as con:
            row = con.execute(f"SELECT {columns} FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
        if row is None:
            raise GalleryError(f"There is no reference set called {set_name!r}.")
        return tuple(row)

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

    def rename_default_set(self, old: str, new: str) -> bool:
        """Give a default set (built from a dataset, never a user's) a new name, keeping its id,
        symbols, examples and embeddings: a name written differently by an older release
        ("Omniglot: Ge ez" is "Omniglot: Ge'ez") is renamed instead of built again beside it.
        Not a user's action: the server calls it while it builds the default sets.

        Returns:
            True if renamed now; False when there is no default set ``old`` or a set ``new``
            exists already (nothing changed).
        """
        with self._write() as con:
            row = con.execute("SELECT kind FROM ref_sets WHERE name = ?", (old,)).fetchone()
            if row is None or row[0] == SetKind.USER or old == new:
                return False
            if con.execute("SELECT 1 FROM ref_sets WHERE name = ?", (new,)).fetchone() is not None:
                return False
            con.execute("UPDATE ref_sets SET name = ?, revision = revision + 1 WHERE name = ?", (new, old))
        return True

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
                :func:`~siamese.data.codec.stored_input`; or None (they are computed on first search).
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
