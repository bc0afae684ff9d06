"""Command line: ``python -m siamese <command>``.

Commands:
    train     train the matcher's embedding on Omniglot background alphabets, write the .keras
              file and its model card (``python -m siamese train --out assets/embedding.keras``)
    evaluate  N-way K-shot one-shot accuracy on the evaluation alphabets
              (``python -m siamese evaluate --protocol within-alphabet --way 20 --shot 1``)
    digits-unseen  train on MNIST digits 0-7 only, one-shot test on 8 vs 9 and on all ten digits
    compare   the lecture's three pair models on the same pairs, per-epoch history as JSON
              (``python -m siamese compare --dataset mnist --preset classroom --json out.json``)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import paths


def _bar(total: int, desc: str):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="ep", file=sys.stderr, dynamic_ncols=True)


def one_shot_report(model, seed: int = 0) -> dict:
    """One-shot accuracies of an embedding model on data it never trained on.

    Omniglot evaluation alphabets: both protocols, N = 5 and 20, K = 1 and 5. MNIST test digits:
    10-way 1-shot (one reference per digit). Returns a dict of :meth:`EvalResult.as_dict` rows.
    """
    from .data import load_mnist, load_omniglot
    from .embedding_training import embed_array
    from .evaluation import evaluate
    from .preprocess import batch_to_model_input

    ev = load_omniglot("evaluation")
    emb = embed_array(model, ev.images)
    rows = []
    for protocol in ("within-alphabet", "random"):
        for way in (5, 20):
            for shot in (1, 5):
                res = evaluate(emb, ev.labels, ev.alphabet_of_image, ev.drawers, way, shot, protocol,
                               episodes=max(40, 1000 // way), seed=seed)
                print(res, file=sys.stderr)
                rows.append(res.as_dict())
    _, (x_test, y_test) = load_mnist()
    x, _ = batch_to_model_input(x_test)
    res = evaluate(embed_array(model, x), y_test.astype(int), np.zeros(len(y_test), int), None, 10, 1,
                   "random", episodes=100, seed=seed)
    print("MNIST test digits,", res, file=sys.stderr)
    mnist = res.as_dict() | {"protocol": "mnist-digits"}
    return {"omniglot_evaluation": rows, "mnist_test": mnist}


def cmd_train(args) -> None:
    from .data import load_omniglot
    from .embedding_training import TrainConfig, check_episodes, embed_array, split_background, train_embedding
    from .evaluation import calibrate_threshold, error_rates, pair_distances
    from .matcher import file_model_id

    try:  # the settings are checked before the data is loaded, the episodes right after
        cfg = TrainConfig(episodes=args.episodes, way=args.way, queries=args.queries, seed=args.seed,
                          distort=args.distort, within_alphabet=args.within_alphabet,
                          pooled_blocks=args.pooled_blocks, temperature=args.temperature, mirror=args.mirror)
        bg = load_omniglot("background")
        check_episodes(bg.labels[split_background(bg)[0]], cfg)
    except ValueError as exc:
        raise SystemExit(f"python -m siamese train: {exc}") from None
    bar = _bar(cfg.episodes, "train")

    def progress(e, total, loss):
        bar.update(1)
        if e % 50 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")

    model, history = train_embedding(bg, cfg, progress, log=bar.write)
    bar.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.keras")
    model.save(tmp)
    tmp.replace(out)  # atomic: never a half-written model file

    _, val = split_background(bg)
    val_alphabets = ", ".join(bg.alphabets[np.unique(bg.alphabet_of_image[val])])
    val_emb = embed_array(model, bg.images[val])
    dist, same = pair_distances(val_emb, bg.labels[val], n_pairs=4000, seed=args.seed)
    calib = calibrate_threshold(dist, same)
    ev = load_omniglot("evaluation")
    ev_dist, ev_same = pair_distances(embed_array(model, ev.images), ev.labels, n_pairs=4000, seed=args.seed)
    card = {
        "model_id": file_model_id(out),
        "file": out.name,
        "architecture": f"Conv-4 (4 x [Conv 3x3, 64 filters, BatchNorm, ReLU], MaxPool 2 after the first "
                        f"{cfg.pooled_blocks})" + (" -> PCA projection (fitted on training alphabets)"
                                                   if cfg.projection_dim else "")
                        + f" -> {model.output_shape[-1]}-d embedding",
        "parameters": int(model.count_params()),
        "size_bytes": out.stat().st_size,
        "input": "(n, 28, 28) float32 in [0, 1], ink = 1, from siamese.preprocess.to_model_input",
        "loss": "prototypical (Snell et al. 2017): softmax over negative squared Euclidean distances "
                "to class prototypes" + (f" divided by a temperature of {cfg.temperature:g}"
                                         if cfg.temperature != 1 else "") + ", episodic",
        "data": "Omniglot background alphabets only (26 for training, 4 held out for validation: "
                + val_alphabets + "), classes augmented by 90-degree rotations"
                + (" and mirror images" if cfg.mirror else "") + ", every image "
                + ("by a small random affine distortion (rotation, scale, shear, shift)" if cfg.distort > 0
                   else "by shifts of up to 2 px")
                + "; evaluation alphabets never used in training or selection",
        "command": "python -m siamese " + " ".join(sys.argv[1:]) if args.command_line is None else args.command_line,
        "seed": args.seed,
        "config": history["config"],
        "train_seconds": round(history["train_seconds"], 1),
        "machine": args.machine,
        "validation_history": history["validation"],
        "threshold": calib["threshold"],
        "threshold_calibration": {
            "method": "equal error rate on 4,000 pairs (half same character, different drawers) from "
                      "the held-out background alphabets",
            "validation": calib,
            "evaluation_alphabets": error_rates(ev_dist, ev_same, calib["threshold"]),
        },
        "results": one_shot_report(model, seed=args.seed),
        "created": time.strftime("%Y-%m-%d"),
    }
    card_path = out.with_name("model_card.json") if args.card is None else Path(args.card)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {out} and {card_path}", file=sys.stderr)


def cmd_evaluate(args) -> None:
    from .data import load_omniglot
    from .embedding_training import embed_array
    from .evaluation import evaluate
    from .matcher import load_matcher

    matcher = load_matcher(args.model)
    ev = load_omniglot("evaluation")
    emb = embed_array(matcher.model, ev.images)
    bar = _bar(args.episodes or max(40, -(-400 // args.way)), "episodes")
    res = evaluate(emb, ev.labels, ev.alphabet_of_image, ev.drawers, args.way, args.shot, args.protocol,
                   episodes=args.episodes, seed=args.seed, progress=lambda d, t: bar.update(1))
    bar.close()
    print(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res.as_dict(), indent=2) + "\n")


def cmd_compare(args) -> None:
    from .compare import PRESETS, compare_variants, story
    from .pairs import mnist_pairs, omniglot_pairs

    settings = dict(PRESETS[args.preset])
    for key in ("epochs", "batch_size", "n_pairs"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    t0 = time.perf_counter()
    pairs = (mnist_pairs if args.dataset == "mnist" else omniglot_pairs)(settings["n_pairs"], seed=args.seed)
    print(pairs.description, file=sys.stderr)
    from tqdm import tqdm
    bar = tqdm(total=3 * settings["epochs"], desc="epochs", unit="epoch", file=sys.stderr)
    result = None

    def progress():
        done = len(result.epochs) if result is not None else 0
        bar.update(done - bar.n)

    from .compare import Comparison
    result = Comparison()
    compare_variants(pairs, settings["epochs"], settings["batch_size"], seed=args.seed,
                     lecture_init=args.lecture_init, result=result, on_update=progress)
    bar.close()
    wall = time.perf_counter() - t0
    for row in result.epochs:
        print(f"{row['variant']:36s} epoch {row['epoch']:2d}: train {row['pair_accuracy']:.3f} "
              f"val {row['val_pair_accuracy']:.3f} ({row['seconds']:.1f} s)")
    print(story(result))
    print(f"wall time {wall:.1f} s (pairs included)")
    if args.json:
        out = {"dataset": args.dataset, "preset": args.preset, "settings": settings, "seed": args.seed,
               "lecture_init": args.lecture_init, "pairs": pairs.description, "wall_seconds": round(wall, 1),
               "variants": {k: {**s, "epochs": [r for r in result.epochs if r["variant"] == s["name"]]}
                            for k, s in result.summaries.items()}}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


def cmd_digits_unseen(args) -> None:
    """Train on MNIST digits 0-7 only, then test one-shot recognition of 8 and 9."""
    from .data import load_mnist
    from .embedding_training import TrainConfig, embed_array, train_episodic
    from .evaluation import evaluate, per_class_accuracy
    from .preprocess import batch_to_model_input

    (x, y), (xt, yt) = load_mnist()
    seen = y < 8
    x_seen, _ = batch_to_model_input(x[seen])
    xt_in, _ = batch_to_model_input(xt)
    yt = yt.astype(int)
    groups = np.zeros(len(yt), int)

    def validate(model):  # on test digits 0-7 only: 8 and 9 never enter training or selection
        keep = yt < 8
        return evaluate(embed_array(model, xt_in[keep]), yt[keep], groups[keep], None, 8, 1, "random",
                        episodes=25, seed=1).accuracy

    cfg = TrainConfig(episodes=args.episodes, way=8, queries=5, seed=args.seed, validate_every=250)
    model, history = train_episodic(x_seen, y[seen].astype(int), cfg, validate, rotations=1,
                                    log=lambda s: print(s, file=sys.stderr))
    emb = embed_array(model, xt_in)
    nine = yt >= 8
    pair = evaluate(emb[nine], yt[nine], groups[nine], None, 2, 1, "random", episodes=500, seed=args.seed)
    ten = evaluate(emb, yt, groups, None, 10, 1, "random", episodes=200, seed=args.seed)
    per = per_class_accuracy(ten, yt)
    print(f"trained on digits 0-7 ({seen.sum():,} images, {history['train_seconds']:.0f} s)")
    print(f"8 vs 9, 1-shot (never seen): {pair}")
    print(f"all ten digits, 10-way 1-shot: {ten}")
    print("per digit: " + ", ".join(f"{d}: {100 * c / n:.0f}%" for d, (c, n) in sorted(per.items())))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "train_seconds": round(history["train_seconds"], 1), "episodes": args.episodes, "seed": args.seed,
            "eight_vs_nine": pair.as_dict(), "ten_way": ten.as_dict(),
            "per_digit": {str(d): round(c / n, 4) for d, (c, n) in sorted(per.items())}}, indent=2) + "\n")


def main(argv=None) -> None:
    from .embedding_training import TrainConfig  # no TensorFlow import: --help stays fast

    parser = argparse.ArgumentParser(prog="python -m siamese", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the matcher's embedding network")
    t.add_argument("--out", default=str(paths.ASSETS_DIR / "embedding.keras"))
    t.add_argument("--card", default=None, help="model card path (default: model_card.json next to --out)")
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
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--machine", default="2-core CPU, no GPU")
    t.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    t.set_defaults(func=cmd_train)
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
    args = parser.parse_args(argv)
    from .data import DatasetError
    from .matcher import ModelLoadError

    try:
        args.func(args)
    except (DatasetError, ModelLoadError) as exc:  # a message for people, not a traceback
        parser.exit(1, f"python -m siamese {args.command}: {exc}\n")
