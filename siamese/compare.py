"""Train the lecture's three pair models on the same pairs, one after another, with live history.

Each variant is compiled the lecture's way: binary cross-entropy, Adam (Keras defaults), and pair
accuracy = the predicted probability of "same" thresholded at 0.5. Histories are pushed to a
callback per batch and per epoch, so a page can chart them while training runs; a
``threading.Event`` stops training within one batch.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .models import VARIANTS

PRESETS = {
    # Sized so all three variants finish in about a minute on a 2-core laptop CPU.
    "classroom": {"epochs": 5, "batch_size": 64, "n_pairs": 50_000},
    # The lecture's settings: batch 16, 10 epochs, the full 60k-image pair set (120,000 pairs).
    "lecture": {"epochs": 10, "batch_size": 16, "n_pairs": None},
}


@dataclass
class Comparison:
    """Live and final results of a comparison run.

    Attributes:
        epochs: rows ``{"variant", "epoch", "loss", "pair_accuracy", "val_loss",
            "val_pair_accuracy", "seconds", "partial"}``, one per epoch; ``partial`` marks an epoch
            cut short by Stop (its train metrics cover only the batches run).
        batches: rows ``{"variant", "progress" (epochs done, fractional), "loss", "pair_accuracy"}``.
        summaries: per variant ``{"name", "params", "seconds", "stopped"}``.
        models: the trained Keras models by variant key.
    """
    epochs: list = field(default_factory=list)
    batches: list = field(default_factory=list)
    summaries: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    current: str | None = None
    done: bool = False
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self):
        """Copies of the rows, safe to read while training appends."""
        with self.lock:
            return list(self.epochs), list(self.batches), dict(self.summaries)


def _live_callback(result: Comparison, key: str, steps: int, stop: threading.Event | None,
                   every: int, on_update):
    import keras

    class Live(keras.callbacks.Callback):
        """Records batch and epoch rows; stops the fit when ``stop`` is set."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.t0 = epoch, time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if stop is not None and stop.is_set():
                self.model.stop_training = True
                result.stopped = True
            if (batch + 1) % every == 0 or batch + 1 == steps:
                with result.lock:
                    result.batches.append({"variant": VARIANTS[key][0], "progress": self.epoch + (batch + 1) / steps,
                                           "loss": float(logs["loss"]), "pair_accuracy": float(logs["pair_accuracy"])})
                if on_update:
                    on_update()

        def on_epoch_end(self, epoch, logs=None):
            if "val_loss" not in logs:
                return
            row = {"variant": VARIANTS[key][0], "epoch": epoch + 1, "loss": float(logs["loss"]),
                   "pair_accuracy": float(logs["pair_accuracy"]), "val_loss": float(logs["val_loss"]),
                   "val_pair_accuracy": float(logs["val_pair_accuracy"]),
                   "seconds": time.perf_counter() - self.t0,
                   "partial": bool(stop is not None and stop.is_set())}  # stopped mid-epoch
            with result.lock:
                result.epochs.append(row)
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

    from .models import build_siamese_distance

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
        pairs: :class:`siamese.pairs.PairData`.
        epochs, batch_size: as in ``Model.fit``.
        seed: ``keras.utils.set_random_seed`` before each variant, so all start alike.
        lecture_init: True builds the Siamese head with Keras's random initial kernel (the lecture's
            exact model, which collapses to 50% for some seeds); False uses the "close means same"
            prior (see :func:`siamese.models.build_siamese_distance`).
        stop: set it to stop training within a batch; the partial history is kept.
        on_update: called after each recorded row (from the training thread).
        result: a :class:`Comparison` to fill (lets a caller read it while this runs).
        updates_per_epoch: batch rows per epoch (not every batch: no redraw storms).

    Returns:
        the filled :class:`Comparison`; its ``models`` are this process's reusable instances
        (see :func:`_fresh_model`), valid until the next comparison.
    """
    result = result or Comparison()
    (xl, xr, y), (vl, vr, vy) = pairs.train, pairs.val
    steps = -(-len(y) // batch_size)
    for key in variants:
        if stop is not None and stop.is_set():
            break
        model = _fresh_model(key, lecture_init, seed)
        with result.lock:
            result.current = key
            result.summaries[key] = {"name": VARIANTS[key][0], "params": int(model.count_params()),
                                     "seconds": None, "stopped": False}
        live = _live_callback(result, key, steps, stop, max(1, steps // updates_per_epoch), on_update)
        t0 = time.perf_counter()
        model.fit([xl, xr], y, batch_size=batch_size, epochs=epochs, validation_data=([vl, vr], vy),
                  callbacks=[live], verbose=0, shuffle=True)
        with result.lock:
            result.summaries[key]["seconds"] = time.perf_counter() - t0
            result.summaries[key]["stopped"] = bool(stop is not None and stop.is_set())
            result.models[key] = model
    with result.lock:
        result.current, result.done = None, True
    if on_update:
        on_update()
    return result


def story(result: Comparison) -> str:
    """One honest sentence per variant about what this run measured (final validation pair
    accuracy, and the first epoch for the Siamese variant)."""
    epochs, _, summaries = result.snapshot()
    parts = []
    for key, s in summaries.items():
        rows = [r for r in epochs if r["variant"] == s["name"]]
        if not rows:
            continue
        first, last = rows[0]["val_pair_accuracy"], rows[-1]["val_pair_accuracy"]
        text = f"{s['name']}: {100 * first:.1f}% validation pair accuracy after epoch 1"
        if len(rows) > 1:
            text += f", {100 * last:.1f}% after epoch {len(rows)}"
        parts.append(text)
    return "; ".join(parts) + "." if parts else "No epoch has finished yet."


class TrainingJob:
    """One comparison at a time per server process, run in a background thread.

    Every session reads the same job, so a second user sees the running training and its live
    chart instead of starting another one; clicks elsewhere never lose the results so far.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.result: Comparison | None = None
        self.config: dict | None = None
        self.pairs = None
        self.status = "idle"
        self.error: str | None = None
        self.saved_path = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, config: dict) -> bool:
        """Start a comparison unless one is running.

        Arguments:
            config: ``{"dataset": "mnist"|"omniglot", "epochs", "batch_size", "n_pairs" (None =
                all), "seed", "lecture_init"}``.

        Returns:
            False if a training is already running (nothing is started).
        """
        with self._lock:
            if self.running:
                return False
            self.stop_event = threading.Event()
            self.result, self.config, self.error, self.pairs = Comparison(), dict(config), None, None
            self.saved_path = None
            self.status = "building pairs"
            self.thread = threading.Thread(target=self._run, name="compare-variants", daemon=True)
            self.thread.start()
            return True

    def stop(self) -> None:
        """Ask the running training to stop within a batch."""
        self.stop_event.set()

    def save_siamese(self):
        """Save the finished run's Siamese tower for matching, once (later calls return the same
        path). Raises ValueError if there is no trained Siamese model or it collapsed."""
        from .user_models import save_siamese_tower

        with self._lock:
            if self.saved_path is None:
                if self.running or self.result is None or "siamese" not in self.result.models:
                    raise ValueError("There is no finished Siamese model to save.")
                name = VARIANTS["siamese"][0]
                epochs = len([r for r in self.result.epochs if r["variant"] == name])
                data = {"mnist": "MNIST", "omniglot": "Omniglot"}[self.config["dataset"]]
                self.saved_path = save_siamese_tower(self.result.models["siamese"],
                                                     f"{data} Siamese tower, {epochs} epoch{'' if epochs == 1 else 's'}")
            return self.saved_path

    def _run(self):
        from .pairs import mnist_pairs, omniglot_pairs

        cfg = self.config
        try:
            build = mnist_pairs if cfg["dataset"] == "mnist" else omniglot_pairs
            self.pairs = build(cfg["n_pairs"], seed=cfg["seed"])
            self.status = "training"
            compare_variants(self.pairs, cfg["epochs"], cfg["batch_size"], seed=cfg["seed"],
                             lecture_init=cfg["lecture_init"], stop=self.stop_event, result=self.result)
            self.status = "stopped" if self.stop_event.is_set() else "finished"
        except Exception as exc:  # reported on the page; the app stays usable
            self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"
