"""Command line: ``python -m siamese <command>``.

Commands:
    train     train the matcher's embedding on Omniglot background alphabets (and MNIST training
              digits, --digits), write the .keras
              file and its model card (``python -m siamese train --out assets/embedding.keras``)
    evaluate  N-way K-shot one-shot accuracy on the evaluation alphabets
              (``python -m siamese evaluate --protocol within-alphabet --way 20 --shot 1``)
    digits-unseen  train on MNIST digits 0-7 only, one-shot test on 8 vs 9 and on all ten digits
    official-runs  accuracy on the 20 official one-shot runs of Lake et al. 2015 (--write-card records it)
    digit-references  choose the Digits set's MNIST training references (assets/digit_references.json)
              and record its top-1 on the MNIST test digits in the model card
    ship      all of the shipped model in one command: train, then digit-references, calibrate-openset,
              official-runs --write-card and distance-histograms, into assets/ (about 25 minutes)
    calibrate-openset  calibrate the per-set "looks new" rule on validation data (card + pool file)
    distance-histograms  distances of same- and different-symbol pairs for the Compare page's chart (card)
    compare   the lecture's three pair models on the same pairs, per-epoch history as JSON
              (``python -m siamese compare --dataset mnist --preset classroom --json out.json``)
    db copy   copy the gallery into another database and verify the copy
              (``python -m siamese db copy --from sqlite:///path/gallery.sqlite3 --to postgresql://...``)

Every command that writes or reads a model's card finds it by one rule,
:func:`siamese.embedding.card.card_path_for` (``x/emb.keras`` -> ``x/emb.json``; the shipped model's is
``assets/model_card.json``), as the app does: no command takes a card path of its own.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from siamese import paths


def _bar(total: int, desc: str):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="ep", file=sys.stderr, dynamic_ncols=True)


def cmd_train(args) -> None:
    from siamese.data.datasets import load_omniglot, split_background
    from siamese.embedding.card import card_path_for, write_card
    from siamese.embedding.training import Digits, TrainConfig, check_episodes, train_embedding
    from siamese.measure.report import trained_embedding_card

    try:  # the settings are checked before the data is loaded, the episodes right after
        cfg = TrainConfig(episodes=args.episodes, way=args.way, queries=args.queries, seed=args.seed,
                          distort=args.distort, within_alphabet=args.within_alphabet,
                          pooled_blocks=args.pooled_blocks, temperature=args.temperature, mirror=args.mirror,
                          digits=args.digits, pen_widths=tuple(args.pen_widths))
        bg = load_omniglot("background")
        check_episodes(bg.labels[split_background(bg)[0]], cfg)
        digits = Digits.mnist_and_pen(cfg.pen_widths) if cfg.digits > 0 else None
    except ValueError as exc:
        raise SystemExit(f"python -m siamese train: {exc}") from None
    bar = _bar(cfg.episodes, "train")

    def progress(e, total, loss):
        bar.update(1)
        if e % 50 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")

    model, history = train_embedding(bg, cfg, progress, log=bar.write, digits=digits)
    bar.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths.atomic_write(out, model.save)  # never a half-written model file
    command = "python -m siamese " + " ".join(sys.argv[1:]) if args.command_line is None else args.command_line
    card = trained_embedding_card(model, out, bg, cfg, history, seed=args.seed, command=command, machine=args.machine,
                                  log=lambda line: print(line, file=sys.stderr))
    card_path = card_path_for(out)
    write_card(card_path, card)
    print(f"wrote {out} and {card_path}", file=sys.stderr)


SHIP_STEPS = (
    ["train", "--episodes", "12000", "--seed", "0", "--pen-widths", "10", "18", "30"],
    ["digit-references"],
    ["calibrate-openset"],
    ["official-runs", "--write-card"],
    ["distance-histograms"],
)
"""What ``python -m siamese ship`` runs, in order: the shipped model's recipe (docs/model.md)."""


def cmd_ship(args) -> None:
    """Train the shipped model and make everything derived from it, into ``assets/``: the model and
    card, the Digits references, the open-set calibration and its pool, the official runs and the
    distance histograms (:data:`SHIP_STEPS`). About 25 minutes on a 2-core CPU."""
    for step in SHIP_STEPS:
        print(f"== python -m siamese {' '.join(step)}", file=sys.stderr, flush=True)
        extra = ["--command-line", "python -m siamese ship"] if step[0] == "train" else []
        main(step + extra)


def cmd_evaluate(args) -> None:
    from siamese.embedding.matcher import load_matcher
    from siamese.measure.report import evaluation_accuracy

    matcher = load_matcher(args.model)
    bar = None

    def progress(done, total):  # the bar opens at the first episode, once the data are embedded
        nonlocal bar
        if bar is None:
            bar = _bar(total, "episodes")
        bar.update(1)

    res = evaluation_accuracy(matcher.model, args.way, args.shot, args.protocol, episodes=args.episodes,
                              seed=args.seed, progress=progress)
    bar.close()
    print(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res.as_dict(), indent=2) + "\n")


