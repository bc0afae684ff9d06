"""Streamlit helpers shared by the pages: cached loaders and ``*_ui()`` widgets. The work itself
happens in :mod:`siamese`; nothing here is needed outside the app."""
from __future__ import annotations

import functools
import os
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from siamese import load_matcher  # noqa: E402
from siamese.gallery.gallery import Gallery  # noqa: E402
from siamese.search.index import ReferenceIndex  # noqa: E402
from siamese.data.preprocess import to_display  # noqa: E402

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


_model_loads: dict = {}
_model_loads_lock = threading.Lock()


def _model_load(path) -> Future:
    """The matcher of the model file ``path`` (None: the default), loading in a thread of its own,
    once per process (again after a failure): whoever needs it first starts it, and a page can
    draw what needs no model while it loads (importing TensorFlow alone takes about 2.4 s on 2
    cores). The thread calls nothing of Streamlit's.

    Returns:
        a :class:`concurrent.futures.Future` of the :class:`siamese.Matcher`; its ``result()``
        raises ModelLoadError if the file cannot be loaded.
    """
    with _model_loads_lock:
        future = _model_loads.get(path)
        if future is None or (future.done() and future.exception() is not None):
            future = _model_loads[path] = Future()

            def load():
                try:
                    future.set_result(load_matcher(path))
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for it
                    future.set_exception(exc)
            threading.Thread(target=load, name="load-model", daemon=True).start()
    return future


@st.cache_resource(show_spinner="Loading the Siamese model…")
def _matcher_resource(path):
    """A matcher, loaded and warmed up once per server process and model file (shared by all
    sessions). Raises ModelLoadError, which is not cached."""
    return _model_load(path).result()


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
    from siamese.embedding.user_models import available_models

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
def _gallery_resource(home: str, url: str | None):
    """The reference-set database (``url``: ``SIAMESE_DATABASE_URL``, shared by several servers;
    None: the SQLite file of one ``SIAMESE_HOME``) and its search index (its embeddings cached in
    memory per set revision, read from the database on every use), shared by all sessions. Raises
    GalleryUnavailable, which is not cached: a later call tries again."""
    gallery = Gallery(url)
    return gallery, ReferenceIndex(gallery)


def _gallery_location() -> tuple[str, str | None]:
    """``(SIAMESE_HOME, SIAMESE_DATABASE_URL or None)``, read on every run."""
    from siamese.paths import database_url, home_dir

    return str(home_dir()), database_url()


DATABASE_DOWN = ("The reference-set database cannot be reached, so matching against the stored sets and "
                 "registering symbols are unavailable for now. Nothing stored is lost; this page tries again "
                 f"every {RETRY_AFTER_S:.0f} s.")


def _live_gallery():
    """``((gallery, index), None)``, or ``(None, message)`` when the database does not answer: one
    cheap query on every call says whether it does (a database lost in the middle of a session is
    noticed at the next rerun), and a failure is served from memory for ``RETRY_AFTER_S``."""
    from siamese.gallery.schema import CLASS_SYMBOLS

    home, url = _gallery_location()

    def load():
        resource = _gallery_resource(home, url)
        resource[0].revision(CLASS_SYMBOLS)
        return resource
    return _retrying(("gallery", home, url), load)


def database_down_ui(error: str) -> None:
    """Say that the database cannot be reached (``error`` names it, without its password, and
    why), then stop the page: the rest of it needs the database."""
    st.error(DATABASE_DOWN)
    st.text(error)
    st.stop()


DEFAULT_SETS_WAIT_S = 0.5
"""How long a page waits for the default reference sets before it shows without them: long enough
for a later start (the sets exist: a check of a few milliseconds) and for a missing dataset (its
message is shown at once), far shorter than building them on a first start (seconds: MNIST and 659
Omniglot drawings read and embedded), which goes on in the background."""


class _MatcherWhenLoaded:
    """Stands for the matcher of a model file (:func:`_model_load`), loaded at its first use: a
    check that the default sets exist neither waits for the model nor loads it (importing
    TensorFlow while the first page is drawn slows the page down: one interpreter lock).
    ``failed`` tells whether it could not be loaded (the use then raised)."""

    def __init__(self, path):
        self._path, self.failed = path, False

    def __getattr__(self, name):
        try:
            matcher = _model_load(self._path).result()
        except Exception:
            self.failed = True
            raise
        return getattr(matcher, name)


