"""siamese.measure.calibration's entry point, calibrate_open_set, on the real validation data with
a cheap fixed embedding (7x7 mean-pooled pixels: no model, no training): what it returns is a
card section matching reads, a pool from the validation alphabets, and no test set is touched."""
import numpy as np
import pytest

from siamese.data import datasets, strokes
from siamese.search.openset import NoveltyCalibration, set_novelty


def pooled(x):
    """``(n, 28, 28) -> (n, 16)``: 7x7 blocks' mean ink."""
    x = np.asarray(x, np.float32).reshape(-1, 4, 7, 4, 7).mean(axis=(2, 4))
    return x.reshape(len(x), -1)


@pytest.mark.realdata
@pytest.mark.slow
def test_calibrate_open_set_gives_a_card_section_from_validation_data_only(real_data_dir, monkeypatch):
    from siamese.measure.calibration import calibrate_open_set

    files = []
    load_pen = strokes.load_pen_digits
    monkeypatch.setattr(strokes, "load_pen_digits",
                        lambda name="pen_digits_train": files.append(name) or load_pen(name))
    load_mnist = datasets.load_mnist

    def train_split_only():  # the test digits are NaN: any use of them would show in the numbers
        train, (xt, yt) = load_mnist()
        return train, (np.full(xt.shape, np.nan), yt)
    monkeypatch.setattr(datasets, "load_mnist", train_split_only)

    section, pool, trials = calibrate_open_set(pooled, seed=0)

    assert files and set(files) == {"pen_digits_train"}  # never pen_digits.json, the test writers
    cal = NoveltyCalibration.from_card({"open_set": section})
    assert np.all(np.diff(cal.same_quantiles) >= 0) and np.isfinite(cal.same_quantiles).all()
    assert set(cal.kind_quantiles) == {"digits"} and np.all(np.diff(cal.kind_quantiles["digits"]) >= 0)
    assert str(section["pool_correction"]) in section["validation"] and cal.pool_correction >= 1
    for rows in section["validation"].values():
        assert set(rows) == set(trials)
        assert all(0 <= r["known_new"] <= 1 and 0 <= r["unseen_match"] <= 1 for r in rows.values())
    assert pool.shape == (404, 28, 28) and pool.dtype == np.uint8

    background = datasets.load_omniglot("background")
    _, val = datasets.split_background(background)
    from_val = np.round(np.clip(background.images[val & (background.drawers <= 4)], 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(pool, from_val)  # drawers 1-4 of the held-out background alphabets
    assert {"alphabets", "digits"} <= set(trials)
    rule = set_novelty(pooled(pool / 255.0), pooled(pool[:50] / 255.0), cal)
    assert rule.threshold > 0  # the section drives the per-set rule
