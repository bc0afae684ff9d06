"""The 20 official one-shot runs of Lake, Salakhutdinov and Tenenbaum (Science 2015): the protocol
behind the published 20-way 1-shot figures (Koch et al. 2015: 92.0%; people: 95.5%; Bayesian
Program Learning: 96.7%).

Each run is one within-alphabet 20-way 1-shot task: 20 training images (one per character, by one
drawer) and 20 test images (the same characters, by another drawer), 400 trials over the 20 runs.
A test image is classified as the training image nearest in Euclidean distance between embeddings,
and the accuracy comes with a 95% Wilson interval.

The file is ``all_runs.zip`` of https://github.com/brendenlake/omniglot
(``python/one-shot-classification/all_runs.zip``), laid out as::

    runNN/class_labels.txt        one line per test image: "runNN/test/itemKK.png runNN/training/classJJ.png"
    runNN/training/classJJ.png    105x105 PNG, one per character
    runNN/test/itemKK.png         105x105 PNG

It is a test set: no model, threshold or setting is ever chosen on it.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from siamese.data.datasets import DatasetError, fetch_file
from siamese.fewshot.evaluation import wilson_interval
from siamese.data.preprocess import to_model_input
from siamese.distance import squared_distances

ALL_RUNS_URL = "https://github.com/brendenlake/omniglot/raw/master/python/one-shot-classification/all_runs.zip"
# sha256 of the published file (md5 e8996daecdf12afeeb4a53a179f06b19), checked on download
ALL_RUNS_SHA256 = "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325"
RUNS, WAY = 20, 20
PROTOCOL = ("the 20 official within-alphabet 20-way 1-shot runs of Lake et al. 2015 (all_runs.zip, 400 trials; "
            "nearest training image by Euclidean distance)")


@dataclass(frozen=True)
class OfficialRun:
    """One run, preprocessed as datasets are (:func:`siamese.data.preprocess.to_model_input` with
    ``canvas=False``).

    Attributes:
        name: "run01" .. "run20".
        training: ``(20, 28, 28) float32`` in [0, 1], ink = 1, one image per character.
        test: ``(20, 28, 28) float32``, the same characters by another drawer.
        answers: ``(20,) int``: row of ``training`` that each test image shows.
    """
    name: str
    training: np.ndarray
    test: np.ndarray
    answers: np.ndarray


@dataclass(frozen=True)
class OfficialRunsResult:
    """Accuracy over the runs with its 95% Wilson interval; ``per_run`` is correct answers per run."""
    correct: int
    trials: int
    ci_low: float
    ci_high: float
    per_run: tuple

    @property
    def accuracy(self) -> float:
        return self.correct / self.trials

    def __str__(self) -> str:
        return (f"official runs (Lake et al. 2015), 20-way 1-shot within-alphabet: {self.correct}/{self.trials} = "
                f"{100 * self.accuracy:.2f}% (95% CI {100 * self.ci_low:.1f}-{100 * self.ci_high:.1f})")

    def as_dict(self) -> dict:
        return {"protocol": PROTOCOL, "way": WAY, "shot": 1, "correct": self.correct, "trials": self.trials,
                "accuracy": round(self.accuracy, 4), "ci95": [round(self.ci_low, 4), round(self.ci_high, 4)],
                "per_run": list(self.per_run)}


def _members(zf: zipfile.ZipFile) -> dict:
    """``{run: [(test member, training member)]}`` from each run's class_labels.txt."""
    runs = {}
    for name in sorted(n for n in zf.namelist() if n.endswith("class_labels.txt")):
        run = name.split("/")[-2]
        pairs = []
        for line in zf.read(name).decode("ascii").split("\n"):
            if line.strip():
                test, train = line.split()
                # class_labels.txt names members with or without their run folder: resolve both
                pairs.append(tuple(p if p.startswith(run + "/") else f"{run}/{p}" for p in (test, train)))
        runs[run] = pairs
    return runs


def _check(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            runs, names = _members(zf), set(zf.namelist())
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{path} is not a readable all_runs.zip ({exc}); replace it with {ALL_RUNS_URL}") from exc
    complete = (len(runs) == RUNS and all(len(p) == WAY and len({t for _, t in p}) == WAY for p in runs.values())
                and all(m in names for p in runs.values() for pair in p for m in pair))
    if not complete:
        raise DatasetError(f"{path} does not hold the 20 official runs of 20 test and 20 training images each; "
                           f"replace it with {ALL_RUNS_URL}")


def all_runs_path() -> Path:
    """Path of the checked ``omniglot/all_runs.zip`` in :func:`siamese.paths.data_dir`.

    A file already there is checked by content (20 runs, 20 test and 20 training images each);
    otherwise it is fetched with ``keras.utils.get_file`` and its sha256 checked.

    Raises:
        DatasetError: missing and not downloadable, or incomplete.
    """
    return fetch_file("omniglot", "all_runs.zip", ALL_RUNS_URL, ALL_RUNS_SHA256, _check)


def _image(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    x = to_model_input(np.asarray(Image.open(io.BytesIO(zf.read(name))).convert("L")), canvas=False)
    if x is None:
        raise DatasetError(f"{name} in all_runs.zip has no ink")
    return x


def load_official_runs() -> list[OfficialRun]:
    """The 20 runs, in order, each with its training images in class order.

    Raises:
        DatasetError: see :func:`all_runs_path`.
    """
    runs = []
    with zipfile.ZipFile(all_runs_path()) as zf:
        for run, pairs in _members(zf).items():
            classes = sorted({train for _, train in pairs})
            runs.append(OfficialRun(run, np.stack([_image(zf, c) for c in classes]),
                                    np.stack([_image(zf, t) for t, _ in pairs]),
                                    np.array([classes.index(train) for _, train in pairs])))
    return runs


def official_runs_accuracy(embed: Callable[[np.ndarray], np.ndarray],
                           runs: list[OfficialRun] | None = None) -> OfficialRunsResult:
    """Accuracy of an embedding on the official runs: each test image gets the class of the nearest
    training image of its run (Euclidean distance; no ties in practice, the first wins).

    Arguments:
        embed: ``(n, 28, 28) float32 -> (n, d) float32``, e.g. ``matcher.embed_inputs``.
        runs: default :func:`load_official_runs`.

    Raises:
        DatasetError: see :func:`all_runs_path`.
    """
    runs = load_official_runs() if runs is None else runs
    per_run = []
    for run in runs:
        train, test = embed(run.training), embed(run.test)
        d = squared_distances(test, train)
        per_run.append(int((d.argmin(1) == run.answers).sum()))
    correct, trials = sum(per_run), sum(len(r.answers) for r in runs)
    return OfficialRunsResult(correct, trials, *wilson_interval(correct, trials), tuple(per_run))
