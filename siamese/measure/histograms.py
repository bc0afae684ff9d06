"""How far apart two drawings of one symbol land, and how far two different symbols land: the
distance histograms of an embedding's calibration pairs, kept in its model card so the Compare
page can place a pair of sketches on them without computing anything heavy.

Two sets of pairs, embedded with the model itself:

- **Omniglot characters**: the held-out validation alphabets of the background split (never
  trained on; the pairs the card's threshold is calibrated on,
  :func:`siamese.measure.report.threshold_calibration`): every pair of two drawings of one character by
  two different drawers, and as many pairs of two different characters by two different drawers.
- **MNIST digits**: the test split (never trained on by any model of this project): random pairs
  of two different images of one digit and of two different digits. Nothing is chosen on them; they
  are only shown, so a class drawing digits sees digits' distances.

``python -m siamese distance-histograms`` computes them (:func:`distance_histograms`) and adds them
to the card under :data:`CARD_KEY`; :meth:`DistanceHistograms.from_card` reads them back.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from siamese.distance import paired_distances

CARD_KEY = "distance_histograms"
BINS = 60
DIFFERENT_PAIRS = 20_000
"""Pairs of different characters (Omniglot) and, for MNIST, pairs of each kind."""
COMMAND = "python -m siamese distance-histograms"
SAME, DIFFERENT = "same symbol", "different symbols"
"""The two kinds of pair, as the chart's legend names them."""


@dataclass(frozen=True)
class PairHistogram:
    """Distances of same-symbol and different-symbol pairs of one data set, binned.

    Attributes:
        title: what the pairs are, in a few words ("Omniglot characters").
        source: where they come from, in a sentence.
        edges: ``(BINS + 1,) float64`` bin edges, Euclidean distance in embedding space, from 0;
            the last bin also holds every pair beyond the last edge.
        same, different: ``(BINS,) int64`` pair counts per bin.
    """
    title: str
    source: str
    edges: np.ndarray
    same: np.ndarray
    different: np.ndarray

    def _share_up_to(self, counts: np.ndarray, d: float) -> float:
        """Share of the pairs at most ``d`` apart, spreading each bin evenly over its width."""
        cumulative = np.concatenate([[0.0], np.cumsum(counts, dtype=np.float64)]) / max(int(counts.sum()), 1)
        return float(np.interp(d, self.edges, cumulative, left=0.0, right=1.0))

    def same_farther(self, d: float) -> float:
        """Share in [0, 1] of the same-symbol pairs farther apart than distance ``d``."""
        return 1.0 - self._share_up_to(self.same, d)

    def different_closer(self, d: float) -> float:
        """Share in [0, 1] of the different-symbol pairs at most distance ``d`` apart."""
        return self._share_up_to(self.different, d)

    def rows(self) -> list[dict]:
        """Long-form rows for a chart: one per bin and kind, ``{"start", "end", "pairs", "share"}``,
        ``share`` = the bin's count over the kind's pairs (each kind sums to 1, so two kinds of
        different sizes compare), ``pairs`` = :data:`SAME` or :data:`DIFFERENT`."""
        out = []
        for kind, counts in ((SAME, self.same), (DIFFERENT, self.different)):
            total = max(int(counts.sum()), 1)
            out += [{"start": float(a), "end": float(b), "pairs": kind, "share": float(c) / total}
                    for a, b, c in zip(self.edges[:-1], self.edges[1:], counts)]
        return out


@dataclass(frozen=True)
class DistanceHistograms:
    """The card's :data:`CARD_KEY` section: :class:`PairHistogram` by data set key (``"omniglot"``,
    ``"mnist"``), in the card's order, and the id of the model they were measured with."""
    model_id: str
    sets: Mapping[str, PairHistogram]

    @classmethod
    def from_card(cls, card: Mapping | None, model_id: str | None = None) -> DistanceHistograms | None:
        """The histograms in a model card, or None when it has none (a model trained in the app, a
        card written before this section existed, or one measured on another model than
        ``model_id``, when given).

        Raises:
            ValueError: the section is there but malformed (counts and edges of different
                lengths, negative counts, edges not increasing).
        """
        section = card.get(CARD_KEY) if card else None
        if not section or (model_id is not None and section.get("model_id") != model_id):
            return None
        try:
            edges = np.asarray(section["bin_edges"], np.float64)
            sets = {}
            for key, s in section["sets"].items():
                same, different = (np.asarray(s[k], np.int64) for k in ("same", "different"))
                if same.shape != different.shape or same.shape != (len(edges) - 1,) or (same < 0).any() \
                        or (different < 0).any():
                    raise ValueError(f"set {key!r}: counts do not fit {len(edges)} bin edges")
                sets[key] = PairHistogram(str(s["title"]), str(s["source"]), edges, same, different)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"the model card's {CARD_KEY} section is malformed ({type(exc).__name__}: {exc})") \
                from exc
        if len(edges) < 2 or not (np.diff(edges) > 0).all() or not sets:
            raise ValueError(f"the model card's {CARD_KEY} section is malformed (bin edges or sets)")
        return cls(str(section["model_id"]), sets)


