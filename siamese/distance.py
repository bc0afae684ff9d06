"""The Siamese distance, in one place: the Euclidean distance between embeddings, and the nearest
references to a query. Every search, calibration and evaluation of this package measures with it.

Embeddings are ``(n, d) float32`` rows (any float dtype works; results follow NumPy's promotion).
For many references the distances use ``||q - r||^2 = ||q||^2 - 2 q.r + ||r||^2``: one matrix
product for the whole set instead of an ``(q, m, d)`` difference; rounding can make a tiny
squared distance negative, so it is clipped at 0 before the square root.
"""
from __future__ import annotations

import numpy as np


def squared_norms(x: np.ndarray) -> np.ndarray:
    """``(n,)`` squared Euclidean norms of the rows of ``x`` ``(n, d)``: precompute them once per
    reference set and pass them to :func:`squared_distances` or :func:`nearest`."""
    return np.einsum("ij,ij->i", x, x)


def squared_distances(queries: np.ndarray, references: np.ndarray, sq_norms: np.ndarray | None = None
                      ) -> np.ndarray:
    """``(q, m)`` squared Euclidean distances between each query ``(q, d)`` and each reference
    ``(m, d)``; may hold tiny negative values from rounding (see the module's docstring).

    Arguments:
        sq_norms: optional ``(m,)`` :func:`squared_norms` of ``references``.
    """
    if sq_norms is None:
        sq_norms = squared_norms(references)
    return sq_norms[None, :] - 2.0 * (queries @ references.T) + squared_norms(queries)[:, None]


def distances(queries: np.ndarray, references: np.ndarray, sq_norms: np.ndarray | None = None) -> np.ndarray:
    """``(q, m)`` Euclidean distances (the Siamese distance) between each query ``(q, d)`` and each
    reference ``(m, d)``, never negative."""
    return np.sqrt(np.maximum(squared_distances(queries, references, sq_norms), 0.0))


def paired_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n,)`` Euclidean distance between the rows ``a[i]`` and ``b[i]`` of two ``(n, d)`` arrays
    (row by row, not all pairs), computed from the differences: exact even for close pairs."""
    return np.linalg.norm(a - b, axis=1)


def nearest(query: np.ndarray, references: np.ndarray, k: int = 5, sq_norms: np.ndarray | None = None):
    """The ``k`` references nearest to one query embedding.

    Arguments:
        query: ``(d,) float32``; references: ``(m, d) float32``.
        sq_norms: optional ``(m,) float32`` squared norms of the references, precomputed
            once per reference set (then a query reads the matrix once, not twice).

    Returns:
        ``(indices (k,) int, distances (k,) float32)``, nearest first (Euclidean distance, the
        Siamese distance). Fewer than ``k`` when there are fewer references.
    """
    references = np.asarray(references, np.float32)
    if len(references) == 0:
        return np.zeros(0, int), np.zeros(0, np.float32)
    if sq_norms is None:
        sq_norms = squared_norms(references)
    sq = sq_norms - 2.0 * (references @ query) + float(query @ query)  # one matrix-vector product
    k = min(k, len(references))
    top = np.argpartition(sq, k - 1)[:k] if k < len(references) else np.arange(len(references))
    top = top[np.argsort(sq[top], kind="stable")]
    return top, np.sqrt(np.maximum(sq[top], 0.0)).astype(np.float32)


def nearest_distances(queries: np.ndarray, references: np.ndarray, sq_norms: np.ndarray | None = None,
                      chunk: int = 64) -> np.ndarray:
    """``(q,) float32`` Euclidean distance from each query ``(q, d)`` to its nearest reference
    ``(m, d)``, in chunks so that memory stays at ``chunk x m`` floats."""
    if sq_norms is None:
        sq_norms = squared_norms(references)
    out = np.empty(len(queries), np.float32)
    for i in range(0, len(queries), chunk):
        sq = squared_distances(queries[i:i + chunk], references, sq_norms)
        out[i:i + chunk] = np.sqrt(np.maximum(sq.min(axis=1), 0.0))
    return out
