"""The app's process settings, applied once from ``app.py`` before any page runs: TensorFlow's log
level and the Keras-state patch."""
from __future__ import annotations

import os


def setup() -> None:
    """Quiet TensorFlow's C++ logs (unless ``TF_CPP_MIN_LOG_LEVEL`` is set) and keep Keras's state
    between script runs (:func:`keep_keras_state_between_runs`). Idempotent."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keep_keras_state_between_runs()


def keep_keras_state_between_runs() -> None:
    """Stop Streamlit from clearing Keras's global state after every script run.

    Streamlit 1.67 calls ``keras.backend.clear_session()`` after each run of any page once Keras
    is imported (``script_runner._clean_problem_modules``), for apps that build a model on every
    run. This app loads its models once per process (``st.cache_resource``) and builds training
    models in one background job, so the clear only costs: a full garbage collection over the
    server's heap and TensorFlow's kernel cache thrown away, about 0.3 s of server CPU on every
    rerun of every session (every stroke of every student; measured with ``benchmarks/load.py
    cpu``, README "In the classroom"). Skipped if Streamlit's internals change."""
    from streamlit.runtime.scriptrunner import script_runner

    if callable(getattr(script_runner, "_clean_problem_modules", None)):
        script_runner._clean_problem_modules = lambda: None
