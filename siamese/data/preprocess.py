"""One preprocessing path for canvas sketches and dataset images, so both live in the same space.

The model input follows the MNIST convention (LeCun et al., http://yann.lecun.com/exdb/mnist/):
ink = 1 on background = 0, the ink fitted in a 20x20 box with its aspect ratio kept, then placed
in a 28x28 image so that its centre of mass is at the centre. On top of that, stroke width is
normalised (a thin 3 px stroke on a 280 px canvas and a 40 px marker stroke both come out about
2 px wide at 28x28), so that how a user draws matters less than what they draw.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

SIZE = 28
"""Side of the model input, pixels."""
BOX = 20
"""Side of the box the ink is fitted into, pixels (MNIST convention)."""
TARGET_STROKE = (1.5, 3.5)
"""Range of stroke widths at 28x28 that are left alone, pixels; outside it strokes are
thickened (dilation) or thinned (erosion) before downscaling."""
MIN_EXTENT = 0.06
"""A sketch whose ink fits in a box smaller than this fraction of the image side is a dot or a
stray click: treated as empty."""
MAX_WORK = 320
"""Crops larger than this (pixels) are max-pooled down first: the work per sketch stays bounded
whatever the image size (a 280 px canvas is unaffected)."""
DOT_RATIO = 3.0
"""Ink whose extent is under this many stroke widths is a dot (a click with a wide pen), if it is
also small (``MAX_DOT``)."""
MAX_DOT = 0.2
"""Ink wider than this fraction of the image side is never a dot, however filled: a click is a
disc of the pen's width, at most 40 px (the pen slider's top) on the 240 px Compare canvas, 0.17 of
its side. Without it a block coloured in with ten strokes was "Only a dot" (any filled shape is
about as wide as its measured stroke width, 2 * area / boundary)."""
MIN_CONTRAST = 40
"""Ink must differ from the background by at least this many grey levels (of 255)."""
SPECK_GAP = 0.25
"""Canvas rule: a dot-sized blob of ink (see ``DOT_RATIO``) further from the rest of the ink than
this fraction of the rest's extent is a stray click, dropped before cropping (it would otherwise
shrink the symbol to a corner of the 20x20 box). The dot of an i or the dots of a ÷ sit at about
0.12 to 0.16 of the strokes' extent when drawn on the canvas with the default pen."""
SPECK_AREA = 0.05
"""Canvas rule: a blob with less than this fraction of all the ink is small (see ``SPECK_GAP``)."""
MAX_COVERAGE = 0.9
"""Canvas rule: ink over more than this fraction of the canvas is no symbol (the page was inked
all over)."""

EMPTY = "Empty sketch: draw a symbol on the canvas."
DOT = "Only a dot: draw a symbol with at least one stroke (a single click is not enough)."
FULL = "The canvas is inked all over: clear it (bin icon above the canvas) and draw a symbol with lines."


def _as_levels(image) -> np.ndarray:
    """Any numeric or bool array as float32 grey levels in [0, 255]: floats in [0, 1] and bools
    are scaled, NaN and infinities become 0."""
    image = np.asarray(image)
    if image.dtype.kind in "ui":
        return image.astype(np.float32)
    if image.dtype == bool:
        return image.astype(np.float32) * 255.0
    out = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    if out.size and out.max() <= 1.0:
        out = out * 255.0
    return out


def _gray_and_background(image) -> tuple[np.ndarray, float | None]:
    """Grey levels ``(H, W) float32`` in [0, 255], and the background level when the image
    itself says so (the backdrop a transparent canvas was composited onto), else None."""
    image = np.asarray(image)
    if image.ndim == 2:
        return _as_levels(image), None
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {image.shape}")
    lum = _as_levels(image[..., :3]) @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as PIL's "L"
    if image.shape[2] == 3:
        return lum, None
    alpha = _as_levels(image[..., 3]) / 255.0
    if alpha.min() >= 1.0:
        return lum, None
    covered = alpha.sum()
    ink_lum = float((lum * alpha).sum() / covered) if covered > 0 else 0.0
    backdrop = 0.0 if ink_lum > 127.5 else 255.0  # the colour that contrasts with the ink
    return alpha * lum + (1.0 - alpha) * backdrop, backdrop


