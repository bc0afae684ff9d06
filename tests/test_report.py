"""siamese.measure.report (the one-shot report and the threshold calibration of a trained embedding)
and siamese.measure.unseen_digits (digits 8 and 9 never trained on), on small made-up data: the
datasets are replaced by a few glyphs, the model by a fixed function, so nothing trains."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from siamese.data.datasets import Omniglot, split_background
from siamese.measure import report, unseen_digits

GLYPHS = [  # ten shapes that stay apart after the dataset preprocessing (crop, fit, centre)
    [[(4, 4), (4, 24)]], [[(4, 4), (24, 4), (12, 24)]], [[(4, 8), (10, 20), (16, 8), (22, 20)]],
    [[(14, 4), (14, 24)], [(4, 14), (24, 14)]], [[(4, 4), (4, 24), (20, 24)]],
    [[(4, 4), (24, 4)], [(14, 4), (14, 24)]], [[(4, 4), (24, 4), (24, 24), (4, 24), (4, 4)]],
    [[(4, 24), (14, 4), (24, 24), (4, 24)]], [[(4, 4), (14, 24), (24, 4)]],
    [[(4, 4), (24, 24)], [(24, 4), (4, 24)]],
]


def glyph(c: int, rng) -> np.ndarray:
    """Glyph ``c`` as MNIST writes a digit: ``(28, 28) uint8``, light ink on black, jittered by a pixel."""
    img = Image.new("L", (28, 28), 0)
    d = ImageDraw.Draw(img)
    for stroke in GLYPHS[c]:
        d.line([(x + rng.integers(-1, 2), y + rng.integers(-1, 2)) for x, y in stroke], fill=255, width=2)
    return np.asarray(img)


def flat(x, training=False):
    """A fixed "model": the input's pixels as its embedding, ``(n, 784) float32``."""
    return np.asarray(x, np.float32).reshape(len(x), -1)


def constant(x, training=False):
    """A collapsed model: every input embeds to the same point."""
    return np.zeros((len(x), 4), np.float32)


