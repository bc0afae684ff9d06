"""Models trained in the app, saved next to (never over) the shipped one, for the Draw page."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from . import paths
from .matcher import DEFAULT_MODEL, ModelLoadError, file_model_id, read_card


def models_dir() -> Path:
    path = paths.home_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_siamese_tower(model, description: str, directory: Path | None = None) -> Path:
    """Save the shared tower of a trained Siamese (distance) model as an embedding model.

    The "looks new" threshold is the model's own decision boundary: the head says
    ``p(same) = sigmoid(w d + b)``, which is 0.5 at ``d = -b / w``.

    Arguments:
        model: a trained :func:`siamese.models.build_siamese_distance` model.
        description: what it was trained on (shown in the app).

    Returns:
        the path of the ``.keras`` file (its card is the ``.json`` beside it).

    Raises:
        ValueError: the head has learned "far apart means same" (w >= 0): useless for matching.
    """
    w, b = (np.asarray(v).ravel()[0] for v in model.get_layer("same_probability").get_weights())
    if w >= 0:
        raise ValueError("This Siamese model learned 'far apart means same' (it collapsed), so its "
                         "distances cannot be used for matching. Train again without the lecture's "
                         "random initialisation.")
    directory = directory or models_dir()
    stem = time.strftime("siamese-%Y%m%d-%H%M%S")
    path = directory / f"{stem}.keras"
    tmp = directory / f".{stem}.tmp.keras"
    model.get_layer("shared_tower").save(tmp)
    os.replace(tmp, path)  # atomic: never a half-written model file
    card = {"model_id": file_model_id(path), "file": path.name, "description": description,
            "architecture": "the lecture's shared tower: Flatten + Dense(128, relu)",
            "threshold": float(-b / w), "threshold_calibration": {"method": "decision boundary of the "
                                                                  "trained sigmoid head, -b/w"}}
    card_tmp = directory / f".{stem}.tmp.json"
    card_tmp.write_text(json.dumps(card, indent=2) + "\n")
    os.replace(card_tmp, path.with_suffix(".json"))
    return path


def available_models() -> list[tuple[str, Path]]:
    """``[(label, path)]``: the shipped model first, then models trained in the app, newest first."""
    out = [("Shipped: Conv-4 trained on Omniglot", DEFAULT_MODEL)]
    for path in sorted(models_dir().glob("siamese-*.keras"), reverse=True):
        try:
            card = read_card(path.with_suffix(".json"))
        except ModelLoadError:
            continue  # no card, or a broken one: not offered
        if card.get("threshold") is None:
            continue
        desc = str(card.get("description", ""))
        stamp = path.stem[len("siamese-"):]
        out.append((f"{desc} (trained {stamp[9:11]}:{stamp[11:13]}, {stamp[6:8]}/{stamp[4:6]})", path))
    return out
