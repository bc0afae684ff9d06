"""Models trained in the app, saved next to (never over) the shipped one, for the Draw page."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from siamese import paths
from siamese.embedding.card import (ModelLoadError, card_path_for, model_summary, read_card, trained_at, tower_card,
                                   write_card)
from siamese.embedding.matcher import DEFAULT_MODEL, file_model_id


def models_dir() -> Path:
    path = paths.home_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_siamese_tower(model, description: str, directory: Path | None = None) -> Path:
    """Save the shared tower of a trained Siamese (distance) model as an embedding model.

    The "looks new" threshold is the model's own decision boundary: the head says
    ``p(same) = sigmoid(w d + b)``, which is 0.5 at ``d = -b / w``.

    Arguments:
        model: a trained :func:`siamese.lecture.models.build_siamese_distance` model.
        description: what it was trained on (shown in the app).

    Returns:
        the path of the ``.keras`` file (its card, :func:`siamese.embedding.card.tower_card`, is the
        ``.json`` beside it and records when it was trained).

    Raises:
        ValueError: the head has learned "far apart means same" (w >= 0): useless for matching.
    """
    w, b = (np.asarray(v).ravel()[0] for v in model.get_layer("same_probability").get_weights())
    if w >= 0:
        raise ValueError("This Siamese model learned 'far apart means same' (it collapsed), so its "
                         "distances cannot be used for matching. Train again without the lecture's "
                         "random initialisation.")
    directory = directory or models_dir()
    now = datetime.now().astimezone()
    stem = now.strftime("siamese-%Y%m%d-%H%M%S")
    path = directory / f"{stem}.keras"
    paths.atomic_write(path, model.get_layer("shared_tower").save)  # never a half-written model file
    write_card(card_path_for(path), tower_card(path, file_model_id(path), description, -b / w, now))
    return path


def available_models() -> list[tuple[str, Path]]:
    """``[(label, path)]``: the shipped model first, then models trained in the app, newest first.

    The shipped model's label says what its card says it is and was trained on
    (:func:`siamese.embedding.card.model_summary`, as the Home page does); another's reads
    "<description> (trained HH:MM, DD/MM)", local time, from the card's ``created``;
    a card written before that field existed falls back to the model file's modification time.
    Models without a card, or with a broken one or one without a threshold, are not offered.
    """
    found = []
    for path in models_dir().glob("siamese-*.keras"):
        try:
            card = read_card(card_path_for(path))
        except ModelLoadError:
            continue  # no card, or a broken one: not offered
        if card.get("threshold") is None:
            continue
        when = trained_at(card) or datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        found.append((when, path, str(card.get("description", ""))))
    found.sort(key=lambda f: (f[0], f[1].name), reverse=True)
    try:
        shipped = f"Shipped: {model_summary(read_card(card_path_for(DEFAULT_MODEL)))}"  # the card's words
    except ModelLoadError:
        shipped = "Shipped model"
    return [(shipped, DEFAULT_MODEL)] + [
        (f"{desc} (trained {when:%H:%M, %d/%m})", path) for when, path, desc in found]
