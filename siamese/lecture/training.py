"""A pair-training run: the lecture's three pair models trained on the same pairs, one after
another, with live history, and the server-wide job that runs one such run at a time.

Each variant is compiled the lecture's way: binary cross-entropy, Adam (Keras defaults), and pair
accuracy = the predicted probability of "same" thresholded at 0.5. Histories are recorded per
batch and per epoch, keyed by variant (the keys of :data:`siamese.lecture.models.VARIANTS`), so a page can
chart them while training runs; a ``threading.Event`` stops training within one batch. A run that
ends keeps its trained models in one file (:func:`save_run`), so the Compare page can ask each
variant about two sketches, even after a restart.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

import numpy as np

from siamese import paths
from siamese.classroom import Action, Actor, require
from siamese.lecture.models import VARIANTS

Dataset = Literal["mnist", "omniglot"]
DATASETS: tuple[str, ...] = get_args(Dataset)


def _whole_number(what: str, value, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{what} must be a whole number of at least {least}, not {value!r}")


@dataclass(frozen=True)
class PairTrainingSettings:
    """What a pair-training run trains on and how; checked when it is built.

    Attributes:
        epochs, batch_size: as in ``Model.fit``; whole numbers ≥ 1.
        n_pairs: training pairs (≥ 2), or None for the full set (120,000 pairs on MNIST: one
            positive and one negative per training image, :func:`siamese.lecture.pairs.mnist_pairs`).
        dataset: ``"mnist"`` (digits) or ``"omniglot"`` (background alphabets).
        seed: whole number ≥ 0; the same pairs and the same starting weights for all variants.
        lecture_init: True builds the Siamese head with Keras's random initial kernel (the
            lecture's exact model); False uses the "close means same" prior.

    Raises:
        ValueError: one line naming the refused value.
    """
    epochs: int
    batch_size: int
    n_pairs: int | None
    dataset: Dataset = "mnist"
    seed: int = 0
    lecture_init: bool = False

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {self.dataset!r}")
        _whole_number("epochs", self.epochs, 1)
        _whole_number("batch size", self.batch_size, 1)
        if self.n_pairs is not None:
            _whole_number("training pairs", self.n_pairs, 2)
        _whole_number("seed", self.seed, 0)
        if not isinstance(self.lecture_init, bool):
            raise ValueError(f"lecture_init must be True or False, not {self.lecture_init!r}")


PRESETS: dict[str, PairTrainingSettings] = {
    # Sized so all three variants finish in about a minute on a 2-core laptop CPU.
    "classroom": PairTrainingSettings(epochs=5, batch_size=64, n_pairs=50_000),
    # The lecture's settings: batch 16, 10 epochs, the full 60k-image pair set (120,000 pairs).
    "lecture": PairTrainingSettings(epochs=10, batch_size=16, n_pairs=None),
}
"""The named settings (Train page and ``python -m siamese compare --preset``); change the dataset,
seed or initialisation with :func:`dataclasses.replace`."""


def pairs_for(settings: PairTrainingSettings):
    """The :class:`siamese.lecture.pairs.PairData` the settings ask for (raises DatasetError without data)."""
    from siamese.lecture import pairs

    build = pairs.mnist_pairs if settings.dataset == "mnist" else pairs.omniglot_pairs
    return build(settings.n_pairs, seed=settings.seed)


@dataclass(frozen=True)
class EpochRow:
    """One epoch of one variant. ``variant`` is its display name (chart legend, JSON); ``partial``
    marks an epoch cut short by Stop (its train metrics cover only the batches run)."""
    variant: str
    epoch: int
    loss: float
    pair_accuracy: float
    val_loss: float
    val_pair_accuracy: float
    seconds: float
    partial: bool


@dataclass(frozen=True)
class BatchRow:
    """Running train metrics within an epoch; ``progress`` counts epochs done, fractional."""
    variant: str
    progress: float
    loss: float
    pair_accuracy: float


@dataclass(frozen=True)
class VariantSummary:
    """One variant of a run: display name, parameter count, training seconds (None while it
    trains) and whether Stop cut it short."""
    name: str
    params: int
    seconds: float | None = None
    stopped: bool = False


def _empty() -> Mapping:
    return MappingProxyType({})


@dataclass(frozen=True)
class History:
    """What a run recorded, copied at one moment; every mapping is keyed by variant key, in
    training order, and a variant has rows only once it has a summary."""
    epochs: Mapping[str, tuple[EpochRow, ...]] = field(default_factory=_empty)
    batches: Mapping[str, tuple[BatchRow, ...]] = field(default_factory=_empty)
    summaries: Mapping[str, VariantSummary] = field(default_factory=_empty)
    current: str | None = None
    """The variant started last while the run goes on (it may still be building), None once the
    run has ended."""

    @property
    def epochs_done(self) -> int:
        return sum(len(rows) for rows in self.epochs.values())

    def epoch_rows(self) -> list[EpochRow]:
        return [row for rows in self.epochs.values() for row in rows]

    def batch_rows(self) -> list[BatchRow]:
        return [row for rows in self.batches.values() for row in rows]

    def results_table(self) -> list[dict]:
        """One row per variant: its last epoch's pair accuracies (None before its first epoch ends),
        its epoch count and its training time in seconds, to 0.1 s."""
        rows = []
        for key, s in self.summaries.items():
            epochs = self.epochs.get(key, ())
            last = epochs[-1] if epochs else None
            rows.append({"variant": s.name, "parameters": s.params,
                         "train pair accuracy": None if last is None else last.pair_accuracy,
                         "validation pair accuracy": None if last is None else last.val_pair_accuracy,
                         "epochs": len(epochs), "seconds": round(s.seconds or 0, 1)})
        return rows

    def story(self) -> str:
        """One honest sentence per variant about what this run measured: its validation pair
        accuracy after the first and after the last epoch."""
        parts = []
        for key, s in self.summaries.items():
            rows = self.epochs.get(key, ())
            if not rows:
                continue
            first, last = rows[0].val_pair_accuracy, rows[-1].val_pair_accuracy
            text = f"{s.name}: {100 * first:.1f}% validation pair accuracy after epoch 1"
            if len(rows) > 1:
                text += f", {100 * last:.1f}% after epoch {len(rows)}"
            parts.append(text)
        return "; ".join(parts) + "." if parts else "No epoch has finished yet."


@dataclass
class Comparison:
    """Live and final results of a comparison run, filled by :func:`compare_variants` (under
    ``lock``) while others read :meth:`snapshot`.

    Attributes:
        epochs, batches: rows by variant key, appended as training runs.
        summaries: :class:`VariantSummary` by variant key, added when a variant starts.
        models: the trained Keras models by variant key, added when a variant ends.
        current: as in :class:`History`.
    """
    epochs: dict[str, list[EpochRow]] = field(default_factory=dict)
    batches: dict[str, list[BatchRow]] = field(default_factory=dict)
    summaries: dict[str, VariantSummary] = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    current: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> History:
        """An immutable copy, safe to read while training appends."""
        with self.lock:
            return History(MappingProxyType({k: tuple(v) for k, v in self.epochs.items()}),
                           MappingProxyType({k: tuple(v) for k, v in self.batches.items()}),
                           MappingProxyType(dict(self.summaries)), self.current)


def _live_callback(result: Comparison, key: str, steps: int, stop: threading.Event, every: int, on_update):
    import keras

    name = VARIANTS[key][0]

    class Live(keras.callbacks.Callback):
        """Records batch and epoch rows; stops the fit when ``stop`` is set."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.t0 = epoch, time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if stop.is_set():
                self.model.stop_training = True
            if (batch + 1) % every == 0 or batch + 1 == steps:
                row = BatchRow(name, self.epoch + (batch + 1) / steps, float(logs["loss"]),
                               float(logs["pair_accuracy"]))
                with result.lock:
                    result.batches[key].append(row)
                if on_update:
                    on_update()

        def on_epoch_end(self, epoch, logs=None):
            if "val_loss" not in logs:
                return
            row = EpochRow(name, epoch + 1, float(logs["loss"]), float(logs["pair_accuracy"]),
                           float(logs["val_loss"]), float(logs["val_pair_accuracy"]),
                           time.perf_counter() - self.t0, partial=stop.is_set())  # stopped mid-epoch
            with result.lock:
                result.epochs[key].append(row)
            if on_update:
                on_update()

    return Live()


