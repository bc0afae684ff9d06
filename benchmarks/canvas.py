"""Canvas sketches against scans, the shipped model beside the one before #23: prints the issue's table.

    python -m benchmarks.canvas                 # about 4 minutes on 2 cores (SIAMESE_DATA_DIR set)
    python -m benchmarks.canvas --old <commit>  # the "before" model of another commit
    python -m benchmarks.canvas --new <folder>  # a candidate (embedding.keras, model_card.json, digit_references.json)

## What it measures (test data only: nothing here trains, calibrates or chooses)
For each model, with its own card (open-set calibration) and its own Digits set, through the app's
``match_sketch`` on a throw-away gallery:
- the 1,000 UNIPEN pen digits of the test file (``unipen/pen_digits.json``, 50 writers) drawn as the
  canvas sends them (:func:`siamese.data.strokes.pen_digit_sketch`: black 18 px pen on a white
  280 px canvas, 60% filled): top-1 against the Digits set, and how many are called "looks new";
- the 10,000 MNIST test digits (scans) the same way;
- Omniglot drawings of ``strokes_background_small2.zip`` (5 background alphabets, 20 drawers):
  20-way 1-shot within-alphabet (400 queries, fixed seed) on the dataset PNGs and on the same
  drawings' pen trajectories rendered as canvas sketches.

## The "before" model
Read from git history (``git show <commit>:assets/...``: model, card, Digits references) into
``$SIAMESE_CACHE_DIR/canvas-benchmark/<commit>/``, not a second committed copy. Default: 961b2bc, the
last main commit before #23's model.
"""
import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

## Setup
ROOT = Path(__file__).resolve().parent.parent  # for git show
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["SIAMESE_HOME"] = tempfile.mkdtemp()  # throw-away galleries

import numpy as np  # noqa: E402

from siamese import load_matcher, paths  # noqa: E402
from siamese.data.datasets import load_mnist, load_omniglot, omniglot_path  # noqa: E402
from siamese.data.preprocess import to_model_input  # noqa: E402
from siamese.data.strokes import fit_strokes, load_pen_digits, pen_digit_sketch, render_strokes  # noqa: E402
from siamese.fewshot.evaluation import evaluate  # noqa: E402

## Hyperparameters
OLD_COMMIT = "961b2bcd19b0a08a288845edf1d1b9fb3e861dc6"
ASSETS = ("assets/embedding.keras", "assets/model_card.json", "assets/digit_references.json")
PEN_PX = 18
SEED = 0


def old_assets(commit: str) -> Path:
    """The model, card and Digits references of ``commit``, extracted once into the cache."""
    out = paths.cache_dir() / "canvas-benchmark" / commit
    out.mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        target = out / Path(name).name
        if not target.is_file():
            blob = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{name}"], check=True,
                                  capture_output=True).stdout
            paths.atomic_write_bytes(target, blob)
    return out


def digits_index(matcher, references_json: Path):
    """A gallery whose Digits set holds ``references_json``'s references (MNIST training images,
    and pen digits where the file has them), embedded by ``matcher``; returns ``(ReferenceIndex, set name)``."""
    from siamese.gallery.defaults import digit_items
    from siamese.gallery.gallery import Gallery, SetKind
    from siamese.gallery.schema import DIGITS
    from siamese.search.index import ReferenceIndex, embed_for_storage

    items = digit_items(path=references_json)
    gallery = Gallery(Path(tempfile.mkdtemp()) / "gallery.sqlite3")
    gallery.add_set_bulk(DIGITS, SetKind.DIGITS, items, embed_for_storage(matcher, [x for _, x, _ in items]))
    return ReferenceIndex(gallery), DIGITS


def match_rates(matcher, index, set_name, images, labels, background=None):
    """(top-1, share called "looks new") of ``images`` through ``match_sketch``."""
    from siamese.matching import Verdict, match_sketch

    res = [match_sketch(img, index, set_name, matcher, background=background) for img in images]
    top1 = np.mean([r.best is not None and r.best.symbol == y for r, y in zip(res, labels)])
    return float(top1), float(np.mean([r.verdict == Verdict.NEW for r in res]))


