"""The drawing canvas: its pen-width slider, the script that moves its toolbar above it and sends each
stroke at pen-up (``canvas.css``, ``canvas.js``), and the sketch it returns."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

_HERE = Path(__file__).parent
CANVAS_PX = 280
"""Side of the drawing canvas, pixels (10x the model's 28x28 input, as MNIST's 20x20 box)."""


CANVAS_BACKGROUND = 255
"""Grey level of the canvas's page (white, ``background_color`` of :func:`canvas_ui`): passed to
the preprocessing, so a sketch that inks most of the canvas is never read as its negative."""


_CANVAS_TOOLBAR_CSS = (_HERE / "canvas.css").read_text()
"""The canvas toolbar in the flow, above the canvas and right-aligned, always opaque (a finger
cannot hover to reveal it), and wrapping rather than overflowing a phone's width. It shows undo, redo
and clear, each doing what its icon says. streamlit-drawable-canvas 0.13 also shows "Update the app
with this drawing" (an upload arrow that means nothing to a student now that every stroke is sent
at pen-up) and "Edit", a pencil that does not draw but switches the canvas to moving, scaling and
deleting strokes (a drawn 1 is dragged off the canvas), with its contextual buttons; neither has an
``st_canvas`` option, so they are hidden here."""


_CANVAS_TOOLBAR_JS = "<script>" + (_HERE / "canvas.js").read_text() + "</script>"


def canvas_toolbar_above(key: str) -> None:
    """Put the canvas's toolbar (undo, redo, clear, and nothing else: :data:`_CANVAS_TOOLBAR_CSS`)
    in the flow above the canvas, always shown.

    streamlit-drawable-canvas 0.13 floats it at the canvas's top-right corner (``top: -1rem;
    right: 0``, 141x46 px), transparent until the pointer hovers the canvas, and only then moved up
    out of the way: until then it lies over the canvas's top 30 px from x = 139 px to the right
    edge and takes every stroke that starts there. A finger never hovers, so on a phone those
    strokes are lost and, the toolbar allowing touch panning, scroll the page instead; a mouse or
    pen pressed as soon as it arrives beats the hover transition. No ``st_canvas`` option moves or
    hides the toolbar (only ``disabled``, which also stops drawing), and its styles live in the
    component's shadow root, out of reach of the page's CSS: this script adds
    :data:`_CANVAS_TOOLBAR_CSS` to the shadow root inside the element with Streamlit's class
    ``st-key-<key>``, and again whenever Streamlit re-creates it. Should the script not run, the
    canvas works as before.

    The same script sends each stroke as soon as the pen lifts. The component sends a finished
    stroke only after 200 ms without another one (its ``sender.schedule``, a debounce; measured
    from mouse-up to the request: 205 ms of the 350 ms a person waited, ``benchmarks/latency.py``),
    and has no option for it; its toolbar's "Update the app with this drawing" button sends at once
    and cancels the pending send, so the script presses it just after every pointer-up of a stroke
    that began on the canvas (after the component's own mouse-up work, which records the stroke).
    Undo, redo and clear already send at once.

    A stroke that no script run follows within 2.5 s of an idle, connected page was dropped by
    the server, and the script then reruns the whole app (Streamlit's "r" key), which carries every
    widget's state, the stroke's too. That happens after a server restart (#24 item 5): a stroke
    on Draw & match reruns its fragment, Streamlit 1.67 drops a rerun of a fragment the session
    does not hold ("The fragment with id ... does not exist anymore", ``AppSession.request_rerun``),
    and the new server's session holds none until a full run, which the browser does not always
    ask for when it reconnects (only when its last run was a fragment's, or was still running).
    Measured in headless Chromium, a 1 drawn as the server came back: lost every time, "Empty
    sketch" under the inked canvas, on each of three restarts; matched with the rerun (the first
    run of a new server takes about 10 s, TensorFlow loading). No server-side hook runs before a
    new process's first request (see ``ui.nav.page_found_ui``), so the fix is here."""
    import json

    st.sidebar.html(_CANVAS_TOOLBAR_JS % {"key": json.dumps(key), "css": json.dumps(_CANVAS_TOOLBAR_CSS)},
                    unsafe_allow_javascript=True)


def canvas_controls_ui(key: str) -> int:
    """The canvas's sidebar part: the pen width slider, and the script that moves the toolbar and
    sends strokes at once (:func:`canvas_toolbar_above`). Call it outside a fragment (a fragment
    may not write to the sidebar), then :func:`canvas_ui` with its result inside one.

    Returns:
        the pen width in canvas pixels (4-40, default 18).
    """
    width = st.sidebar.slider("Pen width (pixels)", 4, 40, 18, key=f"{key}_pen")
    canvas_toolbar_above(key)
    return width


@dataclass(frozen=True)
class Sketch:
    """What the canvas holds.

    Attributes:
        image: the canvas RGBA ``(H, W, 4) uint8`` (or, under AppTest, any image a test left in
            ``st.session_state[key + "_sketch"]``), or None before the component has reported.
        strokes: how many strokes are on the canvas (undo removes one; 0 when clear).
    """
    image: np.ndarray | None
    strokes: int


def sketch_ui(key: str, height: int = CANVAS_PX, pen_width: int | None = None) -> Sketch:
    """The drawing canvas, with undo, redo and clear in a toolbar above it.

    Every pixel of the canvas takes strokes, from a mouse, a pen or a finger, and a finger drawing
    on it never scrolls the page (see :func:`canvas_toolbar_above`).

    Arguments:
        key: the canvas's widget key.
        height: its side in pixels.
        pen_width: from :func:`canvas_controls_ui`; None: show those controls here (in the sidebar,
            so not inside a fragment).

    Returns:
        :class:`Sketch`. The component reports nothing under AppTest: then the image is
        ``st.session_state[key + "_sketch"]`` and the strokes ``st.session_state[key +
        "_strokes"]`` (default 1 with an image, else 0), as a test left them.
    """
    from streamlit_drawable_canvas import st_canvas  # registers a component: only under Streamlit

    if pen_width is None:
        pen_width = canvas_controls_ui(key)
    result = st_canvas(stroke_width=pen_width, stroke_color="#000000", background_color="#FFFFFF",
                       height=height, width=height, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=key)
    image = None if result is None else result.image_data
    if image is None:
        image = st.session_state.get(f"{key}_sketch")
        return Sketch(image, st.session_state.get(f"{key}_strokes", 0 if image is None else 1))
    return Sketch(image, len((result.json_data or {}).get("objects", [])))


def canvas_ui(key: str, height: int = CANVAS_PX, pen_width: int | None = None):
    """:func:`sketch_ui`'s image alone: the canvas RGBA ``(H, W, 4) uint8``, or None before the
    component has reported (see there for the arguments)."""
    return sketch_ui(key, height, pen_width).image
