"""The last pair-training run kept on this server: its trained variants in one file
(``SIAMESE_HOME/pair_runs/last.npz``), written atomically, read back as Keras models for the
Compare page (:func:`same_probabilities`), even after a restart."""
from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from siamese import paths
from siamese.lecture.models import VARIANTS
from siamese.lecture.settings import PairTrainingSettings
from siamese.lecture.training import Comparison


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
    return paths.atomic_write(path, lambda tmp: np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays))


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
