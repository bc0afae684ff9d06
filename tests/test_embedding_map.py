"""The embedding map: a PCA of one reference set, and sketches projected by the same map."""
import numpy as np
import pytest

from helpers import SHAPES, sketch
from siamese.classroom import SOLO
from siamese.search.embedding_map import fit_map
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.data.codec import bytes_to_input
from siamese.matching import match_sketch, register_sketch


def test_points_on_a_line_by_hand():
    """Three embeddings on the first coordinate axis, 2 apart: the mean is the middle one, the
    first principal axis is that coordinate axis (sign: its largest loading positive), it holds
    all the variance, and the points are -2, 0, 2 along it and 0 along the second axis."""
    e = np.array([[0, 0, 0], [2, 0, 0], [4, 0, 0]], np.float32)
    m = fit_map(e)
    np.testing.assert_array_equal(m.mean, [2, 0, 0])
    np.testing.assert_allclose(m.axes[0], [1, 0, 0], atol=1e-6)
    np.testing.assert_array_equal(m.axes[1], [0, 0, 0])  # no variance left: a zero axis, not noise
    np.testing.assert_allclose(m.explained, [1, 0])
    np.testing.assert_allclose(m.points, [[-2, 0], [0, 0], [2, 0]], atol=1e-6)


def test_a_mirrored_set_is_not_drawn_mirrored():
    """The same set listed negated has the same axes (signs fixed by the largest loading), so its
    points are the mirror image, as the data are: never a flip of the picture by the SVD's sign."""
    e = np.random.default_rng(0).normal(size=(40, 16)).astype(np.float32)
    a, b = fit_map(e), fit_map(-e)
    np.testing.assert_allclose(a.axes, b.axes, atol=1e-5)
    np.testing.assert_allclose(a.points, -b.points, atol=1e-4)
    assert (a.axes[np.arange(2), np.abs(a.axes).argmax(axis=1)] > 0).all()


def test_the_same_set_gives_the_same_points_and_a_reference_lands_exactly_on_its_point():
    e = np.random.default_rng(1).normal(size=(500, 128)).astype(np.float32)
    m = fit_map(e)
    np.testing.assert_array_equal(m.points, fit_map(e.copy()).points)
    for i in range(0, 500, 7):  # alone, in a batch of one, and among others
        assert (m.project(e[i]) == m.points[i]).all()
        assert (m.project(e[i:i + 1])[0] == m.points[i]).all()
    np.testing.assert_array_equal(m.project(e[::-1]), m.points[::-1])
    assert m.points.dtype == np.float32 and m.points.shape == (500, 2)
    assert 0 < m.explained[1] <= m.explained[0] < 1


@pytest.mark.parametrize("n", [0, 1])
def test_a_set_of_one_or_none_is_a_point_at_the_origin(n):
    e = np.ones((n, 8), np.float32)
    m = fit_map(e)
    assert m.points.shape == (n, 2) and not m.points.any() and not m.explained.any()
    np.testing.assert_array_equal(m.project(np.full(8, 5, np.float32)), [0, 0])


def test_identical_references_have_no_axes():
    m = fit_map(np.ones((3, 8), np.float32))
    assert not m.axes.any() and not m.points.any() and not m.explained.any()


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match="must be"):
        fit_map(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="dimension"):
        fit_map(np.zeros((4, 8), np.float32)).project(np.zeros(7, np.float32))


def test_a_references_own_input_lands_on_its_point_and_a_sketch_beside_its_match(gallery, index, matcher):
    """With the shipped model: each registered symbol's stored input, embedded again, projects to
    exactly its point on the map; a new sketch of a star lands nearer the star than the others."""
    for name in ("one", "zero", "star", "zigzag"):
        register_sketch(sketch(SHAPES[name]), gallery, CLASS_SYMBOLS, name, matcher, actor=SOLO)
    refs = index.references(CLASS_SYMBOLS, matcher)
    m = fit_map(refs.embeddings)
    for i, row in enumerate(gallery.examples(CLASS_SYMBOLS)):
        assert refs.example_ids[i] == row.id
        again = matcher.embed_inputs(bytes_to_input(row.model_input)[None])[0]
        assert (m.project(again) == m.points[i]).all()
    shifted = [[(x * 0.9 + 0.05, y * 0.9 + 0.05) for x, y in SHAPES["star"][0]]]
    result = match_sketch(sketch(shifted), index, CLASS_SYMBOLS, matcher)
    assert result.best.symbol == "star" and result.embedding.shape == (matcher.dim,)
    here = m.project(result.embedding)
    on_map = np.linalg.norm(m.points - here, axis=1)
    assert refs.symbols[on_map.argmin()] == "star"
