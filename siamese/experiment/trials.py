"""Round 1's trials: a query and K candidates from the Omniglot evaluation alphabets.

A trial follows the official runs' design (Lake et al. 2015, within-alphabet K-way 1-shot): K
characters of one alphabet, one drawing of each as a candidate, and a query: another drawing of
one of them, by another person (drawer) than the candidate of its character. Unlike the official
runs, each candidate's drawer is picked on its own (so a trial rarely shows one hand throughout),
and no image of the 20 official runs (``all_runs.zip``, a test set) is ever used: they are found
in the evaluation split by their pixels and left out (:func:`official_images`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from siamese.distance import distances

WAYS = (5, 20)
"""The K-ways a round offers."""
MIXED = "mixed"
"""The "alphabet" of a round whose trials each draw their own alphabet."""
MAX_TRIALS = 40


def image_key(x: np.ndarray) -> str:
    """A SHA-1 of a preprocessed image's bytes (``(28, 28) float32``): equal pixels, equal keys."""
    return hashlib.sha1(np.ascontiguousarray(x, np.float32).tobytes()).hexdigest()


def official_images(data, runs=None) -> np.ndarray:
    """``(n,) bool`` over ``data`` (the Omniglot evaluation split): the images that are also in the
    official runs (all 800 of them are found, by identical preprocessed pixels).

    Arguments:
        data: :class:`siamese.data.datasets.Omniglot` of the evaluation split.
        runs: :func:`siamese.measure.official_runs.load_official_runs` (loaded if None).

    Raises:
        siamese.data.datasets.DatasetError: all_runs.zip missing and not downloadable.
    """
    if runs is None:
        from siamese.measure.official_runs import load_official_runs
        runs = load_official_runs()
    keys = {image_key(x) for r in runs for x in list(r.training) + list(r.test)}
    return np.array([image_key(x) in keys for x in data.images], bool)


def make_trials(labels: np.ndarray, drawers: np.ndarray, char_alphabet: np.ndarray, alphabets,
                excluded: np.ndarray, n: int = 10, way: int = 20, alphabet: str = MIXED,
                seed: int = 0) -> list[dict]:
    """The trials of one round, the same for the same arguments.

    Arguments:
        labels: ``(m,) int`` character of each image; drawers: ``(m,) int`` its drawer;
        char_alphabet: ``(c,) int`` alphabet of each character; alphabets: ``(a,)`` names;
        excluded: ``(m,) bool`` images never used (the official runs').
        n: trials (1..``MAX_TRIALS``); way: K, one of :data:`WAYS`; alphabet: a name of
        ``alphabets`` or :data:`MIXED` (each trial its own alphabet, among those with at least K
        characters); seed: the round's seed.

    Returns:
        ``[{"alphabet": name, "query": image index, "candidates": [K image indices],
        "answer": position of the query's character among the candidates}]``.

    Raises:
        ValueError: a way, count or alphabet a round cannot have (message for the user).
    """
    if way not in WAYS:
        raise ValueError(f"A trial is {' or '.join(map(str, WAYS))}-way, not {way}-way.")
    if not 1 <= int(n) <= MAX_TRIALS:
        raise ValueError(f"A round holds 1 to {MAX_TRIALS} trials, not {n}.")
    alphabets = [str(a) for a in alphabets]
    counts = np.bincount(char_alphabet, minlength=len(alphabets))
    if alphabet == MIXED:
        pool = [i for i, c in enumerate(counts) if c >= way]
    elif alphabet in alphabets:
        pool = [alphabets.index(alphabet)]
        if counts[pool[0]] < way:
            raise ValueError(f"{alphabet} has {counts[pool[0]]} characters: too few for a {way}-way trial.")
    else:
        raise ValueError(f"There is no evaluation alphabet called {alphabet!r}.")
    rng = np.random.default_rng(seed)
    usable = {}
    for i in np.flatnonzero(~np.asarray(excluded, bool)):
        usable.setdefault(int(labels[i]), []).append(int(i))
    trials = []
    for _ in range(int(n)):
        a = int(rng.choice(pool))
        chars = rng.choice(np.flatnonzero(char_alphabet == a), size=way, replace=False)
        answer = int(rng.integers(way))
        query = int(rng.choice(usable[int(chars[answer])]))
        candidates = []
        for j, c in enumerate(chars):
            others = [i for i in usable[int(c)] if drawers[i] != drawers[query]]
            candidates.append(int(rng.choice(others)))
        trials.append({"alphabet": alphabets[a], "query": query, "candidates": candidates, "answer": answer})
    return trials


def model_answers(embed: Callable[[np.ndarray], np.ndarray], images: np.ndarray, trials: list[dict]) -> list[dict]:
    """The model's answer to each trial: the candidate nearest the query (Euclidean distance between
    embeddings, as the official runs are scored).

    Arguments:
        embed: ``(b, 28, 28) float32 -> (b, d) float32`` (e.g. ``Matcher.embed_inputs``);
        images: ``(m, 28, 28) float32`` the images the trials index.

    Returns:
        the trials, each with ``"model"`` (position chosen) and ``"distances"`` (K floats) added.
    """
    out = []
    for t in trials:
        e = embed(images[[t["query"]] + list(t["candidates"])])
        d = distances(e[:1], e[1:])[0]
        out.append({**t, "model": int(np.argmin(d)), "distances": [round(float(v), 4) for v in d]})
    return out
