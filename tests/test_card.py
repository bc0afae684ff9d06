"""siamese.embedding.card: reading and checking cards, writing them atomically, where a card lives, the
threshold of a model without one, and the fields of an embedding's card."""
import errno
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from siamese import ModelLoadError, load_matcher, paths
from siamese.embedding.card import card_path_for, embedding_card, read_card, threshold_of, trained_at, write_card

SHIPPED_CARD = json.loads((paths.ASSETS_DIR / "model_card.json").read_text())
OLD = {"model_id": "old", "threshold": 1.5}
NEW = {"model_id": "new", "threshold": 2.0, "description": "Ωmega"}


@pytest.mark.parametrize("card, message", [
    ("{not json", "not readable JSON"), ("[]", "not a JSON object"), ('{"threshold": null}', None),
    ('{"threshold": "abc"}', "positive number"), ('{"threshold": NaN}', "positive number"),
    ('{"threshold": -1}', "positive number")])
def test_bad_model_cards(tmp_path, card, message):
    from siamese.embedding.matcher import DEFAULT_MODEL
    model = tmp_path / "m.keras"
    model.write_bytes(DEFAULT_MODEL.read_bytes())
    (tmp_path / "m.json").write_text(card)
    if message is None:  # no threshold: the shipped model's
        assert load_matcher(model).threshold == pytest.approx(load_matcher().threshold)
    else:
        with pytest.raises(ModelLoadError, match=message):
            load_matcher(model)


@pytest.mark.parametrize("text", ['{"threshold": true}', '{"threshold": 0}', '{"threshold": Infinity}',
                                  '{"threshold": [2.0]}'])
def test_thresholds_that_are_not_finite_positive_numbers_are_refused(tmp_path, text):
    """true is an int to Python (1) but not a number in a card; 0 is not > 0; Infinity is not
    finite; a list is not a number."""
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(ModelLoadError, match="positive number"):
        read_card(tmp_path / "m.json")


def test_card_path_rule(tmp_path):
    """model_card.json beside the shipped model only; any other model file, even a copy of the
    shipped one under its name, has <stem>.json beside it."""
    assert card_path_for(paths.SHIPPED_MODEL) == paths.ASSETS_DIR / "model_card.json"
    assert card_path_for(str(paths.SHIPPED_MODEL)) == paths.ASSETS_DIR / "model_card.json"
    assert card_path_for(tmp_path / "embedding.keras") == tmp_path / "embedding.json"
    assert card_path_for(tmp_path / "siamese-20261130-140507.keras") == tmp_path / "siamese-20261130-140507.json"


def test_threshold_falls_back_to_the_shipped_models(tmp_path, monkeypatch):
    """A card's own threshold wins; no card ({}) or no threshold reads the shipped card's; a
    shipped card without one gives 1.0; a missing shipped card is an error, but only when needed."""
    assert threshold_of({"threshold": 2.5}) == 2.5
    assert threshold_of({}) == SHIPPED_CARD["threshold"]
    assert threshold_of({"threshold": None, "model_id": "x"}) == SHIPPED_CARD["threshold"]
    monkeypatch.setattr(paths, "SHIPPED_MODEL", tmp_path / "embedding.keras")
    (tmp_path / "model_card.json").write_text('{"model_id": "shipped"}')
    assert threshold_of({}) == 1.0
    (tmp_path / "model_card.json").unlink()
    with pytest.raises(ModelLoadError, match="not readable JSON"):
        threshold_of({})
    assert threshold_of({"threshold": 3}) == 3.0


def test_write_card_round_trips_in_the_format_of_the_first_release(tmp_path):
    """The first release wrote ``json.dumps(card, indent=2) + "\\n"`` (non-ASCII escaped); so does
    write_card, over an existing card too, leaving nothing else in the directory."""
    path = tmp_path / "m.json"
    write_card(path, NEW)
    assert path.read_text(encoding="ascii") == json.dumps(NEW, indent=2) + "\n"
    assert read_card(path) == NEW
    write_card(path, OLD)
    assert read_card(path) == OLD and os.listdir(tmp_path) == ["m.json"]


