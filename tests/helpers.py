"""Helpers shared by the tests (no test module imports another): sketches as the canvas returns
them, a TensorFlow-free matcher, the AppTest harness. Fixtures live in conftest.py."""
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from siamese.classroom import SOLO
from siamese.gallery.gallery import Gallery
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.matching import register_sketch
from siamese.search.index import embed_for_storage

ROOT = Path(__file__).resolve().parent.parent


def sketch(strokes, size=280, width=18, ink=(0, 0, 0, 255), background=(0, 0, 0, 0)):
    """A canvas-like RGBA (size, size, 4) uint8 image with polyline strokes given in canvas
    fractions, as streamlit-drawable-canvas returns it (transparent background by default); a
    one-point stroke is a click (a disc of the pen's width)."""
    img = Image.new("RGBA", (size, size), background)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [(x * size, y * size) for x, y in stroke]
        if len(pts) == 1:  # a click: the canvas paints a disc of the pen's width
            (x, y), r = pts[0], width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
        else:
            draw.line(pts, fill=ink, width=width, joint="curve")
    return np.asarray(img)


SHAPES = {
    "one": [[(0.5, 0.15), (0.5, 0.85)]],
    "seven": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "zigzag": [[(0.2, 0.3), (0.4, 0.7), (0.6, 0.3), (0.8, 0.7)]],
    "cross": [[(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]],
    "zero": [[(0.5 + 0.22 * np.sin(t / 24 * 2 * np.pi), 0.5 - 0.32 * np.cos(t / 24 * 2 * np.pi)) for t in range(25)]],
    "star": [[(0.5, 0.15), (0.62, 0.85), (0.15, 0.4), (0.85, 0.4), (0.38, 0.85), (0.5, 0.15)]],
}


def pen_strokes(item, span=0.6):
    """A UNIPEN pen digit (``{"strokes": [[[x, y], ...], ...]}``, tablet units, y up) as canvas
    strokes: y flipped and the digit fitted, centred, into ``span`` of the canvas, as a person
    draws on it."""
    strokes = [[(x, -y) for x, y in s] for s in item["strokes"]]
    xs = [p[0] for s in strokes for p in s]
    ys = [p[1] for s in strokes for p in s]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    size = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    return [[(0.5 + span * (x - cx) / size, 0.5 + span * (y - cy) / size) for x, y in s] for s in strokes]


class FakeMatcher:
    """Embeds an input as its row and column ink sums (56-d): deterministic, no TensorFlow."""

    def __init__(self, model_id="fake-1", scale=1.0):
        self.model_id, self.scale, self.calls = model_id, scale, 0
        self.dim = 56
        self.threshold = 1.0

    def embed_inputs(self, x):
        self.calls += 1
        x = np.asarray(x, np.float32).reshape(-1, 28, 28)
        return (self.scale * np.concatenate([x.sum(1), x.sum(2)], axis=1)).astype(np.float32)


def image(seed):
    return np.random.default_rng(seed).random((28, 28)).astype(np.float32)


V2_DATABASE = Path(__file__).parent / "data" / "gallery-v2.sqlite3"
"""Written by the Gallery of the release before the classroom (schema 2, "My symbols"); how, in
tests/data/make_gallery_v2.py."""


def emb(matcher, x):
    """``(model id, vector)`` of one model input as it will be stored."""
    model_id, vectors = embed_for_storage(matcher, [x])
    return model_id, vectors[0]


def app(page=None, query=None, passcode=None, state=None):
    """The app as AppTest runs it, with fresh caches (each test gets its own SIAMESE_HOME): opened at
    ``page``, with a teacher ``passcode`` in Streamlit's secrets (None: solo mode), ``query``
    parameters in the URL, and ``state`` put in the session state before the page's first run."""
    from ui import resources
    st.cache_resource.clear()
    st.cache_data.clear()
    resources._failures.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if passcode is not None:
        at.secrets["teacher_passcode"] = passcode
    at.query_params.update(query or {})
    at.run()
    if page:
        at.switch_page(page)
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
    assert not at.exception, at.exception
    return at


PASSCODE = "owl-42 secret"
"""The teacher passcode of :func:`class_app`."""


def class_app(page=None, query=None, passcode=PASSCODE):
    """:func:`app` in classroom mode: a teacher passcode configured (None: solo mode)."""
    return app(page, query=query, passcode=passcode)


def everything_shown(at) -> str:
    """Every string the page shows, widgets' labels and values included."""
    parts = [texts(at)] + [c.value for c in at.caption] + [c.value for c in at.code]
    for kind in ("text_input", "button", "selectbox", "radio", "checkbox"):
        for w in getattr(at, kind):
            parts += [str(w.label), str(getattr(w, "value", "")), " ".join(map(str, getattr(w, "options", [])))]
    return "\n".join(parts)


def click(at, label):
    """Press the button labelled ``label`` and rerun."""
    return next(b for b in at.button if b.label == label).click().run()


def join(at, name):
    """Join the class under ``name`` (the join form)."""
    at.text_input(key="join_name").input(name)  # a form: sent with its button
    return click(at, "Join")


def unlock(at, passcode=PASSCODE):
    """Unlock the teacher's controls with ``passcode``."""
    at.text_input(key="passcode").input(passcode)
    return click(at, "Unlock")


def texts(at):
    return "\n".join([t.value for t in at.text] + [m.value for m in at.markdown] + [e.value for e in at.info]
                     + [e.value for e in at.warning] + [e.value for e in at.error] + [e.value for e in at.success])


def add_symbol(name, strokes):
    from siamese import load_matcher
    register_sketch(sketch(strokes), Gallery(), CLASS_SYMBOLS, name, load_matcher(), actor=SOLO)
