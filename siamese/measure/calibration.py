"""Calibrating the open-set rule of :mod:`siamese.search.openset`, and measuring open-set matching.

Calibration uses validation data only: the held-out validation alphabets of the Omniglot
background split (never trained on; :func:`siamese.data.datasets.split_background`) and the MNIST training
digits kept for validation (``x_train[50000:]``, :data:`siamese.data.datasets.MNIST_TRAINED`; never trained
on). The evaluation alphabets and the official runs are test data: ``benchmarks/openset.py``
measures the rule on them with the same set builders, and nothing is chosen there.

A *set trial* is one reference set with sketches of its symbols ("known") and of symbols it does
not hold ("never-seen"). Three kinds, as in the app:

- one alphabet: one reference per character (drawer 1); known: the other drawers; never-seen:
  characters of other alphabets;
- Digits: the Digits references (MNIST and pen digits); known: other MNIST validation digits and
  the pen digits of half the UNIPEN validation writers (the other half calibrates the known side:
  :func:`pen_validation_halves`); never-seen: Omniglot characters;
- "My symbols" of m symbols: m random characters, one drawing each; known: another drawing of
  each; never-seen: characters not in the set.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from siamese.search.openset import NoveltyCalibration, set_novelty
from siamese.distance import distances, squared_distances

POOL_DRAWERS = 4  # pool: drawers 1-4 of every validation character (404 images)
QUANTILES = 201  # same-character distances kept at every 0.5%
SURE = 0.01
LIKELY = 0.05
AMBIGUITY = 1.1
CORRECTION_GRID = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
SYMBOL_SET_SIZES = (1, 10, 30)  # validation has 101 characters; the benchmark adds 100 on test data
CALIBRATION_PEN_WIDTHS = (10, 18, 30)  # px: thin, the canvas default, thick (the slider offers 4-40)


@dataclass
class SetTrial:
    """One reference set and its queries, as embeddings.

    Attributes:
        references: ``(n, d) float32``; symbols: ``(n,) int`` symbol of each reference.
        known: ``(q, d)`` sketches of the set's symbols; known_symbols: ``(q,) int``.
        unknown: ``(u, d)`` sketches of symbols the set does not hold.
        pool: ``(p, d)`` the never-seen pool used to calibrate this set (disjoint from
            ``unknown``'s symbols).
    """
    references: np.ndarray
    symbols: np.ndarray
    known: np.ndarray
    known_symbols: np.ndarray
    unknown: np.ndarray
    pool: np.ndarray
    kind: str | None = None
    """The set's kind where its known distances are calibrated apart ("digits"), else None."""


def nearest_two(queries: np.ndarray, references: np.ndarray, symbols: np.ndarray):
    """Distances to the nearest and second-nearest symbol (nearest example of each).

    Returns:
        ``(d1 (q,), d2 (q,), predicted symbol (q,))``; d2 is ``inf`` when the set has one symbol.
    """
    sq = squared_distances(queries, references)
    ids = np.unique(symbols)
    per_symbol = np.stack([sq[:, symbols == s].min(axis=1) for s in ids], axis=1)
    order = np.sort(per_symbol, axis=1)
    d1 = np.sqrt(np.maximum(order[:, 0], 0))
    d2 = np.sqrt(np.maximum(order[:, 1], 0)) if len(ids) > 1 else np.full(len(queries), np.inf)
    return d1, d2, ids[per_symbol.argmin(axis=1)]


def same_distance_quantiles(embeddings: np.ndarray, labels: np.ndarray, drawers: np.ndarray,
                            n: int = QUANTILES) -> np.ndarray:
    """``(n,)`` quantiles (levels 0 to 1) of the distances between two drawings of one character
    by different drawers, over every such pair."""
    dists = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        e = embeddings[idx]
        d = distances(e, e)
        i, j = np.triu_indices(len(idx), 1)
        dists.append(d[i, j][drawers[idx][i] != drawers[idx][j]])
    return np.quantile(np.concatenate(dists), np.linspace(0, 1, n))


def alphabet_trials(emb, labels, drawers, alphabet_of, pool_of: Callable, rng, known: int = 500,
                    unknown: int = 500, unknown_of: Callable | None = None) -> list[SetTrial]:
    """One trial per alphabet: drawer 1 of each character as references.

    Arguments:
        emb, labels, drawers, alphabet_of: ``(n, ...)`` embeddings, character, drawer, alphabet
            of each image.
        pool_of: alphabet -> ``(p, d)`` pool for that set.
        unknown_of: alphabet -> ``(n,) bool`` images whose characters may serve as never-seen
            (default: every other alphabet).
        known, unknown: at most this many queries of each side, sampled.
    """
    trials = []
    for a in np.unique(alphabet_of):
        mine = alphabet_of == a
        refs = np.flatnonzero(mine & (drawers == 1))
        k = np.flatnonzero(mine & (drawers != 1))
        u = np.flatnonzero(~mine if unknown_of is None else unknown_of(a))
        k, u = (rng.choice(x, min(n, len(x)), replace=False) for x, n in ((k, known), (u, unknown)))
        trials.append(SetTrial(emb[refs], labels[refs], emb[k], labels[k], emb[u], pool_of(a)))
    return trials


def symbol_trials(emb, labels, m: int, rng, n_known: int = 1000, pool: np.ndarray | None = None,
                  pool_drawers: np.ndarray | None = None) -> list[SetTrial]:
    """"My symbols" sets of ``m`` random characters, one random drawing each as its reference,
    until ``n_known`` known queries (one other drawing per symbol and set).

    With ``pool`` None (validation), the characters outside the set are split at random into the
    never-seen ones and the pool's (drawers 1-4 of ``pool_drawers``), so the two never share a
    character; with a ``pool``, every character outside the set may be never-seen.
    """
    classes = np.unique(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    trials = []
    for _ in range(max(1, n_known // m)):
        perm = rng.permutation(classes)
        chosen, rest = perm[:m], perm[m:]
        if pool is None:
            rest, pooled = rest[: len(rest) // 2], rest[len(rest) // 2:]
            set_pool = emb[np.isin(labels, pooled) & (pool_drawers <= POOL_DRAWERS)]
        else:
            set_pool = pool
        refs = np.array([rng.choice(by_class[c]) for c in chosen])
        known = np.array([rng.choice(by_class[c][by_class[c] != r]) for c, r in zip(chosen, refs)])
        others = np.flatnonzero(np.isin(labels, rest))
        unknown = rng.choice(others, min(len(others), max(m, 20)), replace=False)
        trials.append(SetTrial(emb[refs], labels[refs], emb[known], labels[known], emb[unknown], set_pool))
    return trials


@dataclass
class Scores:
    """The nearest distances of one trial's queries: known ``d1k, d2k`` with ``correct`` (top-1
    right), never-seen ``d1u, d2u``."""
    d1k: np.ndarray
    d2k: np.ndarray
    correct: np.ndarray
    d1u: np.ndarray
    d2u: np.ndarray


def scores(trial: SetTrial) -> Scores:
    d1k, d2k, predicted = nearest_two(trial.known, trial.references, trial.symbols)
    d1u, d2u, _ = nearest_two(trial.unknown, trial.references, trial.symbols)
    return Scores(d1k, d2k, predicted == trial.known_symbols, d1u, d2u)


def roc_auc(known_score: np.ndarray, unknown_score: np.ndarray) -> float:
    """Area under the ROC of known versus never-seen when a lower score means "known": the chance
    that a random known sketch scores below a random never-seen one (ties count half)."""
    u = np.sort(unknown_score)
    below = len(u) - np.searchsorted(u, known_score, side="right")
    ties = np.searchsorted(u, known_score, side="right") - np.searchsorted(u, known_score, side="left")
    return float((below + 0.5 * ties).sum() / (len(known_score) * len(u)))


def measure(trials: list[SetTrial], decide: Callable) -> dict:
    """Open-set rates of a rule over trials of one kind.

    Arguments:
        decide: ``(trial, d1, d2) -> score`` with match where ``score <= 0`` (lower = more known).

    Returns:
        ``{"top1", "known_new", "unseen_match", "auc", "wrong_match", "known", "unknown"}``: top-1
        of known sketches, share of known sketches called "looks new", of never-seen called a
        match, the ROC area of the pooled scores, the share of wrong top-1 answers called a match,
        and the numbers of queries.
    """
    sk, su, ok = [], [], []
    for t in trials:
        s = scores(t)
        sk.append(decide(t, s.d1k, s.d2k))
        su.append(decide(t, s.d1u, s.d2u))
        ok.append(s.correct)
    sk, su, ok = map(np.concatenate, (sk, su, ok))
    return {"top1": float(ok.mean()), "known_new": float((sk > 0).mean()), "unseen_match": float((su <= 0).mean()),
            "auc": roc_auc(sk, su), "wrong_match": float((sk[~ok] <= 0).mean()) if (~ok).any() else 0.0,
            "known": int(len(sk)), "unknown": int(len(su))}


def per_set_rule(calibration: NoveltyCalibration) -> Callable:
    """:func:`measure`'s ``decide`` for the rule of :mod:`siamese.search.openset`: the score is the
    estimated never-seen acceptance minus the estimated known rejection at ``d1`` (a match when
    at most 0), the set calibrated on the trial's pool."""
    cache: dict = {}

    def decide(trial, d1, d2):
        key = id(trial)
        if key not in cache:
            cache[key] = (trial, set_novelty(trial.pool, trial.references, calibration.for_kind(trial.kind)))
        novelty = cache[key][1]
        return novelty.new_acceptance(d1) - novelty.calibration.known_rejection(d1)
    return decide


def choose_pool_correction(trials_by_kind: dict, same_quantiles: np.ndarray, kind_quantiles: dict | None = None,
                           grid=CORRECTION_GRID) -> tuple[float, dict]:
    """The pool correction that minimises, over the validation set kinds, the mean of the larger
    of the two error rates (known called new, never-seen called a match); ties go to the smaller.

    Returns:
        ``(correction, {correction: {kind: measure(...)}})``.
    """
    table = {}
    for c in grid:
        rule = per_set_rule(NoveltyCalibration(np.asarray(same_quantiles), c, SURE, LIKELY, AMBIGUITY,
                                               dict(kind_quantiles or {})))
        table[c] = {kind: measure(trials, rule) for kind, trials in trials_by_kind.items()}
    worst = {c: np.mean([max(r["known_new"], r["unseen_match"]) for r in rows.values()]) for c, rows in table.items()}
    return min(grid, key=lambda c: (round(worst[c], 6), c)), table


def validation_trials(val_emb, val_labels, val_drawers, val_alphabets, digit_refs, digit_ref_labels, digit_queries,
                      digit_query_labels, seed: int = 0) -> dict:
    """The validation set trials, by kind: "alphabets", "digits", "my symbols (m)".

    Arguments:
        val_*: ``(n, ...)`` the validation alphabets' embeddings, characters, drawers, alphabets.
        digit_refs, digit_ref_labels: the Digits set (embeddings, digits); digit_queries,
            digit_query_labels: other MNIST training digits (validation ones, never trained on).

    For every trial the pool and the never-seen sketches come from different characters: the
    characters the set does not hold are split at random into the two halves.
    """
    rng = np.random.default_rng(seed)
    pool_mask = val_drawers <= POOL_DRAWERS
    halves = {}
    for a in np.unique(val_alphabets):  # never-seen and pool characters of each alphabet's set
        other = rng.permutation(np.unique(val_labels[val_alphabets != a]))
        halves[a] = other[: len(other) // 2], other[len(other) // 2:]
    out = {"alphabets": alphabet_trials(
        val_emb, val_labels, val_drawers, val_alphabets, rng=rng,
        pool_of=lambda a: val_emb[np.isin(val_labels, halves[a][1]) & pool_mask],
        unknown_of=lambda a: np.isin(val_labels, halves[a][0]))}
    chars = rng.permutation(np.unique(val_labels))
    unseen, pooled = np.isin(val_labels, chars[: len(chars) // 2]), np.isin(val_labels, chars[len(chars) // 2:])
    u = rng.choice(np.flatnonzero(unseen), min(1000, int(unseen.sum())), replace=False)
    out["digits"] = [SetTrial(digit_refs, digit_ref_labels, digit_queries, digit_query_labels, val_emb[u],
                              val_emb[pooled & pool_mask], kind="digits")]
    for m in SYMBOL_SET_SIZES:
        out[f"my symbols ({m})"] = symbol_trials(val_emb, val_labels, m, rng, pool_drawers=val_drawers)
    return out


def drawn_like_a_sketch(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Dataset digits ``(n, 28, 28) uint8`` as model inputs ``(n, 28, 28) float32`` that vary the
    way a digit drawn on the canvas varies from MNIST's: each preprocessed, then given one random
    affine distortion (:func:`siamese.embedding.training.distort` at strength 1: rotation up to 10
    degrees, scale 0.85-1.15, shear up to 0.2, shift up to 2 px; Koch et al. 2015's ranges).

    Why: MNIST digits sit nearer the Digits set's MNIST references than the same digits written
    with a pen on the canvas do. Calibrated on plain validation digits, the rule called 17.7% of
    real pen digits (UNIPEN, drawn on the canvas) "looks new" (README, "Open-set matching")."""
    from siamese.embedding.training import distort
    from siamese.data.preprocess import batch_to_model_input

    rng = np.random.default_rng(seed)
    x, _ = batch_to_model_input(images)
    return np.stack([distort(v, rng) for v in x]).astype(np.float32)


def nearest_own_quantiles(queries: np.ndarray, query_labels: np.ndarray, references: np.ndarray,
                          reference_labels: np.ndarray, n: int = QUANTILES) -> np.ndarray:
    """``(n,)`` quantiles (levels 0 to 1) of the distance from each query ``(q, d)`` to the nearest
    reference ``(m, d)`` of its own label: how far a known sketch lands from its symbol in a set
    of several references per symbol (the Digits set)."""
    d = distances(queries, references)
    d[query_labels[:, None] != reference_labels[None, :]] = np.inf
    return np.quantile(d.min(axis=1), np.linspace(0, 1, n))


def pen_validation_halves() -> tuple[list[dict], list[dict]]:
    """The pen digits of the *validation* writers of ``pen_digits_train.json``
    (:func:`siamese.data.strokes.split_writers`: never trained on, never chosen as references) in two
    writer-disjoint halves (writers in sorted order, alternately): the first calibrates the Digits
    set's known side, the second is the known sketches of its validation trial.

    Raises:
        siamese.data.datasets.DatasetError: the file is not available.
    """
    from siamese.data.strokes import load_pen_digits, split_writers

    held = split_writers(load_pen_digits())[1]
    first = set(sorted({it["writer"] for it in held})[::2])
    return [it for it in held if it["writer"] in first], [it for it in held if it["writer"] not in first]


def calibration_section(same_quantiles: np.ndarray, correction: float, table: dict, pool_images: int,
                        pool_source: str, kind_quantiles: dict | None = None) -> dict:
    """The model card's ``open_set`` section (see :class:`siamese.search.openset.NoveltyCalibration`)."""
    def pct(r):
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
    return {
        "method": "per-set equal-error rule (siamese.search.openset): a sketch matches when the estimated share of "
                  "never-seen sketches landing as close (pool of validation characters x pool_correction) is at "
                  "most the estimated share of known sketches landing as far (same-character pairs of the "
                  "validation alphabets; for the Digits set, validation digits to the nearest reference of their "
                  "own digit, half MNIST scans distorted like sketches and half UNIPEN validation writers' pen "
                  "digits drawn on the canvas at 10, 18 and 30 px: kind_quantiles); pool_correction chosen on "
                  "validation set trials",
        "pool": {"file": "novelty_pool.npz", "images": pool_images, "source": pool_source},
        "same_quantiles": [round(float(q), 5) for q in same_quantiles],
        "kind_quantiles": {k: [round(float(q), 5) for q in v] for k, v in (kind_quantiles or {}).items()},
        "pool_correction": correction,
        "sure": SURE,
        "likely": LIKELY,
        "ambiguity": AMBIGUITY,
        "validation": {str(c): {kind: pct(r) for kind, r in rows.items()} for c, rows in table.items()},
    }


def calibrate_open_set(embed: Callable, seed: int = 0) -> tuple[dict, np.ndarray, dict]:
    """Calibrate the open-set rule of an embedding on validation data.

    Arguments:
        embed: ``(n, 28, 28) float32 -> (n, d) float32``, e.g. ``matcher.embed_inputs``.

    Returns:
        ``(section, pool, trials)``: the card's ``open_set`` section (:func:`calibration_section`),
        the pool's inputs ``(404, 28, 28) uint8`` (drawers 1-4 of each validation character, 8-bit
        as the gallery stores inputs) to save as ``assets/novelty_pool.npz`` under ``inputs``, and
        the validation trials by kind.

    Raises:
        siamese.data.datasets.DatasetError: Omniglot background or MNIST is not available.
    """
    from siamese.data.datasets import MNIST_TRAINED, load_mnist, load_omniglot, split_background
    from siamese.data.preprocess import batch_to_model_input
    from siamese.data.codec import stored_input
    from siamese.data.strokes import pen_digit_inputs
    from siamese.gallery.defaults import digit_items, digit_reference_indices

    background = load_omniglot("background")
    _, val = split_background(background)
    inputs = np.round(np.clip(background.images[val], 0, 1) * 255).astype(np.uint8)
    emb = embed(inputs.astype(np.float32) / 255.0)
    labels, drawers, alphabets = background.labels[val], background.drawers[val], background.alphabet_of_image[val]
    same = same_distance_quantiles(emb, labels, drawers)
    (x_train, y_train), _ = load_mnist()
    digit_set = digit_items()
    ref_emb = embed(np.stack([stored_input(x) for _, x, _ in digit_set]))
    ref_labels = np.array([int(d) for d, _, _ in digit_set])
    refs = np.array([i for v in digit_reference_indices().values() for i in v])
    rest = np.setdiff1d(np.arange(MNIST_TRAINED, len(y_train)), refs)  # validation digits: never trained on
    queries = np.random.default_rng(seed).choice(rest, 1000, replace=False)
    known_side = np.setdiff1d(rest, queries)  # the other validation digits calibrate the known side

    def embed_digits(idx):
        x, _ = batch_to_model_input(x_train[idx])
        return embed(np.round(np.clip(x, 0, 1) * 255).astype(np.float32) / 255.0)

    pen_side, pen_queries = pen_validation_halves()
    pen_x, pen_y = pen_digit_inputs(pen_side, CALIBRATION_PEN_WIDTHS)
    mnist_side = np.random.default_rng(seed).permutation(known_side)[:len(pen_y)]  # pen and scans weigh alike
    known_emb = np.concatenate([embed(pen_x), embed(drawn_like_a_sketch(x_train[mnist_side], seed))])
    known_labels = np.concatenate([pen_y, y_train[mnist_side].astype(int)])
    kinds = {"digits": nearest_own_quantiles(known_emb, known_labels, ref_emb, ref_labels)}
    pen_qx, pen_qy = pen_digit_inputs(pen_queries)
    digit_queries = np.concatenate([embed_digits(queries), embed(pen_qx)])
    digit_query_labels = np.concatenate([y_train[queries].astype(int), pen_qy])
    trials = validation_trials(emb, labels, drawers, alphabets, ref_emb, ref_labels, digit_queries,
                               digit_query_labels, seed=seed)
    correction, table = choose_pool_correction(trials, same, kinds)
    pool = inputs[drawers <= POOL_DRAWERS]
    names = ", ".join(str(a) for a in background.alphabets[np.unique(alphabets)])
    section = calibration_section(same, correction, table, len(pool),
                                  f"Omniglot background validation alphabets ({names}), drawers 1-{POOL_DRAWERS}",
                                  kinds)
    return section, pool, trials
