"""What the Class experiment's views share: the experiment on this server's gallery, the official
runs' drawings (left out of every trial), an evaluation drawing as an image, a message kept for the
next rerun."""
from __future__ import annotations

import streamlit as st

from siamese.experiment import Experiment
from ui import resources, widgets


def experiment() -> Experiment:
    """The class experiment, stored in this server's gallery."""
    return Experiment(resources.gallery_store())


@st.cache_resource(show_spinner="Finding the official runs' drawings, left out of every trial…")
def official(data: str):
    """The official runs' drawings in the evaluation set (``data``: the data directory, the cache key)."""
    from siamese.experiment.trials import official_images
    from ui.evaluation import evaluation_set

    ev, error = evaluation_set()
    if ev is None:
        raise RuntimeError(error)
    return official_images(ev)


def png(index: int) -> str:
    """Evaluation drawing ``index`` as a PNG data URL."""
    from siamese.experiment.images import evaluation_png

    return widgets.png_data_url(evaluation_png(index))


def message(key: str) -> None:
    """Show, once, the ``(kind, text)`` a callback left under ``key`` (kind: ``st.error`` etc.)."""
    kind, text = st.session_state.pop(key, (None, None))
    if kind:
        getattr(st, kind)(text)
