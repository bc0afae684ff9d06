"""The gallery in PostgreSQL, and what can go wrong with a database that lives elsewhere: a server
that is not there at start, wrong credentials, a URL of an unknown scheme, a database of another
schema version, the database lost in the middle of a session or of a write, an app server killed
in the middle of a write (on both databases), and two servers registering at once (both
databases). The rest of the gallery's behaviour runs on both databases in tests/test_gallery.py.
All against a real PostgreSQL (tests/conftest.py's ``postgres``), never a mock."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from helpers import ROOT
from siamese.classroom import SOLO, TEACHER_OWNER
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery, SetKind
from siamese.gallery.errors import GalleryUnavailable
from helpers import image

PYTHONPATH = os.pathsep.join([str(ROOT), str(ROOT / "tests")])


def wait_until(condition, what: str, timeout: float = 120.0):
    """Poll ``condition`` until it returns something true (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


def child(script: str, *args: str) -> subprocess.Popen:
    """A Python process of its own (an app server, as far as the database can tell)."""
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": PYTHONPATH})


# ---- bad input at start ----
def test_an_unreachable_database_is_named_without_its_password(postgres):
    closed = postgres.port + 1 if postgres.port < 65535 else 1
    url = f"postgresql://ana:s3cret@127.0.0.1:{closed}/siamese"
    with pytest.raises(GalleryUnavailable, match="cannot be reached") as caught:
        Gallery(url)
    message = str(caught.value)
    assert f"postgresql://ana@127.0.0.1:{closed}/siamese" in message and "s3cret" not in message
    assert "Connection refused" in message  # libpq's reason, as it gave it


def test_wrong_credentials_are_refused_with_a_clear_message(postgres):
    postgres.create_role("ana", "right horse")
    postgres.create_database("classes", owner="ana")
    wrong = postgres.url("classes", "ana", "wrong-battery")
    with pytest.raises(GalleryUnavailable, match="password authentication failed") as caught:
        Gallery(wrong)
    assert "wrong-battery" not in str(caught.value) and "right horse" not in str(caught.value)
    assert f"postgresql://ana@127.0.0.1:{postgres.port}/classes" in str(caught.value)
    right = Gallery(postgres.url("classes", "ana", "right%20horse"))  # the owner creates the tables
    assert [s["name"] for s in right.sets()] == [CLASS_SYMBOLS] and right.where.startswith("postgresql://ana@")


@pytest.mark.parametrize("url", ["mysql://ana:s3cret@db.school/siamese", "postgresql+psycopg://ana:s3cret@h/x",
                                 "http://ana:s3cret@db.school/"])
def test_a_url_of_an_unknown_scheme_is_refused(url):
    with pytest.raises(GalleryUnavailable, match="unknown scheme") as caught:
        Gallery(url)
    assert "s3cret" not in str(caught.value) and "postgresql://user@host:5432/dbname" in str(caught.value)


@pytest.mark.parametrize("version", ["2", "5"])
def test_a_database_of_another_schema_version_is_refused_with_both_versions_named(postgres, version):
    url = postgres.create_database(f"v{version}")
    import psycopg
    Gallery(url).add_example(CLASS_SYMBOLS, "star", image(1), b"p", actor=SOLO)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (version,))
    with pytest.raises(GalleryUnavailable, match=f"holds gallery schema version {version}; this release reads "
                                                 "version 4 only"):
        Gallery(url)
    with psycopg.connect(url) as db:  # refused, not changed
        assert db.execute("SELECT COUNT(*) FROM symbols").fetchone()[0] == 1
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == version


def test_another_applications_tables_are_left_alone(postgres):
    import psycopg
    url = postgres.create_database("shop")
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE owners (id INT PRIMARY KEY, shop TEXT)")
    with pytest.raises(GalleryUnavailable, match="already holds tables called owners but no gallery schema"):
        Gallery(url)
    with psycopg.connect(url) as db:
        assert db.execute("SELECT to_regclass('symbols')").fetchone()[0] is None


