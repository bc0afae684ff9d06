"""siamese.lecture: the settings (settings.py), the live-history callback and Stop (training.py), the
saved run (saved_run.py) and the job that allows one training at a time, its status and snapshots (job.py)."""
import threading
import time
from dataclasses import asdict, replace

import numpy as np
import pytest

from siamese.classroom import SOLO
from siamese.lecture.job import JobStatus, TrainingJob
from siamese.lecture.settings import PRESETS, PairTrainingSettings
from siamese.lecture.training import Comparison, EpochRow, History, VariantSummary, compare_variants
from siamese.lecture.models import VARIANTS
from siamese.lecture.pairs import PairData, make_pairs


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


def test_presets_are_the_lectures_and_the_classroom_settings():
    assert PRESETS["classroom"] == PairTrainingSettings(epochs=5, batch_size=64, n_pairs=50_000, dataset="mnist",
                                                        seed=0, lecture_init=False)
    assert (PRESETS["lecture"].epochs, PRESETS["lecture"].batch_size, PRESETS["lecture"].n_pairs) == (10, 16, None)


@pytest.mark.parametrize("field, value", [
    ("dataset", "cifar"), ("dataset", "MNIST"),
    ("epochs", 0), ("epochs", -1), ("epochs", 1.5), ("epochs", True), ("epochs", "3"),
    ("batch_size", 0), ("batch_size", 16.0), ("batch_size", None),
    ("n_pairs", 1), ("n_pairs", 0), ("n_pairs", -5), ("n_pairs", 2_000.0),
    ("seed", -1), ("seed", 1.0), ("seed", None),
    ("lecture_init", "yes"), ("lecture_init", 1), ("lecture_init", None),
])
def test_settings_refuse_each_invalid_value_in_one_line(field, value):
    with pytest.raises(ValueError) as err:
        replace(PRESETS["classroom"], **{field: value})
    message = str(err.value)
    assert "\n" not in message and repr(value) in message


@pytest.mark.parametrize("changes", [{"n_pairs": None}, {"n_pairs": 2}, {"epochs": 1, "batch_size": 1},
                                     {"dataset": "omniglot", "seed": 99, "lecture_init": True}])
def test_settings_accept_the_edges(changes):
    assert asdict(replace(PRESETS["classroom"], **changes)).items() >= changes.items()


@pytest.mark.slow
def test_three_epochs_give_three_rows_per_variant(tiny_pairs):
    updates = []
    res = compare_variants(tiny_pairs, epochs=3, batch_size=16, on_update=lambda: updates.append(1)).snapshot()
    assert list(res.epochs) == list(res.batches) == list(res.summaries) == list(VARIANTS)
    for key, (name, _) in VARIANTS.items():
        rows = res.epochs[key]
        assert [r.epoch for r in rows] == [1, 2, 3] and {r.variant for r in rows} == {name}
        assert all(0 <= r.val_pair_accuracy <= 1 and r.loss > 0 and not r.partial for r in rows)
        assert res.batches[key][-1].progress == pytest.approx(3.0)
    assert res.current is None and updates
    assert not any(s.stopped for s in res.summaries.values())
    assert {k: s.params for k, s in res.summaries.items()} == {
        "separate": 201_217, "shared": 100_737, "siamese": 100_482}
    assert res.epochs["siamese"][-1].val_pair_accuracy > 0.9  # the distance model solves the easy task
    assert "after epoch 3" in res.story()


def test_story_names_each_variant_with_its_own_rows():
    """Rows are keyed by variant: the story reads each variant's own first and last epoch."""
    def rows(name, *accs):
        return tuple(EpochRow(name, e + 1, 0.7, 0.5, 0.7, a, 1.0, False) for e, a in enumerate(accs))

    history = History(epochs={"separate": rows("Separate", 0.5, 0.52), "siamese": rows("Siamese", 0.864)},
                      summaries={"separate": VariantSummary("Separate", 1, 1.0),
                                 "siamese": VariantSummary("Siamese", 1, 1.0)})
    assert history.story() == ("Separate: 50.0% validation pair accuracy after epoch 1, 52.0% after epoch 2; "
                               "Siamese: 86.4% validation pair accuracy after epoch 1.")
    assert History().story() == "No epoch has finished yet."


