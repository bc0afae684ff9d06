"""The unseen-digits experiment (``python -m siamese digits-unseen``): train the Conv-4 embedding
on MNIST digits 0-7 only, then test one-shot recognition of 8 vs 9, which it never saw, and of
all ten digits (one reference per digit). Its results: the README, "Digits never seen".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from siamese.data.datasets import load_mnist
from siamese.embedding.training import TrainConfig, embed_array, train_episodic
from siamese.fewshot.evaluation import EvalResult, evaluate, per_class_accuracy
from siamese.data.preprocess import batch_to_model_input

SEEN_DIGITS = 8  # digits 0 to 7 are trained on; 8 and 9 never enter training or selection


@dataclass
class UnseenDigits:
    """What the experiment measured.

    Attributes:
        episodes, seed: the run's settings.
        n_seen: number of training images (MNIST training digits 0-7).
        train_seconds: training wall time in s.
        eight_vs_nine: 2-way 1-shot on the test 8s and 9s.
        ten_way: 10-way 1-shot on all test digits.
        per_digit: ``{digit: (correct, queries)}`` in ``ten_way``.
    """
    episodes: int
    seed: int
    n_seen: int
    train_seconds: float
    eight_vs_nine: EvalResult
    ten_way: EvalResult
    per_digit: dict[int, tuple[int, int]]

    def as_dict(self) -> dict:
        """JSON-ready: accuracies in [0, 1], seconds rounded to 0.1."""
        return {"train_seconds": round(self.train_seconds, 1), "episodes": self.episodes, "seed": self.seed,
                "eight_vs_nine": self.eight_vs_nine.as_dict(), "ten_way": self.ten_way.as_dict(),
                "per_digit": {str(d): round(c / n, 4) for d, (c, n) in sorted(self.per_digit.items())}}


def run_unseen_digits(episodes: int = 1500, seed: int = 0,
                      log: Callable[[str], None] = lambda line: None) -> UnseenDigits:
    """Train on MNIST digits 0-7 (8-way episodes, 5 queries, no rotations: a rotated 6 is a 9),
    keeping the checkpoint best on 8-way 1-shot test digits 0-7, then test one-shot.

    Arguments:
        episodes: training episodes; seed: training and test episodes; log: training progress lines.

    Raises:
        siamese.data.datasets.DatasetError: MNIST is not available.
    """
    (x, y), (xt, yt) = load_mnist()
    seen = y < SEEN_DIGITS
    x_seen, _ = batch_to_model_input(x[seen])
    xt_in, _ = batch_to_model_input(xt)
    yt = yt.astype(int)
    groups = np.zeros(len(yt), int)

    def validate(model):  # on test digits 0-7 only
        keep = yt < SEEN_DIGITS
        return evaluate(embed_array(model, xt_in[keep]), yt[keep], groups[keep], None, SEEN_DIGITS, 1, "random",
                        episodes=25, seed=1).accuracy

    cfg = TrainConfig(episodes=episodes, way=SEEN_DIGITS, queries=5, seed=seed, validate_every=250)
    model, history = train_episodic(x_seen, y[seen].astype(int), cfg, validate, rotations=1, log=log)
    emb = embed_array(model, xt_in)
    unseen = yt >= SEEN_DIGITS
    pair = evaluate(emb[unseen], yt[unseen], groups[unseen], None, 2, 1, "random", episodes=500, seed=seed)
    ten = evaluate(emb, yt, groups, None, 10, 1, "random", episodes=200, seed=seed)
    return UnseenDigits(episodes, seed, int(seen.sum()), history["train_seconds"], pair, ten,
                        per_class_accuracy(ten, yt))