def cmd_compare(args) -> None:
    from dataclasses import asdict, replace

    from siamese.lecture.settings import PRESETS, pairs_for
    from siamese.lecture.training import Comparison, compare_variants

    sizes = {k: getattr(args, k) for k in ("epochs", "batch_size", "n_pairs") if getattr(args, k) is not None}
    try:
        settings = replace(PRESETS[args.preset], dataset=args.dataset, seed=args.seed,
                           lecture_init=args.lecture_init, **sizes)
    except ValueError as exc:
        raise SystemExit(f"python -m siamese compare: {exc}") from None
    t0 = time.perf_counter()
    pairs = pairs_for(settings)
    print(pairs.description, file=sys.stderr)
    from tqdm import tqdm
    bar = tqdm(total=3 * settings.epochs, desc="epochs", unit="epoch", file=sys.stderr)
    result = Comparison()
    compare_variants(pairs, settings.epochs, settings.batch_size, seed=settings.seed,
                     lecture_init=settings.lecture_init, result=result,
                     on_update=lambda: bar.update(result.snapshot().epochs_done - bar.n))
    bar.close()
    wall = time.perf_counter() - t0
    history = result.snapshot()
    for row in history.epoch_rows():
        print(f"{row.variant:36s} epoch {row.epoch:2d}: train {row.pair_accuracy:.3f} "
              f"val {row.val_pair_accuracy:.3f} ({row.seconds:.1f} s)")
    print(history.story())
    print(f"wall time {wall:.1f} s (pairs included)")
    if args.json:
        out = {"dataset": settings.dataset, "preset": args.preset,
               "settings": {"epochs": settings.epochs, "batch_size": settings.batch_size, "n_pairs": settings.n_pairs},
               "seed": settings.seed, "lecture_init": settings.lecture_init, "pairs": pairs.description,
               "wall_seconds": round(wall, 1),
               "variants": {k: {**asdict(s), "epochs": [asdict(r) for r in history.epochs[k]]}
                            for k, s in history.summaries.items()}}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


def cmd_digits_unseen(args) -> None:
    """Train on MNIST digits 0-7 only, then test one-shot recognition of 8 and 9."""
    from siamese.measure.unseen_digits import run_unseen_digits

    res = run_unseen_digits(args.episodes, args.seed, log=lambda line: print(line, file=sys.stderr))
    print(f"trained on digits 0-7 ({res.n_seen:,} images, {res.train_seconds:.0f} s)")
    print(f"8 vs 9, 1-shot (never seen): {res.eight_vs_nine}")
    print(f"all ten digits, 10-way 1-shot: {res.ten_way}")
    print("per digit: " + ", ".join(f"{d}: {100 * c / n:.0f}%" for d, (c, n) in sorted(res.per_digit.items())))
    if args.json:
        Path(args.json).write_text(json.dumps(res.as_dict(), indent=2) + "\n")


def _card_path(args) -> Path:
    """The card of ``--model`` (default: the shipped model's), by :func:`siamese.embedding.card.card_path_for`:
    no command takes another card path, so a card written by one is the card the others and the
    app read."""
    from siamese.embedding.card import card_path_for

    return card_path_for(args.model or paths.SHIPPED_MODEL)


def cmd_official_runs(args) -> None:
    from siamese.embedding.card import add_to_card
    from siamese.embedding.matcher import load_matcher
    from siamese.measure.official_runs import official_runs_accuracy

    res = official_runs_accuracy(load_matcher(args.model).embed_inputs)
    print(res)
    print("correct per run: " + " ".join(map(str, res.per_run)))
    if args.write_card:
        add_to_card(_card_path(args), {"official_runs": res.as_dict()})
        print(f"recorded in {_card_path(args)}", file=sys.stderr)