# ---- faults in the middle ----
def test_the_database_lost_mid_session_says_so_and_nothing_is_lost(postgres, postgres_url):
    """The server stops (as a database host going down): reads and writes fail with a clear message
    that names the database, the write saves nothing; once it is back, the same gallery object
    (its pool) works again, with everything stored before, and the write can be made again."""
    gallery = Gallery(postgres_url)
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"p", actor=SOLO)
    postgres.stop()
    try:
        with pytest.raises(GalleryUnavailable, match="cannot be reached|stopped answering") as caught:
            gallery.symbols(CLASS_SYMBOLS)
        assert f"127.0.0.1:{postgres.port}/gallery" in str(caught.value)
        with pytest.raises(GalleryUnavailable):
            gallery.add_example(CLASS_SYMBOLS, "moon", image(2), b"p", actor=SOLO)
    finally:
        postgres.start()
    assert [s["name"] for s in gallery.symbols(CLASS_SYMBOLS)] == ["star"]
    gallery.add_example(CLASS_SYMBOLS, "moon", image(2), b"p", actor=SOLO)  # the retry
    assert [s["name"] for s in Gallery(postgres_url).symbols(CLASS_SYMBOLS)] == ["moon", "star"]


def test_a_connection_lost_in_the_middle_of_a_write_saves_nothing(postgres, postgres_url):
    """A registration has inserted its symbol and example and waits to bump the set's revision
    (another transaction holds the set's row) when its connection is killed: it fails with "Nothing
    was saved", nothing of it is stored, the revision is unchanged, and trying again works."""
    import psycopg
    gallery = Gallery(postgres_url)
    before = gallery.revision(CLASS_SYMBOLS)
    outcome = []

    def register():
        try:
            gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"p", actor=SOLO)
            outcome.append("stored")
        except GalleryUnavailable as exc:
            outcome.append(str(exc))

    with psycopg.connect(postgres_url) as holder, psycopg.connect(postgres_url, autocommit=True) as admin:
        holder.execute("SELECT 1 FROM ref_sets WHERE name = %s FOR NO KEY UPDATE", (CLASS_SYMBOLS,))
        writer = threading.Thread(target=register)
        writer.start()
        pid = wait_until(lambda: admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_xid IS NOT NULL "
            "AND query LIKE 'UPDATE ref_sets%%'").fetchone(), "the registration waiting on the set's row")[0]
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        writer.join(60)
        holder.rollback()
    assert len(outcome) == 1 and "stopped answering" in outcome[0] and "Nothing was saved" in outcome[0]
    assert gallery.symbols(CLASS_SYMBOLS) == [] and gallery.revision(CLASS_SYMBOLS) == before
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"p", actor=SOLO)
    assert [s["name"] for s in gallery.symbols(CLASS_SYMBOLS)] == ["star"]


WRITER = """
import os, sys
import numpy as np
from siamese.gallery.gallery import Gallery, SetKind
g = Gallery(sys.argv[1])
x, thumb = np.linspace(0, 1, 784, dtype=np.float32).reshape(28, 28), os.urandom(4096)  # not compressible
items = [(f"s{i}", x, thumb) for i in range(int(sys.argv[2]))]
print("writing", flush=True)
g.add_set_bulk("Big", SetKind.USER, items)
print("committed", flush=True)
"""
"""An app server writing one large set in one transaction (4 kB thumbnails), saying when it starts."""


def sqlite_write_in_flight(path):
    """True while a write transaction holds ``path`` and has spilled over 2 MB into the WAL."""
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size < 2 << 20:
        return False
    con = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:  # "database is locked": the writer holds it
        return "locked" in str(exc)
    finally:
        con.close()