def test_results_table_reads_each_variants_last_epoch():
    """Separate: two epochs, the last at 0.6 train / 0.52 validation, 12.345 s → 12.3 s. Siamese:
    stopped in its first epoch and still timing (seconds None), so no accuracies and 0 s."""
    separate = (EpochRow("Separate", 1, 0.7, 0.5, 0.7, 0.5, 6.0, False),
                EpochRow("Separate", 2, 0.6, 0.6, 0.7, 0.52, 6.3, False))
    history = History(epochs={"separate": separate, "siamese": ()},
                      summaries={"separate": VariantSummary("Separate", 201_217, 12.345),
                                 "siamese": VariantSummary("Siamese", 100_482, None, stopped=True)})
    assert history.results_table() == [
        {"variant": "Separate", "parameters": 201_217, "train pair accuracy": 0.6, "validation pair accuracy": 0.52,
         "epochs": 2, "seconds": 12.3},
        {"variant": "Siamese", "parameters": 100_482, "train pair accuracy": None, "validation pair accuracy": None,
         "epochs": 0, "seconds": 0}]


def test_stop_during_epoch_one_of_ten_keeps_partial_history(tiny_pairs):
    stop = threading.Event()
    res = Comparison()

    def stop_soon():
        if sum(map(len, res.batches.values())) >= 2:
            stop.set()

    compare_variants(tiny_pairs, epochs=10, batch_size=4, stop=stop, result=res, on_update=stop_soon,
                     updates_per_epoch=60)
    history = res.snapshot()
    assert list(history.summaries) == ["separate"]  # the next variants never started
    assert history.summaries["separate"].stopped and history.current is None
    assert len(history.epochs["separate"]) <= 1 and all(r.partial for r in history.epochs["separate"])
    assert 2 <= len(history.batches["separate"]) <= 4  # stopped within a batch or two
    assert history.batches["separate"][-1].progress < 1


SETTINGS = PairTrainingSettings(epochs=50, batch_size=4, n_pairs=100)


