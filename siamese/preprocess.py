"""One preprocessing path for canvas sketches and dataset images, so both live in the same space.

The model input follows the MNIST convention (LeCun et al., http://yann.lecun.com/exdb/mnist/):
ink = 1 on background = 0, the ink fitted in a 20x20 box with its aspect ratio kept, then placed
in a 28x28 image so that its centre of mass is at the centre. On top of that, stroke width is
normalised (a thin 3 px stroke on a 280 px canvas and a 40 px marker stroke both come out about
2 px wide at 28x28), so that how a user draws matters less than what they draw.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

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
"""Ink whose extent is under this many stroke widths is a dot (a click with a wide pen)."""
MIN_CONTRAST = 40
"""Ink must differ from the background by at least this many grey levels (of 255)."""


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


def ink_map(image: np.ndarray) -> np.ndarray:
    """Ink intensity of an image whatever its polarity (dark-on-light or light-on-dark).

    The background level is the backdrop of a transparent canvas when there is one (so a sketch
    that inks more than half the canvas keeps its polarity), else the median grey level (most of
    a sketch is background).

    Returns:
        ``(H, W)`` float32 in [0, 1], 1 = full ink; all zeros when nothing stands out from the
        background by at least ``MIN_CONTRAST`` grey levels.
    """
    gray, background = _gray_and_background(image)
    diff = np.abs(gray - (np.median(gray) if background is None else background))
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


def to_model_input(image: np.ndarray | None, min_extent: float = MIN_EXTENT) -> np.ndarray | None:
    """Turn a canvas result or a dataset image into the model input.

    Arguments:
        image: ``None`` (the canvas has not reported yet), or an image as accepted by
            :func:`to_gray`: a canvas RGBA ``(H, W, 4) uint8``, an Omniglot PNG as ``(105, 105)
            uint8`` (dark ink on white), an MNIST digit ``(28, 28) uint8`` (light ink on black).
        min_extent: ink confined to a box smaller than this fraction of the image side counts as
            empty. Dataset loaders pass 0: a few Omniglot characters are genuinely tiny (a dot).

    Returns:
        ``(28, 28) float32`` in [0, 1] with ink = 1, or ``None`` for an empty sketch: no image,
        no ink, or ink confined to a box smaller than ``min_extent`` of the image side (a dot, a
        stray click). Never raises for an empty sketch and never returns NaN.
    """
    if image is None:
        return None
    ink = ink_map(image)
    mask = ink > 0.25
    if not mask.any():
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    extent = max(bottom - top, right - left)
    if extent < min_extent * max(ink.shape):
        return None
    if min_extent > 0 and extent < DOT_RATIO * _stroke_width(mask[top:bottom, left:right]):
        return None  # a dot: however wide the pen, its extent is about one stroke width
    ink, mask = ink[top:bottom, left:right], mask[top:bottom, left:right]
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
        return None
    small /= small.max()
    canvas = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = (SIZE - new_size[1]) // 2, (SIZE - new_size[0]) // 2
    canvas[y0:y0 + new_size[1], x0:x0 + new_size[0]] = small
    return _shift_to_centre_of_mass(canvas)


def why_empty(image) -> str:
    """For a sketch that :func:`to_model_input` calls empty, a sentence saying why: nothing drawn,
    a canvas inked all over (nothing stands out from a dark page), or only a dot."""
    if image is None:
        return "Empty sketch: draw a symbol on the canvas."
    if ink_map(image).max() > 0:  # ink that to_model_input still refused: a dot
        return "Only a dot: draw a symbol with at least one stroke (a single click is not enough)."
    if to_gray(image).mean() < 128:
        return "The canvas is inked all over: clear it (bin icon above the canvas) and draw a symbol with lines."
    return "Empty sketch: draw a symbol on the canvas."


def batch_to_model_input(images, min_extent: float = MIN_EXTENT) -> tuple[np.ndarray, np.ndarray]:
    """Preprocess many images with :func:`to_model_input`.

    Arguments:
        images: iterable of images (each any accepted shape), or an ``(n, H, W)`` array.

    Returns:
        ``(x, ok)``: ``x`` is ``(n, 28, 28) float32`` (zeros where empty), ``ok`` is ``(n,) bool``,
        False for empty sketches.
    """
    out, ok = [], []
    for image in images:
        x = to_model_input(image, min_extent)
        ok.append(x is not None)
        out.append(np.zeros((SIZE, SIZE), np.float32) if x is None else x)
    return np.stack(out) if out else np.zeros((0, SIZE, SIZE), np.float32), np.array(ok, bool)


def to_display(x: np.ndarray, scale: int = 4) -> np.ndarray:
    """A model input ``(28, 28) float32`` as a dark-on-light ``uint8`` image enlarged ``scale``
    times (nearest neighbour, so the pixels the model saw stay visible)."""
    img = np.round((1.0 - np.clip(x, 0, 1)) * 255).astype(np.uint8)
    return np.kron(img, np.ones((scale, scale), np.uint8))


def to_dark_on_light(image: np.ndarray) -> np.ndarray:
    """Any accepted image (canvas RGBA, RGB, grey; either polarity) as ``(H, W) uint8`` dark ink
    on white, at its original size: how sketches are stored for display."""
    return np.round(255.0 * (1.0 - ink_map(image))).astype(np.uint8)