def postgres_write_in_flight(url):
    """True while one transaction has written over 2 MB of examples that nobody else can see yet."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as con:
        size, visible, writing = con.execute(
            "SELECT pg_total_relation_size('examples'), (SELECT COUNT(*) FROM examples), (SELECT COUNT(*) FROM "
            "pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL)").fetchone()
    return size > 2 << 20 and visible == 1 and writing == 1  # the one example stored before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_server_killed_in_the_middle_of_a_write_leaves_nothing_half_written(backend, postgres, tmp_path):
    """SIGKILL, as a crash or an out-of-memory kill, while 8,000 rows are being written in one
    transaction, once they are partly on disk: afterwards the set is not there at all, no row of it
    is, and the next write goes through (no lock is left behind)."""
    if backend == "sqlite":
        url, n = str(tmp_path / "g.sqlite3"), 8000
        in_flight = lambda: sqlite_write_in_flight(tmp_path / "g.sqlite3")  # noqa: E731
    else:
        url, n = postgres.create_database("killed"), 8000
        in_flight = lambda: postgres_write_in_flight(url)  # noqa: E731
    Gallery(url).add_example(CLASS_SYMBOLS, "star", image(1), b"p", actor=SOLO)
    server = child(WRITER, url, str(n))
    try:
        assert server.stdout.readline().strip() == "writing", server.stderr.read()
        wait_until(lambda: server.poll() is not None or in_flight(), "a write half done")
        assert server.poll() is None, "the write ended before it could be interrupted"
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        assert server.stdout.read() == ""  # killed before the commit returned
    finally:
        server.kill()
    gallery = Gallery(url)
    assert [(s["name"], s["symbols"], s["examples"]) for s in gallery.sets()] == [(CLASS_SYMBOLS, 1, 1)]
    with gallery._connect() as s:
        assert [s.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("symbols", "examples")] == [1, 1]
    assert gallery.add_set_bulk("Big", SetKind.USER, [("a", image(2), b"p")]) is True
    assert gallery.symbols("Big")[0]["name"] == "a"


REGISTRAR = """
import json, sys, threading, time
from pathlib import Path
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery
from siamese.gallery.errors import GalleryError
from helpers import image
url, go, tokens = sys.argv[1], Path(sys.argv[2]), json.loads(sys.stdin.readline())
gallery = Gallery(url)
students = [gallery.student(t) for t in tokens]
outcomes, barrier = [], threading.Barrier(len(students))

def register(actor, i):
    barrier.wait()
    for _ in range(2):  # the second press is refused: the name is taken by this student
        try:
            gallery.add_example(CLASS_SYMBOLS, "star", image(i), b"png", actor=actor)
            outcomes.append("stored")
        except GalleryError as exc:
            outcomes.append(str(exc))

print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
threads = [threading.Thread(target=register, args=(a, i)) for i, a in enumerate(students)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(outcomes), flush=True)
"""
"""One app server: 20 students, each in a thread (a session), press Register twice at once."""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_servers_with_twenty_students_each_registering_at_once(backend, postgres, tmp_path):
    """2 processes (as 2 app servers) x 20 threads, released together: 40 stars stored, one per
    student, none lost, none duplicated; every second press refused with the duplicate message."""
    url = str(tmp_path / "g.sqlite3") if backend == "sqlite" else postgres.create_database("two_servers")
    gallery = Gallery(url)
    tokens = [gallery.join_class(f"Student {i}")[0] for i in range(40)]
    go, results = tmp_path / "go", []
    servers = [child(REGISTRAR, url, str(go)) for _ in range(2)]
    try:
        for k, server in enumerate(servers):
            server.stdin.write(json.dumps(tokens[20 * k:20 * (k + 1)]) + "\n")
            server.stdin.flush()
            assert server.stdout.readline().strip() == "ready", server.stderr.read()
        go.touch()
        for server in servers:
            out, err = server.communicate(timeout=300)
            assert server.returncode == 0, err
            results += json.loads(out)
    finally:
        for server in servers:
            server.kill()
    assert results.count("stored") == 40 and len(results) == 80
    assert all("You already have a symbol called “star”" in r for r in results if r != "stored")
    stars = gallery.symbols(CLASS_SYMBOLS)
    assert len(stars) == 40 and {s["name"] for s in stars} == {"star"}
    assert sorted(s["owner_name"] for s in stars) == sorted(f"Student {i}" for i in range(40))
    assert all(s["examples"] == 1 for s in stars) and TEACHER_OWNER not in {s["owner"] for s in stars}


@pytest.mark.parametrize("url", ["postgresql://ana:s3cr%ZZet@db/siamese", "postgresql://ana:s3cret@[::1/siamese",
                                 "postgresql://ana@db/siamese?password=s3cret&nonsense=1"])
def test_a_malformed_url_is_refused_without_showing_its_password(url):
    """libpq quotes the part of a URL it cannot parse, which may be the password: it is taken out."""
    with pytest.raises(GalleryUnavailable, match="malformed") as caught:
        Gallery(url)
    assert "s3cr" not in str(caught.value)
