"""siamese.data.preprocess: one path for canvas sketches and dataset images."""
import numpy as np
import pytest

from helpers import SHAPES, sketch
from siamese.data.preprocess import (BOX, EMPTY, FULL, SIZE, Prepared, ink_map, prepare, to_dark_on_light, to_gray,
                                     to_model_input)


def bbox(x, level=0.25):
    rows, cols = np.flatnonzero((x > level).any(1)), np.flatnonzero((x > level).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_output_is_28x28_float32_in_unit_range():
    x = to_model_input(sketch(SHAPES["seven"]))
    assert x.shape == (SIZE, SIZE) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() == pytest.approx(1.0)


@pytest.mark.parametrize("image", [None, np.zeros((280, 280, 4), np.uint8),
                                   np.full((280, 280, 4), 255, np.uint8)], ids=["none", "transparent", "white"])
def test_empty_canvas_is_an_empty_sketch(image):
    assert to_model_input(image) is None


def test_stray_click_is_an_empty_sketch():
    assert to_model_input(sketch([[(0.5, 0.5)]], width=12)) is None


def test_white_ink_on_transparent_canvas_does_not_vanish():
    """Compositing a transparent canvas onto white would erase white ink; the backdrop must be the
    colour that contrasts with the ink, so white and black strokes give the same input."""
    black = to_model_input(sketch(SHAPES["zero"], ink=(0, 0, 0, 255)))
    white = to_model_input(sketch(SHAPES["zero"], ink=(255, 255, 255, 255)))
    assert white is not None
    np.testing.assert_allclose(white, black, atol=1e-6)


def test_polarity_does_not_matter():
    rgba = sketch(SHAPES["cross"], background=(255, 255, 255, 255))
    gray = to_gray(rgba)
    np.testing.assert_allclose(to_model_input(gray), to_model_input(255 - gray), atol=1e-6)


def test_opaque_and_transparent_backgrounds_agree():
    a = to_model_input(sketch(SHAPES["seven"]))
    b = to_model_input(sketch(SHAPES["seven"], background=(255, 255, 255, 255)))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_ink_fits_20x20_box_centred_by_centre_of_mass():
    x = to_model_input(sketch(SHAPES["seven"]))
    h, w = bbox(x)
    assert max(h, w) <= BOX + 2  # strokes widened by normalisation may spill by a pixel
    rows, cols = np.indices(x.shape)
    cy, cx = (rows * x).sum() / x.sum(), (cols * x).sum() / x.sum()
    assert abs(cy - 13.5) <= 1.0 and abs(cx - 13.5) <= 1.0


def test_aspect_ratio_is_kept():
    """A wide flat stroke stays wide and flat instead of being stretched to a square."""
    x = to_model_input(sketch([[(0.1, 0.5), (0.9, 0.55)]], width=10))
    h, w = bbox(x)
    assert w >= 18 and h <= 6


def test_thin_strokes_survive_downscaling():
    """A 3 px pen on a 280 px canvas is 0.3 px at 28x28 when simply resized: it must come out as a
    visible stroke (full-intensity pixels along the digit)."""
    x = to_model_input(sketch(SHAPES["one"], width=3))
    assert (x > 0.5).sum() >= 20


def test_thick_strokes_do_not_become_a_blob():
    """A 40 px marker drawing a zero keeps its hole: the centre stays background."""
    x = to_model_input(sketch(SHAPES["zero"], width=40))
    assert x[12:16, 12:16].max() < 0.3
    assert (x > 0.5).mean() < 0.4


def test_stroke_width_is_normalised():
    thin = to_model_input(sketch(SHAPES["zero"], width=4))
    thick = to_model_input(sketch(SHAPES["zero"], width=30))
    assert abs(int((thin > 0.5).sum()) - int((thick > 0.5).sum())) < 0.5 * (thin > 0.5).sum()


def test_mnist_digit_keeps_its_shape():
    """An MNIST-style input (light on dark, already in a 20x20 box) passes nearly unchanged."""
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:15] = 255
    x = to_model_input(digit)
    assert bbox(x)[0] in (19, 20, 21)


