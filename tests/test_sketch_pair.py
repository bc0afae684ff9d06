"""siamese.compare: two sketches, their distance and the verdict, with the shipped model."""
import numpy as np
import pytest

from helpers import SHAPES, sketch
from siamese.classroom import SOLO
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.matching import match_sketch, register_sketch
from siamese.data.preprocess import DOT, EMPTY, prepare
from siamese.compare import PairVerdict, compare_sketches


def jitter(strokes, dx=0.04, dy=-0.03, scale=0.85):
    return [[(0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy) for x, y in s] for s in strokes]


@pytest.mark.parametrize("a, b", [("seven", "seven"), ("star", "zero"), ("cross", "zigzag"), ("one", "seven")])
def test_distance_is_exactly_what_draw_and_match_shows(gallery, index, matcher, a, b):
    """Register sketch B, match sketch A on the Draw page's use case: the very same float, not a
    close one (both go through prepare, Matcher.embed_inputs, the stored 8-bit input and nearest)."""
    image_a, image_b = sketch(jitter(SHAPES[a]), width=12), sketch(SHAPES[b])
    register_sketch(image_b, gallery, CLASS_SYMBOLS, "b", matcher, background=255, actor=SOLO)
    matched = match_sketch(image_a, index, CLASS_SYMBOLS, matcher, background=255)
    pair = compare_sketches(image_a, image_b, matcher, background=255)
    assert pair.distance == matched.best.distance
    np.testing.assert_array_equal(pair.inputs[0], matched.model_input)
    assert pair.threshold == matcher.threshold
    assert pair.verdict == (PairVerdict.SAME if pair.distance <= matcher.threshold else PairVerdict.DIFFERENT)


def test_the_distance_is_the_euclidean_distance_between_the_embeddings(matcher):
    image_a, image_b = sketch(SHAPES["star"]), sketch(SHAPES["zero"])
    pair = compare_sketches(image_a, image_b, matcher, background=255)
    x_b = np.round(prepare(image_b, background=255).input * 255) / 255  # stored 8-bit, as a reference is
    e_a, e_b = matcher.embed_inputs(pair.inputs[0][None])[0], matcher.embed_inputs(x_b[None])[0]
    assert pair.distance == pytest.approx(float(np.linalg.norm(e_a - e_b)), rel=1e-4)
    assert pair.distance > 0


def test_two_drawings_of_one_symbol_are_same_and_two_symbols_different(matcher):
    same = compare_sketches(sketch(jitter(SHAPES["seven"]), width=12), sketch(SHAPES["seven"]), matcher, 255)
    different = compare_sketches(sketch(SHAPES["star"]), sketch(SHAPES["one"]), matcher, 255)
    assert same.verdict == PairVerdict.SAME and different.verdict == PairVerdict.DIFFERENT
    assert same.distance < matcher.threshold < different.distance
    assert same.missing() == different.missing() == ""


def test_an_identical_pair_is_at_distance_about_zero(matcher):
    """Only the reference's 8-bit storage separates the two embeddings."""
    image = sketch(SHAPES["zigzag"])
    assert compare_sketches(image, image, matcher, 255).distance < 0.05


@pytest.mark.parametrize("a, b, message", [
    (None, None, f"Both canvases: {EMPTY} Draw one symbol on each."),
    ("star", None, f"Sketch B (right): {EMPTY}"),
    (None, "star", f"Sketch A (left): {EMPTY}"),
    ("dot", "star", f"Sketch A (left): {DOT}"),
    ("dot", None, f"Sketch A (left): {DOT} Sketch B (right): {EMPTY}"),
])
def test_a_missing_sketch_is_named_and_never_reaches_the_model(matcher, monkeypatch, a, b, message):
    calls = []
    monkeypatch.setattr(type(matcher), "embed_inputs", lambda self, x: calls.append(x))
    images = {None: None, "star": sketch(SHAPES["star"]), "dot": sketch([[(0.5, 0.5)]], width=10)}
    pair = compare_sketches(images[a], images[b], matcher, background=255)
    assert pair.verdict == PairVerdict.INCOMPLETE and pair.distance is None
    assert pair.missing() == message
    assert (pair.inputs[0] is None) == (a != "star") and (pair.inputs[1] is None) == (b != "star")
    assert calls == []


def test_a_blank_canvas_image_counts_as_empty(matcher):
    blank = np.zeros((280, 280, 4), np.uint8)
    pair = compare_sketches(blank, sketch(SHAPES["one"]), matcher, background=255)
    assert pair.missing() == f"Sketch A (left): {EMPTY}"
