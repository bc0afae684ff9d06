"""siamese.matching and siamese.gallery.defaults with the shipped model."""
import numpy as np
import pytest

from helpers import SHAPES, sketch
from siamese.classroom import SOLO
from siamese.gallery.schema import CLASS_SYMBOLS, DIGITS
from siamese.gallery.errors import GalleryError
from siamese.matching import EmptySketchError, Verdict, match_sketch, register_sketch
from siamese.data.preprocess import DOT, EMPTY


def register(gallery, matcher, name, strokes, **kw):
    return register_sketch(sketch(strokes, **kw), gallery, CLASS_SYMBOLS, name, matcher, actor=SOLO)


def jitter(strokes, dx=0.04, dy=-0.03, scale=0.85):
    return [[(0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy) for x, y in s] for s in strokes]


def test_registered_symbol_is_recognised_from_another_drawing(gallery, index, matcher):
    for name in ("star", "zero", "zigzag", "cross", "seven"):
        register(gallery, matcher, name, SHAPES[name])
    for name in ("star", "zero", "zigzag", "cross", "seven"):
        res = match_sketch(sketch(jitter(SHAPES[name]), width=12), index, CLASS_SYMBOLS, matcher)
        assert res.best.symbol == name
        assert res.verdict == "match"
        assert [m.distance for m in res.matches] == sorted(m.distance for m in res.matches)


def test_empty_sketch_never_reaches_the_model(gallery, index, matcher, monkeypatch):
    register(gallery, matcher, "star", SHAPES["star"])
    calls = []
    monkeypatch.setattr(type(matcher), "embed_inputs", lambda self, x: calls.append(x))
    for image in (None, np.zeros((280, 280, 4), np.uint8), sketch([[(0.5, 0.5)]], width=10)):
        res = match_sketch(image, index, CLASS_SYMBOLS, matcher)
        assert res.verdict == Verdict.EMPTY and res.matches == [] and res.model_input is None
        assert res.reason == (DOT if image is not None and image.any() else EMPTY)
    assert calls == []


def test_empty_reference_set(gallery, index, matcher):
    res = match_sketch(sketch(SHAPES["one"]), index, CLASS_SYMBOLS, matcher)
    assert res.verdict == "no references" and res.model_input is not None


@pytest.mark.realdata
def test_default_sets_are_built_once_and_digits_match(gallery, index, matcher, real_data_dir, monkeypatch):
    from siamese.gallery.defaults import seed_default_sets

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    assert seed_default_sets(gallery, matcher) == []
    sets = {s["name"]: s for s in gallery.sets()}
    assert sets[DIGITS]["symbols"] == 10 and sets[DIGITS]["examples"] == 500  # 50 per digit
    omniglot = [s for s in sets.values() if s["kind"] == "omniglot"]
    assert len(omniglot) == 20 and sum(s["symbols"] for s in omniglot) == 659
    assert seed_default_sets(gallery, matcher) == []  # idempotent
    assert gallery.sets() == list(sets.values())
    # An MNIST test digit that is not a reference matches its own digit.
    from siamese.data.datasets import load_mnist
    _, (x, y) = load_mnist()
    hits = [match_sketch(x[i], index, DIGITS, matcher).best.symbol == str(y[i]) for i in range(100, 200)]
    assert np.mean(hits) > 0.6


def test_missing_data_still_starts(gallery, index, matcher, tmp_path, monkeypatch):
    from siamese.gallery.defaults import seed_default_sets

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "nothing"))
    import keras
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    problems = seed_default_sets(gallery, matcher)
    assert len(problems) == 2 and "MNIST" in problems[0] and "Omniglot" in problems[1]
    assert [s["name"] for s in gallery.sets()] == [CLASS_SYMBOLS]
    register(gallery, matcher, "star", SHAPES["star"])
    assert match_sketch(sketch(SHAPES["star"]), index, CLASS_SYMBOLS, matcher).best.symbol == "star"


def test_verdict_on_both_sides_of_the_threshold_and_exactly_at_it(gallery, index):
    """'match' when the nearest distance is at most the threshold (equal counts as a match), 'new'
    beyond it; the result carries the threshold it used. A fake matcher keeps this exact."""
    from helpers import FakeMatcher

    fake = FakeMatcher()
    register(gallery, fake, "seven", SHAPES["seven"])
    register(gallery, fake, "zero", SHAPES["zero"])
    query = sketch(jitter(SHAPES["seven"]), width=12)
    fake.threshold = 1e9
    d = match_sketch(query, index, CLASS_SYMBOLS, fake).best.distance
    assert d > 0
    for threshold, verdict in ((d, "match"), (2 * d, "match"), (float(np.nextafter(np.float32(d), 0)), "new"),
                               (d / 2, "new"), (0.0, "new")):
        fake.threshold = threshold
        res = match_sketch(query, index, CLASS_SYMBOLS, fake)
        assert (res.verdict, res.best.symbol, res.best.distance, res.threshold) == (verdict, "seven", d, threshold)


