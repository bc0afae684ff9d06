"""Shared fixtures. Tests never write to the user's home: SIAMESE_HOME and SIAMESE_CACHE_DIR
point at temporary directories. Real-data tests read SIAMESE_DATA_DIR (CI sets it to
../shared/data) and FAIL, not skip, when it is missing."""
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SIAMESE_HOME", str(tmp_path / "home"))
    cache = os.environ.get("SIAMESE_TEST_CACHE_DIR")  # share decoded arrays between tests
    monkeypatch.setenv("SIAMESE_CACHE_DIR", cache or str(tmp_path / "cache"))
    yield


@pytest.fixture(scope="session")
def real_data_dir():
    """The directory holding the real datasets; a missing one is a failure."""
    value = os.environ.get("SIAMESE_DATA_DIR")
    if not value:
        pytest.fail("SIAMESE_DATA_DIR is not set: real-data tests need the MNIST and Omniglot files "
                    "(CI points it at ../shared/data)")
    path = Path(value)
    for f in ("mnist/mnist.npz", "omniglot/images_background.zip", "omniglot/images_evaluation.zip"):
        if not (path / f).is_file():
            pytest.fail(f"{path / f} is missing: real-data tests need it")
    return path


@pytest.fixture(scope="module")
def synthetic():
    """Labels of 4 alphabets x 25 characters x 20 drawers: ``(labels, groups, drawers)``, each
    ``(2000,) int``; image i is character i // 20 (alphabet i // 500) by drawer i % 20 + 1."""
    labels = np.repeat(np.arange(4 * 25), 20)
    groups = labels // 25
    drawers = np.tile(np.arange(1, 20 + 1), 4 * 25)
    return labels, groups, drawers


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch):
    """Tests never touch the PostgreSQL gallery a developer may have configured."""
    monkeypatch.delenv("SIAMESE_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the test session's own (``tests/pgcluster.py``: initdb and pg_ctl in
    a temporary directory, as ``nobody`` when we are root). Never skipped: without PostgreSQL's
    binaries the tests that need it fail, saying what to install."""
    from pgcluster import Cluster, ClusterError
    try:
        cluster = Cluster().start()
    except ClusterError as exc:
        pytest.fail(str(exc))
    yield cluster
    cluster.remove()


@pytest.fixture
def postgres_url(postgres):
    """The URL of an empty database on :func:`postgres` for this test alone: the gallery's tables are
    dropped (ids start again) and made anew by the next ``Gallery(url)``. One database for all tests
    (a store keeps one connection pool per URL and process), emptied in a few milliseconds."""
    url = postgres.url("gallery")
    with postgres.admin() as con:
        if con.execute("SELECT 1 FROM pg_database WHERE datname = 'gallery'").fetchone() is None:
            con.execute("CREATE DATABASE gallery")
    import psycopg
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET lock_timeout = '20s'")  # a test that left a lock behind fails, not hangs
        con.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return url


@pytest.fixture
def gallery(tmp_path):
    """An empty reference-set database of the test's own."""
    from siamese.gallery.gallery import Gallery
    return Gallery(tmp_path / "g.sqlite3")


@pytest.fixture
def index(gallery):
    """The search index over :func:`gallery`."""
    from siamese.search.index import ReferenceIndex
    return ReferenceIndex(gallery)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download), one per test module."""
    from playwright.sync_api import sync_playwright

    from browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def matcher():
    """The shipped model, loaded once."""
    from siamese import load_matcher
    return load_matcher()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No dataset anywhere and no network: the app must still start."""
    import keras
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Markers from what a test needs: ``postgres`` when it takes the PostgreSQL server (directly,
    or as the ``postgresql`` case of a parametrized ``gallery``), ``model`` when it takes the shipped
    model (the ``matcher`` fixture, or a module that loads it). See pyproject.toml."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if names & {"postgres", "postgres_url"} or any(isinstance(v, str) and v == "postgresql" for v in params.values()):
            item.add_marker(pytest.mark.postgres)
        if "matcher" in names or "load_matcher" in getattr(item.module, "__dict__", {}):
            item.add_marker(pytest.mark.model)