def test_ink_map_and_dark_on_light():
    rgba = sketch(SHAPES["one"])
    ink = ink_map(rgba)
    assert ink.max() == 1.0 and ink[0, 0] == 0.0
    flat = to_dark_on_light(rgba)
    assert flat.dtype == np.uint8 and flat[0, 0] == 255 and flat.min() == 0


def test_bad_shape_raises():
    with pytest.raises(ValueError, match="shape"):
        to_gray(np.zeros((4, 4, 2), np.uint8))


def test_canvas_more_than_half_inked_keeps_its_polarity():
    """A 60 px-wide X inks most of a transparent canvas: the X is still the ink (the median grey
    would call it background), and a filled blob is refused as a dot rather than inverted."""
    img = sketch([[(0, 0), (1, 1)], [(1, 0), (0, 1)]], width=60)
    assert (img[..., 3] > 0).mean() > 0.5
    x = to_model_input(img)
    assert x[14, 14] > 0.9 and x[14, 3] < 0.5  # centre of the X inked, middle of the left edge not
    from PIL import Image, ImageDraw
    blob = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(blob).ellipse((-20, -20, 300, 300), fill=(0, 0, 0, 255))
    assert to_model_input(np.asarray(blob)) is None


def test_big_images_are_bounded_in_work(monkeypatch):
    """A 1-pixel line across a 3000x3000 image survives the max-pooling that bounds the work: the
    filters and the resize see a crop of at most MAX_WORK pixels a side, and the speck search
    labels a mask of at most MAX_WORK a side (recorded here; speed is for benchmarks)."""
    import siamese.data.preprocess as pre
    seen = []
    real_fromarray, real_label = pre.Image.fromarray, pre.ndimage.label
    monkeypatch.setattr(pre.Image, "fromarray", lambda a, *k: seen.append(("crop", a.shape)) or real_fromarray(a, *k))
    monkeypatch.setattr(pre.ndimage, "label", lambda a, **k: seen.append(("label", a.shape)) or real_label(a, **k))
    img = np.full((3000, 3000), 255, np.uint8)
    np.fill_diagonal(img, 0)
    x = to_model_input(img)
    assert x is not None and (x > 0.5).sum() >= 20
    rows, cols = np.nonzero(x > 0.5)
    assert np.corrcoef(rows, cols)[0, 1] > 0.9  # still a diagonal
    assert {kind for kind, _ in seen} == {"crop", "label"}
    assert all(max(shape) <= pre.MAX_WORK for _, shape in seen), seen


@pytest.mark.parametrize("convert", [lambda a: a.astype(np.float32) / 255, lambda a: a > 127],
                         ids=["float01", "bool"])
def test_float_and_bool_images_are_understood(convert):
    gray = to_gray(sketch(SHAPES["seven"], background=(255, 255, 255, 255)))
    np.testing.assert_allclose(to_model_input(convert(gray)), to_model_input(gray.astype(np.uint8)), atol=0.1)


def test_nan_pixels_do_not_poison_the_sketch():
    gray = to_gray(sketch(SHAPES["seven"], background=(255, 255, 255, 255)))
    gray[0, 0] = np.nan
    x = to_model_input(gray)
    assert x is not None and np.isfinite(x).all()


@pytest.mark.parametrize("width", [10, 18, 40])
def test_a_click_with_any_pen_width_is_a_dot(width):
    assert to_model_input(sketch([[(0.5, 0.5)]], width=width)) is None
    assert prepare(sketch([[(0.5, 0.5)]], width=width)).reason.startswith("Only a dot")


def test_short_strokes_are_not_dots():
    """A short dash with a thin pen is a real (if small) symbol."""
    assert to_model_input(sketch([[(0.45, 0.5), (0.6, 0.5)]], width=8)) is not None