_MODELS: dict = {}
_MODELS_LOCK = threading.Lock()


def _fresh_model(key: str, lecture_init: bool, seed: int):
    """A variant with freshly initialised weights and optimizer state, compiled.

    Each (variant, initialisation) is built and compiled once per process and then re-initialised
    (weights copied from a newly built model, Adam's moments and step zeroed): every ``fit`` of a
    brand-new model leaves ~5 MB of traced functions behind in TensorFlow, so rebuilding on every
    press grew the server by ~25 MB per training (measured: benchmarks/run.py memory).
    """
    import keras

    from siamese.lecture.models import build_siamese_distance

    keras.utils.set_random_seed(seed)
    fresh = build_siamese_distance(close_means_same=False) if key == "siamese" and lecture_init else VARIANTS[key][1]()
    with _MODELS_LOCK:
        model = _MODELS.get((key, lecture_init))
        if model is None:
            model = _MODELS[(key, lecture_init)] = fresh
            model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy",
                          metrics=[keras.metrics.BinaryAccuracy(threshold=0.5, name="pair_accuracy")])
        else:
            model.set_weights(fresh.get_weights())
            for v in model.optimizer.variables:  # step count and Adam's moments; not the learning rate
                if not v.path.endswith("learning_rate"):
                    v.assign(keras.ops.zeros_like(v))
    return model