def to_gray(image: np.ndarray) -> np.ndarray:
    """Flatten an image to grey levels, compositing any alpha channel.

    Arguments:
        image: ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA; ``uint8``, float (in
            [0, 255], or in [0, 1]) or bool. A transparent background (the drawable canvas's
            default) is composited onto the colour that contrasts with the ink, so white ink on a
            transparent canvas does not vanish.

    Returns:
        ``(H, W)`` float32 grey levels in [0, 255].

    Raises:
        ValueError: for any other shape.
    """
    return _gray_and_background(image)[0]


def _border_level(gray: np.ndarray) -> float:
    """Median grey level of the outermost ring of pixels: the page a symbol is drawn on, whatever
    share of the image its ink covers."""
    if gray.size == 0:
        return 0.0
    ring = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    return float(np.median(ring))


def ink_map(image: np.ndarray, background: float | None = None) -> np.ndarray:
    """Ink intensity of an image whatever its polarity (dark-on-light or light-on-dark).

    Arguments:
        image: any image accepted by :func:`to_gray`.
        background: the page's grey level in [0, 255] when the caller knows it (the app's canvas
            is white: 255). Otherwise it is the backdrop of a transparent canvas when there is
            one, else the median grey level of the image's border. Either way a sketch that inks
            more than half of the image keeps its polarity (a median over the whole image would
            call its ink the background and turn the sketch into its negative).

    Returns:
        ``(H, W)`` float32 in [0, 1], 1 = full ink; all zeros when nothing stands out from the
        background by at least ``MIN_CONTRAST`` grey levels.
    """
    gray, backdrop = _gray_and_background(image)
    if background is None:
        background = _border_level(gray) if backdrop is None else backdrop
    diff = np.abs(gray - float(background))
    peak = float(diff.max()) if diff.size else 0.0
    if peak < MIN_CONTRAST:
        return np.zeros_like(gray, dtype=np.float32)
    return (diff / peak).astype(np.float32)


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary ink mask, pixels: 2 * area / boundary length."""
    padded = np.pad(mask, 1)
    interior = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    boundary = int(mask.sum() - interior.sum())
    return 2.0 * float(mask.sum()) / max(boundary, 1)


def _max_pool(a: np.ndarray, k: int) -> np.ndarray:
    """Block maximum over k x k tiles (the image padded with background)."""
    h, w = -(-a.shape[0] // k) * k, -(-a.shape[1] // k) * k
    padded = np.zeros((h, w), a.dtype)
    padded[:a.shape[0], :a.shape[1]] = a
    return padded.reshape(h // k, k, w // k, k).max(axis=(1, 3))


def _shift_to_centre_of_mass(canvas: np.ndarray) -> np.ndarray:
    total = canvas.sum()
    rows, cols = np.indices(canvas.shape)
    cy, cx = (rows * canvas).sum() / total, (cols * canvas).sum() / total
    dy, dx = int(round((SIZE - 1) / 2 - cy)), int(round((SIZE - 1) / 2 - cx))
    out = np.zeros_like(canvas)
    ys, xs = slice(max(dy, 0), SIZE + min(dy, 0)), slice(max(dx, 0), SIZE + min(dx, 0))
    yd, xd = slice(max(-dy, 0), SIZE + min(-dy, 0)), slice(max(-dx, 0), SIZE + min(-dx, 0))
    out[ys, xs] = canvas[yd, xd]
    return out


def _is_dot(mask: np.ndarray, side: int) -> bool:
    """Ink whose extent is about one stroke width and at most ``MAX_DOT`` of the image's ``side``
    (pixels): a click, whatever the pen's width; a filled shape bigger than a click is not."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    return extent <= MAX_DOT * side and extent < DOT_RATIO * _stroke_width(mask)