def cmd_digit_references(args) -> None:
    from siamese.embedding.matcher import load_matcher
    from siamese.embedding.card import add_to_card
    from siamese.gallery.defaults import (DIGIT_REFERENCES_FILE, PEN_REFERENCES, digits_set_accuracy,
                                          select_digit_references, select_pen_references)

    matcher = load_matcher(args.model)
    indices = select_digit_references(matcher.embed_inputs, args.per_digit, args.seed)
    pen_per_digit = PEN_REFERENCES if args.pen_per_digit is None else args.pen_per_digit
    pen = select_pen_references(matcher.embed_inputs, pen_per_digit, args.seed, args.pen_width)
    out = {"source": "MNIST training split (x_train of mnist.npz)", "per_digit": args.per_digit,
           "method": "medoids of k-means clusters of each digit's embeddings, largest cluster first",
           "model_id": matcher.model_id, "seed": args.seed,
           "command": "python -m siamese " + " ".join(sys.argv[1:]), "indices": indices,
           "pen": {"source": "UNIPEN train_r01_v07 isolated digits (unipen/pen_digits_train.json, CC BY 4.0: "
                             "The International Unipen Foundation; Guyon et al. 1994), training writers only "
                             "(siamese.data.strokes.split_writers)",
                   "per_digit": pen_per_digit, "width": args.pen_width,
                   "method": "medoids of k-means clusters of each digit's embeddings, drawn as canvas sketches",
                   "references": pen}}
    path = Path(args.out or DIGIT_REFERENCES_FILE)
    paths.atomic_write_text(path, json.dumps(out) + "\n")
    print(f"wrote {path}")
    measured = digits_set_accuracy(matcher.embed_inputs, path)
    print(f"Digits set top-1 on the {measured['queries']:,} MNIST test digits: {100 * measured['top1']:.2f}% "
          f"({100 * measured['ci95'][0]:.1f}-{100 * measured['ci95'][1]:.1f}); on the "
          f"{measured['pen_validation']['queries']:,} pen digits of the validation writers: "
          f"{100 * measured['pen_validation']['top1']:.2f}%")
    if args.out is None:  # the shipped set: its card records what it scores
        add_to_card(_card_path(args), {"digits_set": measured})
        print(f"recorded in {_card_path(args)}", file=sys.stderr)


def cmd_calibrate_openset(args) -> None:
    import numpy as np

    from siamese.embedding.card import add_to_card
    from siamese.embedding.matcher import load_matcher
    from siamese.search.openset import POOL_FILE
    from siamese.measure.calibration import calibrate_open_set

    section, pool, _ = calibrate_open_set(load_matcher(args.model).embed_inputs, seed=args.seed)
    for c, rows in section["validation"].items():
        print(f"pool correction {c}: " + "; ".join(f"{k} {100 * r['known_new']:.1f}% known called new, "
                                                   f"{100 * r['unseen_match']:.1f}% never-seen matched"
                                                   for k, r in rows.items()))
    print(f"chosen: {section['pool_correction']}")
    paths.atomic_write(POOL_FILE, lambda tmp: np.savez_compressed(tmp, inputs=pool))
    add_to_card(_card_path(args), {"open_set": section})
    print(f"wrote {POOL_FILE} and the open_set section of {_card_path(args)}", file=sys.stderr)

