"""What the Compare page's models say about pairs of digits that people wrote with a pen (#24 item 14).

    SIAMESE_DATA_DIR=../shared/data python -m benchmarks.pen_pairs [--seeds 0 1 2] [--pairs 1000]

Pairs of UNIPEN pen digits (``$SIAMESE_DATA_DIR/unipen/pen_digits.json``, 1,000 digits by 50
writers, a test set: measured here, nothing is trained, tuned or chosen on it), rendered as the
Compare page's 240 px canvas draws them (black 18 px pen, the digit in 60% of the canvas) and
preprocessed as the page does. Each pair is two different writers: ``--pairs`` pairs of one digit
(100 per digit) and as many of two different digits.

Measured:
- the shipped embedding (the page's distance and verdict): the share of one-digit pairs within
  its threshold ("same") and of two-digit pairs beyond it ("different");
- the lecture's three pair models as the Train page's Classroom preset trains them (MNIST pairs,
  5 epochs of batch 64), one training per seed: each model's share of "same" (p >= 0.5, as the pair
  accuracy counts it) on one-digit pairs and of "different" on two-digit pairs, and its median p
  on one-digit pairs, for the pairs as given (A, B).

Prints one table and writes the numbers to ``assets/pen_digit_pairs.json`` (``--json PATH``: elsewhere),
which the Compare page states (:func:`siamese.compare.pen_pairs_sentences`). About 40 s per seed
on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent

import numpy as np  # noqa: E402

CANVAS = 240  # ui.COMPARE_CANVAS_PX (not imported: ui imports Streamlit)


def pen_inputs(path: Path):
    """``(inputs (n, 28, 28) float32, digits (n,) int, writers (n,) str)`` of the pen digits, each
    rendered like the Compare canvas and preprocessed as the page does (canvas rules, white page)."""
    from helpers import pen_strokes, sketch
    from siamese.data.preprocess import to_model_input

    items = json.loads(path.read_text())
    xs, digits, writers = [], [], []
    for it in items:
        x = to_model_input(sketch(pen_strokes(it), size=CANVAS, width=18), background=255)
        if x is not None:
            xs.append(x), digits.append(int(it["label"])), writers.append(it["writer"])
    return np.stack(xs).astype(np.float32), np.array(digits), np.array(writers)


def pen_pairs(digits, writers, n: int, rng):
    """``(a, b, same)``: ``n`` one-digit pairs (``n // 10`` per digit) and ``n`` two-digit pairs,
    each by two different writers; index arrays into the pen digits and a bool array."""
    a, b, same = [], [], []
    for d in range(10):
        idx = np.flatnonzero(digits == d)
        got = 0
        while got < n // 10:
            i, j = rng.choice(idx, 2, replace=False)
            if writers[i] != writers[j]:
                a.append(i), b.append(j), same.append(True)
                got += 1
    while len(a) < 2 * (n // 10) * 10:
        i, j = rng.choice(len(digits), 2, replace=False)
        if digits[i] != digits[j] and writers[i] != writers[j]:
            a.append(i), b.append(j), same.append(False)
    return np.array(a), np.array(b), np.array(same)


def embedding_verdicts(x, a, b):
    """The shipped embedding's distances between the pairs (as the page measures them: B stored
    8-bit, :func:`siamese.index.embed_for_storage`) and its threshold."""
    from siamese import load_matcher
    from siamese.data.codec import stored_input

    matcher = load_matcher()
    ea = matcher.embed_inputs(x[a])
    eb = matcher.embed_inputs(np.stack([stored_input(v) for v in x[b]]))
    return np.linalg.norm(ea - eb, axis=1), matcher.threshold, matcher.model_id


def pair_model_probabilities(x, a, b, seed: int):
    """Train the three variants with the Classroom preset (this seed); ``{key: p(same) (n,)}``."""
    from dataclasses import replace

    from siamese.lecture.settings import PRESETS, pairs_for
    from siamese.lecture.training import compare_variants

    settings = replace(PRESETS["classroom"], seed=seed)
    run = compare_variants(pairs_for(settings), settings.epochs, settings.batch_size, seed=seed)
    out = {}
    for key, model in run.models.items():
        out[key] = np.asarray(model.predict([x[a], x[b]], batch_size=512, verbose=0)).ravel()
    return out


def main(argv=None) -> None:
    from siamese.lecture.models import VARIANTS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--pairs", type=int, default=1000, help="one-digit pairs (and as many two-digit pairs)")
    p.add_argument("--json", default=str(ROOT / "assets" / "pen_digit_pairs.json"))
    args = p.parse_args(argv)
    path = Path(os.environ.get("SIAMESE_DATA_DIR", "")) / "unipen" / "pen_digits.json"
    x, digits, writers = pen_inputs(path)
    a, b, same = pen_pairs(digits, writers, args.pairs, np.random.default_rng(0))
    print(f"{len(x)} pen digits; {same.sum()} one-digit and {(~same).sum()} two-digit pairs, two writers each")
    d, threshold, model_id = embedding_verdicts(x, a, b)
    result = {"source": "UNIPEN pen digits (unipen/pen_digits.json), each pair by two writers, drawn like the "
                        "Compare canvas (240 px, 18 px pen)", "command": "python -m benchmarks.pen_pairs",
              "pairs": {"same": int(same.sum()), "different": int((~same).sum())},
              "pair_training": "the Train page's Classroom preset (MNIST pairs, 5 epochs of batch 64)",
              "embedding": {"model_id": model_id, "threshold": float(threshold),
                            "same_called_same": float((d[same] <= threshold).mean()),
                            "different_called_different": float((d[~same] > threshold).mean())},
              "pair_models": {}}
    e = result["embedding"]
    print(f"shipped embedding, threshold {threshold:.2f}: one digit called same {100 * e['same_called_same']:.1f}%, "
          f"two digits called different {100 * e['different_called_different']:.1f}%")
    for seed in args.seeds:
        t0 = time.perf_counter()
        probs = pair_model_probabilities(x, a, b, seed)
        for key, pr in probs.items():
            row = {"seed": seed, "same_called_same": float((pr[same] >= 0.5).mean()),
                   "different_called_different": float((pr[~same] < 0.5).mean()),
                   "median_p_same": float(np.median(pr[same])), "median_p_different": float(np.median(pr[~same]))}
            result["pair_models"].setdefault(key, []).append(row)
            print(f"seed {seed} {VARIANTS[key][0]:45s} one digit called same {100 * row['same_called_same']:5.1f}%  "
                  f"two digits called different {100 * row['different_called_different']:5.1f}%  "
                  f"median p(same): one digit {row['median_p_same']:.2f}, two digits {row['median_p_different']:.2f}")
        print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    print("mean over seeds:")
    for key, rows in result["pair_models"].items():
        m = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "seed"}
        result["pair_models"][key] = {"seeds": rows, "mean": m}
        print(f"  {VARIANTS[key][0]:45s} one digit called same {100 * m['same_called_same']:5.1f}%  two digits called "
              f"different {100 * m['different_called_different']:5.1f}%  median p(same | one digit) "
              f"{m['median_p_same']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
