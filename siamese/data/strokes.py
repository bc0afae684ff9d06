"""Strokes -> the image the Draw page's canvas sends: one renderer for training, calibration, the
Digits set, the benchmarks and the tests.

The app's canvas (streamlit-drawable-canvas, ``ui.sketch_ui``) is a 280 px square, white, with a
black free-draw pen 18 px wide by default (the sidebar slider: 4-40 px); it returns RGBA
``(280, 280, 4) uint8``. A stroke is the list of points of one pen-down; a single point is a click,
which the canvas paints as a disc of the pen's width. Lines are drawn with Pillow
(``ImageDraw.line(..., joint="curve")``), as fabric.js draws the free-draw path: round joints.

Pen trajectories from datasets (UNIPEN pen digits: tablet units, y up; Omniglot stroke files:
``x, y, t`` with y down) are first fitted into a share of the canvas (:func:`fit_strokes`), as a
person fills about 60% of it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CANVAS_PX = 280
"""Side of the Draw page's canvas in pixels (``ui.CANVAS_PX``)."""
PEN_PX = 18
"""Default pen width of the canvas in pixels."""
SPAN = 0.6
"""Share of the canvas side a fitted drawing fills (its longer side), as people draw."""
WHITE = (255, 255, 255, 255)
BLACK = (0, 0, 0, 255)


def fit_strokes(strokes, span: float = SPAN, y_up: bool = False) -> list[list[tuple[float, float]]]:
    """Scale and centre a drawing into ``span`` of a unit canvas, keeping its aspect ratio.

    Arguments:
        strokes: list of strokes, each a list of points ``[x, y]`` or ``[x, y, t]`` in any unit
            (extra coordinates are ignored).
        span: the longer side of the drawing's bounding box as a fraction of the canvas side.
        y_up: True when y points up in the source (UNIPEN tablets): it is flipped.

    Returns:
        The strokes in canvas fractions ``(x, y)``, y down, bounding box centred on (0.5, 0.5).

    Raises:
        ValueError: no point at all, or ``span`` not in (0, 1].
    """
    if not 0 < span <= 1:
        raise ValueError(f"span must be in (0, 1], not {span}")
    sign = -1.0 if y_up else 1.0
    pts = [[(float(p[0]), sign * float(p[1])) for p in s] for s in strokes if len(s)]
    if not pts:
        raise ValueError("a drawing needs at least one point")
    xs = np.array([p[0] for s in pts for p in s])
    ys = np.array([p[1] for s in pts for p in s])
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    size = max(xs.max() - xs.min(), ys.max() - ys.min()) or 1.0
    return [[(0.5 + span * (x - cx) / size, 0.5 + span * (y - cy) / size) for x, y in s] for s in pts]


def render_strokes(strokes, size: int = CANVAS_PX, width: float = PEN_PX, ink=BLACK, background=WHITE) -> np.ndarray:
    """Draw strokes given in canvas fractions as the canvas would send them.

    Arguments:
        strokes: list of strokes, each a list of ``(x, y)`` in [0, 1] canvas fractions, y down
            (:func:`fit_strokes` makes them from dataset trajectories).
        size: canvas side in pixels; width: pen width in pixels (a one-point stroke is a disc of
            that diameter); ink, background: RGBA colours (the app: black on white; the
            component's own default background is transparent ``(0, 0, 0, 0)``).

    Returns:
        ``(size, size, 4) uint8`` RGBA, the shape and dtype ``st_canvas(...).image_data`` has.

    Raises:
        ValueError: ``size`` or ``width`` not positive.
    """
    from PIL import Image, ImageDraw

    if size < 1 or width <= 0:
        raise ValueError(f"size and width must be positive, not {size} and {width}")
    img = Image.new("RGBA", (size, size), tuple(background))
    draw = ImageDraw.Draw(img)
    pen = max(1, int(round(width)))
    for stroke in strokes:
        pts = [(x * size, y * size) for x, y in stroke]
        if not pts:
            continue
        if len(pts) == 1:
            (x, y), r = pts[0], (pen - 1) / 2  # Pillow includes both edges of the box
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(ink))
        else:
            draw.line(pts, fill=tuple(ink), width=pen, joint="curve")
            for x, y in (pts[0], pts[-1]):  # round caps, as the canvas's pen ends a line
                r = (pen - 1) / 2
                draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(ink))
    return np.asarray(img)


def pen_digit_sketch(item: dict, width: float = PEN_PX, size: int = CANVAS_PX, span: float = SPAN) -> np.ndarray:
    """A UNIPEN pen digit (``{"label", "writer", "strokes": [[[x, y], ...], ...]}``, tablet units,
    y up) as the canvas sends it: black pen of ``width`` px on a white ``size`` px canvas, the
    digit filling ``span`` of it. Returns ``(size, size, 4) uint8``."""
    return render_strokes(fit_strokes(item["strokes"], span, y_up=True), size, width)


def load_pen_digits(name: str = "pen_digits_train") -> list[dict]:
    """The UNIPEN pen digits of ``$SIAMESE_DATA_DIR/unipen/<name>.json`` (see the data README):
    ``pen_digits_train`` (6,689 digits, 93 writers) is for training, calibration and choice;
    ``pen_digits`` (1,000 digits, 50 other writers) is a test set.

    Raises:
        siamese.data.datasets.DatasetError: the file is missing or not such a list.
    """
    from siamese import paths
    from siamese.data.datasets import DatasetError

    path = Path(paths.data_dir()) / "unipen" / f"{name}.json"
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        ok = isinstance(items, list) and all({"label", "writer", "strokes"} <= set(it) for it in items)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"UNIPEN pen digits not readable at {path}: {exc}") from exc
    if not ok:
        raise DatasetError(f"{path} is not a list of {{label, writer, strokes}} digits")
    return items


def split_writers(items: list[dict], validation_every: int = 5) -> tuple[list[dict], list[dict]]:
    """Writer-disjoint split of pen digits: writers in sorted order, every ``validation_every``-th
    one (the 1st, 6th, ...) goes to validation (one person's digits look alike, so a split by
    digit would flatter). Returns ``(training items, validation items)``, each in file order."""
    writers = sorted({it["writer"] for it in items})
    held = set(writers[::validation_every])
    return [it for it in items if it["writer"] not in held], [it for it in items if it["writer"] in held]


def pen_digit_inputs(items: list[dict], widths=(PEN_PX,)) -> tuple[np.ndarray, np.ndarray]:
    """Pen digits rendered as canvas sketches at each pen width, then preprocessed as the app
    prepares a sketch (:func:`siamese.data.preprocess.to_model_input`, canvas rules, white page).

    Returns:
        ``(inputs (m, 28, 28) float32 in [0, 1], labels (m,) int)``, width by width in item order;
        a rendering the app would refuse (none seen in the UNIPEN files) is left out.
    """
    from siamese.data.preprocess import to_model_input

    xs, ys = [], []
    for w in widths:
        for it in items:
            x = to_model_input(pen_digit_sketch(it, w), canvas=True, background=255)
            if x is not None:
                xs.append(x)
                ys.append(int(it["label"]))
    return np.stack(xs).astype(np.float32), np.array(ys, int)
