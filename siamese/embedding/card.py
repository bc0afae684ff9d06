"""The model card: the JSON file beside a model that says what the model is, how it was trained,
how well it scores, and the distance beyond which a sketch "looks new".

This module owns the card: its fields (:class:`ModelCard`), where it lives (:func:`card_path_for`),
reading it with its checks (:func:`read_card`), writing it atomically (:func:`write_card`), the
threshold of a model without one (:func:`threshold_of`), when the model was trained
(:func:`trained_at`), and the cards of the two kinds of model this project makes
(:func:`embedding_card`, :func:`tower_card`). The measurements that fill an embedding's card are
made in :mod:`siamese.measure.report`.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypedDict

import numpy as np

from siamese import paths


class ModelLoadError(RuntimeError):
    """A model file is missing, corrupt, unsafe or has the wrong input shape, or its card is
    invalid. Defined here, below :mod:`siamese.embedding.matcher`, because reading a card raises it too;
    import it from :mod:`siamese` or :mod:`siamese.embedding.matcher`."""


class ModelCard(TypedDict, total=False):
    """The fields of a model card (a JSON object; every field optional, unknown ones kept).

    Both kinds of card:
        model_id: first 12 hex digits of the model file's sha256 (:func:`siamese.embedding.matcher.file_model_id`).
        file: the model file's name.
        architecture: the network, in words.
        threshold: Euclidean distance in embedding space beyond which the nearest reference "looks
            new"; a finite number > 0 (checked by :func:`read_card`).
        threshold_calibration: ``{"method": str, ...}``: how the threshold was chosen, and for an
            embedding its ``"validation"`` (``{"threshold", "false_accept", "false_reject"}``) and
            ``"evaluation_alphabets"`` (``{"false_accept", "false_reject"}``) error rates in [0, 1].
        created: when the model was trained, ISO 8601: a date for ``python -m siamese train``
            (``"2026-11-29"``), a local date-time with its UTC offset for a model trained in the
            app (``"2026-11-30T14:05:07+01:00"``); absent from cards written before it existed.

    An embedding trained by ``python -m siamese train`` (:func:`embedding_card`):
        parameters: number of weights; size_bytes: size of the model file in bytes; input, loss,
        data: in words; trained_on: the same in a few words, for the app's Home page and sidebar
        (:func:`trained_on`); command: the command line that trained it; seed: int; config: the
        :class:`siamese.embedding.training.TrainConfig` fields; train_seconds: wall time in s;
        machine: in words; validation_history: ``[{"episode", "accuracy", "seconds"}]``;
        results: :func:`siamese.measure.report.one_shot_report`.
        official_runs: :meth:`siamese.measure.official_runs.OfficialRunsResult.as_dict` (added by
            ``python -m siamese official-runs --write-card``).
        open_set: the calibration of :mod:`siamese.search.openset` (added by ``python -m siamese
            calibrate-openset``; see :func:`siamese.measure.calibration.calibration_section`).
        distance_histograms: distances of same-symbol and different-symbol pairs, binned (added
            by ``python -m siamese distance-histograms``; written by
            :func:`siamese.measure.histograms.distance_histograms`, read by
            :meth:`siamese.measure.histograms.DistanceHistograms.from_card`).

    A Siamese tower trained in the app (:func:`tower_card`):
        description: what it was trained on, shown in the app.
    """
    model_id: str
    file: str
    description: str
    architecture: str
    parameters: int
    size_bytes: int
    input: str
    loss: str
    data: str
    trained_on: str
    command: str
    seed: int
    config: dict
    train_seconds: float
    machine: str
    validation_history: list
    threshold: float
    threshold_calibration: dict
    results: dict
    created: str
    official_runs: dict
    open_set: dict
    distance_histograms: dict


def card_path_for(model_path) -> Path:
    """Where a model's card lives, the one rule every command and page that reads or writes a card
    follows (training, loading, ``--write-card`` and the other measurements): ``model_card.json``
    beside the shipped model (:data:`siamese.paths.SHIPPED_MODEL`, however its path is written:
    relative or absolute), ``<stem>.json`` beside any other model file (``x/emb.keras`` ->
    ``x/emb.json``)."""
    model_path = Path(model_path)
    if model_path.expanduser().resolve() == paths.SHIPPED_MODEL.resolve():
        return model_path.with_name("model_card.json")
    return model_path.with_suffix(".json")


def read_card(path) -> ModelCard:
    """Read and check a model card (JSON object; ``threshold``, if present, a finite number > 0).

    Raises:
        ModelLoadError: unreadable, not a JSON object, or a bad threshold.
    """
    try:
        card = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelLoadError(f"model card {path} is not readable JSON ({type(exc).__name__})") from exc
    if not isinstance(card, dict):
        raise ModelLoadError(f"model card {path} is not a JSON object")
    t = card.get("threshold")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not np.isfinite(t) or t <= 0):
        raise ModelLoadError(f"model card {path}: threshold must be a positive number, not {t!r}")
    return card


def write_card(path, card: Mapping) -> None:
    """Write a card as JSON (2-space indent, ASCII, a final newline), atomically: readers see the
    old card or the new one, never a half-written file.

    Raises:
        TypeError, ValueError: a field is not JSON-serialisable; nothing is written.
        OSError: the file cannot be written (no such directory, disk full); the old card, if any,
            is left as it was and no temporary file is left behind.
    """
    path = Path(path)
    text = json.dumps(card, indent=2) + "\n"  # before touching the disk: a bad field writes nothing
    paths.atomic_write_text(path, text)


def add_to_card(path, fields: Mapping) -> ModelCard:
    """Add (or refresh) fields of an existing card, such as a measurement made after training
    (``official_runs``, ``open_set``), leaving every other field as it is; written atomically.

    Returns:
        the card as written.

    Raises:
        ModelLoadError: the card is unreadable; OSError, TypeError, ValueError: see :func:`write_card`.
    """
    card = read_card(path)
    card.update(fields)
    write_card(path, card)
    return card

def threshold_of(card: Mapping) -> float:
    """The card's "looks new" threshold (Euclidean distance). A model with no card (``{}``) or a
    card without a threshold falls back to the shipped model's, and to 1.0 if that has none.

    Raises:
        ModelLoadError: the fallback is needed and the shipped model's card is unreadable or bad.
    """
    threshold = card.get("threshold")
    if threshold is None:
        threshold = read_card(card_path_for(paths.SHIPPED_MODEL)).get("threshold", 1.0)
    return float(threshold)


def learned_from(card: Mapping) -> str:
    """What the model was trained on, in a few words, from its card: its ``trained_on`` (written
    by training, :func:`trained_on`: "Omniglot background alphabets and MNIST training digits"),
    or for an older card its ``data`` up to the first parenthesis or semicolon, where the details
    begin; "" for a card with neither. Every page that says what a model learned from takes it
    from here (Home, the sidebar's model picker), so a new model's card changes them all."""
    if card.get("trained_on"):
        return str(card["trained_on"])
    return re.split(r" \(|;", str(card.get("data") or ""), maxsplit=1)[0].strip().rstrip(",.")


def never_trained_on(card: Mapping) -> str:
    """What the card's ``data`` says was never used in training: its last clause that says
    "never" (the shipped card: "evaluation alphabets, the last 10,000 MNIST training digits
    (validation) and MNIST test digits never used in training"); "" when it says none."""
    clauses = [c.strip().rstrip(".") for c in str(card.get("data") or "").split(";")[1:]]
    return next((c for c in reversed(clauses) if "never" in c), "")


def model_summary(card: Mapping) -> str:
    """A model in a few words, from its card: "<architecture's name> trained on <learned_from>"
    for a trained embedding's card (the shipped one: "Conv-4 trained on Omniglot background
    alphabets and MNIST training digits"), a model trained in the app by its ``description``
    ("MNIST Siamese tower, 1 epoch"), "a model without a card" for ``{}``."""
    if learned_from(card):
        name = re.split(r" \(| ->", str(card.get("architecture") or "a model"), maxsplit=1)[0].strip()
        return f"{name} trained on {learned_from(card)}"
    return str(card.get("description") or "a model without a card")


def trained_at(card: Mapping) -> datetime | None:
    """When the model was trained (the card's ``created``) as an aware local date-time; a date
    without a time is midnight local time. None when the field is absent or not ISO 8601."""
    created = card.get("created")
    if not isinstance(created, str):
        return None
    try:
        return datetime.fromisoformat(created).astimezone()
    except (ValueError, OverflowError):
        return None


def trained_on(cfg) -> str:
    """What a shipped embedding trained on, in a few words for the app (Home, sidebar), from its
    :class:`siamese.embedding.training.TrainConfig`."""
    parts = ["Omniglot background alphabets"]
    if getattr(cfg, "digits", 0):
        parts.append("MNIST training digits")
    if getattr(cfg, "pen_widths", ()):
        parts.append("digits written with a pen by UNIPEN writers, drawn as canvas sketches")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def embedding_card(model, path: Path, model_id: str, cfg, history: dict, *, validation_alphabets: Sequence[str],
                   calibration: dict, results: dict, command: str, seed: int, machine: str) -> ModelCard:
    """The card of a Conv-4 embedding trained by :func:`siamese.embedding.training.train_embedding`.

    Arguments:
        model: the trained Keras embedding model ``(n, 28, 28) -> (n, d)``.
        path: where it was saved (the card records its name and size); model_id: its id.
        cfg: its :class:`siamese.embedding.training.TrainConfig`; history: what training returned.
        validation_alphabets: names of the background alphabets held out for validation.
        calibration: :func:`siamese.measure.report.threshold_calibration`.
        results: :func:`siamese.measure.report.one_shot_report`.
        command: the command line that trained it; seed: its seed; machine: where, in words.
    """
    return {
        "model_id": model_id,
        "file": path.name,
        "architecture": f"Conv-4 (4 x [Conv 3x3, 64 filters, BatchNorm, ReLU], MaxPool 2 after the first "
                        f"{cfg.pooled_blocks})" + (" -> PCA projection (fitted on training images)"
                                                   if cfg.projection_dim else "")
                        + f" -> {model.output_shape[-1]}-d embedding",
        "parameters": int(model.count_params()),
        "size_bytes": path.stat().st_size,
        "input": "(n, 28, 28) float32 in [0, 1], ink = 1, from siamese.data.preprocess.to_model_input",
        "loss": "prototypical (Snell et al. 2017): softmax over negative squared Euclidean distances "
                "to class prototypes" + (f" divided by a temperature of {cfg.temperature:g}"
                                         if cfg.temperature != 1 else "") + ", episodic",
        "data": ("Omniglot background alphabets only" if not getattr(cfg, "digits", 0) else
                 "Omniglot background alphabets and the first 50,000 MNIST training digits")
                + " (26 alphabets for training, 4 held out for validation: "
                + ", ".join(validation_alphabets) + "), classes augmented by 90-degree rotations"
                + (" and mirror images" if cfg.mirror else "")
                + (f"; in {100 * cfg.digits:g}% of the episodes ten of the classes are the ten digits "
                   "(never rotated)" if getattr(cfg, "digits", 0) else "") + "; every image "
                + ("by a small random affine distortion (rotation, scale, shear, shift)" if cfg.distort > 0
                   else "by shifts of up to 2 px")
                + (f"; the digit classes also hold the pen digits of UNIPEN's training writers "
                   f"(pen_digits_train.json less every 5th writer) drawn as canvas sketches at "
                   f"{', '.join(f'{w:g}' for w in cfg.pen_widths)} px" if getattr(cfg, "pen_widths", ()) else "")
                + "; evaluation alphabets, the last 10,000 MNIST training digits (validation) and MNIST test digits "
                  "never used in training",
        "trained_on": trained_on(cfg),
        "trained_on_digits": bool(getattr(cfg, "digits", 0)),
        "command": command,
        "seed": seed,
        "config": history["config"],
        "train_seconds": round(history["train_seconds"], 1),
        "machine": machine,
        "validation_history": history["validation"],
        "threshold": calibration["validation"]["threshold"],
        "threshold_calibration": calibration,
        "results": results,
        "created": time.strftime("%Y-%m-%d"),
    }


def tower_card(path: Path, model_id: str, description: str, threshold: float, created: datetime) -> ModelCard:
    """The card of the lecture's shared tower, cut out of a Siamese model trained in the app.

    Arguments:
        path: the saved tower's file; model_id: its id; description: shown in the app.
        threshold: the head's decision boundary ``-b / w`` (Euclidean distance).
        created: when it was trained, an aware date-time (stored to the second).
    """
    return {"model_id": model_id, "file": path.name, "description": description,
            "architecture": "the lecture's shared tower: Flatten + Dense(128, relu)",
            "threshold": float(threshold), "threshold_calibration": {"method": "decision boundary of the "
                                                                      "trained sigmoid head, -b/w"},
            "created": created.isoformat(timespec="seconds")}