def test_register_sketch_stores_name_input_thumbnail_and_embedding_at_once(gallery, index):
    """One call stores everything; the stored embedding is the one a later search would compute
    from the stored (8-bit) input, so searching embeds nothing."""
    from helpers import FakeMatcher

    fake = FakeMatcher()
    done = register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "  star ", fake, actor=SOLO)
    assert done.name == "star" and done.model_input.shape == (28, 28)
    calls = fake.calls
    refs = index.references(CLASS_SYMBOLS, fake)
    assert fake.calls == calls  # nothing left to embed
    np.testing.assert_array_equal(refs.embeddings[0], fake.embed_inputs(done.model_input[None])[0])
    row = gallery.examples(CLASS_SYMBOLS, thumbnails=True)[0]
    assert row.thumbnail.startswith(b"\x89PNG") and row.symbol == "star"
    register_sketch(sketch(jitter(SHAPES["star"])), gallery, CLASS_SYMBOLS, "star", fake, new_symbol=False, actor=SOLO)
    assert gallery.symbols(CLASS_SYMBOLS)[0]["examples"] == 2


@pytest.mark.parametrize("image, reason", [(None, EMPTY), (np.zeros((280, 280, 4), np.uint8), EMPTY),
                                           (sketch([[(0.5, 0.5)]], width=30), DOT)])
def test_register_sketch_refuses_an_empty_sketch_and_stores_nothing(gallery, image, reason):
    from helpers import FakeMatcher

    with pytest.raises(EmptySketchError) as err:
        register_sketch(image, gallery, CLASS_SYMBOLS, "star", FakeMatcher(), actor=SOLO)
    assert str(err.value) == reason and isinstance(err.value, GalleryError)
    assert gallery.symbols(CLASS_SYMBOLS) == []


def test_register_sketch_duplicate_name_changes_nothing(gallery):
    from helpers import FakeMatcher

    register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "star", FakeMatcher(), actor=SOLO)
    with pytest.raises(GalleryError, match="already has a symbol"):
        register_sketch(sketch(SHAPES["zero"]), gallery, CLASS_SYMBOLS, "star", FakeMatcher(), actor=SOLO)
    assert [(s["name"], s["examples"]) for s in gallery.symbols(CLASS_SYMBOLS)] == [("star", 1)]


def test_the_open_set_rule_follows_the_kind_the_set_was_made_as_not_its_name(gallery, index):
    """A set made as digits gets the card's digits rule whatever it is called; a user's set called
    "Digits" gets the general one (the rule was once chosen by the set's name)."""
    from helpers import FakeMatcher

    from siamese.data.codec import thumbnail_png
    from siamese.data.preprocess import to_model_input
    from siamese.gallery.gallery import SetKind
    from siamese.search.openset import NoveltyCalibration, pool_embeddings, set_novelty

    fake = FakeMatcher()
    fake.card = {"open_set": {"same_quantiles": [0.0, 400.0], "pool_correction": 1.0, "sure": 0.01, "likely": 0.05,
                              "ambiguity": 1.1, "kind_quantiles": {"digits": [0.0, 2.0]}}}
    items = [(name, to_model_input(sketch(SHAPES[shape])), thumbnail_png(np.zeros((8, 8), np.uint8)))
             for name, shape in (("seven", "seven"), ("zero", "zero"), ("one", "one"))]
    gallery.add_set_bulk("Pen digits", SetKind.DIGITS, items)
    gallery.add_set_bulk(DIGITS, SetKind.USER, items)
    calibration = NoveltyCalibration.from_card(fake.card)
    query = sketch(jitter(SHAPES["seven"]), width=12)
    thresholds = {}
    for set_name, kind in (("Pen digits", SetKind.DIGITS), (DIGITS, SetKind.USER)):
        refs = index.references(set_name, fake)
        assert refs.kind == kind
        expected = set_novelty(pool_embeddings(fake), refs.embeddings, calibration.for_kind(refs.kind), refs.sq_norms)
        thresholds[set_name] = match_sketch(query, index, set_name, fake).threshold
        assert thresholds[set_name] == expected.threshold
    assert thresholds["Pen digits"] != thresholds[DIGITS]