def wait_until(job, done, timeout=120):
    """The job's first snapshot for which ``done(snapshot)`` holds (fails after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = job.snapshot()
        if done(snap):
            return snap
        time.sleep(0.02)
    raise AssertionError(f"timed out; last status {job.snapshot().status}")


@pytest.fixture
def gated_pairs(monkeypatch, tiny_pairs):
    """``mnist_pairs`` returns the tiny pairs once the returned event is set."""
    import siamese.lecture.pairs as pairs_module

    gate = threading.Event()
    monkeypatch.setattr(pairs_module, "mnist_pairs", lambda n, seed=0: gate.wait(60) and tiny_pairs)
    return gate


def test_job_status_goes_from_idle_through_training_to_finished(gated_pairs):
    job = TrainingJob()
    idle = job.snapshot()
    assert idle.status is JobStatus.IDLE and not idle.running and idle.settings is None and idle.progress == 0
    settings = replace(SETTINGS, epochs=1)
    assert job.start(settings, actor=SOLO) is True
    snap = job.snapshot()
    assert snap.status is JobStatus.BUILDING_PAIRS and snap.running and snap.settings == settings
    assert snap.pairs_description is None and snap.history == History() and snap.progress == 0
    gated_pairs.set()
    snap = wait_until(job, lambda s: s.status is not JobStatus.BUILDING_PAIRS)
    assert snap.status in (JobStatus.TRAINING, JobStatus.FINISHED) and snap.pairs_description == "tiny"
    snap = wait_until(job, lambda s: not s.running)
    assert snap.status is JobStatus.FINISHED and snap.error is None and snap.progress == 1
    assert [len(snap.history.epochs[k]) for k in VARIANTS] == [1, 1, 1] and snap.siamese_trained


def test_a_second_start_while_running_is_refused_and_stop_gives_stopped(gated_pairs):
    job = TrainingJob()
    assert job.start(SETTINGS, actor=SOLO) is True
    assert job.start(replace(SETTINGS, seed=7), actor=SOLO) is False  # a second press while running starts nothing
    gated_pairs.set()
    wait_until(job, lambda s: s.status is JobStatus.TRAINING and s.history.batch_rows())
    assert job.start(replace(SETTINGS, seed=7), actor=SOLO) is False
    assert job.snapshot().settings == SETTINGS and job.snapshot().status is JobStatus.TRAINING
    job.stop(actor=SOLO)
    snap = wait_until(job, lambda s: not s.running, timeout=60)
    assert snap.status is JobStatus.STOPPED and snap.error is None and snap.progress < 1
    assert job.start(replace(SETTINGS, epochs=1), actor=SOLO) is True  # a new start after a stop
    assert wait_until(job, lambda s: not s.running).status is JobStatus.FINISHED


def test_job_failure_is_reported_not_raised(monkeypatch):
    import siamese.lecture.pairs as pairs_module

    def broken(n, seed=0):
        raise RuntimeError("no data here")

    monkeypatch.setattr(pairs_module, "mnist_pairs", broken)
    job = TrainingJob()
    job.stop(actor=SOLO)  # Stop with nothing running changes nothing
    assert job.snapshot().status is JobStatus.IDLE
    assert job.start(SETTINGS, actor=SOLO) is True
    snap = wait_until(job, lambda s: not s.running, timeout=10)
    assert snap.status is JobStatus.FAILED and snap.error == "RuntimeError: no data here"
    assert snap.history == History() and not snap.siamese_trained
    with pytest.raises(ValueError, match="no finished Siamese model"):
        job.save_siamese(actor=SOLO)
    assert job.start(SETTINGS, actor=SOLO) is True  # a failure does not block the next start
    assert job.snapshot().status is JobStatus.BUILDING_PAIRS and job.snapshot().error is None


def test_every_snapshot_is_consistent_and_stays_as_it_was_taken(monkeypatch, tiny_pairs):
    """Polled while a run trains: each snapshot's rows belong to variants it has a summary for,
    under the right name, numbered from epoch 1; the current variant is the last one started, and
    every one before it has its time; a finished status comes with every variant's time. A snapshot never changes after it is taken."""
    import siamese.lecture.pairs as pairs_module

    monkeypatch.setattr(pairs_module, "mnist_pairs", lambda n, seed=0: tiny_pairs)
    job = TrainingJob()
    job.start(replace(SETTINGS, epochs=2, batch_size=16), actor=SOLO)
    taken = []
    while True:
        snap = job.snapshot()
        taken.append((snap, [len(rows) for rows in snap.history.epochs.values()], len(snap.history.batch_rows())))
        h = snap.history
        assert list(h.epochs) == list(h.batches) == list(h.summaries) == list(VARIANTS)[:len(h.summaries)]
        for key, rows in h.epochs.items():
            assert [r.epoch for r in rows] == list(range(1, len(rows) + 1))
            assert {r.variant for r in rows + h.batches[key]} <= {VARIANTS[key][0]}
        if h.current is not None:
            assert snap.running and h.current == list(h.summaries)[-1]
            assert all(s.seconds is not None for s in list(h.summaries.values())[:-1])
        if not snap.running:
            break
        time.sleep(0.01)
    assert snap.status is JobStatus.FINISHED and h.current is None and snap.progress == 1
    assert all(s.seconds is not None for s in h.summaries.values()) and len(h.summaries) == 3
    assert any(s.status is JobStatus.TRAINING and 0 < s.progress < 1 for s, _, _ in taken)
    for snap, epoch_counts, batch_count in taken:
        assert [len(rows) for rows in snap.history.epochs.values()] == epoch_counts
        assert len(snap.history.batch_rows()) == batch_count
    for mapping in (h.epochs, h.batches, h.summaries):
        with pytest.raises(TypeError):
            mapping["separate"] = None  # read-only


@pytest.mark.slow
def test_reused_models_start_fresh_each_time(tiny_pairs, monkeypatch):
    """Models are reused between trainings (rebuilding leaked memory). A run on reused models must
    reproduce exactly a run on brand-new ones: weights, step count and Adam's moments are reset,
    the learning rate is not."""
    import siamese.lecture.training as training

    monkeypatch.setattr(training, "_MODELS", {})
    fresh = compare_variants(tiny_pairs, epochs=3, batch_size=16, seed=0)  # builds and compiles
    compare_variants(tiny_pairs, epochs=1, batch_size=8, seed=5)  # trains the same instances further
    reused = compare_variants(tiny_pairs, epochs=3, batch_size=16, seed=0)
    strip = lambda res: [replace(r, seconds=0) for r in res.snapshot().epoch_rows()]  # noqa: E731
    assert strip(reused) == strip(fresh)
    assert reused.snapshot().epochs["siamese"][-1].val_pair_accuracy > 0.9  # and it does learn