class _DefaultSetsBuild:
    """One build of the default reference sets (:func:`siamese.gallery.defaults.seed_default_sets`) in
    a thread of its own, so that the first page of a first start does not wait for it, nor a later
    start for the model (the sets exist: nothing is embedded).

    The thread calls nothing of Streamlit's (no script-run context there): it is handed the
    gallery and the model file, loaded only if a set has to be built (:class:`_MatcherWhenLoaded`).

    Attributes:
        done: set when the build has ended; problems: then the messages about missing datasets.
    """

    def __init__(self, gallery: Gallery, model_path):
        from siamese.gallery.defaults import seed_default_sets  # imported here, not in the thread

        self.done, self.problems = threading.Event(), []
        matcher = _MatcherWhenLoaded(model_path)

        def build():
            try:
                self.problems = seed_default_sets(gallery, matcher)
                if matcher.failed:  # no model: the sets without embeddings (made on first search)
                    self.problems = seed_default_sets(gallery, None)
            except Exception as exc:  # noqa: BLE001 - shown to the user and retried, as a missing dataset
                self.problems = [f"The reference sets could not be built: {exc}"]
            finally:
                self.done.set()
        threading.Thread(target=build, name="default-reference-sets", daemon=True).start()


_default_builds: dict = {}
_default_builds_lock = threading.Lock()


def _default_sets(home: str, url: str | None, data: str) -> bool:
    """Start building the default reference sets once per process and location, in the
    background; wait for it up to ``DEFAULT_SETS_WAIT_S``.

    Returns:
        True once they all exist, False while they are being built (:func:`default_sets_progress_ui`).

    Raises:
        RuntimeError: with the user-facing messages when a dataset is missing; the build is then
            forgotten, so a later call tries again (see ``RETRY_AFTER_S``).
    """
    key = (home, url, data)
    with _default_builds_lock:
        build = _default_builds.get(key)
    if build is None:
        gallery = _gallery_resource(home, url)[0]
        with _default_builds_lock:  # another session may have started it meanwhile
            build = _default_builds.get(key) or _DefaultSetsBuild(gallery, os.environ.get("SIAMESE_MODEL") or None)
            _default_builds[key] = build
    if not build.done.wait(DEFAULT_SETS_WAIT_S):
        return False
    if build.problems:
        with _default_builds_lock:
            if _default_builds.get(key) is build:
                del _default_builds[key]
        raise RuntimeError("\n".join(build.problems))
    return True


def default_sets_preparing() -> bool:
    """Whether the default reference sets of this database and data directory are being built now."""
    from siamese.paths import data_dir

    with _default_builds_lock:
        build = _default_builds.get((*_gallery_location(), str(data_dir())))
    return build is not None and not build.done.is_set()


@st.fragment(run_every=1.0)
def _rerun_when_default_sets_are_ready() -> None:
    if not default_sets_preparing():
        st.rerun()  # the whole page, now with the default sets


def default_sets_progress_ui() -> None:
    """While the default reference sets are being built (a first start): say so, and rerun the
    page once they are ready (checked every second; nothing is drawn otherwise)."""
    if default_sets_preparing():
        st.info("The Digits set and the Omniglot alphabets are being prepared (only on a first start, a few "
                "seconds): they appear in the list of reference sets as soon as they are ready.")
        _rerun_when_default_sets_are_ready()


def get_gallery():
    """The reference-set database, with the default sets built on first run.
    Returns ``(gallery, [messages about missing data])``; missing datasets are looked for again
    (see ``RETRY_AFTER_S``), so data put in place later is picked up without a restart. While the
    database cannot be reached, the page says so and stops here (:func:`database_down_ui`)."""
    from siamese.paths import data_dir

    gallery = _store()
    (home, url), data = _gallery_location(), str(data_dir())
    _, error = _retrying(("default sets", home, url, data), lambda: _default_sets(home, url, data))
    return gallery, (error.split("\n") if error else [])


def get_index() -> ReferenceIndex:
    """The search index over :func:`get_gallery`'s database (one per server process)."""
    resource, error = _live_gallery()
    if resource is None:
        database_down_ui(error)
    return resource[1]


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
    """The database alone, without building the default sets (identities need no model). While it
    cannot be reached, the page says so and stops here (:func:`database_down_ui`)."""
    resource, error = _live_gallery()
    if resource is None:
        database_down_ui(error)
    return resource[0]


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
    from siamese.gallery.schema import CLASS_SYMBOLS

    return f"{name} · {owner_name}" if in_class() and set_name == CLASS_SYMBOLS else name


