"""Views and resources of the Train page: the server-wide training job, the three variants' summaries,
a peek at the pairs, the live charts."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ui.resources import retrying

@st.cache_resource
def training_job():
    """The server-wide training job: one comparison at a time, shared by all sessions."""
    from siamese.lecture.job import TrainingJob
    return TrainingJob()


@st.cache_resource
def variant_summaries() -> dict:
    """``{key: (name, parameters, Keras summary text)}`` for the lecture's three variants."""
    from siamese.lecture.models import VARIANTS
    out = {}
    for key, (name, build) in VARIANTS.items():
        model, lines = build(), []
        model.summary(print_fn=lambda line, **kw: lines.append(line), line_length=90)
        out[key] = (name, model.count_params(), "\n".join(lines))
    return out


@st.cache_data(show_spinner=False)
def _peek_pairs(n: int, seed: int, data: str):
    from siamese.data.datasets import load_mnist
    from siamese.lecture.pairs import make_pairs

    _, (x, y) = load_mnist()  # raises DatasetError, which is not cached
    left, right, same = make_pairs(x[:200], y[:200], np.random.default_rng(seed))
    return [(255 - left[i], 255 - right[i], bool(same[i])) for i in range(n)]


def peek_pairs(n: int = 8, seed: int = 0):
    """``n`` MNIST test pairs ``[(left uint8, right uint8, same bool)]`` as :func:`make_pairs`
    builds them, or None without MNIST (looked for again after ``RETRY_AFTER_S``)."""
    from siamese.paths import data_dir

    data = str(data_dir())
    return retrying(("pairs", n, seed, data), lambda: _peek_pairs(n, seed, data))[0]


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
