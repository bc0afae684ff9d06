"""Streamlit helpers shared by the pages: cached loaders and ``*_ui()`` widgets. The work itself
happens in :mod:`siamese`; nothing here is needed outside the app."""
from __future__ import annotations

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from siamese import ModelLoadError, load_matcher  # noqa: E402
from siamese.gallery import Gallery  # noqa: E402
from siamese.preprocess import to_display  # noqa: E402

CANVAS_PX = 280
"""Side of the drawing canvas, pixels (10x the model's 28x28 input, as MNIST's 20x20 box)."""


@st.cache_resource(show_spinner="Loading the Siamese model…")
def get_matcher():
    """The matcher, loaded and warmed up once per server process (shared by all sessions).
    Returns ``(matcher, None)`` or ``(None, error message)``."""
    try:
        return load_matcher(os.environ.get("SIAMESE_MODEL") or None), None
    except ModelLoadError as exc:
        return None, str(exc)


@st.cache_resource(show_spinner="Preparing the reference sets…")
def get_gallery():
    """The reference-set database, with the default sets built on first run.
    Returns ``(gallery, [messages about missing data])``."""
    from siamese.references import seed_default_sets

    gallery = Gallery()
    matcher, _ = get_matcher()
    return gallery, seed_default_sets(gallery, matcher)


def md_escape(text: str) -> str:
    """Backslash-escape Markdown so user text shown inside a message stays plain text."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$:&])", r"\\\1", str(text))


def canvas_ui(key: str, height: int = CANVAS_PX):
    """The drawing canvas (with undo, redo and clear in its toolbar).

    Returns:
        the canvas RGBA ``(H, W, 4) uint8`` or None before the component has reported.
    """
    from streamlit_drawable_canvas import st_canvas  # registers a component: only under Streamlit

    width = st.sidebar.slider("Pen width (pixels)", 4, 40, 18, key=f"{key}_pen")
    result = st_canvas(stroke_width=width, stroke_color="#000000", background_color="#FFFFFF",
                       height=height, width=height, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=key)
    return None if result is None else result.image_data


def model_input_ui(x: np.ndarray, caption: str = "What the model saw (28×28)") -> None:
    """Show a model input enlarged, pixel by pixel."""
    st.image(to_display(x, scale=4), caption=caption)


def require_matcher():
    """The matcher, or stop the page with the load error shown."""
    matcher, error = get_matcher()
    if matcher is None:
        st.error("The model could not be loaded, so matching is unavailable.")
        st.text(error)
        st.stop()
    return matcher
