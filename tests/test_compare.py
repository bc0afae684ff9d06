"""siamese.compare: the live-history callback, Stop, and the job that allows one training at a time."""
import threading
import time

import numpy as np
import pytest

from siamese.compare import Comparison, TrainingJob, compare_variants, story
from siamese.models import VARIANTS
from siamese.pairs import PairData, make_pairs


@pytest.fixture(scope="module")
def tiny_pairs():
    """Two classes of 28x28 images that differ in which half is lit: learnable in a few epochs."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 60)
    images = rng.random((120, 28, 28)).astype(np.float32) * 0.3
    images[labels == 0, :14] += 0.7
    images[labels == 1, 14:] += 0.7
    train = make_pairs(images[::2], labels[::2], rng, per_image=2)
    val = make_pairs(images[1::2], labels[1::2], rng)
    return PairData(train, val, "tiny")


def test_three_epochs_give_three_rows_per_variant(tiny_pairs):
    updates = []
    res = compare_variants(tiny_pairs, epochs=3, batch_size=16, on_update=lambda: updates.append(1))
    for name, _ in VARIANTS.values():
        rows = [r for r in res.epochs if r["variant"] == name]
        assert [r["epoch"] for r in rows] == [1, 2, 3]
        assert all(0 <= r["val_pair_accuracy"] <= 1 and r["loss"] > 0 for r in rows)
        batch_rows = [r for r in res.batches if r["variant"] == name]
        assert batch_rows[-1]["progress"] == pytest.approx(3.0)
    assert res.done and not res.stopped and updates
    assert {k: s["params"] for k, s in res.summaries.items()} == {
        "separate": 201_217, "shared": 100_737, "siamese": 100_482}
    siamese = [r for r in res.epochs if r["variant"] == VARIANTS["siamese"][0]]
    assert siamese[-1]["val_pair_accuracy"] > 0.9  # the distance model solves the easy task
    assert "after epoch 3" in story(res)


def test_stop_during_epoch_one_of_ten_keeps_partial_history(tiny_pairs):
    stop = threading.Event()
    res = Comparison()

    def stop_soon():
        if len(res.batches) >= 2:
            stop.set()

    compare_variants(tiny_pairs, epochs=10, batch_size=4, stop=stop, result=res, on_update=stop_soon,
                     updates_per_epoch=60)
    assert res.stopped and res.done
    assert list(res.summaries) == ["separate"]  # the next variants never started
    assert len(res.epochs) <= 1 and all(r["partial"] for r in res.epochs)  # the cut epoch is marked
    assert 2 <= len(res.batches) <= 4  # stopped within a batch or two
    assert res.batches[-1]["progress"] < 1


def test_job_runs_one_training_at_a_time(monkeypatch, tiny_pairs):
    import siamese.pairs as pairs_module

    monkeypatch.setattr(pairs_module, "mnist_pairs", lambda n, seed=0: tiny_pairs)
    job = TrainingJob()
    cfg = {"dataset": "mnist", "epochs": 50, "batch_size": 4, "n_pairs": 100, "seed": 0, "lecture_init": False}
    assert job.start(cfg) is True
    assert job.start(cfg) is False  # a second press while running starts nothing
    time.sleep(1)
    job.stop()
    job.thread.join(60)
    assert job.status == "stopped" and not job.running and job.error is None
    assert job.start({**cfg, "epochs": 1}) is True
    job.thread.join(120)
    assert job.status == "finished" and len(job.result.epochs) == 3


def test_job_failure_is_reported_not_raised(monkeypatch):
    import siamese.pairs as pairs_module

    def broken(n, seed=0):
        raise RuntimeError("no data here")

    monkeypatch.setattr(pairs_module, "mnist_pairs", broken)
    job = TrainingJob()
    job.start({"dataset": "mnist", "epochs": 1, "batch_size": 4, "n_pairs": 10, "seed": 0, "lecture_init": False})
    job.thread.join(10)
    assert job.status == "failed" and "no data here" in job.error


def test_reused_models_start_fresh_each_time(tiny_pairs, monkeypatch):
    """Models are reused between trainings (rebuilding leaked memory). A run on reused models must
    reproduce exactly a run on brand-new ones: weights, step count and Adam's moments are reset,
    the learning rate is not."""
    import siamese.compare as compare

    monkeypatch.setattr(compare, "_MODELS", {})
    fresh = compare_variants(tiny_pairs, epochs=3, batch_size=16, seed=0)  # builds and compiles
    compare_variants(tiny_pairs, epochs=1, batch_size=8, seed=5)  # trains the same instances further
    reused = compare_variants(tiny_pairs, epochs=3, batch_size=16, seed=0)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(reused.epochs) == strip(fresh.epochs)
    assert reused.epochs[-1]["val_pair_accuracy"] > 0.9  # and it does learn
