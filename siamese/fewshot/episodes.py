"""N-way K-shot episodes: which images form each class's support set and queries.

An episode (Vinyals et al. 2016, "Matching Networks for One Shot Learning") draws N classes and,
for each, K support images and Q queries; training and evaluation both draw theirs from one
:class:`EpisodeSampler`. The support images of a class make its prototype (their mean embedding,
Snell et al. 2017) and each query is scored against the N prototypes.

Protocols say where the N classes come from (always reported with N and K):

- "within-alphabet": all N classes from one alphabet, the harder task of Lake et al. 2015
  (Science), on which Koch et al. 2015 report 92.0% and people 95.5% (20-way 1-shot).
- "random": classes drawn across all alphabets of the split (Vinyals et al. 2016 and later work).

For training, a class may be a *view* of a character: one of ``rotations`` quarter turns, and with
``mirror`` its mirror images too, each a new class (Vinyals et al. 2016, Snell et al. 2017).
For evaluation with drawers, support and queries come from different people, as in Lake et al.

Training episodes are 1-shot with Q queries and are assembled class by class (:meth:`classes`,
then :meth:`images` and the caller's augmentation for each class); evaluation episodes are K-shot
with one query (:meth:`sample`). Every draw comes from the caller's ``numpy.random.Generator`` in
a fixed order, documented per method: the shipped model and the recorded numbers were made with
exactly these streams. That is also why a class's images are drawn with ``Generator.choice`` for
training but ``Generator.permutation`` for evaluation without drawers: the same distribution, two
streams, each the one its results came from.
"""
from __future__ import annotations

from typing import Literal, get_args

import numpy as np

Protocol = Literal["within-alphabet", "random"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)


def n_views(rotations: int, mirror: bool) -> int:
    """Views per character: ``rotations`` quarter turns, doubled when mirror images count too."""
    return rotations * 2 if mirror else rotations


class EpisodeSampler:
    """Draws episodes from one labelled image set.

    A class id is ``character * views + view`` where ``character`` indexes the sorted distinct
    labels; without rotations or mirror (``views`` = 1) it is the character's index.

    Arguments:
        labels: ``(n,) int`` character of each image.
        groups: ``(n,) int`` alphabet of each image, or None (then only "random" episodes).
        drawers: ``(n,) int`` drawer of each image, or None; see :meth:`sample`.
        rotations: quarter turns per character that are classes of their own: 4 for Omniglot,
            1 for digits (a rotated 6 is a 9).
        mirror: mirror images of each view are classes too.

    Attributes:
        members: image indices of each character, in label order.
        views: views per character; n_classes: characters x views.
    """

    def __init__(self, labels, groups=None, drawers=None, rotations: int = 1, mirror: bool = False):
        self._labels = np.unique(labels)
        self.members = [np.flatnonzero(labels == c) for c in self._labels]
        self.rotations = rotations
        self.views = n_views(rotations, mirror)
        self.n_classes = len(self.members) * self.views
        self.drawers = drawers
        self._all_drawers = None if drawers is None else np.unique(drawers)
        self._alphabets = []
        if groups is not None:
            group_of_class = np.array([groups[idx[0]] for idx in self.members])
            self._alphabets = [np.flatnonzero(group_of_class == g) for g in np.unique(group_of_class)]

    def _alphabet_pools(self, way: int) -> list[np.ndarray]:
        """Class ids of each alphabet that has at least ``way`` classes, in alphabet order."""
        return [(m[:, None] * self.views + np.arange(self.views)).ravel() for m in self._alphabets
                if len(m) * self.views >= way]

    def fits_within_alphabet(self, way: int) -> bool:
        """Whether some alphabet has ``way`` classes (always False without ``groups``)."""
        return bool(self._alphabet_pools(way))

    def classes(self, way: int, rng: np.random.Generator, protocol: Protocol) -> np.ndarray:
        """The ``(way,) int`` class ids of one episode, distinct.

        Draws: "within-alphabet" first picks one eligible alphabet (``rng.integers``), then both
        protocols pick the classes with one ``rng.choice(..., replace=False)``.

        Raises:
            ValueError: unknown protocol; no alphabet with ``way`` classes; fewer than ``way``
                classes in all.
        """
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        if protocol == "within-alphabet":
            pools = self._alphabet_pools(way)
            if not pools:
                raise ValueError(f"no alphabet has {way} characters")
            return rng.choice(pools[rng.integers(len(pools))], size=way, replace=False)
        if self.n_classes < way:
            raise ValueError(f"{way}-way needs {way} classes, only {self.n_classes} available")
        return rng.choice(self.n_classes, size=way, replace=False)

    def images(self, cls: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n,) int`` distinct image indices of class ``cls``, any drawers (training: the
        support first, then the queries). One ``rng.choice(..., replace=False)``.

        Raises:
            ValueError: the class has fewer than ``n`` images.
        """
        return rng.choice(self.members[cls // self.views], size=n, replace=False)

    def view(self, images: np.ndarray, cls: int) -> np.ndarray:
        """Images ``(n, 28, 28)`` of class ``cls`` as that class shows them: ``view % rotations``
        quarter turns, then mirrored left-right for the second half of the views."""
        view = cls % self.views
        out = np.rot90(images, k=view % self.rotations, axes=(1, 2))
        return out[:, :, ::-1] if view >= self.rotations else out

    def sample(self, way: int, shot: int, rng: np.random.Generator,
               protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:
        """One evaluation episode: ``shot`` support images and one query per class, as they are
        (views are a training device).

        With ``drawers``, as in Lake et al. 2015: ``shot + 1`` distinct drawers are picked for the
        whole episode (one ``rng.choice`` over the sorted drawers), the support images of every
        class come from the first ``shot`` and its query from the last. Without, each class's
        images are shuffled (``rng.permutation``) and the first ``shot + 1`` taken.

        Returns:
            ``(support (N, K) int, queries (N,) int)`` image indices; row i is class i.

        Raises:
            ValueError: a sampler with views; as :meth:`classes`; without drawers, a chosen
                class with fewer than ``shot + 1`` images.
        """
        if self.views != 1:
            raise ValueError("evaluation episodes show images as they are: build the sampler without "
                             "rotations or mirror")
        chosen = self.classes(way, rng, protocol)
        support, queries = np.empty((way, shot), int), np.empty(way, int)
        if self.drawers is not None:
            picked = rng.choice(self._all_drawers, size=shot + 1, replace=False)
            for i, c in enumerate(chosen):
                by_drawer = {int(self.drawers[j]): j for j in self.members[c]}
                support[i] = [by_drawer[int(d)] for d in picked[:shot]]
                queries[i] = by_drawer[int(picked[shot])]
            return support, queries
        for i, c in enumerate(chosen):
            idx = rng.permutation(self.members[c])
            if len(idx) < shot + 1:
                raise ValueError(f"class {self._labels[c]} has {len(idx)} images, {shot}-shot needs {shot + 1}")
            support[i], queries[i] = idx[:shot], idx[shot]
        return support, queries