def _join() -> None:
    """Join button callback: a new student identity, its token in the URL."""
    from siamese.gallery.errors import GalleryError

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
  const send = "button[title='Update the app with this drawing']";
  const sendOnPenUp = (root) => {
    let drawing = false;  // a stroke began on this canvas
    root.addEventListener("pointerdown", (e) => { drawing = e.target.classList.contains("upper-canvas"); }, true);
    const up = () => {
      if (!root.isConnected) { window.removeEventListener("pointerup", up, true); return; }
      if (!drawing) return;
      drawing = false;
      setTimeout(() => root.querySelector(send)?.click(), 0);  // after the component's own mouse-up work
    };
    window.addEventListener("pointerup", up, true);  // the pen may lift outside the canvas
  };
  const fix = () => document.querySelectorAll(".st-key-" + CSS.escape(key) + " *").forEach((el) => {
    const root = el.shadowRoot;  // the canvas component's (open) shadow root
    if (!root || root.getElementById(id)) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = css;
    root.appendChild(style);
    sendOnPenUp(root);
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
    canvas works as before.

    The same script sends each stroke as soon as the pen lifts. The component sends a finished
    stroke only after 200 ms without another one (its ``sender.schedule``, a debounce; measured
    from mouse-up to the request: 205 ms of the 350 ms a person waited, ``benchmarks/latency.py``),
    and has no option for it; its toolbar's "Update the app with this drawing" button sends at once
    and cancels the pending send, so the script presses it just after every pointer-up of a stroke
    that began on the canvas (after the component's own mouse-up work, which records the stroke).
    Undo, redo and clear already send at once."""
    import json

    st.sidebar.html(_CANVAS_TOOLBAR_JS % {"key": json.dumps(key), "css": json.dumps(_CANVAS_TOOLBAR_CSS)},
                    unsafe_allow_javascript=True)


def canvas_controls_ui(key: str) -> int:
    """The canvas's sidebar part: the pen width slider, and the script that moves the toolbar and
    sends strokes at once (:func:`_canvas_toolbar_above`). Call it outside a fragment (a fragment
    may not write to the sidebar), then :func:`canvas_ui` with its result inside one.

    Returns:
        the pen width in canvas pixels (4-40, default 18).
    """
    width = st.sidebar.slider("Pen width (pixels)", 4, 40, 18, key=f"{key}_pen")
    _canvas_toolbar_above(key)
    return width


@dataclass(frozen=True)
class Sketch:
    """What the canvas holds.

    Attributes:
        image: the canvas RGBA ``(H, W, 4) uint8`` (or, under AppTest, any image a test left in
            ``st.session_state[key + "_sketch"]``), or None before the component has reported.
        strokes: how many strokes are on the canvas (undo removes one; 0 when clear).
    """
    image: np.ndarray | None
    strokes: int


def sketch_ui(key: str, height: int = CANVAS_PX, pen_width: int | None = None) -> Sketch:
    """The drawing canvas, with undo, redo and clear in a toolbar above it.

    Every pixel of the canvas takes strokes, from a mouse, a pen or a finger, and a finger drawing
    on it never scrolls the page (see :func:`_canvas_toolbar_above`).

    Arguments:
        key: the canvas's widget key.
        height: its side in pixels.
        pen_width: from :func:`canvas_controls_ui`; None: show those controls here (in the sidebar,
            so not inside a fragment).

    Returns:
        :class:`Sketch`. The component reports nothing under AppTest: then the image is
        ``st.session_state[key + "_sketch"]`` and the strokes ``st.session_state[key +
        "_strokes"]`` (default 1 with an image, else 0), as a test left them.
    """
    from streamlit_drawable_canvas import st_canvas  # registers a component: only under Streamlit

    if pen_width is None:
        pen_width = canvas_controls_ui(key)
    result = st_canvas(stroke_width=pen_width, stroke_color="#000000", background_color="#FFFFFF",
                       height=height, width=height, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=key)
    image = None if result is None else result.image_data
    if image is None:
        image = st.session_state.get(f"{key}_sketch")
        return Sketch(image, st.session_state.get(f"{key}_strokes", 0 if image is None else 1))
    return Sketch(image, len((result.json_data or {}).get("objects", [])))


def canvas_ui(key: str, height: int = CANVAS_PX, pen_width: int | None = None):
    """:func:`sketch_ui`'s image alone: the canvas RGBA ``(H, W, 4) uint8``, or None before the
    component has reported (see there for the arguments)."""
    return sketch_ui(key, height, pen_width).image


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


# ---- Draw & match: the guess after each stroke, the embedding map ----
@dataclass(frozen=True)
class Guess:
    """The best match after a stroke: ``strokes`` on the canvas, the symbol as shown, its distance."""
    strokes: int
    label: str
    distance: float


def stroke_history(history: list[Guess], strokes: int, best: Guess | None) -> list[Guess]:
    """The guesses of the drawing now on the canvas, one per stroke count, after a canvas update.

    Arguments:
        history: the guesses so far, by increasing ``strokes``.
        strokes: strokes on the canvas now (0: cleared; one fewer after an undo).
        best: the best match now, or None (no verdict: nothing to match, or no references).

    Returns:
        the guesses for fewer strokes than now, then ``best`` (if any): an undo drops the last
        guess, a clear drops them all, and a rerun with the same strokes replaces the last one.
    """
    kept = [g for g in history if g.strokes < strokes]
    return kept + [best] if best is not None and strokes > 0 else kept


def remember_guess(key: str, scope, strokes: int, guess: Guess | None) -> list[Guess]:
    """:func:`stroke_history` kept in this session under ``key + "_history"``; another ``scope``
    (another reference set, or "only mine") starts a new history.

    Returns:
        the guesses of the drawing now on the canvas.
    """
    kept = st.session_state.get(f"{key}_history")
    history = stroke_history(kept[1] if kept and kept[0] == scope else [], strokes, guess)
    st.session_state[f"{key}_history"] = (scope, history)
    return history


def stroke_history_text(history: list[Guess], shown: int = 6) -> str:
    """``"After stroke 1: 7 at 3.10; stroke 2: 1 at 1.40"``: the last ``shown`` guesses ("" for none)."""
    parts = [f"stroke {g.strokes}: {g.label} at {g.distance:.2f}" for g in history[-shown:]]
    return ("After " + "; ".join(parts)) if parts else ""


MAP_HEIGHT = 360
"""The embedding map's height in pixels (it takes the page's width)."""
MAP_TOOLTIP_CSS = "<style>#vg-tooltip-element img { width: 84px; image-rendering: pixelated; }</style>"
"""The map's tooltip shows a reference's 28x28 input three times enlarged, pixels kept sharp."""


@functools.lru_cache(maxsize=20_000)
def _tooltip_png(stored: bytes) -> str:
    """A stored model input (784 bytes, :func:`siamese.gallery.gallery.input_to_bytes`) as a data URL of a
    4-grey PNG, about 250 bytes (a set's images travel with every stroke's map), dark ink on white.
    Cached by content: a new revision of a set encodes only its new examples."""
    from PIL import Image

    from siamese.data.codec import bytes_to_input

    grey = Image.fromarray(np.round(255 * (1 - bytes_to_input(stored))).astype(np.uint8)).quantize(4)
    return png_data_url(_png_bytes(grey))


def _png_bytes(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


_maps: dict = {}
_maps_lock = threading.Lock()


def _set_map(refs, set_name: str, gallery: Gallery, labels_by_owner: bool):
    """The embedding map of one version of a set (:func:`siamese.search.embedding_map.fit_map`) with its
    chart data, computed once per :class:`siamese.search.index.References` object, which the index keeps
    one of per (set id, revision, model id, owner): every session and rerun draws the same points,
    no rerun converts them again, and asking costs no database query. Only the last 16 are kept.

    Returns:
        ``(EmbeddingMap, {example id: row}, datasets, spec)``: ``datasets`` maps "refs" (one row
        per reference: x, y, symbol, image, its 28x28 input as a data URL) and "labels" (one row
        per symbol, at its reference nearest the symbol's centre on the map) to Arrow IPC bytes, as
        ``st.vega_lite_chart`` sends them; ``spec`` is :func:`embedding_map_spec`'s.
    """
    import weakref

    import pandas as pd
    from streamlit import dataframe_util

    from siamese.search.embedding_map import fit_map

    key = (id(refs), labels_by_owner)
    with _maps_lock:
        ref, made = _maps.get(key, (None, None))
    if ref is not None and ref() is refs:
        return made
    emap = fit_map(refs.embeddings)
    inputs = {e.id: e.model_input for e in gallery.examples(set_name)}
    names = [f"{n} · {o}" if labels_by_owner else str(n) for n, o in zip(refs.symbols, refs.owner_names)]
    rows = pd.DataFrame({"x": emap.points[:, 0], "y": emap.points[:, 1], "symbol": names,
                         "image": [_tooltip_png(inputs[i]) if i in inputs else ""
                                   for i in refs.example_ids.tolist()]})
    centre = rows.groupby("symbol", sort=False)[["x", "y"]].transform("mean")
    off = (rows["x"] - centre["x"]) ** 2 + (rows["y"] - centre["y"]) ** 2
    labels = rows.loc[off.groupby(rows["symbol"], sort=False).idxmin(), ["x", "y", "symbol"]]
    datasets = {name: dataframe_util.convert_anything_to_arrow_bytes(df) for name, df in
                (("refs", rows), ("labels", labels.reset_index(drop=True)))}
    spec = embedding_map_spec(emap.points, len(set(refs.symbol_ids.tolist())))
    made = emap, {int(i): r for r, i in enumerate(refs.example_ids.tolist())}, datasets, spec
    with _maps_lock:
        while len(_maps) >= 16:
            del _maps[next(iter(_maps))]
        _maps[key] = (weakref.ref(refs), made)
    return made


MAP_PAD = 0.15
"""Room around the references on the map, as a share of their extent on each axis: a sketch
beyond it is drawn on the map's edge."""


def embedding_map_spec(points: np.ndarray, symbols: int) -> dict:
    """The Draw page's map as a Vega-Lite spec over four named datasets: "refs" and "labels" (of
    :func:`_set_map`), "sketch" and "links" (of :func:`_sketch_rows`): references as points
    coloured by symbol, each symbol labelled once, hovering a point shows its image; the sketch as
    a black diamond with dashed rules to the references the match list shows.

    The spec depends on the set only: a stroke changes two small datasets and nothing else, so the
    browser updates the chart's data in place instead of building the chart anew (Streamlit
    re-embeds a Vega chart whose spec changed; with the sketch in the spec, 20 students' browsers on
    2 cores took 0.4 s more per stroke, ``benchmarks/latency.py``). Written as a dict, not with
    Altair: building and validating an Altair chart of 1,000 points took 30-50 ms of every rerun.

    Arguments:
        points: ``(n, 2)`` the references' map points: the axes span them, plus :data:`MAP_PAD`.
        symbols: how many symbols the set holds (beyond 20, points are paler).

    Returns:
        the spec, :data:`MAP_HEIGHT` pixels high, as wide as its container.
    """
    low, high = map_domain(points)

    def axis(i, field):
        return {"field": field, "type": "quantitative", "title": None,
                "scale": {"domain": [float(low[i]), float(high[i])], "nice": False, "zero": False},
                "axis": {"labels": False, "ticks": False, "grid": False, "domain": False}}
    xy = {"x": axis(0, "x"), "y": axis(1, "y")}
    return {"height": MAP_HEIGHT, "width": "container", "layer": [
        {"data": {"name": "refs"}, "mark": {"type": "circle", "size": 36, "opacity": 0.45 if symbols > 20 else 0.7},
         "encoding": {**xy, "color": {"field": "symbol", "type": "nominal", "legend": None,
                                      "scale": {"scheme": "category20"}},
                      "tooltip": [{"field": "symbol", "type": "nominal"}, {"field": "image", "type": "nominal"}]}},
        {"data": {"name": "labels"}, "mark": {"type": "text", "fontSize": 12, "fontWeight": "bold", "dy": -9,
                                              "limit": 90},
         "encoding": {**xy, "text": {"field": "symbol", "type": "nominal"}}},
        {"data": {"name": "links"}, "mark": {"type": "rule", "color": "#000000", "strokeDash": [4, 3], "opacity": 0.6},
         "encoding": {**xy, "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
        {"data": {"name": "sketch"}, "mark": {"type": "point", "shape": "diamond", "size": 260, "filled": True,
                                              "color": "#000000", "stroke": "#ffffff", "strokeWidth": 1.5},
         "encoding": {**xy, "tooltip": [{"field": "what", "type": "nominal"}]}},
        {"data": {"name": "sketch"}, "mark": {"type": "text", "align": "left", "dx": 10, "dy": 12, "fontSize": 12,
                                              "fontWeight": "bold"},
         "encoding": {**xy, "text": {"field": "what", "type": "nominal"}}},
    ]}


def map_domain(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(low (2,), high (2,))``: the map's axes, the references' extent plus :data:`MAP_PAD`."""
    low, high = (points.min(axis=0), points.max(axis=0)) if len(points) else (np.zeros(2), np.zeros(2))
    pad = MAP_PAD * np.maximum(high - low, 1e-3)
    return low - pad, high + pad


def _sketch_rows(sketch, nearest, domain):
    """The "sketch" and "links" datasets of :func:`embedding_map_spec`: ``sketch`` (``(2,)`` map
    point or None) kept within ``domain`` (:func:`map_domain`), and a rule from it to each of the
    ``nearest`` ``(k, 2)`` points."""
    import pandas as pd

    if sketch is None:
        return (pd.DataFrame({"x": [], "y": [], "what": []}),
                pd.DataFrame({"x": [], "y": [], "x2": [], "y2": []}))
    x, y = np.clip(np.asarray(sketch, np.float64), *domain)
    return (pd.DataFrame({"x": [x], "y": [y], "what": ["your sketch"]}),
            pd.DataFrame({"x": x, "y": y, "x2": nearest[:, 0].astype(np.float64),
                          "y2": nearest[:, 1].astype(np.float64)}))


def embedding_map_ui(set_name: str, gallery: Gallery, index: ReferenceIndex, matcher, owner: int | None,
                     result) -> None:
    """The embedding map of the chosen set, with the sketch where it lands (:mod:`siamese.search.embedding_map`).

    Arguments:
        set_name, owner: the set matched against, and its "only mine" owner (None: all of it);
        gallery, index, matcher: its database, search index and the model.
        result: the sketch's :class:`siamese.matching.MatchResult`.
    """
    import copy

    from siamese.gallery.schema import CLASS_SYMBOLS

    refs = result.references if result.references is not None else index.references(set_name, matcher, owner)
    if len(refs.example_ids) == 0:
        return
    by_owner = in_class() and set_name == CLASS_SYMBOLS  # as symbol_label shows them
    emap, row_of, datasets, spec = _set_map(refs, set_name, gallery, by_owner)
    sketch = nearest = None
    if result.embedding is not None:
        sketch = emap.project(result.embedding)
        nearest = emap.points[[row_of[m.example_id] for m in result.matches if m.example_id in row_of]]
    here, links = _sketch_rows(sketch, nearest, map_domain(emap.points))
    st.html(MAP_TOOLTIP_CSS)
    st.vega_lite_chart(spec={**copy.deepcopy(spec), "datasets": {**datasets, "sketch": here, "links": links}},
                       width="stretch")  # Streamlit takes the datasets out of the spec it is given
    shown = 100 * float(emap.explained.sum())
    st.caption(f"Embedding map of {count(len(row_of), 'reference')}: the set's first two principal components, "
               f"{shown:.0f}% of its variance (hover a point to see it). Close on the map is not always close in "
               "the full embedding: the match list's distances are the answer.")


def require_matcher(picker: bool = True):
    """The chosen matcher, or stop the page (or the fragment it is called in) with the load error
    shown.

    Arguments:
        picker: show the sidebar's choice of model here; False inside a fragment (which may not
            write to the sidebar): call :func:`model_picker_ui` before the fragment instead.
    """
    if picker:
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
    from siamese.lecture.training import TrainingJob
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
    from siamese.data.datasets import load_omniglot
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


# ---- Compare two sketches (pages/5_Compare_two_sketches.py) ----

SAME_COLOUR, DIFFERENT_COLOUR = "#1f77b4", "#ff7f0e"
"""Blue for "same", orange for "different" in the Compare page's charts (told apart with colour
blindness too)."""


COMPARE_CANVAS_PX = 240
"""Side of each of the Compare page's two canvases, pixels: both canvases and the verdict fit side by
side beside the sidebar at 1280 px (narrower, the row wraps; the preprocessing does not depend on
the canvas's size)."""


def compare_pen_ui(keys: tuple[str, ...]) -> int:
    """One pen-width slider for the Compare page's canvases (not one per canvas), and each canvas's
    toolbar script (:func:`_canvas_toolbar_above`).

    Returns:
        the pen width in canvas pixels, for :func:`canvas_ui` of each key.
    """
    width = canvas_controls_ui(keys[0])
    for key in keys[1:]:
        _canvas_toolbar_above(key)
    return width


def distance_chart(histogram, distance: float | None, threshold: float):
    """Where one pair's distance falls among same-symbol and different-symbol pairs.

    Arguments:
        histogram: a :class:`siamese.measure.histograms.PairHistogram`.
        distance: the pair's Euclidean distance (a solid black rule), or None (no rule).
        threshold: the model's pair threshold (a dashed grey rule).

    Returns:
        an Altair layer chart: each kind's share of pairs per distance bin (each kind sums to 1),
        overlapping bars in :data:`SAME_COLOUR` and :data:`DIFFERENT_COLOUR`, and the rules,
        labelled with their distances.
    """
    import altair as alt
    import pandas as pd

    from siamese.measure.histograms import DIFFERENT, SAME

    top = max(float(histogram.edges[-1]), threshold, distance or 0.0) * 1.02
    x_scale = alt.Scale(domain=[0, top], nice=False)
    bars = alt.Chart(pd.DataFrame(histogram.rows())).mark_bar(opacity=0.6, binSpacing=0).encode(
        x=alt.X("start:Q", bin="binned", scale=x_scale, title="Euclidean distance between the two embeddings"),
        x2="end:Q",
        y=alt.Y("share:Q", stack=None, title="share of pairs", axis=alt.Axis(format="%")),
        color=alt.Color("pairs:N", title=None, scale=alt.Scale(domain=[SAME, DIFFERENT],
                        range=[SAME_COLOUR, DIFFERENT_COLOUR]), legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("pairs:N"), alt.Tooltip("start:Q", format=".2f", title="from"),
                 alt.Tooltip("end:Q", format=".2f", title="to"), alt.Tooltip("share:Q", format=".1%")])
    marks = [(threshold, f"threshold {threshold:.2f}", "#666666", [6, 4], 14)]
    if distance is not None:
        marks.append((distance, f"your sketches {distance:.2f}", "#000000", [], 32))
    layers = [bars]
    for at, label, colour, dash, y in marks:
        rule = pd.DataFrame({"at": [at], "label": [label]})
        layers.append(alt.Chart(rule).mark_rule(color=colour, strokeDash=dash, size=3).encode(x="at:Q"))
        right = at > 0.7 * top  # a label near the right edge goes to the rule's left
        layers.append(alt.Chart(rule).mark_text(align="right" if right else "left", dx=-5 if right else 5,
                                                fontSize=14, fontWeight="bold", color=colour)
                      .encode(x="at:Q", y=alt.value(y), text="label:N"))
    return alt.layer(*layers).properties(height=220)


def pair_verdict_ui(pair) -> None:
    """The distance between the two sketches, the verdict, and the two model inputs (or which
    sketch is missing, and why).

    Arguments:
        pair: a :class:`siamese.compare.SketchPair`.
    """
    from siamese.compare import NAMES, PairVerdict

    if pair.verdict is PairVerdict.INCOMPLETE:
        st.info(pair.missing())
    else:
        d, t = pair.distance, pair.threshold
        st.metric("Distance between A and B", f"{d:.2f}",
                  help="Euclidean distance between the two embeddings: the Siamese distance. The same number "
                       "Draw & match shows if you register sketch B and draw sketch A.")
        if pair.verdict is PairVerdict.SAME:
            st.success(f"**Same symbol**: the distance {d:.2f} is within the threshold {t:.2f}.")
        else:
            st.warning(f"**Different symbols**: the distance {d:.2f} is beyond the threshold {t:.2f}.")
    shown = [(x, name.split(" (")[0]) for x, name in zip(pair.inputs, NAMES) if x is not None]
    if shown:
        with st.container(horizontal=True, gap="medium"):  # side by side, at their size, on a phone too
            for x, name in shown:
                model_input_ui(x, caption=name)
        st.caption("What the model sees: each sketch cropped, centred and shrunk to 28×28 pixels.")


def distance_chart_ui(pair, matcher) -> None:
    """The chart that places the pair's distance among the model card's same- and
    different-symbol pairs, with a data-set choice and the chart in one sentence; for a model
    whose card has no histograms, how to add them.

    Arguments:
        pair: a :class:`siamese.compare.SketchPair`; matcher: the model that measured it.
    """
    from siamese.measure.histograms import COMMAND, DistanceHistograms

    try:
        histograms = DistanceHistograms.from_card(matcher.card, matcher.model_id)
    except ValueError as exc:
        histograms, problem = None, str(exc)
    else:
        problem = ""
    if histograms is None:
        st.info("This model's card has no distance histograms, so the chart of same- and different-symbol "
                f"distances is not shown. `{COMMAND}` adds them (for another model: `--model PATH`)."
                + (f" ({problem})" if problem else ""))
        return
    sets = histograms.sets
    key = next(iter(sets))
    if len(sets) > 1:
        key = st.radio("Compare with pairs of", list(sets), format_func=lambda k: f"pairs of {sets[k].title}",
                       horizontal=True, key="compare_pairs_of", label_visibility="collapsed")
    histogram = sets[key]
    st.altair_chart(distance_chart(histogram, pair.distance, pair.threshold), width="stretch")
    if pair.distance is not None:
        def per_100(p):
            return "fewer than 1" if p < 0.005 else f"about {round(100 * p)}"
        st.markdown(f"Of 100 pairs of **one** symbol drawn twice, {per_100(histogram.same_farther(pair.distance))} "
                    f"land farther apart than your two sketches; of 100 pairs of **two different** symbols, "
                    f"{per_100(histogram.different_closer(pair.distance))} land this close or closer.")
    st.caption(f"{histogram.source}. The threshold comes from the model card"
               + (f": {method}." if (method := matcher.card.get('threshold_calibration', {}).get('method')) else ".")
               + f" The pairs' distances were measured once by `{COMMAND}`.")


@st.cache_resource(max_entries=1, show_spinner="Loading the three trained models…")
def _pair_run_resource(path: str, mtime_ns: int, size: int):
    """The saved run and its Keras models, once per file version (shared by all sessions), with a
    lock that serialises calls of the models."""
    from siamese.lecture.training import load_run

    run = load_run(path)
    return run, run.models(), threading.Lock()


def last_pair_run():
    """The last pair-training run kept on this server (:func:`siamese.lecture.training.save_run`).

    Returns:
        ``(run, models, lock, None)``, ``(None, None, None, None)`` when there is no run yet, or
        ``(None, None, None, message)`` when the file cannot be read.
    """
    from siamese.lecture.training import last_run_path

    path = last_run_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None, None, None, None
    try:
        run, models, lock = _pair_run_resource(str(path), stat.st_mtime_ns, stat.st_size)
    except ValueError as exc:
        return None, None, None, str(exc)
    return run, models, lock, None


def same_probability_chart(probabilities: dict):
    """Each variant's probability of "same" for the two sketches, as horizontal bars.

    Arguments:
        probabilities: ``{variant key: (p(a, b), p(b, a))}`` (:func:`siamese.lecture.training.same_probabilities`).

    Returns:
        an Altair layer chart: one bar per variant in [0, 1], coloured by what it says at 0.5
        ("same" at or above, as the pair accuracy counts it), labelled, and a dashed rule at 0.5.
    """
    import altair as alt
    import pandas as pd

    from siamese.lecture.models import VARIANTS

    rows = pd.DataFrame([{"variant": VARIANTS[k][0], "p": p, "says": "same" if p >= 0.5 else "different",
                          "label": f"{100 * p:.0f}%"} for k, (p, _) in probabilities.items()])
    y = alt.Y("variant:N", sort=None, title=None, axis=alt.Axis(labelLimit=260, labelFontSize=13))
    x = alt.X("p:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title='probability of "same"')
    bars = alt.Chart(rows).mark_bar().encode(
        x=x, y=y, color=alt.Color("says:N", title="the model says", scale=alt.Scale(domain=["same", "different"],
                                  range=[SAME_COLOUR, DIFFERENT_COLOUR]), legend=alt.Legend(orient="top")))
    text = alt.Chart(rows).mark_text(align="left", dx=4, fontSize=13, fontWeight="bold").encode(
        x=x, y=y, text="label:N")
    half = alt.Chart(pd.DataFrame({"p": [0.5]})).mark_rule(strokeDash=[6, 4], color="#666666", size=2).encode(x="p:Q")
    return alt.layer(bars, half, text).properties(height=alt.Step(44))


def pair_models_ui(pair, train_page: str) -> None:
    """What the lecture's three pair models of the last run say about the two sketches, or how to
    get such a run.

    Arguments:
        pair: a :class:`siamese.compare.SketchPair`; its model inputs go to the pair models.
        train_page: the Train page's script path, for the link.
    """
    from siamese.lecture.training import same_probabilities
    from siamese.lecture.models import VARIANTS
    from siamese.compare import PairVerdict

    running = training_job().snapshot().running
    run, models, lock, problem = last_pair_run()
    if problem:
        st.error("The last training run could not be read.")
        st.text(problem)
    if run is None:
        st.info("No run of the three variants yet. " + ("A training is running on the Train page: come back when "
                "it ends." if running else "Train them on the Train page (the Classroom preset takes about a "
                "minute), then come back: the same two sketches go to each model."))
        st.page_link(train_page, label="Train the three variants", icon="📈")
        return
    if pair.verdict is PairVerdict.INCOMPLETE:
        st.info("Draw on both canvases to ask the three models.")
        return
    with lock:
        probabilities = same_probabilities(models, *pair.inputs)
    st.altair_chart(same_probability_chart(probabilities), width="stretch")
    swapped = "; ".join(f"{VARIANTS[k][0]} {100 * q:.0f}%" for k, (_, q) in probabilities.items())
    st.markdown(f"With A and B swapped: {swapped}. A concatenating model may answer differently when the two "
                "drawings change sides; the distance between two embeddings cannot.")
    s = run.settings
    data = {"mnist": "MNIST digit pairs", "omniglot": "Omniglot character pairs"}[s.dataset]
    accuracy = ", ".join(f"{VARIANTS[k][0]} {100 * a:.1f}%" for k, a in run.val_pair_accuracy.items())
    missing = [VARIANTS[k][0] for k in VARIANTS if k not in run.weights]
    when = run.finished[:16].replace("T", " ")
    st.caption(f"The models of the last run on the Train page ({data}, {s.epochs} epochs of batch {s.batch_size}, "
               f"seed {s.seed}{', stopped early' if run.stopped else ''}; ended {when}). Validation pair accuracy: "
               f"{accuracy}." + (f" Not trained in that run: {', '.join(missing)}." if missing else "")
               + (" A new training is running: its models replace these when it ends." if running else ""))
