"""Resources of the Evaluate page: the Omniglot evaluation split and its embeddings per model."""
from __future__ import annotations

import streamlit as st

from ui.resources import retrying

@st.cache_resource(show_spinner="Loading the Omniglot evaluation alphabets…")
def _evaluation_resource(data: str):
    from siamese.data.datasets import load_omniglot
    return load_omniglot("evaluation")  # raises DatasetError, which is not cached


def evaluation_set():
    """``(Omniglot evaluation split, None)`` or ``(None, message)`` when it is not available
    (looked for again after ``RETRY_AFTER_S``)."""
    from siamese.paths import data_dir

    data = str(data_dir())
    return retrying(("evaluation", data), lambda: _evaluation_resource(data))


@st.cache_resource(show_spinner="Embedding the 13,180 evaluation drawings…", max_entries=4)
def evaluation_embeddings(model_id: str, _matcher):
    """``(13180, d) float32`` embeddings of the evaluation split, once per model."""
    ev, _ = evaluation_set()
    return _matcher.embed_inputs(ev.images)
