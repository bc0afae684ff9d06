"""What a trained embedding scores on data it never trained on: the one-shot report, the
calibration of its "looks new" threshold, and the model card that records both.

Everything here embeds with :func:`siamese.embedding.training.embed_array` and scores with
:mod:`siamese.fewshot.evaluation`; the numbers of the shipped model are in ``assets/model_card.json``.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from siamese.embedding.card import ModelCard, embedding_card
from siamese.data.datasets import Omniglot, load_mnist, load_omniglot, split_background
from siamese.embedding.training import TrainConfig, embed_array
from siamese.fewshot.evaluation import EvalResult, calibrate_threshold, error_rates, evaluate, pair_distances
from siamese.embedding.matcher import file_model_id
from siamese.data.preprocess import batch_to_model_input

CALIBRATION_PAIRS = 4000  # half same character, half different


def _silent(line: str) -> None:
    pass


def evaluation_accuracy(model, way: int, shot: int, protocol: str, episodes: int | None = None, seed: int = 0,
                        progress: Callable[[int, int], None] | None = None) -> EvalResult:
    """N-way K-shot accuracy of an embedding model on the Omniglot evaluation alphabets.

    Arguments:
        model: Keras model ``(n, 28, 28) float32 -> (n, d) float32``.
        way, shot, protocol, episodes, seed, progress: as :func:`siamese.fewshot.evaluation.evaluate`.

    Raises:
        siamese.data.datasets.DatasetError: the evaluation alphabets are not available.
    """
    ev = load_omniglot("evaluation")
    emb = embed_array(model, ev.images)
    return evaluate(emb, ev.labels, ev.alphabet_of_image, ev.drawers, way, shot, protocol,
                    episodes=episodes, seed=seed, progress=progress)


def one_shot_report(model, seed: int = 0, log: Callable[[str], None] = _silent) -> dict:
    """One-shot accuracies of an embedding model on data it never trained on.

    Omniglot evaluation alphabets: both protocols, N = 5 and 20, K = 1 and 5. MNIST test digits:
    10-way 1-shot (one reference per digit).

    Arguments:
        log: called with each result line as it is measured.

    Returns:
        ``{"omniglot_evaluation": [row, ...], "mnist_test": row}``, rows of
        :meth:`siamese.fewshot.evaluation.EvalResult.as_dict` (the MNIST row with protocol "mnist-digits").

    Raises:
        siamese.data.datasets.DatasetError: a dataset is not available.
    """
    ev = load_omniglot("evaluation")
    emb = embed_array(model, ev.images)
    rows = []
    for protocol in ("within-alphabet", "random"):
        for way in (5, 20):
            for shot in (1, 5):
                res = evaluate(emb, ev.labels, ev.alphabet_of_image, ev.drawers, way, shot, protocol,
                               episodes=max(40, 1000 // way), seed=seed)
                log(str(res))
                rows.append(res.as_dict())
    _, (x_test, y_test) = load_mnist()
    x, _ = batch_to_model_input(x_test)
    res = evaluate(embed_array(model, x), y_test.astype(int), np.zeros(len(y_test), int), None, 10, 1,
                   "random", episodes=100, seed=seed)
    log(f"MNIST test digits, {res}")
    mnist = res.as_dict() | {"protocol": "mnist-digits"}
    return {"omniglot_evaluation": rows, "mnist_test": mnist}


def validation_alphabets(background: Omniglot) -> list[str]:
    """Names of the background alphabets held out for validation (:func:`split_background`)."""
    _, val = split_background(background)
    return list(background.alphabets[np.unique(background.alphabet_of_image[val])])


def threshold_calibration(model, background: Omniglot, seed: int = 0) -> dict:
    """Calibrate the "looks new" threshold at the equal-error rate of pairs from the held-out
    background alphabets, and measure its error rates on pairs from the evaluation alphabets.

    Returns:
        ``{"method": str, "validation": {"threshold", "false_accept", "false_reject"},
        "evaluation_alphabets": {"false_accept", "false_reject"}}``: the threshold is a Euclidean
        distance, the rates are in [0, 1] (:func:`siamese.fewshot.evaluation.calibrate_threshold`).

    Raises:
        siamese.data.datasets.DatasetError: the evaluation alphabets are not available.
    """
    _, val = split_background(background)
    dist, same = pair_distances(embed_array(model, background.images[val]), background.labels[val],
                                n_pairs=CALIBRATION_PAIRS, seed=seed)
    calib = calibrate_threshold(dist, same)
    ev = load_omniglot("evaluation")
    ev_dist, ev_same = pair_distances(embed_array(model, ev.images), ev.labels, n_pairs=CALIBRATION_PAIRS, seed=seed)
    return {
        "method": f"equal error rate on {CALIBRATION_PAIRS:,} pairs (half same character, different drawers) "
                  "from the held-out background alphabets",
        "validation": calib,
        "evaluation_alphabets": error_rates(ev_dist, ev_same, calib["threshold"]),
    }


def trained_embedding_card(model, path: Path, background: Omniglot, cfg: TrainConfig, history: dict, *,
                           seed: int, command: str, machine: str,
                           log: Callable[[str], None] = _silent) -> ModelCard:
    """The model card of an embedding just trained on ``background`` and saved at ``path``:
    calibrates its threshold, runs the one-shot report, and describes the run.

    Arguments:
        cfg, history: the configuration and what :func:`siamese.embedding.training.train_embedding`
            returned; seed: the seed of the calibration pairs and the report's episodes, recorded
            as the run's seed.
        command, machine: what trained it and where, in words; log: as :func:`one_shot_report`.

    Raises:
        siamese.data.datasets.DatasetError: the evaluation alphabets or MNIST are not available.
    """
    calibration = threshold_calibration(model, background, seed=seed)
    return embedding_card(model, path, file_model_id(path), cfg, history,
                          validation_alphabets=validation_alphabets(background), calibration=calibration,
                          results=one_shot_report(model, seed=seed, log=log), command=command, seed=seed,
                          machine=machine)
