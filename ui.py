"""Streamlit helpers shared by the pages: cached loaders and ``*_ui()`` widgets. The work itself
happens in :mod:`siamese`; nothing here is needed outside the app."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from siamese import ModelLoadError, load_matcher  # noqa: E402
from siamese.gallery import Gallery  # noqa: E402
from siamese.preprocess import to_display  # noqa: E402

CANVAS_PX = 280
"""Side of the drawing canvas, pixels (10x the model's 28x28 input, as MNIST's 20x20 box)."""


@st.cache_resource(show_spinner="Loading the Siamese model…")
def load_matcher_cached(path):
    """A matcher, loaded and warmed up once per server process and model file (shared by all
    sessions). Returns ``(matcher, None)`` or ``(None, error message)``."""
    try:
        return load_matcher(path), None
    except ModelLoadError as exc:
        return None, str(exc)


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


@st.cache_resource(show_spinner="Preparing the reference sets…")
def get_gallery():
    """The reference-set database, with the default sets built on first run.
    Returns ``(gallery, [messages about missing data])``."""
    from siamese.references import seed_default_sets

    gallery = Gallery()
    matcher, _ = load_matcher_cached(os.environ.get("SIAMESE_MODEL") or None)
    return gallery, seed_default_sets(gallery, matcher)


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
def peek_pairs(n: int = 8, seed: int = 0):
    """``n`` MNIST test pairs ``[(left uint8, right uint8, same bool)]`` as :func:`make_pairs`
    builds them, or None without MNIST."""
    from siamese.data import DatasetError, load_mnist
    from siamese.pairs import make_pairs
    try:
        _, (x, y) = load_mnist()
    except DatasetError:
        return None
    left, right, same = make_pairs(x[:200], y[:200], np.random.default_rng(seed))
    return [(255 - left[i], 255 - right[i], bool(same[i])) for i in range(n)]


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
def evaluation_set():
    """``(Omniglot evaluation split, None)`` or ``(None, message)`` when it is not available."""
    from siamese.data import DatasetError, load_omniglot
    try:
        return load_omniglot("evaluation"), None
    except DatasetError as exc:
        return None, str(exc)


@st.cache_resource(show_spinner="Embedding the 13,180 evaluation drawings…", max_entries=4)
def evaluation_embeddings(model_id: str, _matcher):
    """``(13180, d) float32`` embeddings of the evaluation split, once per model."""
    ev, _ = evaluation_set()
    return _matcher.embed_inputs(ev.images)
