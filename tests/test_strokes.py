"""siamese.data.strokes: strokes drawn as the canvas sends them, on small made-up drawings."""
import numpy as np
import pytest

from siamese.data.preprocess import to_model_input
from siamese.data.strokes import (fit_strokes, pen_digit_inputs, pen_digit_sketch, render_strokes,
                                  split_writers)


def ink(img):
    return img[..., :3].mean(axis=2) < 128


def test_fit_centres_scales_and_flips():
    out = fit_strokes([[[0, 0], [10, 0]], [[10, 20, 99]]], span=0.5, y_up=True)  # a t column is ignored
    pts = np.array([p for s in out for p in s])
    assert np.allclose(pts[:, 0].min() + pts[:, 0].max(), 1.0) and np.allclose(pts[:, 1].min() + pts[:, 1].max(), 1.0)
    assert np.isclose(pts[:, 1].max() - pts[:, 1].min(), 0.5)  # the longer side fills the span
    assert np.isclose(pts[:, 0].max() - pts[:, 0].min(), 0.25)  # aspect ratio kept
    assert out[1][0][1] < out[0][0][1]  # y up: the point at y=20 is drawn above the one at y=0


def test_fit_refuses_no_points_and_bad_span():
    with pytest.raises(ValueError, match="at least one point"):
        fit_strokes([[], []])
    with pytest.raises(ValueError, match="span"):
        fit_strokes([[[0, 0]]], span=0)


def test_a_line_is_as_wide_as_the_pen_black_on_white():
    img = render_strokes([[(0.2, 0.5), (0.8, 0.5)]], size=100, width=10)
    assert img.shape == (100, 100, 4) and img.dtype == np.uint8
    assert (img[0, 0] == 255).all() and (img[50, 50, :3] == 0).all()
    assert ink(img)[:, 50].sum() in (10, 11)  # the pen's width across the line
    assert ink(img)[50].sum() == pytest.approx(60 + 10, abs=2)  # length plus two round caps


def test_a_click_is_a_disc_and_width_scales_ink():
    dot = ink(render_strokes([[(0.5, 0.5)]], size=100, width=20))
    assert dot.sum() == pytest.approx(np.pi * 10 ** 2, rel=0.1)
    thin, wide = (ink(render_strokes([[(0.1, 0.1), (0.9, 0.9)]], 100, w)).sum() for w in (4, 16))
    assert 3 < wide / thin < 5


def test_transparent_background_as_the_component_default():
    img = render_strokes([[(0.1, 0.1), (0.9, 0.1)]], 50, 4, background=(0, 0, 0, 0))
    assert img[40, 40, 3] == 0 and img[5, 25, 3] == 255


def test_bad_size_or_width_raises():
    with pytest.raises(ValueError):
        render_strokes([[(0, 0), (1, 1)]], size=0)
    with pytest.raises(ValueError):
        render_strokes([[(0, 0), (1, 1)]], width=0)


SEVEN = {"label": "7", "writer": "x-t1", "strokes": [[[0, 100], [60, 100], [20, 0]]]}  # tablet units, y up


def test_pen_digit_sketch_fills_sixty_percent_and_prepares_like_a_sketch():
    img = pen_digit_sketch(SEVEN)
    rows = np.flatnonzero(ink(img).any(axis=1))
    assert img.shape == (280, 280, 4)
    assert rows[-1] - rows[0] == pytest.approx(0.6 * 280 + 18, abs=3)  # the stroke plus the pen's width
    assert ink(img)[rows[0] + 2, 100:170].all()  # the bar of the seven is on top (y flipped)
    x = to_model_input(img, canvas=True, background=255)
    assert x.shape == (28, 28) and x.max() == pytest.approx(1.0)


def test_pen_digit_inputs_one_per_width_and_writer_split():
    items = [dict(SEVEN, writer=f"x-t{i}") for i in range(10)]
    x, y = pen_digit_inputs(items[:2], widths=(6, 18))
    assert x.shape == (4, 28, 28) and x.dtype == np.float32 and list(y) == [7] * 4
    train, val = split_writers(items, validation_every=5)
    assert len(train) == 8 and len(val) == 2
    assert not {it["writer"] for it in train} & {it["writer"] for it in val}
