"""Streamlit helpers shared by the pages: cached loaders and ``*_ui()`` widgets. The work itself
happens in :mod:`siamese`; nothing here is needed outside the app."""
from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from siamese import load_matcher  # noqa: E402
from siamese.gallery import Gallery  # noqa: E402
from siamese.index import ReferenceIndex  # noqa: E402
from siamese.preprocess import to_display  # noqa: E402

CANVAS_PX = 280
"""Side of the drawing canvas, pixels (10x the model's 28x28 input, as MNIST's 20x20 box)."""
CANVAS_BACKGROUND = 255
"""Grey level of the canvas's page (white, ``background_color`` of :func:`canvas_ui`): passed to
the preprocessing, so a sketch that inks most of the canvas is never read as its negative."""


RETRY_AFTER_S = 10.0
"""A load that failed (the model file, a dataset) is tried again on the first rerun after this
many seconds: a failure is never cached as a result, and a class of 30 rerunning every stroke
does not retry it 30 times a second."""
_failures: dict = {}
_failures_lock = threading.Lock()


def _retrying(key, load):
    """``(load(), None)``, or ``(None, message)`` when ``load`` raised: the message is served
    from memory for ``RETRY_AFTER_S`` seconds, then ``load`` runs again. Successes are cached by
    ``load`` itself (``st.cache_resource`` never caches an exception)."""
    with _failures_lock:
        failed = _failures.get(key)
    if failed and time.monotonic() - failed[0] < RETRY_AFTER_S:
        return None, failed[1]
    try:
        value = load()
    except Exception as exc:  # noqa: BLE001 - any failure is shown, then retried
        with _failures_lock:
            _failures[key] = (time.monotonic(), str(exc))
        return None, str(exc)
    with _failures_lock:
        _failures.pop(key, None)
    return value, None


@st.cache_resource(show_spinner="Loading the Siamese model…")
def _matcher_resource(path):
    """A matcher, loaded and warmed up once per server process and model file (shared by all
    sessions). Raises ModelLoadError, which is not cached."""
    return load_matcher(path)


def load_matcher_cached(path):
    """``(matcher, None)`` or ``(None, error message)``; a failed load is retried (see
    ``RETRY_AFTER_S``), so a model file put in place later is picked up without a restart."""
    return _retrying(("model", path), lambda: _matcher_resource(path))


def get_matcher():
    """The matcher this session chose in the sidebar (default: ``SIAMESE_MODEL`` or the shipped
    model). Returns ``(matcher, None)`` or ``(None, error message)``."""
    return load_matcher_cached(st.session_state.get("model_path") or os.environ.get("SIAMESE_MODEL") or None)


def model_picker_ui() -> None:
    """Sidebar choice between the shipped model and models trained in the app."""
    from siamese.user_models import available_models

    models = available_models()
    if len(models) < 2 or os.environ.get("SIAMESE_MODEL"):
        return
    labels = [label for label, _ in models]
    current = st.session_state.get("model_path")
    index = next((i for i, (_, p) in enumerate(models) if str(p) == current), 0)
    choice = st.sidebar.selectbox("Model", labels, index=index, help="Reference embeddings are recomputed "
                                  "for the chosen model; different models' distances are never mixed.")
    st.session_state["model_path"] = str(models[labels.index(choice)][1])


@st.cache_resource
def _gallery_resource(home: str):
    """The reference-set database of one ``SIAMESE_HOME`` and its search index (its embeddings
    cached in memory), shared by all sessions."""
    gallery = Gallery()
    return gallery, ReferenceIndex(gallery)


@st.cache_resource(show_spinner="Preparing the reference sets…")
def _default_sets(home: str, data: str) -> bool:
    """Build the default reference sets; True once they all exist. Raises (not cached) with the
    user-facing messages when a dataset is missing, so a later call tries again."""
    from siamese.references import seed_default_sets

    matcher, _ = load_matcher_cached(os.environ.get("SIAMESE_MODEL") or None)
    problems = seed_default_sets(_gallery_resource(home)[0], matcher)
    if problems:
        raise RuntimeError("\n".join(problems))
    return True


