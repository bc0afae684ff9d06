"""Small helpers and widgets every page uses: counts, error boxes, literal names, PNG data URLs, thumbnails."""
from __future__ import annotations

import functools
import re

import numpy as np
import streamlit as st

from siamese.data.preprocess import to_display
from siamese.gallery.gallery import Gallery

def file_slug(name: str) -> str:
    """A safe file name stem for a user-named set."""
    import re
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "reference-set"


def count(n: int, noun: str) -> str:
    """'1 symbol', '2 symbols'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def metric_labels_wrap_ui(key: str) -> None:
    """Let the labels of the metrics inside the container of ``key`` (``st.container(key=key)``)
    wrap onto a second line where their column is narrower than the label, instead of being cut
    ("The 20 official runs (Lake et al. 20…" at 1280 px, #24 item 13): Streamlit draws a metric's
    label on one line, ending in an ellipsis, and ``st.metric`` has no option for it. A style for
    Streamlit's ``st-key-<key>`` class of the container; without it the labels are cut as before."""
    st.html(f"<style>.st-key-{key} [data-testid=stMetricLabel] .stMarkdownEllipsis, "
            f".st-key-{key} [data-testid=stMetricLabel] .stMarkdownEllipsis p {{white-space: normal;}}</style>")


def error_ui(summary: str, detail: str) -> None:
    """An error box with a fixed summary, and the detail (which may hold user-typed names) as
    plain text: user text never goes through Markdown, so it cannot become bold, a link or HTML."""
    st.error(summary)
    st.text(detail)


def png_data_url(image: np.ndarray | bytes) -> str:
    """A ``data:image/png;base64,...`` URL of a grey ``(H, W) uint8`` image or of PNG bytes.

    ``st.image`` and chart tooltips show it from the page itself: no request back to the server
    for the file, and nothing re-encoded on a rerun when the URL is kept."""
    import base64
    import io

    if not isinstance(image, bytes):
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="PNG")
        image = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def model_input_ui(x: np.ndarray, caption: str = "What the model saw (28×28)") -> None:
    """Show a model input enlarged, pixel by pixel."""
    st.image(png_data_url(to_display(x, scale=4)), caption=caption)


@functools.lru_cache(maxsize=4096)
def thumbnail_url(gallery: Gallery, example_id: int) -> str:
    """An example's thumbnail as a data URL (:func:`png_data_url`), read once per process: an
    example never changes (ids are never reused; the cache holds the gallery object, so a gallery
    built later for another database cannot take its place).

    Raises:
        GalleryError: the example no longer exists (not cached).
    """
    return png_data_url(gallery.thumbnail(example_id))


def literal(text: str) -> str:
    """``text`` as a Markdown code span: shown exactly as typed inside st.success and the like (no
    emphasis, link or HTML from a user's symbol name)."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)  # longer than any inside
    return f"{fence} {text} {fence}"