def test_an_empty_sketch_says_why():
    assert prepare(None) == Prepared(None, EMPTY)
    assert prepare(np.zeros((280, 280, 4), np.uint8)) == Prepared(None, EMPTY)
    full = np.zeros((280, 280, 4), np.uint8)
    full[..., 3] = 255  # opaque black everywhere
    assert prepare(full) == Prepared(None, FULL)
    assert prepare(full, background=255) == Prepared(None, FULL)  # the app's white canvas tells its page
    assert prepare(np.full((280, 280, 4), 255, np.uint8), background=255) == Prepared(None, EMPTY)
    done = prepare(sketch(SHAPES["seven"]))
    assert done.reason == "" and np.array_equal(done.input, to_model_input(sketch(SHAPES["seven"])))
    assert prepare(sketch([[(0.5, 0.5)]], width=30), canvas=False).reason == ""  # a dot image is a symbol


BOXED_X = [[(0.05, 0.05), (0.95, 0.05), (0.95, 0.95), (0.05, 0.95), (0.05, 0.05)],
           [(0.05, 0.05), (0.95, 0.95)], [(0.95, 0.05), (0.05, 0.95)]]


@pytest.mark.parametrize("inset", [0.0, 0.05])
@pytest.mark.parametrize("width", [30, 40])
def test_a_sketch_inked_over_half_the_white_canvas_keeps_its_polarity(inset, width):
    """The app's canvas sends an opaque white page. A boxed X drawn with the widest pens inks more
    than half of it; the page passes its background (255) and the X stays ink: the same input as
    the same strokes on a transparent canvas. Inset from the edge, the border alone says so too."""
    strokes = [[(inset + (1 - 2 * inset) * x, inset + (1 - 2 * inset) * y) for x, y in s] for s in BOXED_X]
    white = sketch(strokes, width=width, background=(255, 255, 255, 255))
    assert (to_gray(white) < 128).mean() > 0.5
    reference = to_model_input(sketch(strokes, width=width))  # transparent: polarity known
    np.testing.assert_allclose(to_model_input(white, background=255), reference, atol=1e-6)
    if inset:
        np.testing.assert_allclose(to_model_input(white), reference, atol=1e-6)
    assert reference[14, 14] > 0.9  # the crossing of the X is ink


def test_dataset_images_read_their_background_from_the_border():
    """An Omniglot-style glyph (dark on white) that inks most of its 105x105 image is not inverted."""
    from PIL import Image, ImageDraw
    img = Image.new("L", (105, 105), 255)
    ImageDraw.Draw(img).rectangle((8, 8, 96, 96), fill=0)
    ImageDraw.Draw(img).rectangle((40, 40, 64, 64), fill=255)  # a hole in the middle
    x = to_model_input(np.asarray(img), canvas=False)
    assert x[14, 14] < 0.1 and x[14, 5] > 0.9  # the hole is background, the frame is ink


SEVEN_40 = [[(0.5 + 0.6 * (x - 0.5), 0.5 + 0.6 * (y - 0.52)) for x, y in SHAPES["seven"][0]]]
"""A 7 drawn over 40% of the canvas side (0.6 x its 0.65 height), in the middle."""


@pytest.mark.parametrize("click", [(0.04, 0.04), (0.96, 0.04), (0.04, 0.96), (0.96, 0.96), (0.5, 0.97)])
@pytest.mark.parametrize("width", [4, 18, 30])
def test_a_stray_click_does_not_set_the_crop(click, width):
    """One click far from the symbol: the input is the symbol's own (it used to shrink the 7 to
    about 10x8 pixels in a corner of the 28x28 input)."""
    alone = to_model_input(sketch(SEVEN_40, width=width))
    with_click = to_model_input(sketch(SEVEN_40 + [[click]], width=width))
    np.testing.assert_allclose(with_click, alone, atol=1e-6)


def test_several_specks_and_a_flick_are_dropped_too():
    alone = to_model_input(sketch(SEVEN_40, width=18))
    specks = [[(0.05, 0.1)], [(0.92, 0.9)], [(0.9, 0.06), (0.92, 0.07)]]
    np.testing.assert_allclose(to_model_input(sketch(SEVEN_40 + specks, width=18)), alone, atol=1e-6)