def get_gallery():
    """The reference-set database, with the default sets built on first run.
    Returns ``(gallery, [messages about missing data])``; missing datasets are looked for again
    (see ``RETRY_AFTER_S``), so data put in place later is picked up without a restart."""
    from siamese.paths import data_dir, home_dir

    home, data = str(home_dir()), str(data_dir())
    _, error = _retrying(("default sets", home, data), lambda: _default_sets(home, data))
    return _gallery_resource(home)[0], (error.split("\n") if error else [])


def get_index() -> ReferenceIndex:
    """The search index over :func:`get_gallery`'s database (one per server process)."""
    from siamese.paths import home_dir

    return _gallery_resource(str(home_dir()))[1]


def file_slug(name: str) -> str:
    """A safe file name stem for a user-named set."""
    import re
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "reference-set"


def count(n: int, noun: str) -> str:
    """'1 symbol', '2 symbols'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def error_ui(summary: str, detail: str) -> None:
    """An error box with a fixed summary, and the detail (which may hold user-typed names) as
    plain text: user text never goes through Markdown, so it cannot become bold, a link or HTML."""
    st.error(summary)
    st.text(detail)


_CANVAS_TOOLBAR_CSS = """
.dc-root { display: flex !important; flex-direction: column !important; }
.dc-toolbar { position: static !important; order: -1; align-self: flex-end; max-width: 100%;
              opacity: 1 !important; padding: 0 0 .25rem !important; transition: none !important; }
.dc-toolbar-card { flex-wrap: wrap; }
@media (pointer: coarse) {  /* fingertip-sized buttons: 40 px */
  .dc-icon-button { padding: .625rem !important; }
  .dc-icon-button svg { width: 1.25rem !important; height: 1.25rem !important; }
}"""
"""The canvas toolbar in the flow, above the canvas and right-aligned, always opaque (a finger
cannot hover to reveal it), and wrapping rather than overflowing a phone's width."""


_CANVAS_TOOLBAR_JS = """<script>(() => {
  const key = %(key)s, css = %(css)s, id = "siamese-toolbar-above";
  const fix = () => document.querySelectorAll(".st-key-" + CSS.escape(key) + " *").forEach((el) => {
    const root = el.shadowRoot;  // the canvas component's (open) shadow root
    if (!root || root.getElementById(id)) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = css;
    root.appendChild(style);
    new MutationObserver(fix).observe(root, {childList: true});
  });
  fix();
  const flag = "__siameseToolbarAbove_" + key;  // one watcher per canvas key and browser tab
  if (!window[flag]) {
    let queued = false;
    window[flag] = new MutationObserver(() => {
      if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fix(); }); }
    });
    window[flag].observe(document.body, {childList: true, subtree: true});
  }
})();</script>"""


def _canvas_toolbar_above(key: str) -> None:
    """Put the canvas's toolbar (undo, redo, clear) in the flow above the canvas, always shown.

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
    canvas works as before."""
    import json

    st.sidebar.html(_CANVAS_TOOLBAR_JS % {"key": json.dumps(key), "css": json.dumps(_CANVAS_TOOLBAR_CSS)},
                    unsafe_allow_javascript=True)


def canvas_ui(key: str, height: int = CANVAS_PX):
    """The drawing canvas, with undo, redo and clear in a toolbar above it.

    Every pixel of the canvas takes strokes, from a mouse, a pen or a finger, and a finger drawing
    on it never scrolls the page (see :func:`_canvas_toolbar_above`).

    Returns:
        the canvas RGBA ``(H, W, 4) uint8`` or None before the component has reported.
    """
    from streamlit_drawable_canvas import st_canvas  # registers a component: only under Streamlit

    width = st.sidebar.slider("Pen width (pixels)", 4, 40, 18, key=f"{key}_pen")
    _canvas_toolbar_above(key)
    result = st_canvas(stroke_width=width, stroke_color="#000000", background_color="#FFFFFF",
                       height=height, width=height, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=key)
    return None if result is None else result.image_data


def model_input_ui(x: np.ndarray, caption: str = "What the model saw (28×28)") -> None:
    """Show a model input enlarged, pixel by pixel."""
    st.image(to_display(x, scale=4), caption=caption)


