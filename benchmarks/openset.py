"""Open-set matching and the Digits set, measured on test data: prints the README's tables.

    python -m benchmarks.openset            # about 4 minutes on 2 cores (SIAMESE_DATA_DIR set)
    python -m benchmarks.openset --assets ~/.cache/siamese/canvas-benchmark/<commit>   # another model: its
        embedding.keras, model_card.json, digit_references.json (benchmarks/canvas.py extracts a commit's there)

## What it measures
Per set kind (Digits, each Omniglot evaluation alphabet, "My symbols" of 1, 10, 30 and 100
symbols), for each candidate "looks new" rule: top-1 of known sketches, known sketches called
"looks new", never-seen sketches called a match, wrong top-1 answers still called a match, and the
area under the ROC of known versus never-seen. Then the Digits set's top-1 by references per digit,
on MNIST test digits and on real pen digits (UNIPEN) drawn as canvas sketches.

## Rules compared
- single-pair threshold: the card's distance threshold (equal-error point of single pairs), the
  rule before this benchmark existed;
- nearest-of-m threshold: the distance below which 5% of never-seen sketches fall, as a function of
  the number of references (fitted on validation sets of 1-50 references, log-linear);
- ratio: nearest over second-nearest symbol distance, at 5% never-seen acceptance on validation
  (a one-symbol set falls back to the single-pair threshold);
- combination: nearest-of-m threshold and ratio, both;
- per-set (the app's rule, :mod:`siamese.search.openset`), calibrated by ``python -m siamese
  calibrate-openset``.
Everything that calibrates a rule uses validation data (held-out background alphabets, MNIST
training digits); the evaluation alphabets, MNIST test digits and UNIPEN digits only measure.
"""
import argparse
import os
import tempfile
from pathlib import Path

## Setup
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["SIAMESE_HOME"] = tempfile.mkdtemp()  # a throw-away gallery for the canvas test

import numpy as np  # noqa: E402

from siamese import load_matcher  # noqa: E402
from siamese.data.datasets import load_mnist, load_omniglot, split_background  # noqa: E402
from siamese.fewshot.evaluation import wilson_interval  # noqa: E402
from siamese.search.openset import NoveltyCalibration, pool_embeddings  # noqa: E402
from siamese.measure.calibration import (SetTrial, alphabet_trials, measure, nearest_two,  # noqa: E402
                                         per_set_rule, roc_auc, symbol_trials)
from siamese.data.preprocess import batch_to_model_input  # noqa: E402
from siamese.data.codec import stored_input  # noqa: E402
from siamese.data.strokes import load_pen_digits, pen_digit_inputs  # noqa: E402
from siamese.gallery.defaults import digit_items, digit_references  # noqa: E402
from siamese.gallery.defaults import medoids as defaults_medoids  # noqa: E402

## Hyperparameters
SEED = 0
QUERIES = 1000  # known and never-seen sketches per Digits trial
TARGET = 0.05  # never-seen acceptance the simple rules are calibrated to (the goal)
SYMBOL_SETS = (1, 10, 30, 100)
DIGIT_KS = (5, 10, 20, 50)


def eight_bit(x):
    return np.round(np.clip(x, 0, 1) * 255).astype(np.float32) / 255.0  # as the gallery stores inputs


## Data
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--assets", default=None, help="folder with embedding.keras, model_card.json, "
                    "digit_references.json (default: the shipped assets/)")
