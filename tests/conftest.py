"""Shared fixtures. Tests never write to the user's home: SIAMESE_HOME and SIAMESE_CACHE_DIR
point at temporary directories. Real-data tests read SIAMESE_DATA_DIR (CI sets it to
../shared/data) and FAIL, not skip, when it is missing."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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


def sketch(strokes, size=280, width=18, ink=(0, 0, 0, 255), background=(0, 0, 0, 0)):
    """A canvas-like RGBA (size, size, 4) uint8 image with polyline strokes given in canvas
    fractions, as streamlit-drawable-canvas returns it (transparent background by default); a
    one-point stroke is a click (a disc of the pen's width)."""
    img = Image.new("RGBA", (size, size), background)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [(x * size, y * size) for x, y in stroke]
        if len(pts) == 1:  # a click: the canvas paints a disc of the pen's width
            (x, y), r = pts[0], width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
        else:
            draw.line(pts, fill=ink, width=width, joint="curve")
    return np.asarray(img)


SHAPES = {
    "one": [[(0.5, 0.15), (0.5, 0.85)]],
    "seven": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "zigzag": [[(0.2, 0.3), (0.4, 0.7), (0.6, 0.3), (0.8, 0.7)]],
    "cross": [[(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]],
    "zero": [[(0.5 + 0.22 * np.sin(t / 24 * 2 * np.pi), 0.5 - 0.32 * np.cos(t / 24 * 2 * np.pi)) for t in range(25)]],
    "star": [[(0.5, 0.15), (0.62, 0.85), (0.15, 0.4), (0.85, 0.4), (0.38, 0.85), (0.5, 0.15)]],
}


def pen_strokes(item, span=0.6):
    """A UNIPEN pen digit (``{"strokes": [[[x, y], ...], ...]}``, tablet units, y up) as canvas
    strokes: y flipped and the digit fitted, centred, into ``span`` of the canvas, as a person
    draws on it."""
    strokes = [[(x, -y) for x, y in s] for s in item["strokes"]]
    xs = [p[0] for s in strokes for p in s]
    ys = [p[1] for s in strokes for p in s]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    size = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    return [[(0.5 + span * (x - cx) / size, 0.5 + span * (y - cy) / size) for x, y in s] for s in strokes]