@pytest.mark.parametrize("name, strokes", [
    ("i", [[(0.5, 0.4), (0.5, 0.8)], [(0.5, 0.28)]]),
    ("division sign", [[(0.3, 0.5), (0.7, 0.5)], [(0.5, 0.36)], [(0.5, 0.64)]]),
    ("colon", [[(0.5, 0.35)], [(0.5, 0.65)]]),
    ("Arabic tha", [[(0.25, 0.5), (0.3, 0.65), (0.7, 0.65), (0.75, 0.5)], [(0.42, 0.4)], [(0.58, 0.4)], [(0.5, 0.3)]]),
])
def test_dots_that_belong_to_the_symbol_are_kept(name, strokes):
    """Dots near the strokes are part of the symbol: the input is not the strokes' alone."""
    img = sketch(strokes, width=18)
    x = to_model_input(img)
    assert x is not None
    lines = [s for s in strokes if len(s) > 1]
    if lines:
        assert np.abs(x - to_model_input(sketch(lines, width=18))).max() > 0.5


def test_a_genuine_dot_image_is_a_symbol_for_datasets_and_the_api(matcher):
    """The dot-or-click rule is for the canvas only: a 105x105 Omniglot-style character that is a
    filled disc of radius 8 px is embedded by the public API (it used to raise "no ink")."""
    from PIL import Image, ImageDraw
    img = Image.new("L", (105, 105), 255)
    ImageDraw.Draw(img).ellipse((44, 44, 60, 60), fill=0)
    disc = np.asarray(img)
    assert to_model_input(disc) is None  # as a canvas sketch: a click
    x = to_model_input(disc, canvas=False)
    assert x is not None and x[14, 14] > 0.9
    e = matcher.embed(disc[None])
    assert e.shape == (1, matcher.dim) and np.isfinite(e).all()
    with pytest.raises(ValueError, match="no ink"):
        matcher.embed(np.full((1, 105, 105), 255, np.uint8))


def coloured_block(x0=0.3, x1=0.7, y0=0.3, strokes=10, width=18, size=280):
    """A block coloured in with ``strokes`` horizontal strokes, each a pen width below the last."""
    step = width / size
    return [[(x0, y0 + i * step), (x1, y0 + i * step)] for i in range(strokes)]


@pytest.mark.parametrize("strokes, width", [(10, 18), (4, 40), (25, 8)])
def test_a_coloured_in_block_is_a_symbol_not_a_dot(strokes, width):
    """#24 item 8: a block coloured in with ten strokes was called "Only a dot" (any filled shape
    is about as wide as its own stroke width). A filled square is drawn on purpose: it is a symbol."""
    done = prepare(sketch(coloured_block(strokes=strokes, width=width), width=width))
    assert done.reason == "" and done.input is not None and done.input.sum() > 50


def test_a_filled_disc_and_a_filled_block_beside_a_line_are_kept():
    """Members of the kind: a big filled disc (a full moon) is a symbol, and a filled block far from
    a line is part of the symbol, not a stray click dropped before cropping."""
    disc = [[(0.5 + r * np.cos(t), 0.5 + r * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)]
            for r in np.arange(0.02, 0.25, 0.04)]
    assert prepare(sketch(disc)).reason == ""
    block_and_line = coloured_block(0.6, 0.9, 0.6, strokes=5) + [[(0.05, 0.05), (0.3, 0.05)]]
    x = prepare(sketch(block_and_line)).input
    only_line = prepare(sketch([[(0.05, 0.05), (0.3, 0.05)]])).input
    assert x is not None and not np.allclose(x, only_line, atol=0.1)


@pytest.mark.parametrize("size, width", [(280, 40), (240, 40), (280, 4)])
def test_a_click_is_still_a_dot_on_either_canvas(size, width):
    assert prepare(sketch([[(0.5, 0.5)]], size=size, width=width)).reason.startswith("Only a dot")
    two_clicks = [[(0.5, 0.5)], [(0.52, 0.5)]]  # a double click, a hair apart
    assert prepare(sketch(two_clicks, size=size, width=width)).reason.startswith("Only a dot")
