"""siamese.matching and siamese.references with the shipped model."""
import numpy as np
import pytest

from conftest import SHAPES, sketch
from siamese.gallery import DIGITS, MY_SYMBOLS, Gallery, thumbnail_png
from siamese.matching import match_sketch, top_symbols
from siamese.preprocess import to_dark_on_light, to_model_input


def register(gallery, matcher, name, strokes, **kw):
    img = sketch(strokes, **kw)
    gallery.add_example(MY_SYMBOLS, name, to_model_input(img), thumbnail_png(to_dark_on_light(img)), matcher)


def jitter(strokes, dx=0.04, dy=-0.03, scale=0.85):
    return [[(0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy) for x, y in s] for s in strokes]


@pytest.fixture
def gallery(tmp_path):
    return Gallery(tmp_path / "g.sqlite3")


def test_registered_symbol_is_recognised_from_another_drawing(gallery, matcher):
    for name in ("star", "zero", "zigzag", "cross", "seven"):
        register(gallery, matcher, name, SHAPES[name])
    for name in ("star", "zero", "zigzag", "cross", "seven"):
        res = match_sketch(sketch(jitter(SHAPES[name]), width=12), gallery, MY_SYMBOLS, matcher)
        assert res.best.symbol == name
        assert res.verdict == "match"
        assert [m.distance for m in res.matches] == sorted(m.distance for m in res.matches)


def test_empty_sketch_never_reaches_the_model(gallery, matcher, monkeypatch):
    register(gallery, matcher, "star", SHAPES["star"])
    calls = []
    monkeypatch.setattr(type(matcher), "embed_inputs", lambda self, x: calls.append(x))
    for image in (None, np.zeros((280, 280, 4), np.uint8), sketch([[(0.5, 0.5)]], width=10)):
        res = match_sketch(image, gallery, MY_SYMBOLS, matcher)
        assert res.verdict == "empty" and res.matches == [] and res.model_input is None
    assert calls == []


def test_empty_reference_set(gallery, matcher):
    res = match_sketch(sketch(SHAPES["one"]), gallery, MY_SYMBOLS, matcher)
    assert res.verdict == "no references" and res.model_input is not None


def test_top_symbols_keeps_the_best_example_per_symbol():
    emb = np.array([[0.0], [0.1], [0.2], [5.0]], np.float32)
    symbols = np.array(["a", "a", "b", "c"], dtype=object)
    out = top_symbols(np.array([0.0], np.float32), emb, symbols, k=5)
    assert [(symbols[i], round(d, 3)) for i, d in out] == [("a", 0.0), ("b", 0.2), ("c", 5.0)]


@pytest.mark.realdata
def test_default_sets_are_built_once_and_digits_match(gallery, matcher, real_data_dir, monkeypatch):
    from siamese.references import seed_default_sets

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    assert seed_default_sets(gallery, matcher) == []
    sets = {s["name"]: s for s in gallery.sets()}
    assert sets[DIGITS]["symbols"] == 10 and sets[DIGITS]["examples"] == 50
    omniglot = [s for s in sets.values() if s["kind"] == "omniglot"]
    assert len(omniglot) == 20 and sum(s["symbols"] for s in omniglot) == 659
    assert seed_default_sets(gallery, matcher) == []  # idempotent
    assert gallery.sets() == list(sets.values())
    # An MNIST test digit that is not a reference matches its own digit.
    from siamese.data import load_mnist
    _, (x, y) = load_mnist()
    hits = [match_sketch(x[i], gallery, DIGITS, matcher).best.symbol == str(y[i]) for i in range(100, 200)]
    assert np.mean(hits) > 0.6


def test_missing_data_still_starts(gallery, matcher, tmp_path, monkeypatch):
    from siamese.references import seed_default_sets

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "nothing"))
    import keras
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    problems = seed_default_sets(gallery, matcher)
    assert len(problems) == 2 and "MNIST" in problems[0] and "Omniglot" in problems[1]
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS]
    register(gallery, matcher, "star", SHAPES["star"])
    assert match_sketch(sketch(SHAPES["star"]), gallery, MY_SYMBOLS, matcher).best.symbol == "star"


def test_verdict_on_both_sides_of_the_threshold_and_exactly_at_it(gallery):
    """'match' when the nearest distance is at most the threshold (equal counts as a match), 'new'
    beyond it; the result carries the threshold it used. A fake matcher keeps this exact."""
    from test_gallery import FakeMatcher

    fake = FakeMatcher()
    register(gallery, fake, "seven", SHAPES["seven"])
    register(gallery, fake, "zero", SHAPES["zero"])
    query = sketch(jitter(SHAPES["seven"]), width=12)
    fake.threshold = 1e9
    d = match_sketch(query, gallery, MY_SYMBOLS, fake).best.distance
    assert d > 0
    for threshold, verdict in ((d, "match"), (2 * d, "match"), (float(np.nextafter(np.float32(d), 0)), "new"),
                               (d / 2, "new"), (0.0, "new")):
        fake.threshold = threshold
        res = match_sketch(query, gallery, MY_SYMBOLS, fake)
        assert (res.verdict, res.best.symbol, res.best.distance, res.threshold) == (verdict, "seven", d, threshold)