def small2():
    """(PNG inputs, canvas inputs, labels, alphabets, drawers) of every small2 stroke file whose
    drawing is in the background split."""
    bg = load_omniglot("background")
    where = {(str(bg.characters[c]), int(d)): i for i, (c, d) in enumerate(zip(bg.labels, bg.drawers))}
    src = omniglot_path("background").with_name("strokes_background_small2.zip")
    png, canvas, lab, alph, draw = [], [], [], [], []
    with zipfile.ZipFile(src) as zf:
        for name in sorted(zf.namelist()):
            m = re.match(r"strokes_background_small2/([^/]+)/([^/]+)/\d+_(\d+)\.txt$", name)
            if not m or (f"{m[1]}/{m[2]}", int(m[3])) not in where:
                continue
            strokes, cur = [], []
            for line in io.TextIOWrapper(io.BytesIO(zf.read(name))):
                line = line.strip()
                if line == "START":
                    cur = []
                elif line == "BREAK":
                    strokes.append(cur) if cur else None
                    cur = []
                elif line:
                    cur.append([float(v) for v in line.split(",")[:2]])
            if cur:
                strokes.append(cur)
            x = to_model_input(render_strokes(fit_strokes(strokes, y_up=True), width=PEN_PX), canvas=True,
                               background=255)
            if x is None:
                continue
            i = where[(f"{m[1]}/{m[2]}", int(m[3]))]
            png.append(bg.images[i]), canvas.append(x), lab.append(bg.labels[i])
            alph.append(bg.alphabet_of_image[i]), draw.append(bg.drawers[i])
    return np.stack(png), np.stack(canvas), *(np.array(a) for a in (lab, alph, draw))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default=OLD_COMMIT, help="commit of the 'before' model")
    parser.add_argument("--new", default=str(paths.ASSETS_DIR),
                        help="folder with embedding.keras, model_card.json, digit_references.json (default assets/)")
    args = parser.parse_args()
    old = old_assets(args.old)
    models = {f"before ({args.old[:7]})": (old / "embedding.keras", old / "model_card.json",
                                          old / "digit_references.json"),
              f"now ({args.new})": tuple(Path(args.new) / Path(a).name for a in ASSETS)}
    pen = load_pen_digits("pen_digits")
    pen_images = [pen_digit_sketch(it, PEN_PX) for it in pen]
    pen_labels = [it["label"] for it in pen]
    _, (x_test, y_test) = load_mnist()
    png, canvas, lab, alph, draw = small2()
    rows = {}
    for name, (model, card, refs) in models.items():
        matcher = load_matcher(model, card)
        index, set_name = digits_index(matcher, refs)
        r = {"pen": match_rates(matcher, index, set_name, pen_images, pen_labels, background=255),
             "mnist": match_rates(matcher, index, set_name, list(x_test), [str(y) for y in y_test])}
        for kind, x in (("png", png), ("canvas", canvas)):
            res = evaluate(matcher.embed_inputs(x), lab, alph, draw, way=20, shot=1, protocol="within-alphabet",
                           episodes=20, seed=SEED)
            r[kind] = res.accuracy
        rows[name] = r
        print(f"{name}: done", file=sys.stderr)

    print(f"\nThrough match_sketch, each model with its own Digits set and card ({len(pen):,} pen digits of the "
          f"test file, {PEN_PX} px pen on a 280 px canvas; {len(y_test):,} MNIST test digits; small2: "
          f"{len(png):,} drawings, 20-way 1-shot within-alphabet, 400 queries):\n")
    names = list(rows)
    print("| queries | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("| pen digits (test file), top-1 / called \"looks new\" | " + " | ".join(
        f"{100 * rows[n]['pen'][0]:.1f}% / {100 * rows[n]['pen'][1]:.1f}%" for n in names) + " |")
    print("| MNIST test digits (scans), top-1 / called \"looks new\" | " + " | ".join(
        f"{100 * rows[n]['mnist'][0]:.2f}% / {100 * rows[n]['mnist'][1]:.1f}%" for n in names) + " |")
    print("| Omniglot small2 drawings as PNGs, 20-way 1-shot | " + " | ".join(
        f"{100 * rows[n]['png']:.1f}%" for n in names) + " |")
    print("| the same drawings as canvas sketches | " + " | ".join(
        f"{100 * rows[n]['canvas']:.1f}%" for n in names) + " |")


if __name__ == "__main__":
    main()
