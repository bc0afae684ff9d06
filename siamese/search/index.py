"""Search over the reference sets: nearest references by Euclidean distance (the Siamese
distance), the best example per symbol, and each set's embeddings cached per version.

The rows live in :mod:`siamese.gallery.gallery`; this module embeds what has no embedding yet for the
model in use, keeps every set's embedding matrix and squared norms in memory per
(set id, revision, model id), and ranks queries against it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from siamese.classroom import TEACHER_OWNER
from siamese.gallery.gallery import Gallery
from siamese.data.codec import bytes_to_input, stored_input
from siamese.distance import nearest, squared_norms


@dataclass
class References:
    """All examples of one reference set, embedded by one model.

    Attributes:
        example_ids: ``(m,) int64``; symbols: ``(m,)`` symbol name of each example;
        embeddings: ``(m, d) float32``, C-contiguous (ranked in one matrix product);
        sq_norms: ``(m,) float32`` squared Euclidean norm of each embedding, computed once here
        so that ranking a query reads the matrix once (see :func:`nearest`);
        symbol_ids: ``(m,) int64`` each example's symbol (two owners may name a symbol alike);
        owners: ``(m,) int64`` and owner_names ``(m,)``: each example's symbol's owner;
        kind: the set's :class:`~siamese.gallery.sets.SetKind` as the gallery stores it (it decides
        which open-set rule applies, :meth:`siamese.search.openset.NoveltyCalibration.for_kind`);
        None for references built by hand (benchmarks, tests).

    What is computed from one version of a set (its "looks new" rule, the Draw page's map) is kept
    on the object (:meth:`derived`), which the index keeps one of per set revision.
    """
    example_ids: np.ndarray
    symbols: np.ndarray
    embeddings: np.ndarray
    sq_norms: np.ndarray = field(default=None)
    symbol_ids: np.ndarray = field(default=None)
    owners: np.ndarray = field(default=None)
    owner_names: np.ndarray = field(default=None)
    kind: str | None = None
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _derived_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.sq_norms is None:
            self.sq_norms = squared_norms(self.embeddings)
        m = len(self.example_ids)
        if self.symbol_ids is None:  # built by hand (benchmarks, tests): one symbol per name
            self.symbol_ids = np.unique(self.symbols, return_inverse=True)[1] if m else np.zeros(0, np.int64)
        if self.owners is None:
            self.owners = np.full(m, TEACHER_OWNER, np.int64)
        if self.owner_names is None:
            self.owner_names = np.full(m, "", dtype=object)

    def of_owner(self, owner: int) -> References:
        """The examples of one owner's symbols only ("only mine"), of the same kind; nothing derived
        from the whole set is carried over."""
        keep = np.flatnonzero(self.owners == owner)
        return References(self.example_ids[keep], self.symbols[keep], np.ascontiguousarray(self.embeddings[keep]),
                          self.sq_norms[keep], self.symbol_ids[keep], self.owners[keep], self.owner_names[keep],
                          self.kind)

    def derived(self, key, make):
        """What is computed from these references, once: ``make()`` on the first call with ``key``
        (any hashable), the same object on every later one. It lives as long as this object does:
        the index keeps one per (set id, revision, model id, owner), so a new revision computes
        afresh and nothing derived can be stale. Two threads asking at once may both compute;
        both get the value stored first."""
        with self._derived_lock:
            if key in self._derived:
                return self._derived[key]
        value = make()
        with self._derived_lock:
            return self._derived.setdefault(key, value)


def top_symbols(query: np.ndarray, embeddings: np.ndarray, symbols: np.ndarray, k: int = 5,
                sq_norms: np.ndarray | None = None):
    """Indices of the nearest example of each of the ``k`` nearest symbols, with distances.

    Arguments:
        query: ``(d,) float32``; embeddings: ``(m, d) float32``; symbols: ``(m,)`` each
            example's symbol (names, or ids where two owners' symbols share a name);
        sq_norms: optional ``(m,) float32`` squared norms of ``embeddings`` (see
            :class:`References`).

    Returns:
        ``[(index, distance)]`` nearest first, one per distinct symbol, at most ``k``.
    """
    fetch = min(len(embeddings), 8 * k)
    while True:
        idx, dist = nearest(query, embeddings, fetch, sq_norms)
        seen, out = set(), []
        for i, d in zip(idx, dist):
            if symbols[i] not in seen:
                seen.add(symbols[i])
                out.append((int(i), float(d)))
        if len(out) >= k or fetch >= len(embeddings):
            return out[:k]
        fetch = min(len(embeddings), fetch * 4)


def embed_for_storage(matcher, inputs) -> tuple[str, np.ndarray]:
    """``(model id, (n, d) float32)``: embeddings of model inputs ``(n, 28, 28) float32`` as they
    will be stored (8-bit, :func:`siamese.data.codec.stored_input`), ready for
    :meth:`siamese.gallery.gallery.Gallery.add_example` or ``add_set_bulk``."""
    x = np.stack([stored_input(x) for x in inputs]) if len(inputs) else np.zeros((0, 28, 28), np.float32)
    return matcher.model_id, matcher.embed_inputs(x)


class ReferenceIndex:
    """The searchable view of a gallery, shared by every session of one process.

    Arguments:
        gallery: where the rows are.
    """

    def __init__(self, gallery: Gallery):
        self.gallery = gallery
        self._cache: dict = {}
        self._lock = threading.Lock()

    def references(self, set_name: str, matcher, owner: int | None = None) -> References:
        """Embeddings of every example in a set for ``matcher.model_id`` (only of ``owner``'s
        symbols, if given: "only mine").

        Examples without an embedding from this model (registered under another model) are
        embedded now and stored. The result is cached per (set id, revision, model, owner), so
        matching does not re-read the database on every stroke: set ids are never reused and every
        write to a set (add, rename, delete) bumps its revision, so the next call sees the change.

        Raises:
            GalleryError: unknown set.
        """
        set_id, revision = self.gallery.revision(set_name)
        key = (set_id, revision, matcher.model_id, owner)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        if owner is None:
            refs = self._load(set_name, matcher)
        else:
            refs = self.references(set_name, matcher).of_owner(owner)
        with self._lock:  # one revision per set: an older one is never asked for again
            self._cache = {k: v for k, v in self._cache.items() if k[0] != set_id or k[1] == revision}
            self._cache[key] = refs
        return refs

    def _load(self, set_name: str, matcher) -> References:
        kind = self.gallery.kind(set_name)
        rows = self.gallery.examples(set_name, matcher.model_id)
        missing = [i for i, r in enumerate(rows) if r.vector is None]
        computed = {}
        if missing:
            emb = matcher.embed_inputs(np.stack([bytes_to_input(rows[i].model_input) for i in missing]))
            computed = dict(zip(missing, emb))
            self.gallery.store_embeddings(matcher.model_id, {rows[i].id: e for i, e in computed.items()})
        matrix = np.empty((len(rows), matcher.dim), np.float32)
        for i, r in enumerate(rows):
            matrix[i] = computed[i] if i in computed else np.frombuffer(r.vector, np.float32)
        return References(np.array([r.id for r in rows], np.int64), np.array([r.symbol for r in rows], dtype=object),
                          np.ascontiguousarray(matrix), symbol_ids=np.array([r.symbol_id for r in rows], np.int64),
                          owners=np.array([r.owner for r in rows], np.int64),
                          owner_names=np.array([r.owner_name for r in rows], dtype=object), kind=str(kind))