args = parser.parse_args()
ASSETS = Path(args.assets) if args.assets else None
matcher = load_matcher(ASSETS / "embedding.keras", ASSETS / "model_card.json") if ASSETS else load_matcher()
REFS_FILE = ASSETS / "digit_references.json" if ASSETS else None
embed = matcher.embed_inputs
rng = np.random.default_rng(SEED)
ev = load_omniglot("evaluation")
ev_emb = embed(eight_bit(ev.images))
bg = load_omniglot("background")
_, val = split_background(bg)
val_emb, val_labels = embed(eight_bit(bg.images[val])), bg.labels[val]
(x_train, y_train), (x_test, y_test) = load_mnist()
test_in, _ = batch_to_model_input(x_test)
test_emb = embed(eight_bit(test_in))
shipped = digit_references(REFS_FILE)
digit_refs = np.array([i for d in sorted(shipped["indices"]) for i in shipped["indices"][d]])
DIGIT_REFERENCES = len(shipped["indices"]["0"])
PEN_REFERENCES = len((shipped.get("pen") or {}).get("references", {}).get("0", []))
digit_set = digit_items(path=REFS_FILE)  # the app's Digits set: MNIST references, then pen references
digit_set_emb = embed(np.stack([stored_input(x) for _, x, _ in digit_set]))
digit_set_labels = np.array([int(d) for d, _, _ in digit_set])
pen_x, pen_y = pen_digit_inputs(load_pen_digits("pen_digits"))  # the test file, 18 px canvas sketches
pen_emb = embed(pen_x)
pool = pool_embeddings(matcher)
calibration = NoveltyCalibration.from_card(matcher.card)


def train_emb(idx):
    x, _ = batch_to_model_input(x_train[idx])
    return embed(eight_bit(x))


## Calibrating the simple rules on validation sets
NO_POOL = np.zeros((0, val_emb.shape[1]), np.float32)  # these rules use no pool: every other character is never-seen
def nearest_of_m_curve():
    """(a, b) of the 5% quantile of never-seen nearest distances = a + b ln(references)."""
    sizes, q = [1, 2, 5, 10, 20, 50], []
    for n in sizes:
        ts = symbol_trials(val_emb, val_labels, n, rng, n_known=2000, pool=NO_POOL)
        q.append(np.quantile(np.concatenate([nearest_two(t.unknown, t.references, t.symbols)[0] for t in ts]), TARGET))
    b, a = np.polyfit(np.log(sizes), q, 1)
    return a, b


def ratio_threshold():
    ts = [t for m in (10, 30) for t in symbol_trials(val_emb, val_labels, m, rng, n_known=2000, pool=NO_POOL)]
    r = np.concatenate([np.divide(*nearest_two(t.unknown, t.references, t.symbols)[:2]) for t in ts])
    return float(np.quantile(r, TARGET))


A, B = nearest_of_m_curve()
RATIO = ratio_threshold()


def theta(trial):
    return A + B * np.log(len(trial.references))


RULES = {
    "single-pair threshold": lambda t, d1, d2: d1 - matcher.threshold,
    "nearest-of-m threshold": lambda t, d1, d2: d1 - theta(t),
    "ratio d1/d2": lambda t, d1, d2: (d1 / d2 - RATIO) if np.isfinite(d2).all() else d1 - matcher.threshold,
    "combination (both)": lambda t, d1, d2: np.maximum(d1 - theta(t), (d1 / d2 - RATIO) if np.isfinite(d2).all()
                                                       else d1 - theta(t)),
    "per-set (the app's rule)": per_set_rule(calibration),
}


## Test set trials
old_refs = np.concatenate([np.flatnonzero(y_test == d)[:5] for d in range(10)])  # the first release's Digits set
known = rng.choice(np.setdiff1d(np.arange(len(y_test)), old_refs), QUERIES, replace=False)  # the same for every row
never_seen = rng.choice(len(ev_emb), QUERIES, replace=False)


def digits_trial(ref_emb, ref_labels, queries=None, labels=None):
    queries, labels = (test_emb[known], y_test[known].astype(int)) if queries is None else (queries, labels)
    return [SetTrial(ref_emb, ref_labels, queries, labels, ev_emb[never_seen], pool, kind="digits")]