def omniglot_pairs(labels: np.ndarray, drawers: np.ndarray, n_different: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of two drawings of one character by different drawers, and ``n_different``
    random pairs of two different characters by different drawers.

    Arguments:
        labels, drawers: ``(n,) int`` character and drawer of each image.

    Returns:
        ``(i, j, same)``: ``(m,) int64`` image indices and ``(m,) bool``, same pairs first.
    """
    a, b = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        i, j = np.triu_indices(len(idx), 1)
        keep = drawers[idx[i]] != drawers[idx[j]]
        a.append(idx[i][keep]), b.append(idx[j][keep])
    same_i, same_j = np.concatenate(a), np.concatenate(b)
    diff_i, diff_j = _different_pairs(labels, n_different, rng, drawers)
    i, j = np.concatenate([same_i, diff_i]), np.concatenate([same_j, diff_j])
    return i, j, np.arange(len(i)) < len(same_i)


def digit_pairs(labels: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random pairs of two different images of one class, then ``n`` of two classes.

    Returns:
        ``(i, j, same)`` as :func:`omniglot_pairs`.
    """
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    classes = rng.choice(list(by_class), size=n)
    same = np.array([rng.choice(by_class[c], size=2, replace=False) for c in classes]).reshape(n, 2)
    diff_i, diff_j = _different_pairs(labels, n, rng)
    return (np.concatenate([same[:, 0], diff_i]), np.concatenate([same[:, 1], diff_j]),
            np.arange(2 * n) < n)


def _different_pairs(labels, n, rng, drawers=None):
    """``n`` random pairs of images of two different classes (and drawers, when given)."""
    i, j = np.zeros(0, np.int64), np.zeros(0, np.int64)
    while len(i) < n:  # rejection: with 10 or more classes, 9 draws in 10 or more are kept
        a, b = rng.integers(len(labels), size=(2, 2 * n))
        keep = labels[a] != labels[b]
        if drawers is not None:
            keep &= drawers[a] != drawers[b]
        i, j = np.concatenate([i, a[keep]]), np.concatenate([j, b[keep]])
    return i[:n], j[:n]


def pair_distances(embeddings: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``(m,) float64`` Euclidean distances between rows ``i`` and ``j`` of ``(n, d)`` embeddings."""
    return paired_distances(embeddings[i].astype(np.float64), embeddings[j])


def bin_edges(distances: list[np.ndarray], bins: int = BINS) -> np.ndarray:
    """``(bins + 1,)`` equal-width edges from 0 to the 99.9th percentile of all the distances,
    rounded up to a multiple of 0.5 (the last bin takes the rare pairs beyond it)."""
    top = float(np.quantile(np.concatenate(distances), 0.999))
    return np.linspace(0.0, max(np.ceil(top * 2) / 2, 0.5), bins + 1)


def counts(distances: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``(len(edges) - 1,) int64`` counts per bin; distances beyond the last edge count in the last bin."""
    return np.histogram(np.clip(distances, edges[0], edges[-1]), bins=edges)[0].astype(np.int64)


def distance_histograms(embed: Callable[[np.ndarray], np.ndarray], model_id: str, seed: int = 0,
                        n_pairs: int = DIFFERENT_PAIRS) -> dict:
    """Measure the card's :data:`CARD_KEY` section for an embedding model (about 20 s on 2 cores
    once the Omniglot arrays are cached).

    Arguments:
        embed: ``(n, 28, 28) float32`` in [0, 1] -> ``(n, d) float32``, e.g. ``matcher.embed_inputs``.
        model_id: the model's id (:func:`siamese.embedding.matcher.file_model_id`), recorded so a card
            carried over to another model is not read as this one's.
        seed: the random pairs' seed (the Omniglot same-character pairs are all taken).
        n_pairs: Omniglot different-character pairs; MNIST pairs of each kind.

    Returns:
        ``{"model_id", "command", "seed", "bin_edges": [BINS + 1 floats], "sets": {"omniglot":
        {"title", "source", "same": [BINS ints], "different": [BINS ints], "pairs": {"same",
        "different"}}, "mnist": {...}}}``, JSON-ready.

    Raises:
        siamese.data.datasets.DatasetError: Omniglot background or MNIST is not available.
    """
    from siamese.data.datasets import load_mnist, load_omniglot, split_background
    from siamese.data.preprocess import batch_to_model_input

    rng = np.random.default_rng(seed)
    background = load_omniglot("background")
    _, val = split_background(background)
    emb = embed(background.images[val])
    i, j, same = omniglot_pairs(background.labels[val], background.drawers[val], n_pairs, rng)
    omniglot = pair_distances(emb, i, j), same
    names = ", ".join(str(a) for a in background.alphabets[np.unique(background.alphabet_of_image[val])])

    _, (x_test, y_test) = load_mnist()
    x, _ = batch_to_model_input(x_test)
    i, j, same = digit_pairs(y_test.astype(int), n_pairs, rng)
    mnist = pair_distances(embed(x), i, j), same

    edges = bin_edges([omniglot[0], mnist[0]])
    sources = {
        "omniglot": ("Omniglot characters", f"Omniglot background validation alphabets ({names}), never trained "
                     "on: every pair of two drawings of one character by two different people, and random pairs "
                     "of two different characters; the pairs the threshold is calibrated on", omniglot),
        "mnist": ("MNIST digits", "MNIST test digits, never trained on: random pairs of two images of one digit "
                  "and of two different digits", mnist),
    }
    return {"model_id": model_id, "command": COMMAND, "seed": seed, "bin_edges": [round(float(e), 6) for e in edges],
            "sets": {key: {"title": title, "source": source,
                           "same": counts(d[s], edges).tolist(), "different": counts(d[~s], edges).tolist(),
                           "pairs": {"same": int(s.sum()), "different": int((~s).sum())}}
                     for key, (title, source, (d, s)) in sources.items()}}
