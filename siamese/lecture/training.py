"""A pair-training run: the lecture's three pair models trained on the same pairs, one after
another, with live history (:func:`compare_variants`).

Each variant is compiled the lecture's way: binary cross-entropy, Adam (Keras defaults), and pair
accuracy = the predicted probability of "same" thresholded at 0.5. Histories are recorded per
batch and per epoch, keyed by variant (the keys of :data:`siamese.lecture.models.VARIANTS`), so a page can
chart them while training runs; a ``threading.Event`` stops training within one batch. The settings
are :mod:`siamese.lecture.settings`'; a run that ends keeps its trained models in one file
(:mod:`siamese.lecture.saved_run`), so the Compare page can ask each variant about two sketches, even
after a restart; the server-wide job that runs one such run at a time is :mod:`siamese.lecture.job`.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from siamese.lecture.models import VARIANTS


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