def omniglot(split: str, alphabets: int, characters: int, drawers: int, seed: int) -> Omniglot:
    """Characters as random binary templates with a few flipped pixels per drawing, as model inputs."""
    rng = np.random.default_rng(seed)
    n_chars = alphabets * characters
    templates = rng.random((n_chars, 28, 28)) < 0.2
    labels = np.repeat(np.arange(n_chars), drawers).astype(np.int32)
    noise = rng.random((len(labels), 28, 28)) < 0.02
    images = (templates[labels] ^ noise).astype(np.float32)
    return Omniglot(images, labels, np.tile(np.arange(1, drawers + 1), n_chars).astype(np.int8),
                    np.array([f"A{c // characters}/character{c % characters:02d}" for c in range(n_chars)]),
                    (np.arange(n_chars) // characters).astype(np.int32), np.array([f"A{a}" for a in range(alphabets)]),
                    split)


@pytest.fixture
def made_up(monkeypatch):
    """report's datasets replaced: an evaluation split of 2 alphabets x 20 characters x 6 drawers,
    MNIST test digits as 20 jittered glyphs of each digit."""
    rng = np.random.default_rng(0)
    evaluation = omniglot("evaluation", 2, 20, 6, seed=1)
    y = np.repeat(np.arange(10), 20).astype(np.uint8)
    x = np.stack([glyph(int(c), rng) for c in y])
    monkeypatch.setattr(report, "load_omniglot", lambda split: evaluation if split == "evaluation" else 1 / 0)
    monkeypatch.setattr(report, "load_mnist", lambda: ((x, y), (x, y)))
    return evaluation


def test_the_one_shot_report_has_every_protocol_way_and_shot_and_the_mnist_row(made_up):
    lines = []
    out = report.one_shot_report(flat, seed=0, log=lines.append)
    rows = out["omniglot_evaluation"]
    assert [(r["protocol"], r["way"], r["shot"]) for r in rows] == [
        (p, w, s) for p in ("within-alphabet", "random") for w in (5, 20) for s in (1, 5)]
    assert all(r["accuracy"] == 1.0 for r in rows)  # the templates are far apart: a perfect embedding
    assert all(r["queries"] == 1000 for r in rows)  # max(40, 1000 // N) episodes of N queries
    mnist = out["mnist_test"]
    assert (mnist["protocol"], mnist["way"], mnist["shot"]) == ("mnist-digits", 10, 1)
    assert mnist["accuracy"] > 0.75 and mnist["queries"] == 1000  # chance: 0.1; 100 episodes of 10
    assert len(lines) == 9 and lines[-1].startswith("MNIST test digits, ")


def test_a_collapsed_embedding_scores_chance_not_better(made_up):
    out = report.one_shot_report(constant, seed=0)
    for r in out["omniglot_evaluation"]:
        assert r["accuracy"] == pytest.approx(1 / r["way"], abs=0.12), r
    assert out["mnist_test"]["accuracy"] == pytest.approx(0.1, abs=0.06)


def test_the_threshold_is_calibrated_on_the_validation_alphabets_only(made_up, monkeypatch):
    """The threshold comes from pairs of the held-out background alphabets; the evaluation
    alphabets only measure it. A perfect embedding separates both at no error."""
    background = omniglot("background", 8, 6, 4, seed=2)
    seen = []
    real_embed = report.embed_array
    monkeypatch.setattr(report, "embed_array", lambda model, x: seen.append(x) or real_embed(model, x))
    out = report.threshold_calibration(flat, background, seed=0)
    _, val = split_background(background)
    np.testing.assert_array_equal(seen[0], background.images[val])  # validation alphabets only
    assert report.validation_alphabets(background) == ["A0"]
    assert out["validation"]["false_accept"] == 0 and out["validation"]["false_reject"] == 0
    assert max(out["evaluation_alphabets"].values()) < 0.05
    assert 0 < out["validation"]["threshold"] and "held-out background alphabets" in out["method"]


def test_the_unseen_digits_never_enter_training_and_all_ten_are_tested(monkeypatch):
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(10), 12).astype(np.uint8)
    x = np.stack([glyph(int(c), rng) for c in y])
    monkeypatch.setattr(unseen_digits, "load_mnist", lambda: ((x, y), (x, y)))
    trained_on = {}

    def train(images, labels, cfg, validate, rotations=4, log=print):
        trained_on.update(labels=np.asarray(labels), images=len(images), rotations=rotations, way=cfg.way,
                          validation=validate(flat))
        return flat, {"train_seconds": 1.25}

    monkeypatch.setattr(unseen_digits, "train_episodic", train)
    res = unseen_digits.run_unseen_digits(episodes=7, seed=0)
    assert set(trained_on["labels"].tolist()) == set(range(8)) and trained_on["images"] == 96
    assert trained_on["rotations"] == 1 and trained_on["way"] == 8  # a rotated 6 is a 9
    assert trained_on["validation"] > 0.75  # chosen on digits 0-7 only (chance: 1/8)
    assert res.n_seen == 96 and res.episodes == 7 and res.train_seconds == 1.25
    assert res.eight_vs_nine.way == 2 and res.eight_vs_nine.accuracy > 0.75 and res.ten_way.way == 10
    assert sorted(res.per_digit) == list(range(10))
    d = res.as_dict()
    assert d["train_seconds"] == 1.2 and sorted(d["per_digit"]) == [str(i) for i in range(10)]
    assert all(0 <= v <= 1 for v in d["per_digit"].values())


def test_evaluation_accuracy_is_n_way_k_shot_on_the_evaluation_split(made_up):
    res = report.evaluation_accuracy(flat, 20, 1, "within-alphabet", episodes=7, seed=3)
    assert (res.way, res.shot, res.protocol, res.n_queries, res.accuracy) == (20, 1, "within-alphabet", 140, 1.0)
    again = report.evaluation_accuracy(flat, 20, 1, "within-alphabet", episodes=7, seed=3)
    other = report.evaluation_accuracy(flat, 20, 1, "within-alphabet", episodes=7, seed=4)
    assert [e.queries.tolist() for e in again.episodes] == [e.queries.tolist() for e in res.episodes]
    assert [e.queries.tolist() for e in other.episodes] != [e.queries.tolist() for e in res.episodes]
    chance = report.evaluation_accuracy(constant, 5, 1, "random", episodes=40, seed=0)
    assert chance.accuracy == pytest.approx(0.2, abs=0.1)
