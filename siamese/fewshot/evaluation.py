"""N-way K-shot evaluation over episodes, and calibration of the "looks new" distance threshold.

Episodes (N classes, K support images and one query each) come from
:class:`siamese.fewshot.episodes.EpisodeSampler`, which also defines the two protocols. A query is assigned
the class whose prototype (mean support embedding, Snell et al. 2017; with K = 1 this is the
nearest support, as in Koch et al. 2015) is nearest in Euclidean distance. Candidate order is
shuffled and ties are broken at random, so a collapsed model that gives every candidate the same
distance scores about 1/N, not 100%.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from siamese.fewshot.episodes import EpisodeSampler
from siamese.distance import distances, paired_distances


@dataclass
class EpisodeResult:
    """One episode: indices into the evaluated image array.

    Attributes:
        support: ``(N, K) int`` image indices; row i is class i.
        queries: ``(N,) int`` image index of the query of each class.
        predicted: ``(N,) int`` predicted class (row of ``support``) for each query.
        distances: ``(N, N) float32`` distance from query i to prototype j.
    """
    support: np.ndarray
    queries: np.ndarray
    predicted: np.ndarray
    distances: np.ndarray

    @property
    def correct(self) -> np.ndarray:
        """``(N,) bool``: query i was assigned its own class."""
        return self.predicted == np.arange(len(self.queries))


@dataclass
class EvalResult:
    """Accuracy of an N-way K-shot evaluation with a 95% Wilson confidence interval."""
    protocol: str
    way: int
    shot: int
    accuracy: float
    ci_low: float
    ci_high: float
    n_queries: int
    episodes: list = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return (f"{self.way}-way {self.shot}-shot {self.protocol}: {100 * self.accuracy:.1f}% "
                f"(95% CI {100 * self.ci_low:.1f}-{100 * self.ci_high:.1f}, {self.n_queries} queries)")

    def as_dict(self) -> dict:
        return {"protocol": self.protocol, "way": self.way, "shot": self.shot,
                "accuracy": round(self.accuracy, 4), "ci95": [round(self.ci_low, 4), round(self.ci_high, 4)],
                "queries": self.n_queries}


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (Wilson 1927); better than the normal
    approximation near 0 and 1."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def classify(query_emb, prototypes, rng):
    """Nearest prototype with random tie-breaking.

    Arguments:
        query_emb: ``(q, d) float32``; prototypes: ``(N, d) float32``.

    Returns:
        ``(predicted (q,) int, distances (q, N) float32)``.
    """
    d = distances(query_emb, prototypes)
    order = rng.permutation(len(prototypes))  # shuffled candidate order
    shuffled = d[:, order]
    best = shuffled.min(axis=1, keepdims=True)
    ties = np.isclose(shuffled, best, rtol=1e-6, atol=1e-9)
    pick = np.array([rng.choice(np.flatnonzero(row)) for row in ties])
    return order[pick], d.astype(np.float32)


def evaluate(embeddings, labels, groups, drawers=None, way=20, shot=1, protocol="within-alphabet",
             episodes=None, seed=0, progress=None) -> EvalResult:
    """N-way K-shot accuracy over episodes, from precomputed embeddings.

    Arguments:
        embeddings: ``(n, d) float32`` one per image; labels, groups, drawers: ``(n,) int``
            (see :class:`siamese.fewshot.episodes.EpisodeSampler`; drawers may be None).
        way, shot, protocol: N, K and "within-alphabet" or "random".
        episodes: number of episodes; default enough for at least 400 queries (and at least 40).
        seed: of the episodes and of the tie-breaking, drawn from one generator in turn.
        progress: optional callable ``progress(done, total)``.

    Returns:
        :class:`EvalResult` with the episodes kept (for display).

    Raises:
        ValueError: as :meth:`siamese.fewshot.episodes.EpisodeSampler.sample`.
    """
    rng = np.random.default_rng(seed)
    episodes = episodes or max(40, math.ceil(400 / way))
    sampler = EpisodeSampler(labels, groups, drawers)
    kept, correct, total = [], 0, 0
    for e in range(episodes):
        support, queries = sampler.sample(way, shot, rng, protocol)
        prototypes = embeddings[support].mean(axis=1)
        predicted, dist = classify(embeddings[queries], prototypes, rng)
        result = EpisodeResult(support, queries, predicted, dist)
        correct += int(result.correct.sum())
        total += way
        kept.append(result)
        if progress:
            progress(e + 1, episodes)
    low, high = wilson_interval(correct, total)
    return EvalResult(protocol, way, shot, correct / total, low, high, total, kept)


def pair_distances(embeddings, labels, drawers=None, n_pairs=4000, seed=0):
    """Distances of random same-class and different-class pairs (half each).

    Returns:
        ``(distances (n_pairs,) float32, same (n_pairs,) bool)``.
    """
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    classes = np.array(list(by_class))
    half = n_pairs // 2
    a, b = [], []
    for c in rng.choice(classes, size=half):
        i, j = rng.choice(by_class[c], size=2, replace=False)
        a.append(i), b.append(j)
    while len(a) < n_pairs:
        i, j = rng.integers(len(labels), size=2)
        if labels[i] != labels[j]:
            a.append(i), b.append(j)
    a, b = np.array(a), np.array(b)
    dist = paired_distances(embeddings[a], embeddings[b]).astype(np.float32)
    return dist, labels[a] == labels[b]


def calibrate_threshold(distances, same) -> dict:
    """Distance threshold at the equal-error rate of same/different pairs.

    A pair at distance <= threshold is accepted as "same". False accept = a different pair
    accepted; false reject = a same pair rejected.

    Returns:
        ``{"threshold", "false_accept", "false_reject"}`` (rates in [0, 1]).
    """
    candidates = np.unique(distances)
    far = np.array([(distances[~same] <= t).mean() for t in candidates])
    frr = np.array([(distances[same] > t).mean() for t in candidates])
    i = int(np.argmin(np.abs(far - frr)))
    return {"threshold": float(candidates[i]), "false_accept": float(far[i]), "false_reject": float(frr[i])}


def error_rates(distances, same, threshold) -> dict:
    """False-accept and false-reject rates of a fixed threshold on given pairs."""
    return {"false_accept": float((distances[~same] <= threshold).mean()),
            "false_reject": float((distances[same] > threshold).mean())}


def confused_pairs(result: EvalResult, labels, top: int = 5) -> list[tuple[int, int, int]]:
    """The most frequent mistakes of an evaluation.

    Returns:
        ``[(true class, predicted class, count)]``, most frequent first (classes are ``labels``
        values of the query and of the wrongly chosen support).
    """
    counts: dict = {}
    for ep in result.episodes:
        for i in np.flatnonzero(~ep.correct):
            key = (int(labels[ep.queries[i]]), int(labels[ep.support[ep.predicted[i], 0]]))
            counts[key] = counts.get(key, 0) + 1
    return [(t, p, c) for (t, p), c in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]


def per_class_accuracy(result: EvalResult, labels) -> dict:
    """``{class: (correct, queries)}`` over all episodes of an evaluation."""
    out: dict = {}
    for ep in result.episodes:
        for q, ok in zip(ep.queries, ep.correct):
            c = int(labels[q])
            right, total = out.get(c, (0, 0))
            out[c] = (right + int(ok), total + 1)
    return out
