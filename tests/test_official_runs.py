"""siamese.measure.official_runs: the 20 official one-shot runs of Lake et al. 2015."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from siamese.data.datasets import DatasetError
from siamese.measure.official_runs import ALL_RUNS_URL, OfficialRun, load_official_runs, official_runs_accuracy


def fake_run(answers):
    """Training image i is a bar at row 2i (20 different images); test image k shows answers[k]."""
    train = np.zeros((20, 28, 28), np.float32)
    for i in range(20):
        train[i, i + 4, 4:24] = 1
    return OfficialRun("run01", train, train[np.asarray(answers)], np.asarray(answers))


def test_accuracy_counts_nearest_training_images_and_gives_a_wilson_interval():
    """An embedding that is the flattened image finds every test image's own training image (distance
    0): 20/20; one that maps everything to the same point picks the first class every time, right
    only for the test image whose answer is class 0: 1/20. Wilson 95% interval of 20/20: 83.9-100%."""
    run = fake_run(np.random.default_rng(0).permutation(20))
    res = official_runs_accuracy(lambda x: x.reshape(len(x), -1), [run])
    assert (res.correct, res.trials, res.per_run) == (20, 20, (20,))
    assert (round(res.ci_low, 3), res.ci_high) == (0.839, 1.0)
    res = official_runs_accuracy(lambda x: np.zeros((len(x), 2), np.float32), [run])
    assert res.correct == 1
    assert res.as_dict()["accuracy"] == 0.05 and "Lake et al. 2015" in res.as_dict()["protocol"]


def test_a_missing_file_is_a_clear_dataset_error(tmp_path, monkeypatch):
    import keras
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DatasetError, match="Could not fetch all_runs.zip") as err:
        load_official_runs()
    assert ALL_RUNS_URL in str(err.value) and str(tmp_path / "omniglot" / "all_runs.zip") in str(err.value)


def test_an_incomplete_file_is_refused(tmp_path, monkeypatch):
    """One run instead of twenty: refused by content before any image is read."""
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path))
    (tmp_path / "omniglot").mkdir()
    png = io.BytesIO()
    Image.fromarray(np.full((105, 105), 255, np.uint8)).save(png, format="PNG")
    with zipfile.ZipFile(tmp_path / "omniglot" / "all_runs.zip", "w") as zf:
        zf.writestr("run01/class_labels.txt", "".join(f"run01/test/item{i:02d}.png run01/training/class{i:02d}.png\n"
                                                      for i in range(1, 21)))
        for i in range(1, 21):
            zf.writestr(f"run01/test/item{i:02d}.png", png.getvalue())
            zf.writestr(f"run01/training/class{i:02d}.png", png.getvalue())
    with pytest.raises(DatasetError, match="20 official runs"):
        load_official_runs()


@pytest.mark.realdata
def test_shipped_model_on_the_official_runs(real_data_dir, monkeypatch, matcher):
    """The 20 runs load as 20 x (20 training, 20 test) images, each run's answers a permutation of its
    classes; the shipped model's accuracy is the one its card records (387/400 = 96.75% when
    measured), and well above the random within-alphabet episodes' 86.1%."""
    import json

    from siamese import paths
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    runs = load_official_runs()
    assert [r.name for r in runs] == [f"run{i:02d}" for i in range(1, 21)]
    for r in runs:
        assert r.training.shape == r.test.shape == (20, 28, 28)
        assert sorted(r.answers) == list(range(20))
    res = official_runs_accuracy(matcher.embed_inputs, runs)
    card = json.loads((paths.ASSETS_DIR / "model_card.json").read_text())
    assert res.as_dict() == card["official_runs"]
    assert res.correct >= 370


@pytest.mark.realdata
def test_cli_prints_the_result(real_data_dir, monkeypatch, capsys):
    from siamese.cli import main
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    main(["official-runs"])
    out = capsys.readouterr().out
    assert "official runs (Lake et al. 2015), 20-way 1-shot within-alphabet: 387/400 = 96.75%" in out
    assert "correct per run: " in out


def test_home_page_names_the_protocol_next_to_the_random_episodes(monkeypatch, tmp_path):
    """The card's official-runs result is on the Home page, next to the random-episode number, with
    both intervals and the protocol named (no dataset needed: it reads the card)."""
    from helpers import app
    import keras
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    at = app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Official runs, 20-way 1-shot"] == "96.8%"
    assert metrics["Unseen alphabets, 20-way 1-shot"] == "86.1%"
    assert metrics["Digits set, MNIST test (top-1)"] == "98.7%"
    captions = "\n".join(c.value for c in at.caption)
    assert "random within-alphabet episodes 86.1% (83.8–88.1, 1,000 queries)" in captions
    assert "the official runs 387/400 = 96.8% (94.5–98.1)" in captions and "Koch et al. 2015" in captions
    assert "9,872 of the 10,000 MNIST test digits" in captions
    # what it was trained on, exactly: the shipped model saw MNIST training digits, so no "never on digits"
    assert ("Omniglot background alphabets, MNIST training digits and digits written with a pen by UNIPEN writers"
            in captions and "never on digits" not in captions)
    assert "50 MNIST training images of each digit" in captions