def compare_variants(pairs, epochs: int, batch_size: int, seed: int = 0, variants=tuple(VARIANTS),
                     lecture_init: bool = False, stop: threading.Event | None = None, on_update=None,
                     result: Comparison | None = None, updates_per_epoch: int = 10) -> Comparison:
    """Train each variant on the same pairs with the same seed.

    Arguments:
        pairs: :class:`siamese.lecture.pairs.PairData`.
        epochs, batch_size: as in ``Model.fit``.
        seed: ``keras.utils.set_random_seed`` before each variant, so all start alike.
        lecture_init: True builds the Siamese head with Keras's random initial kernel (the lecture's
            exact model, which collapses to 50% for some seeds); False uses the "close means same"
            prior (see :func:`siamese.lecture.models.build_siamese_distance`).
        stop: set it to stop training within a batch; the partial history is kept.
        on_update: called after each recorded row (from the training thread).
        result: a :class:`Comparison` to fill (lets a caller read it while this runs).
        updates_per_epoch: batch rows per epoch (not every batch: no redraw storms).

    Returns:
        the filled :class:`Comparison`; its ``models`` are this process's reusable instances
        (see :func:`_fresh_model`), valid until the next comparison.
    """
    result = Comparison() if result is None else result
    stop = threading.Event() if stop is None else stop
    (xl, xr, y), (vl, vr, vy) = pairs.train, pairs.val
    steps = -(-len(y) // batch_size)
    for key in variants:
        if stop.is_set():
            break
        model = _fresh_model(key, lecture_init, seed)
        with result.lock:
            result.current = key
            result.summaries[key] = VariantSummary(VARIANTS[key][0], int(model.count_params()))
            result.epochs[key], result.batches[key] = [], []
        live = _live_callback(result, key, steps, stop, max(1, steps // updates_per_epoch), on_update)
        t0 = time.perf_counter()
        model.fit([xl, xr], y, batch_size=batch_size, epochs=epochs, validation_data=([vl, vr], vy),
                  callbacks=[live], verbose=0, shuffle=True)
        with result.lock:
            result.summaries[key] = replace(result.summaries[key], seconds=time.perf_counter() - t0,
                                            stopped=stop.is_set())
            result.models[key] = model
    with result.lock:
        result.current = None
    if on_update:
        on_update()
    return result


def last_run_path() -> Path:
    """Where the server keeps the last pair-training run's models: ``pair_runs/last.npz`` in
    ``SIAMESE_HOME`` (one file, replaced by each run that trains a variant for an epoch)."""
    return paths.home_dir() / "pair_runs" / "last.npz"


@dataclass(frozen=True)
class SavedRun:
    """The trained pair models of one run, as :func:`save_run` keeps them.

    Attributes:
        settings: the run's settings.
        finished: when it ended, local ISO 8601 date-time with its UTC offset.
        stopped: Stop cut it short.
        val_pair_accuracy: each saved variant's validation pair accuracy after its last epoch, in
            [0, 1], by variant key.
        weights: each saved variant's weights (``Model.get_weights()``, float32 arrays), by variant
            key in training order; a variant the run never trained for an epoch is absent.
    """
    settings: PairTrainingSettings
    finished: str
    stopped: bool
    val_pair_accuracy: Mapping[str, float]
    weights: Mapping[str, list]

    def models(self) -> dict:
        """The saved variants as Keras models ``[(n, 28, 28), (n, 28, 28)] -> (n, 1)``, by key:
        each built by its :data:`siamese.lecture.models.VARIANTS` builder, then given the saved weights."""
        out = {}
        for key, weights in self.weights.items():
            model = VARIANTS[key][1]()
            model.set_weights(weights)
            out[key] = model
        return out


def save_run(result: Comparison, settings: PairTrainingSettings, path: Path | None = None,
             stopped: bool = False) -> Path | None:
    """Keep a finished (or stopped) run's trained variants for the Compare page, replacing the
    last run's, atomically (readers see the old file or the new one).

    Only variants with at least one epoch row are kept; the weights are copied from the models of
    ``result`` (which the next run re-initialises, see :func:`_fresh_model`).

    Returns:
        the file written (default :func:`last_run_path`), or None when no variant finished an
        epoch (the last run's file is then left as it was).

    Raises:
        OSError: the file cannot be written; the old one is left as it was.
    """
    with result.lock:
        keys = [k for k in result.models if result.epochs.get(k)]
        weights = {k: result.models[k].get_weights() for k in keys}
        accuracy = {k: result.epochs[k][-1].val_pair_accuracy for k in keys}
    if not keys:
        return None
    path = Path(path or last_run_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"settings": {f: getattr(settings, f) for f in settings.__dataclass_fields__},
            "finished": datetime.now().astimezone().isoformat(timespec="seconds"), "stopped": bool(stopped),
            "variants": keys, "val_pair_accuracy": accuracy}
    arrays = {f"{k}/{i}": np.asarray(w) for k in keys for i, w in enumerate(weights[k])}
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp.npz")  # unique: writers never share one
    try:
        np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_run(path: Path | None = None) -> SavedRun | None:
    """The run :func:`save_run` kept, or None when there is none yet.

    Raises:
        ValueError: the file is there but unreadable or not such a run (its message says so).
    """
    path = Path(path or last_run_path())
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            keys = [k for k in meta["variants"] if k in VARIANTS]
            weights = {k: [f[name] for name in sorted((n for n in f.files if n.startswith(k + "/")),
                                                      key=lambda n: int(n.split("/")[1]))] for k in keys}
        settings = PairTrainingSettings(**meta["settings"])
        accuracy = {k: float(meta["val_pair_accuracy"][k]) for k in keys}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"the last training run's file {path} is not readable ({type(exc).__name__}); "
                         "train again on the Train page") from exc
    return SavedRun(settings, str(meta["finished"]), bool(meta["stopped"]), accuracy, weights)


def same_probabilities(models: Mapping, x_a, x_b) -> dict[str, tuple[float, float]]:
    """What each pair model says about two inputs: its probability of "same", for the pair as
    given and swapped (a concatenating model need not be symmetric; the Siamese distance is).

    Arguments:
        models: Keras pair models by variant key (:meth:`SavedRun.models`).
        x_a, x_b: ``(28, 28) float32`` in [0, 1], ink = 1 (:func:`siamese.data.preprocess.prepare`).

    Returns:
        ``{key: (p(same | a, b), p(same | b, a))}``, probabilities in [0, 1], in ``models``' order.
    """
    left = np.stack([x_a, x_b]).astype(np.float32)
    right = left[::-1].copy()
    out = {}
    for key, model in models.items():
        p = np.asarray(model([left, right], training=False)).ravel()
        out[key] = (float(p[0]), float(p[1]))
    return out


class JobStatus(StrEnum):
    """Where the server's training job is: IDLE until the first start, then BUILDING_PAIRS →
    TRAINING → FINISHED, STOPPED (Stop pressed) or FAILED (from either running state). A start is
    refused while running and accepted from any other status. The value is the progress bar's
    label on the Train page."""
    IDLE = "idle"
    BUILDING_PAIRS = "building pairs"
    TRAINING = "training"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def running(self) -> bool:
        return self in (JobStatus.BUILDING_PAIRS, JobStatus.TRAINING)


@dataclass(frozen=True)
class JobSnapshot:
    """The training job as one reader sees it at one moment (all fields taken under one lock).

    Attributes:
        settings: the run's settings; None before the first start.
        history: its :class:`History` so far.
        pairs_description: what the pairs were built from; None until they are built.
        error: ``"ExceptionType: message"`` when the status is FAILED.
        saved_path: where :meth:`TrainingJob.save_siamese` saved the Siamese tower, or None.
    """
    status: JobStatus = JobStatus.IDLE
    settings: PairTrainingSettings | None = None
    history: History = field(default_factory=History)
    pairs_description: str | None = None
    error: str | None = None
    saved_path: Path | None = None

    @property
    def running(self) -> bool:
        return self.status.running

    @property
    def progress(self) -> float:
        """Epochs finished over epochs planned, in [0, 1]."""
        if self.settings is None:
            return 0.0
        return min(self.history.epochs_done / (self.settings.epochs * len(VARIANTS)), 1.0)

    @property
    def siamese_trained(self) -> bool:
        """The run has a finished Siamese model (one that :meth:`TrainingJob.save_siamese` can save)."""
        s = self.history.summaries.get("siamese")
        return s is not None and s.seconds is not None


class TrainingJob:
    """One comparison at a time per server process, run in a background thread.

    Every session reads the same job, so a second user sees the running training and its live
    chart instead of starting another one; clicks elsewhere never lose the results so far.
    Readers take a :meth:`snapshot`.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._status = JobStatus.IDLE
        self._settings: PairTrainingSettings | None = None
        self._result: Comparison | None = None
        self._pairs_description: str | None = None
        self._error: str | None = None
        self._saved_path: Path | None = None

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(self._status, self._settings,
                               History() if self._result is None else self._result.snapshot(),
                               self._pairs_description, self._error, self._saved_path)

    def start(self, settings: PairTrainingSettings, actor: Actor) -> bool:
        """Start a comparison unless one is running.

        Returns:
            False if a training is already running (nothing is started).

        Raises:
            PermissionDenied: a student (students watch; the teacher starts and stops).
        """
        require(actor, Action.TRAIN)
        with self._lock:
            if self._status.running:
                return False
            self._stop, self._result = threading.Event(), Comparison()
            self._settings, self._status = settings, JobStatus.BUILDING_PAIRS
            self._pairs_description = self._error = self._saved_path = None
            threading.Thread(target=self._run, args=(settings, self._stop, self._result),
                             name="compare-variants", daemon=True).start()
            return True

    def stop(self, actor: Actor) -> None:
        """Ask the running training to stop within a batch.

        Raises:
            PermissionDenied: a student.
        """
        require(actor, Action.TRAIN)
        self._stop.set()

    def save_siamese(self, actor: Actor) -> Path:
        """Save the finished run's Siamese tower for matching, once (later calls return the same
        path): it is then offered to everyone on this server, so only who may train may save.

        Raises:
            PermissionDenied: a student.
            ValueError: there is no trained Siamese model, or it collapsed.
        """
        from siamese.embedding.user_models import save_siamese_tower

        require(actor, Action.TRAIN)
        with self._lock:
            if self._saved_path is None:
                if self._status.running or self._result is None or "siamese" not in self._result.models:
                    raise ValueError("There is no finished Siamese model to save.")
                epochs = len(self._result.epochs["siamese"])
                data = {"mnist": "MNIST", "omniglot": "Omniglot"}[self._settings.dataset]
                description = f"{data} Siamese tower, {epochs} epoch{'' if epochs == 1 else 's'}"
                self._saved_path = save_siamese_tower(self._result.models["siamese"], description)
            return self._saved_path

    def _run(self, settings: PairTrainingSettings, stop: threading.Event, result: Comparison):
        try:
            pairs = pairs_for(settings)
            with self._lock:
                self._pairs_description, self._status = pairs.description, JobStatus.TRAINING
            compare_variants(pairs, settings.epochs, settings.batch_size, seed=settings.seed,
                             lecture_init=settings.lecture_init, stop=stop, result=result)
            save_run(result, settings, stopped=stop.is_set())  # for the Compare page, across restarts
            with self._lock:
                self._status = JobStatus.STOPPED if stop.is_set() else JobStatus.FINISHED
        except Exception as exc:  # reported on the page; the app stays usable
            with self._lock:
                self._status, self._error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"
