"""siamese.embedding.user_models: saving a Siamese tower with its card, and the labels of the models offered
on the Draw page, which say when each was trained (from its card, not its file name)."""
import os
from datetime import datetime

import pytest

from siamese.embedding.card import card_path_for, model_summary, read_card, trained_at, write_card
from siamese.embedding.matcher import DEFAULT_MODEL
from siamese.embedding.user_models import available_models, models_dir, save_siamese_tower


def _user_model(stem: str, card: dict | None):
    """A model file (its contents are never read here) and, unless None, its card."""
    path = models_dir() / f"{stem}.keras"
    path.write_bytes(b"not read")
    if card is not None:
        write_card(path.with_suffix(".json"), card)
    return path


SHIPPED = f"Shipped: {model_summary(read_card(card_path_for(DEFAULT_MODEL)))}"
"""The shipped model's label: what its card says (tests/test_words.py)."""


def _local(*args) -> datetime:
    return datetime(*args).astimezone()


def test_labels_say_when_the_card_says_the_model_was_trained():
    """The file names say 1 January 2000, 00:00 (and sort the other way round): the labels and
    their order must come from the cards' created, newest first."""
    older = _user_model("siamese-20000101-000001", {"description": "MNIST, 1 epoch", "threshold": 1.0,
                                                    "created": _local(2026, 11, 30, 14, 5, 7).isoformat()})
    newer = _user_model("siamese-20000101-000000", {"description": "Omniglot, 3 epochs", "threshold": 2.0,
                                                    "created": _local(2026, 12, 1, 9, 30).isoformat()})
    assert available_models() == [(SHIPPED, DEFAULT_MODEL),
                                  ("Omniglot, 3 epochs (trained 09:30, 01/12)", newer),
                                  ("MNIST, 1 epoch (trained 14:05, 30/11)", older)]


def test_a_card_without_created_is_labelled_by_the_files_modification_time():
    """Cards written before created existed: the model is still offered, dated by its file."""
    path = _user_model("siamese-20000101-000000", {"description": "MNIST, 2 epochs", "threshold": 1.0})
    stamp = _local(2025, 3, 4, 9, 8).timestamp()
    os.utime(path, (stamp, stamp))
    assert available_models()[1:] == [("MNIST, 2 epochs (trained 09:08, 04/03)", path)]


def test_models_without_a_usable_card_are_not_offered():
    _user_model("siamese-20260101-000000", None)
    _user_model("siamese-20260101-000001", {"description": "no threshold"})
    broken = _user_model("siamese-20260101-000002", None)
    broken.with_suffix(".json").write_text("{not json")
    assert available_models() == [(SHIPPED, DEFAULT_MODEL)]


def test_a_saved_tower_is_labelled_by_the_time_on_its_card():
    """An untrained build_siamese_distance head is Dense(kernel -1, bias +1): p(same) = 0.5 at
    d = -b / w = 1. The card records when it was saved; the label shows that time even after the
    file's modification time changes."""
    from siamese.lecture.models import build_siamese_distance

    before = datetime.now().astimezone().replace(microsecond=0)
    path = save_siamese_tower(build_siamese_distance(), "MNIST Siamese tower, 1 epoch")
    after = datetime.now().astimezone()
    card = read_card(path.with_suffix(".json"))
    assert card["threshold"] == pytest.approx(1.0) and card["file"] == path.name
    when = trained_at(card)
    assert before <= when <= after
    os.utime(path, (0, 0))
    assert available_models()[1:] == [(f"MNIST Siamese tower, 1 epoch (trained {when:%H:%M, %d/%m})", path)]
    assert sorted(p.name for p in models_dir().iterdir()) == sorted([path.name, path.with_suffix(".json").name])
