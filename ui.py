"""Streamlit helpers shared by the pages: cached loaders and ``*_ui()`` widgets. The work itself
happens in :mod:`siamese`; nothing here is needed outside the app."""
from __future__ import annotations

import os
import re
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from siamese import load_matcher  # noqa: E402
from siamese.gallery import Gallery  # noqa: E402
from siamese.index import ReferenceIndex  # noqa: E402
from siamese.preprocess import to_display  # noqa: E402

def _keep_keras_state_between_runs() -> None:
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


_keep_keras_state_between_runs()

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


# ---- the classroom (see siamese.classroom) ----
STUDENT_PARAM = "student"
"""Query parameter holding a student's identity token: a reload or a bookmark keeps the identity."""


def teacher_passcode() -> str | None:
    """The passcode set by whoever started the server: ``teacher_passcode`` in
    ``.streamlit/secrets.toml``, else the environment variable ``SIAMESE_TEACHER_PASSCODE``; None:
    solo mode. Read on every run, so it is never kept in a session."""
    from siamese.classroom import PASSCODE_SECRET, configured_passcode

    secret = st.secrets.get(PASSCODE_SECRET) if st.secrets.load_if_toml_exists() else None
    return configured_passcode(secret)


def _store() -> Gallery:
    """The database alone, without building the default sets (identities need no model)."""
    from siamese.paths import home_dir

    return _gallery_resource(str(home_dir()))[0]


def session_actor():
    """Who this session is, worked out once per run by the entry script (``app.py``) before the
    page runs; pages read it with :func:`actor`.

    Solo mode (no passcode): the solo user. A session unlocked with the passcode: the teacher. A
    student: from the identity token in the URL (or this session, which puts it back in the URL
    after Streamlit clears it on a page change). A token that cannot be used is dropped, with its
    message at the top of the page. Returns the actor, or None for a visitor who has not joined.
    """
    from siamese.classroom import SOLO, TEACHER, IdentityError

    state = st.session_state
    if teacher_passcode() is None:
        state["actor"] = SOLO
    elif state.get("teacher_unlocked"):
        state["actor"] = TEACHER
    else:
        state["actor"] = None
        token = st.query_params.get(STUDENT_PARAM) or state.get("student_token")
        if token:
            try:
                state["actor"] = _store().student(token)
            except IdentityError as exc:
                st.warning(str(exc))
                state.pop("student_token", None)
                st.query_params.pop(STUDENT_PARAM, None)
            else:
                state["student_token"] = token
                if st.query_params.get(STUDENT_PARAM) != token:
                    st.query_params[STUDENT_PARAM] = token
    return state["actor"]


def actor():
    """This session's actor (see :func:`session_actor`): None for a visitor who has not joined."""
    return st.session_state.get("actor")


def in_class() -> bool:
    """Whether the server runs a class (a teacher passcode is set), so owners are shown."""
    from siamese.classroom import Role

    a = actor()
    return a is None or a.role is not Role.SOLO


def symbol_label(name: str, owner_name: str, set_name: str) -> str:
    """How a symbol is shown: "star · Ana" in a class's Class symbols, else its name."""
    from siamese.gallery import CLASS_SYMBOLS

    return f"{name} · {owner_name}" if in_class() and set_name == CLASS_SYMBOLS else name


def _join() -> None:
    """Join button callback: a new student identity, its token in the URL."""
    from siamese.gallery import GalleryError

    state = st.session_state
    try:
        token, student = _store().join_class(state.get("join_name", ""))
    except GalleryError as exc:
        state["join_error"] = str(exc)
        return
    state["student_token"], state["actor"] = token, student
    state["join_name"] = ""
    st.query_params[STUDENT_PARAM] = token


def join_ui() -> None:
    """The form a visitor joins the class with: a display name, no account."""
    st.info("Join the class to register your own symbols: type your name (no account, no e-mail).")
    with st.form("join", border=False):  # Enter joins, as the button does
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.text_input("Your name", key="join_name", max_chars=200, placeholder="e.g. Ana (40 characters at most)")
        c2.form_submit_button("Join", type="primary", on_click=_join)
    if "join_error" in st.session_state:
        error_ui("Not joined.", st.session_state.pop("join_error"))


