"""Cached loaders shared by every session: the matcher, the gallery, the reference index, the default sets
built in the background; failures are retried after ``RETRY_AFTER_S``, never cached."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future

import streamlit as st

from siamese import load_matcher
from siamese.gallery.gallery import Gallery
from siamese.search.index import ReferenceIndex

RETRY_AFTER_S = 10.0
"""A load that failed (the model file, a dataset) is tried again on the first rerun after this
many seconds: a failure is never cached as a result, and a class of 30 rerunning every stroke
does not retry it 30 times a second."""


_failures: dict = {}


_failures_lock = threading.Lock()


def retrying(key, load):
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
    return retrying(("model", path), lambda: _matcher_resource(path))


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
    return retrying(("gallery", home, url), load)


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

    gallery = gallery_store()
    (home, url), data = _gallery_location(), str(data_dir())
    _, error = retrying(("default sets", home, url, data), lambda: _default_sets(home, url, data))
    return gallery, (error.split("\n") if error else [])


def get_index() -> ReferenceIndex:
    """The search index over :func:`get_gallery`'s database (one per server process)."""
    resource, error = _live_gallery()
    if resource is None:
        database_down_ui(error)
    return resource[1]


def gallery_store() -> Gallery:
    """The database alone, without building the default sets (identities need no model). While it
    cannot be reached, the page says so and stops here (:func:`database_down_ui`)."""
    resource, error = _live_gallery()
    if resource is None:
        database_down_ui(error)
    return resource[0]


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