def _drop_specks(ink: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canvas rule: remove stray clicks far from the symbol, so they do not set the crop.

    A speck is an 8-connected blob of ink that is small (a dot, :func:`_is_dot`, or under
    ``SPECK_AREA`` of all the ink) and lies further than ``SPECK_GAP`` times the extent of the
    other blobs from their bounding box (Euclidean distance between the two boxes). Dots near the symbol (the dot of an i, the dots of a ÷ or of Arabic letters) are
    kept, and so is a sketch made only of dots. Labelling runs on a max-pooled mask at most
    ``MAX_WORK`` pixels a side, so the work stays bounded whatever the image size.
    """
    factor = int(np.ceil(max(mask.shape) / MAX_WORK))
    small = _max_pool(mask, factor) if factor > 1 else mask
    labels, n = ndimage.label(small, structure=np.ones((3, 3), bool))
    if n < 2:
        return ink, mask
    boxes = ndimage.find_objects(labels)
    areas = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    tiny = [areas[i] < SPECK_AREA * areas.sum() or _is_dot(labels[box] == i + 1, max(small.shape))
            for i, box in enumerate(boxes)]
    body = [box for box, t in zip(boxes, tiny) if not t]
    if not body or len(body) == n:  # only dots (a colon) or no small blob: nothing to drop
        return ink, mask
    top, bottom = min(b[0].start for b in body), max(b[0].stop for b in body)
    left, right = min(b[1].start for b in body), max(b[1].stop for b in body)
    reach = SPECK_GAP * max(bottom - top, right - left)
    keep = np.ones(n + 1, bool)
    for i, (box, t) in enumerate(zip(boxes, tiny)):
        dy = max(top - box[0].stop, box[0].start - bottom, 0)
        dx = max(left - box[1].stop, box[1].start - right, 0)
        gap = np.hypot(dx, dy)  # Euclidean: a click in a corner is further than one beside the ink
        keep[i + 1] = not t or gap <= reach
    if keep.all():
        return ink, mask
    kept = keep[labels]
    if factor > 1:  # back to full resolution: each pooled pixel stands for a factor x factor tile
        kept = np.kron(kept, np.ones((factor, factor), bool))[:mask.shape[0], :mask.shape[1]]
    return np.where(kept, ink, 0.0).astype(np.float32), mask & kept


@dataclass(frozen=True)
class Prepared:
    """A preprocessed image: the model input, or why there is none.

    Attributes:
        input: ``(28, 28) float32`` in [0, 1] with ink = 1, or None for an empty sketch.
        reason: "" when there is an input; else a sentence for the user (``EMPTY``, ``DOT`` or
            ``FULL``).
    """
    input: np.ndarray | None
    reason: str = ""


def prepare(image, canvas: bool = True, background: float | None = None) -> Prepared:
    """Turn a canvas sketch or a dataset image into the model input, saying why when it cannot.

    Arguments:
        image: ``None`` (the canvas has not reported yet), or an image as accepted by
            :func:`to_gray`: a canvas RGBA ``(H, W, 4) uint8``, an Omniglot PNG as ``(105, 105)
            uint8`` (dark ink on white), an MNIST digit ``(28, 28) uint8`` (light ink on black).
        canvas: True for something a person just drew on the canvas: then a click or a dot
            (ink smaller than ``MIN_EXTENT`` of the side, or about one stroke width across and at most
            ``MAX_DOT`` of the side: a coloured-in block is a symbol), a
            canvas inked all over (``MAX_COVERAGE``) and stray clicks far from the symbol
            (``SPECK_GAP``) are input errors, not symbols. False for dataset and API images:
            any real ink is a symbol (a few Omniglot characters are a single dot).
        background: the page's grey level in [0, 255] when known (the app's canvas: 255); see
            :func:`ink_map`.

    Returns:
        :class:`Prepared`. Never raises for an empty sketch and never returns NaN.

    Raises:
        ValueError: an image of another shape (see :func:`to_gray`).
    """
    x, reason = _prepare(image, canvas, background)
    return Prepared(x, reason)


def _prepare(image, canvas: bool, background: float | None) -> tuple[np.ndarray | None, str]:
    if image is None:
        return None, EMPTY
    ink = ink_map(image, background)
    mask = ink > 0.25
    if not mask.any():
        full = canvas and to_gray(image).mean() < 128 and background is None
        return None, FULL if full else EMPTY
    side = max(mask.shape)
    if canvas:
        if mask.mean() > MAX_COVERAGE:
            return None, FULL
        ink, mask = _drop_specks(ink, mask)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    extent = max(bottom - top, right - left)
    ink, mask = ink[top:bottom, left:right], mask[top:bottom, left:right]
    if canvas and (extent < MIN_EXTENT * side or _is_dot(mask, side)):
        return None, DOT  # a click: however wide the pen, its extent is about one stroke width
    factor = int(np.ceil(extent / MAX_WORK))
    if factor > 1:  # max-pool big crops first: keeps thin strokes, bounds the filter cost
        ink, mask = _max_pool(ink, factor), _max_pool(mask, factor)
        extent = max(ink.shape)
    scale = BOX / extent
    crop = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    width_out = _stroke_width(mask) * scale
    if width_out < TARGET_STROKE[0]:
        size = int(np.ceil((2.0 - width_out) / scale)) | 1  # odd kernel, pixels of the crop
        crop = crop.filter(ImageFilter.MaxFilter(min(size, 63)))
    elif width_out > TARGET_STROKE[1]:
        size = int(np.floor((width_out - 2.5) / scale)) | 1
        crop = crop.filter(ImageFilter.MinFilter(min(size, 63)))
    h, w = ink.shape
    new_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(crop.resize(new_size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BILINEAR),
                       dtype=np.float32) / 255.0
    small = np.clip(small, 0.0, 1.0)
    if small.max() <= 0:
        return None, EMPTY
    small /= small.max()
    out = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = (SIZE - new_size[1]) // 2, (SIZE - new_size[0]) // 2
    out[y0:y0 + new_size[1], x0:x0 + new_size[0]] = small
    return _shift_to_centre_of_mass(out), ""


def to_model_input(image: np.ndarray | None, canvas: bool = True,
                   background: float | None = None) -> np.ndarray | None:
    """:func:`prepare`'s model input alone: ``(28, 28) float32`` in [0, 1] with ink = 1, or None
    for an empty sketch (arguments as for :func:`prepare`)."""
    return _prepare(image, canvas, background)[0]


def batch_to_model_input(images, canvas: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Preprocess many images with :func:`to_model_input` (dataset rules unless ``canvas``).

    Arguments:
        images: iterable of images (each any accepted shape), or an ``(n, H, W)`` array.

    Returns:
        ``(x, ok)``: ``x`` is ``(n, 28, 28) float32`` (zeros where empty), ``ok`` is ``(n,) bool``,
        False for images with no ink.
    """
    out, ok = [], []
    for image in images:
        x = to_model_input(image, canvas)
        ok.append(x is not None)
        out.append(np.zeros((SIZE, SIZE), np.float32) if x is None else x)
    return np.stack(out) if out else np.zeros((0, SIZE, SIZE), np.float32), np.array(ok, bool)


def to_display(x: np.ndarray, scale: int = 4) -> np.ndarray:
    """A model input ``(28, 28) float32`` as a dark-on-light ``uint8`` image enlarged ``scale``
    times (nearest neighbour, so the pixels the model saw stay visible)."""
    img = np.round((1.0 - np.clip(x, 0, 1)) * 255).astype(np.uint8)
    return np.kron(img, np.ones((scale, scale), np.uint8))


def to_dark_on_light(image: np.ndarray, background: float | None = None) -> np.ndarray:
    """Any accepted image (canvas RGBA, RGB, grey; either polarity) as ``(H, W) uint8`` dark ink
    on white, at its original size: how sketches are stored for display. ``background``: see
    :func:`ink_map`."""
    return np.round(255.0 * (1.0 - ink_map(image, background))).astype(np.uint8)