def cmd_distance_histograms(args) -> None:
    from siamese.embedding.card import add_to_card
    from siamese.measure.histograms import CARD_KEY, distance_histograms
    from siamese.embedding.matcher import load_matcher

    t0 = time.perf_counter()
    matcher = load_matcher(args.model)
    section = distance_histograms(matcher.embed_inputs, matcher.model_id, seed=args.seed)
    for s in section["sets"].values():
        print(f"{s['title']}: {s['pairs']['same']:,} same-symbol and {s['pairs']['different']:,} "
              f"different-symbol pairs")
    add_to_card(_card_path(args), {CARD_KEY: section})
    print(f"wrote the {CARD_KEY} section of {_card_path(args)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)


def cmd_db(args) -> None:
    from siamese.gallery.dbcopy import CopyError, copy_gallery
    from siamese.gallery.errors import GalleryUnavailable

    try:
        copy_gallery(args.source, args.target, replace=args.replace)
    except (CopyError, GalleryUnavailable) as exc:  # a message for people, not a traceback
        raise SystemExit(f"python -m siamese db copy: {exc}") from None


def main(argv=None) -> None:
    from siamese.embedding.training import SHIPPED_DIGITS, TrainConfig  # no TensorFlow import: --help stays fast

    parser = argparse.ArgumentParser(prog="python -m siamese", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the matcher's embedding network")
    t.add_argument("--out", default=str(paths.SHIPPED_MODEL))
    t.add_argument("--episodes", type=int, default=TrainConfig.episodes)
    t.add_argument("--way", type=int, default=TrainConfig.way)
    t.add_argument("--queries", type=int, default=TrainConfig.queries)
    t.add_argument("--distort", type=float, default=TrainConfig.distort,
                   help="strength of the per-image affine distortion (0 = shifts only)")
    t.add_argument("--within-alphabet", type=float, default=TrainConfig.within_alphabet,
                   help="fraction of episodes drawn from one alphabet")
    t.add_argument("--pooled-blocks", type=int, default=TrainConfig.pooled_blocks, choices=(3, 4),
                   help="3 keeps a 3x3 map (576-d embedding), 4 is the classic 64-d Conv-4")
    t.add_argument("--temperature", type=float, default=TrainConfig.temperature,
                   help="logits = -squared distance / temperature in the training loss")
    t.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=TrainConfig.mirror,
                   help="mirror images of each character are new classes too")
    t.add_argument("--digits", type=float, default=SHIPPED_DIGITS,
                   help="fraction of episodes with the ten MNIST training digits among their classes (0 = none)")
    t.add_argument("--pen-widths", type=int, nargs="*", default=[],
                   help="pen widths (px) at which the training writers' UNIPEN pen digits join the digit "
                        "classes as canvas sketches, e.g. 10 18 30 (default none: MNIST only, the shipped model)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--machine", default="2-core CPU, no GPU")
    t.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    t.set_defaults(func=cmd_train)
    s = sub.add_parser("ship", help="train the shipped model and make its card, Digits set and calibration (assets/)")
    s.set_defaults(func=cmd_ship)
    e = sub.add_parser("evaluate", help="N-way K-shot accuracy on Omniglot evaluation alphabets")
    e.add_argument("--model", default=None, help=".keras embedding model (default: the shipped one)")
    e.add_argument("--protocol", default="within-alphabet", choices=("within-alphabet", "random"))
    e.add_argument("--way", type=int, default=20)
    e.add_argument("--shot", type=int, default=1)
    e.add_argument("--episodes", type=int, default=None)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", default=None)
    e.set_defaults(func=cmd_evaluate)
    c = sub.add_parser("compare", help="train the lecture's three pair models on the same pairs")
    c.add_argument("--dataset", default="mnist", choices=("mnist", "omniglot"))
    c.add_argument("--preset", default="classroom", choices=("classroom", "lecture"))
    c.add_argument("--epochs", type=int, default=None)
    c.add_argument("--batch-size", type=int, default=None)
    c.add_argument("--n-pairs", type=int, default=None)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--lecture-init", action="store_true",
                   help="Siamese head with Keras's random initial kernel (the lecture's exact model)")
    c.add_argument("--json", default=None)
    c.set_defaults(func=cmd_compare)
    d = sub.add_parser("digits-unseen", help="train on MNIST digits 0-7, test one-shot on 8 and 9")
    d.add_argument("--episodes", type=int, default=1500)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--json", default=None)
    d.set_defaults(func=cmd_digits_unseen)
    o = sub.add_parser("official-runs", help="accuracy on the 20 official one-shot runs (Lake et al. 2015)")
    o.add_argument("--model", default=None, help=".keras embedding model (default: the shipped one)")
    o.add_argument("--write-card", action="store_true", help="record the result in the model card")
    o.set_defaults(func=cmd_official_runs)
    r = sub.add_parser("digit-references", help="choose the Digits set's references among MNIST training digits")
    r.add_argument("--model", default=None, help=".keras embedding model (default: the shipped one)")
    r.add_argument("--per-digit", type=int, default=50)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--pen-per-digit", type=int, default=None,
                   help="pen references per digit from the UNIPEN training writers (0 = MNIST only; default "
                        "siamese.gallery.defaults.PEN_REFERENCES)")
    r.add_argument("--pen-width", type=float, default=18, help="pen width (px) the pen references are drawn with")
    r.add_argument("--out", default=None, help="default: assets/digit_references.json (and its top-1 in the card)")
    r.set_defaults(func=cmd_digit_references)
    o = sub.add_parser("calibrate-openset", help="calibrate the per-set 'looks new' rule on validation data")
    o.add_argument("--model", default=None, help=".keras embedding model (default: the shipped one)")
    o.add_argument("--seed", type=int, default=0)
    o.set_defaults(func=cmd_calibrate_openset)
    h = sub.add_parser("distance-histograms", help="same/different pair distances for the Compare page (card)")
    h.add_argument("--model", default=None, help=".keras embedding model (default: the shipped one)")
    h.add_argument("--seed", type=int, default=0)
    h.set_defaults(func=cmd_distance_histograms)
    b = sub.add_parser("db", help="the gallery's database: copy it into another one")
    copy = b.add_subparsers(dest="db_command", required=True).add_parser(
        "copy", help="copy every set, symbol, example, thumbnail, embedding and owner, then verify the copy")
    copy.add_argument("--from", dest="source", required=True,
                      help="the gallery to copy: sqlite:///path/to/gallery.sqlite3, a file, or postgresql://...")
    copy.add_argument("--to", dest="target", required=True, help="where to copy it (same forms)")
    copy.add_argument("--replace", action="store_true", help="overwrite a target that already holds a gallery")
    b.set_defaults(func=cmd_db)
    args = parser.parse_args(argv)
    from siamese.data.datasets import DatasetError
    from siamese.embedding.matcher import ModelLoadError

    try:
        args.func(args)
    except (DatasetError, ModelLoadError) as exc:  # a message for people, not a traceback
        parser.exit(1, f"python -m siamese {args.command}: {exc}\n")