def _unlock(passcode: str) -> None:
    """Unlock button callback: the typed passcode is checked, then cleared from the session."""
    from siamese.classroom import PasscodeGate, PasscodeRefused

    state = st.session_state
    gate = state.setdefault("passcode_gate", PasscodeGate())
    typed, state["passcode"] = state.get("passcode", ""), ""
    try:
        gate.unlock(typed, passcode)
    except PasscodeRefused as exc:
        state["passcode_error"] = str(exc)
        return
    state["teacher_unlocked"] = True
    state.pop("student_token", None)  # the projected address carries no student's identity
    st.query_params.pop(STUDENT_PARAM, None)


def _lock() -> None:
    st.session_state["teacher_unlocked"] = False


def _leave() -> None:
    """"Not you?": forget this identity in this browser tab (the student and their symbols stay)."""
    st.session_state.pop("student_token", None)
    st.session_state["actor"] = None
    st.query_params.pop(STUDENT_PARAM, None)


def classroom_sidebar_ui() -> None:
    """The sidebar's line about who you are: solo mode, the teacher (with Lock), a student (with
    "Not you?"), or a visitor; and the teacher's unlock."""
    from siamese.classroom import Role

    bar, a, passcode = st.sidebar, actor(), teacher_passcode()
    if passcode is None:
        bar.caption("Single-user mode: no teacher passcode is set, so you may do everything here. "
                    "To run a class, see “In the classroom” in the README.")
        return
    if a is not None and a.role is Role.TEACHER:
        bar.success("Teacher: you may do everything.")
        bar.button("Lock teacher mode", on_click=_lock)
        return
    if a is not None:
        bar.text(f"You are {a.name} (student).")
        bar.button("Not you? Join as someone else", on_click=_leave)
    else:
        bar.caption("Not joined yet: join on the Home or Register page to register symbols.")
    with bar.expander("Teacher? Unlock", expanded="passcode_error" in st.session_state):
        with st.form("unlock", border=False):  # Enter unlocks, as the button does
            st.text_input("Teacher passcode", type="password", key="passcode", max_chars=1024)
            st.form_submit_button("Unlock", on_click=_unlock, args=(passcode,))
        if "passcode_error" in st.session_state:
            st.error(st.session_state.pop("passcode_error"))


def join_address() -> tuple[str, str | None]:
    """``(the URL students open, a warning or None)``: this server's address on the local network
    and Streamlit's port (``server.port``, ``server.baseUrlPath``)."""
    from siamese.classroom import join_url, lan_address

    bound = st.get_option("server.address") or ""
    host = bound if bound and bound not in ("0.0.0.0", "::") else lan_address()
    url = join_url(host, st.get_option("server.port"), st.get_option("server.baseUrlPath") or "")
    if host in ("127.0.0.1", "localhost", "::1"):
        return url, ("This server only listens on this computer, so students' devices cannot reach it. Start it "
                     "with `streamlit run app.py --server.address 0.0.0.0` on the classroom's network.")
    return url, None


def classroom_home_ui() -> None:
    """Home's classroom part: for the teacher, the address to join, as text and as a QR code big
    enough to project; for a visitor, the form to join; nothing in solo mode."""
    from siamese.classroom import Role, qr_png

    a = actor()
    if a is not None and a.role is Role.SOLO:
        return
    if a is None:
        join_ui()
        return
    if a.role is Role.STUDENT:
        st.text(f"You are {a.name}: your symbols are yours to rename and delete; everyone can match against them.")
        return
    url, warning = join_address()
    st.subheader("Join this class")
    st.markdown("On a phone, tablet or laptop on this network, scan the code or open:")
    st.code(url, language=None)
    if warning:
        st.warning(warning)
    st.image(qr_png(url), caption="Scan to join")  # about 500 px, never wider than the page
    students = _store().students()
    st.text(f"{count(len(students), 'student')} joined" + (": " + ", ".join(s["name"] for s in students)
                                                             if students else "."))


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


def literal(text: str) -> str:
    """``text`` as a Markdown code span: shown exactly as typed inside st.success and the like (no
    emphasis, link or HTML from a user's symbol name)."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)  # longer than any inside
    return f"{fence} {text} {fence}"