def _old_card(directory: Path) -> tuple[Path, str]:
    path = directory / "m.json"
    path.write_text(json.dumps(OLD, indent=2) + "\n")
    return path, path.read_text()


def test_a_write_that_fails_half_way_leaves_the_old_card_and_no_temporary_file(tmp_path, monkeypatch):
    """The disk fills up after half the text is written: a direct write would have left half a
    card; an atomic one leaves the old card whole and cleans up its temporary file."""
    path, before = _old_card(tmp_path)

    def disk_full(self, data, encoding=None, errors=None, newline=None):
        with open(self, "w", encoding=encoding) as f:
            f.write(data[:len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_card(path, NEW)
    monkeypatch.undo()
    assert path.read_text() == before and os.listdir(tmp_path) == ["m.json"]


def test_a_failed_rename_leaves_the_old_card_and_no_temporary_file(tmp_path, monkeypatch):
    path, before = _old_card(tmp_path)

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_card(path, NEW)
    monkeypatch.undo()
    assert path.read_text() == before and os.listdir(tmp_path) == ["m.json"]


def test_a_card_that_is_not_json_writes_nothing(tmp_path):
    path, before = _old_card(tmp_path)
    with pytest.raises(TypeError):
        write_card(path, {"threshold": 1.0, "model": object()})
    assert path.read_text() == before and os.listdir(tmp_path) == ["m.json"]


@pytest.mark.parametrize("created, expected", [
    ("2026-11-30T14:05:07+00:00", datetime(2026, 11, 30, 14, 5, 7, tzinfo=timezone.utc)),
    ("2026-11-29", datetime(2026, 11, 29).astimezone()),  # a date alone: midnight, local time
    (None, None), ("yesterday", None), (20261130, None)])
def test_trained_at_reads_created(created, expected):
    assert trained_at({} if created is None else {"created": created}) == expected


def test_embedding_card_writes_the_shipped_card_again():
    """Given the shipped run's configuration and measurements, the card's texts, numbers and field
    order are the shipped card's (created is the day it is built): ``python -m siamese train
    --episodes 8000 --seed 0`` still writes that card, less the fields measured afterwards
    (``official-runs --write-card``, ``calibrate-openset``, ``digit-references``,
    ``distance-histograms``)."""
    from siamese.embedding.training import TrainConfig

    s = SHIPPED_CARD
    model = SimpleNamespace(output_shape=(None, 128), count_params=lambda: s["parameters"])
    history = {"config": s["config"], "train_seconds": s["train_seconds"], "validation": s["validation_history"]}
    card = embedding_card(model, paths.SHIPPED_MODEL, s["model_id"], TrainConfig(**s["config"]), history,
                          validation_alphabets=["Alphabet_of_the_Magi", "Braille", "Hebrew", "N_Ko"],
                          calibration=s["threshold_calibration"], results=s["results"], command=s["command"],
                          seed=s["seed"], machine=s["machine"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", card["created"])
    added_later = ("official_runs", "open_set", "digits_set", "distance_histograms")  # add_to_card, after training
    trained = {k: v for k, v in s.items() if k not in added_later}
    assert list(card) == list(trained)
    assert card == trained | {"created": card["created"]}


def test_add_to_card_keeps_every_other_field(tmp_path):
    """A measurement added after training leaves the other fields, their order and values as they
    were, and refreshes itself when added again."""
    from siamese.embedding.card import add_to_card

    path = tmp_path / "m.json"
    write_card(path, {"model_id": "abc", "threshold": 2.5, "results": {"a": 1}})
    add_to_card(path, {"official_runs": {"correct": 1}})
    add_to_card(path, {"official_runs": {"correct": 2}})
    assert json.loads(path.read_text()) == {"model_id": "abc", "threshold": 2.5, "results": {"a": 1},
                                            "official_runs": {"correct": 2}}
    assert list(json.loads(path.read_text())) == ["model_id", "threshold", "results", "official_runs"]