KINDS = {
    "Digits, before (5 MNIST test images per digit)": digits_trial(test_emb[old_refs], y_test[old_refs].astype(int)),
    f"Digits, now ({DIGIT_REFERENCES} MNIST + {PEN_REFERENCES} pen medoids per digit), MNIST test digits":
        digits_trial(digit_set_emb, digit_set_labels),
    f"Digits, now, the {len(pen_y):,} pen digits of the test file (UNIPEN, 18 px canvas sketches)":
        digits_trial(digit_set_emb, digit_set_labels, pen_emb, pen_y),
    "Omniglot evaluation alphabets (20 sets, pooled)": alphabet_trials(
        ev_emb, ev.labels, ev.drawers, ev.alphabet_of_image, pool_of=lambda a: pool, rng=rng),
}
for m in SYMBOL_SETS:
    KINDS[f"My symbols ({m})"] = symbol_trials(ev_emb, ev.labels, m, rng, n_known=1000, pool=pool)

## Results: open-set matching
print(f"Validation calibration: nearest-of-m threshold {A:.2f} {B:+.2f} ln(references); ratio {RATIO:.3f}; "
      f"per-set pool correction {calibration.pool_correction:g}\n")
print("| set kind | rule | top-1 on known | known called new | never-seen called match | wrong answers called match"
      " | ROC AUC |")
print("|---|---|---|---|---|---|---|")
for kind, trials in KINDS.items():
    for name, rule in RULES.items():
        r = measure(trials, rule)
        print(f"| {kind} | {name} | {100 * r['top1']:.1f}% | {100 * r['known_new']:.1f}% | "
              f"{100 * r['unseen_match']:.1f}% | {100 * r['wrong_match']:.0f}% | {r['auc']:.3f} |")
    if kind.startswith("Omniglot"):
        per = [measure([t], RULES["per-set (the app's rule)"]) for t in trials]
        old = [measure([t], RULES["single-pair threshold"]) for t in trials]
        print(f"| | range over the 20 alphabets, never-seen called match | | | single-pair "
              f"{100 * min(r['unseen_match'] for r in old):.1f}-{100 * max(r['unseen_match'] for r in old):.1f}%, "
              f"per-set {100 * min(r['unseen_match'] for r in per):.1f}-"
              f"{100 * max(r['unseen_match'] for r in per):.1f}% | | |")

print("\nBest operating point on each kind (one distance threshold chosen on the test data itself: a limit, "
      "not a rule):")
for kind, trials in KINDS.items():
    s = [nearest_two(t.known, t.references, t.symbols)[0] for t in trials]
    u = [nearest_two(t.unknown, t.references, t.symbols)[0] for t in trials]
    grid = np.linspace(0.5, 5.0, 451)
    err = [max((np.concatenate(s) > g).mean(), (np.concatenate(u) <= g).mean()) for g in grid]
    print(f"  {kind}: {100 * min(err):.1f}% of each error at distance {grid[int(np.argmin(err))]:.2f}; "
          f"ROC AUC of the nearest distance {roc_auc(np.concatenate(s), np.concatenate(u)):.3f}")

print("\nHow sure the app's verdicts are (share of sketches, %: match sure / probably / not sure (may be new, or which "
      "one) | new not sure / probably / sure):")
from siamese.search.openset import Confidence, judge, set_novelty  # noqa: E402

ORDER = [(True, Confidence.SURE), (True, Confidence.LIKELY), (True, Confidence.UNSURE), (False, Confidence.UNSURE),
         (False, Confidence.LIKELY), (False, Confidence.SURE)]

for kind, trials in KINDS.items():
    rows = {"known": [], "never-seen": [], "wrong answers": []}
    for t in trials:
        novelty = set_novelty(t.pool, t.references, calibration.for_kind(t.kind))
        for side, q in (("known", t.known), ("never-seen", t.unknown)):
            d1, d2, pred = nearest_two(q, t.references, t.symbols)
            levels = [judge(a, b if np.isfinite(b) else None, novelty) for a, b in zip(d1, d2)]
            codes = [ORDER.index((m, Confidence.UNSURE if c == Confidence.AMBIGUOUS else c)) for m, c in levels]
            rows[side] += codes
            if side == "known":
                rows["wrong answers"] += [c for c, p, y in zip(codes, pred, t.known_symbols) if p != y]
    print(f"  {kind}: " + "; ".join(f"{side} " + " ".join(("| " if i == 3 else "") + f"{100 * np.mean(np.array(c) == i):.0f}"
                                                        for i in range(6)) for side, c in rows.items() if c))