@pytest.mark.slow
def test_a_saved_run_gives_back_models_that_answer_as_the_trained_ones(tiny_pairs, tmp_path):
    """save_run keeps copies of the weights: the models load_run rebuilds say exactly what the
    trained models say, even after those are trained further (the job reuses them)."""
    from siamese.lecture.saved_run import load_run, same_probabilities, save_run

    res = compare_variants(tiny_pairs, epochs=2, batch_size=16)
    xl, xr, _ = tiny_pairs.val
    settings = replace(PRESETS["classroom"], epochs=2, batch_size=16, seed=3)
    path = save_run(res, settings, tmp_path / "runs" / "last.npz")
    before = same_probabilities(res.models, xl[0], xr[0])
    compare_variants(tiny_pairs, epochs=1, batch_size=4, seed=9)  # retrains the same instances
    run = load_run(path)
    assert run.settings == settings and not run.stopped and list(run.weights) == list(VARIANTS)
    assert run.val_pair_accuracy == {k: rows[-1].val_pair_accuracy for k, rows in res.snapshot().epochs.items()}
    assert same_probabilities(run.models(), xl[0], xr[0]) == before
    assert [p.name for p in path.parent.iterdir()] == ["last.npz"]  # no temporary file left


def test_same_probabilities_are_in_order_and_the_siamese_one_is_symmetric(tiny_pairs):
    """Swapping the two inputs cannot change a distance, so the Siamese model's two answers match;
    a concatenating model's need not (its Dense weighs the left and right halves differently)."""
    from siamese.lecture.saved_run import same_probabilities

    res = compare_variants(tiny_pairs, epochs=2, batch_size=16)
    (xl, xr, y) = tiny_pairs.val
    i = int(np.flatnonzero(y == 0)[0])
    p = same_probabilities(res.models, xl[i], xr[i])
    assert list(p) == list(VARIANTS) and all(0 <= q <= 1 for pair in p.values() for q in pair)
    assert p["siamese"][0] == pytest.approx(p["siamese"][1], abs=1e-6)
    assert p["separate"][0] != p["separate"][1]
    same_i = int(np.flatnonzero(y == 1)[0])
    assert same_probabilities(res.models, xl[same_i], xr[same_i])["siamese"][0] > 0.5 > p["siamese"][0]


def test_no_saved_run_is_none_and_a_damaged_one_says_so(tmp_path):
    from siamese.lecture.saved_run import last_run_path, load_run

    assert load_run() is None and load_run(tmp_path / "none.npz") is None
    assert last_run_path().parent.name == "pair_runs"
    damaged = tmp_path / "last.npz"
    damaged.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="not readable.*train again"):
        load_run(damaged)
    np.savez(damaged, meta=np.array("{}"))
    with pytest.raises(ValueError, match="not readable"):
        load_run(damaged)


def test_a_run_that_never_finished_an_epoch_keeps_the_last_run(tiny_pairs, tmp_path):
    from siamese.lecture.saved_run import save_run

    assert save_run(Comparison(), SETTINGS, tmp_path / "last.npz") is None
    assert not (tmp_path / "last.npz").exists()


def test_the_job_keeps_each_finished_run_for_the_compare_page(monkeypatch, tiny_pairs):
    import siamese.lecture.pairs as pairs_module
    from siamese.lecture.saved_run import load_run

    monkeypatch.setattr(pairs_module, "mnist_pairs", lambda n, seed=0: tiny_pairs)
    job = TrainingJob()
    assert load_run() is None
    job.start(replace(SETTINGS, epochs=1, seed=4), actor=SOLO)
    assert wait_until(job, lambda s: not s.running).status is JobStatus.FINISHED
    run = load_run()
    assert run.settings.seed == 4 and list(run.weights) == list(VARIANTS) and not run.stopped