def require_matcher():
    """The chosen matcher (sidebar), or stop the page with the load error shown."""
    model_picker_ui()
    matcher, error = get_matcher()
    if matcher is None:
        st.error("The model could not be loaded, so matching is unavailable.")
        st.text(error)
        st.stop()
    return matcher


@st.cache_resource
def training_job():
    """The server-wide training job: one comparison at a time, shared by all sessions."""
    from siamese.compare import TrainingJob
    return TrainingJob()


@st.cache_resource
def variant_summaries() -> dict:
    """``{key: (name, parameters, Keras summary text)}`` for the lecture's three variants."""
    from siamese.models import VARIANTS
    out = {}
    for key, (name, build) in VARIANTS.items():
        model, lines = build(), []
        model.summary(print_fn=lambda line, **kw: lines.append(line), line_length=90)
        out[key] = (name, model.count_params(), "\n".join(lines))
    return out


@st.cache_data(show_spinner=False)
def _peek_pairs(n: int, seed: int, data: str):
    from siamese.data import load_mnist
    from siamese.pairs import make_pairs

    _, (x, y) = load_mnist()  # raises DatasetError, which is not cached
    left, right, same = make_pairs(x[:200], y[:200], np.random.default_rng(seed))
    return [(255 - left[i], 255 - right[i], bool(same[i])) for i in range(n)]


def peek_pairs(n: int = 8, seed: int = 0):
    """``n`` MNIST test pairs ``[(left uint8, right uint8, same bool)]`` as :func:`make_pairs`
    builds them, or None without MNIST (looked for again after ``RETRY_AFTER_S``)."""
    from siamese.paths import data_dir

    data = str(data_dir())
    return _retrying(("pairs", n, seed, data), lambda: _peek_pairs(n, seed, data))[0]


def history_charts(epochs, batches) -> None:
    """Live charts, one colour per variant: pair accuracy and loss per epoch (train solid,
    validation dashed), and running pair accuracy within epochs."""
    import altair as alt

    colour = alt.Color("variant:N", title=None, legend=alt.Legend(orient="bottom", columns=1, labelLimit=0))
    cols = st.columns(2) + [st.container()]
    if len(epochs):
        for col, metric, title in ((cols[0], "pair_accuracy", "Pair accuracy per epoch"),
                                   (cols[1], "loss", "Loss per epoch")):
            long = epochs.melt(id_vars=["variant", "epoch"], value_vars=[metric, "val_" + metric],
                               var_name="split", value_name="value")
            long["split"] = long["split"].map({metric: "train", "val_" + metric: "validation"})
            chart = alt.Chart(long, title=title).mark_line(point=True).encode(
                x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")), y=alt.Y("value:Q", title=None,
                scale=alt.Scale(zero=False)), color=colour,
                strokeDash=alt.StrokeDash("split:N", title=None, legend=alt.Legend(orient="bottom")))
            col.altair_chart(chart, width="stretch")
    else:
        cols[0].caption("Epoch charts appear when the first epoch ends.")
    chart = alt.Chart(batches, title="Within epochs: running train pair accuracy").mark_line().encode(
        x=alt.X("progress:Q", title="epochs"), y=alt.Y("pair_accuracy:Q", title=None, scale=alt.Scale(zero=False)),
        color=colour)
    cols[2].altair_chart(chart, width="stretch")


@st.cache_resource(show_spinner="Loading the Omniglot evaluation alphabets…")
def _evaluation_resource(data: str):
    from siamese.data import load_omniglot
    return load_omniglot("evaluation")  # raises DatasetError, which is not cached


def evaluation_set():
    """``(Omniglot evaluation split, None)`` or ``(None, message)`` when it is not available
    (looked for again after ``RETRY_AFTER_S``)."""
    from siamese.paths import data_dir

    data = str(data_dir())
    return _retrying(("evaluation", data), lambda: _evaluation_resource(data))


@st.cache_resource(show_spinner="Embedding the 13,180 evaluation drawings…", max_entries=4)
def evaluation_embeddings(model_id: str, _matcher):
    """``(13180, d) float32`` embeddings of the evaluation split, once per model."""
    ev, _ = evaluation_set()
    return _matcher.embed_inputs(ev.images)