## Results: the Digits set
print("\nDigits top-1 on 1,000 MNIST test digits by references per digit (from the training split):")

train_all_in, ok = batch_to_model_input(x_train)
train_all = embed(eight_bit(train_all_in))
print("| references per digit | first K training images | K medoids (k-means in the embedding) |")
print("|---|---|---|")


def medoids(k, among):
    """k medoids per digit among training indices ``among``, as siamese.gallery.defaults chooses them."""
    out = []
    for d in range(10):
        idx = among[(y_train[among] == d) & ok[among]]
        out += list(idx[defaults_medoids(train_all[idx], k, SEED)])
    return np.array(out)


def top1(refs, queries, labels):
    return (nearest_two(queries, train_all[refs], y_train[refs])[2] == labels).mean()


for k in DIGIT_KS:
    first = np.concatenate([np.flatnonzero(y_train == d)[:k] for d in range(10)])
    acc = [top1(r, test_emb[known], y_test[known]) for r in (first, medoids(k, np.arange(len(y_train))))]
    print(f"| {k} | {100 * acc[0]:.1f}% | {100 * acc[1]:.1f}% |")
acc = (nearest_two(test_emb[known], train_all[digit_refs], y_train[digit_refs])[2] == y_test[known]).mean()
hits = int((nearest_two(test_emb, train_all[digit_refs], y_train[digit_refs])[2] == y_test).sum())
low, high = wilson_interval(hits, len(y_test))
old_hits = int((nearest_two(test_emb[known], test_emb[old_refs], y_test[old_refs])[2] == y_test[known]).sum())
print(f"before (5 test images per digit): {old_hits / 10:.1f}% on the 1,000; shipped set ({DIGIT_REFERENCES} medoids "
      f"per digit): {100 * acc:.1f}% on the 1,000, {hits:,}/10,000 = {hits / 100:.2f}% (95% CI {100 * low:.1f}-"
      f"{100 * high:.1f}) on every test digit")

print("Choosing the number on training digits only: medoids of the first 50,000 training images, top-1 on the "
      "other 10,000:")
for k in (20, 50, 100):
    print(f"  {k} per digit: {100 * top1(medoids(k, np.arange(50000)), train_all[50000:], y_train[50000:]):.2f}%")

## Results: the pen digits of the test file through the app
from siamese.data.codec import thumbnail_png  # noqa: E402
from siamese.data.strokes import pen_digit_sketch  # noqa: E402
from siamese.gallery.gallery import Gallery, SetKind  # noqa: E402
from siamese.gallery.schema import DIGITS  # noqa: E402
from siamese.matching import Verdict, match_sketch  # noqa: E402
from siamese.search.index import ReferenceIndex, embed_for_storage  # noqa: E402

gallery = Gallery()
before = [(str(y_test[i]), test_in[i], thumbnail_png(255 - x_test[i])) for i in old_refs]
for name, items in (("Digits before", before), (DIGITS, digit_items(path=REFS_FILE))):
    gallery.add_set_bulk(name, SetKind.DIGITS, items, embed_for_storage(matcher, [x for _, x, _ in items]))
index = ReferenceIndex(gallery)
pen = load_pen_digits("pen_digits")
print(f"\nUNIPEN pen digits ({len(pen)}, 50 writers) drawn as 18 px canvas sketches, through match_sketch:")
for name in ("Digits before", DIGITS):
    res = [(it["label"], match_sketch(pen_digit_sketch(it, 18), index, name, matcher, background=255)) for it in pen]
    right = np.mean([r.best is not None and r.best.symbol == y for y, r in res])
    new = np.mean([r.verdict == Verdict.NEW for _, r in res])
    print(f"  {name}: top-1 {100 * right:.1f}%, called \"looks new\" {100 * new:.1f}%")
