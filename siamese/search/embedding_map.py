"""A 2-D map of one reference set's embedding space, for the Draw & match page: the references
projected on the set's first two principal components (PCA), and any sketch projected by the same
linear map, so a sketch lands exactly where the reference with its embedding lies.

The map is a picture of the space, not the match: two principal components keep part of the
variance (``EmbeddingMap.explained``), so points close on the map may be far apart in the full
embedding, and the match list (Euclidean distance in the full space) stays the answer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AXES = 2


@dataclass(frozen=True)
class EmbeddingMap:
    """A PCA projection fitted on one reference set.

    Attributes:
        mean: ``(d,) float32``, the set's mean embedding.
        axes: ``(2, d) float32``, the first two principal axes (unit rows; a zero row where the set
            has no variance left, e.g. a set of one or two references).
        explained: ``(2,) float64``, the share of the set's variance along each axis (0 for a zero
            row).
        points: ``(n, 2) float32``, the references projected (:meth:`project` of their
            embeddings), in the order given to :func:`fit_map`.
    """
    mean: np.ndarray
    axes: np.ndarray
    explained: np.ndarray
    points: np.ndarray

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        """Map coordinates of embeddings by the same model.

        Each row is computed on its own (an element-wise product summed over the embedding, not a
        matrix product whose summation order depends on the batch), so an embedding projects to
        the same bits alone or among others: a reference's own embedding lands exactly on its point.

        Arguments:
            embeddings: ``(m, d)`` or ``(d,)`` float32.

        Returns:
            ``(m, 2) float32`` (``(2,)`` for one ``(d,)`` embedding).

        Raises:
            ValueError: an embedding of another dimension than the set's.
        """
        e = np.asarray(embeddings, np.float32)
        if e.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"embeddings of dimension {e.shape[-1]} on a map of dimension {self.mean.shape[0]}")
        centred = (e - self.mean)[..., None, :]
        return (centred * self.axes).sum(axis=-1, dtype=np.float32)


def fit_map(embeddings: np.ndarray) -> EmbeddingMap:
    """Fit the map of one reference set: PCA on its embeddings, as the eigenvectors of their
    scatter matrix with the largest eigenvalues (numpy's LAPACK ``syevd`` on a ``(d, d)`` float64
    matrix: about 2 ms for 1,000 references of 128 dimensions, where an SVD of the ``(n, d)``
    embeddings took 20 ms to 1 s on a busy 2-core machine; scikit-learn's ``PCA`` gives the same
    axes, and importing it would add about a second to the app's first page).

    Each axis's sign is fixed so that its largest loading is positive: the same set always gives
    the same picture, never a mirror image.

    Arguments:
        embeddings: ``(n, d) float32``, every reference of the set (n may be 0 or 1: the map is
            then a point at the origin).

    Returns:
        :class:`EmbeddingMap`.

    Raises:
        ValueError: ``embeddings`` is not a 2-D array.
    """
    e = np.asarray(embeddings, np.float32)
    if e.ndim != 2:
        raise ValueError(f"embeddings must be (n, d), not {e.shape}")
    n, d = e.shape
    mean = e.mean(axis=0, dtype=np.float64).astype(np.float32) if n else np.zeros(d, np.float32)
    axes, explained = np.zeros((AXES, d), np.float32), np.zeros(AXES)
    k = min(AXES, n - 1, d)  # n points span at most n - 1 directions
    if k > 0:
        centred = e.astype(np.float64) - mean
        eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending
        variance, vt = np.maximum(eigenvalues[::-1], 0.0), eigenvectors[:, ::-1].T
        keep = variance[:k] > 1e-12 * max(float(variance.sum()), 1e-30)  # no variance left: a zero axis
        components = vt[:k] * np.where(vt[np.arange(k), np.abs(vt[:k]).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]
        axes[:k] = (components * keep[:, None]).astype(np.float32)
        explained[:k] = np.where(keep, variance[:k] / max(float(variance.sum()), 1e-30), 0.0)
    unfinished = EmbeddingMap(mean, axes, explained, np.zeros((0, AXES), np.float32))
    return EmbeddingMap(mean, axes, explained, unfinished.project(e))
