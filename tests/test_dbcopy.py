"""siamese.gallery.dbcopy (``python -m siamese db copy``): a whole gallery from SQLite into PostgreSQL and
back, every row of every table compared after the copy; refusals (a target that holds a gallery,
another schema version) that leave the target as it was. A real PostgreSQL, never a mock."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT
from siamese.classroom import SOLO, TEACHER
from siamese.gallery.dbcopy import CopyError, copy_gallery
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery, SetKind
from siamese.gallery.errors import GalleryUnavailable
from siamese.search.index import ReferenceIndex
from siamese.gallery.stores import TABLES
from helpers import FakeMatcher, V2_DATABASE, image


def rows(gallery) -> dict:
    """Every row of every table, in key order, as plain Python values."""
    order = {"embeddings": "example_id, model_id"}
    with gallery._connect() as s:
        return {t: [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in
                    s.execute(f"SELECT {', '.join(c)} FROM {t} ORDER BY {order.get(t, c[0])}").fetchall()]
                for t, c in TABLES.items()}


@pytest.fixture
def school(tmp_path):
    """A SQLite gallery as a term leaves it: a class reset (one student retired, their symbol gone),
    two students of this class with symbols (one with two examples), the teacher's symbols,
    embeddings by two models, an imported set, a Digits set, deleted rows (so the highest ids ever
    used are above the rows'), and meta keys. Returns ``(gallery, {name: token})``."""
    g = Gallery(tmp_path / "school.sqlite3")
    old, gone = g.join_class("Zoë")
    g.add_example(CLASS_SYMBOLS, "old", image(0), b"t0", actor=gone)
    g.reset_class(TEACHER)
    tokens = {}
    for name in ("Ana", "Ben"):
        tokens[name], student = g.join_class(name)
        g.add_example(CLASS_SYMBOLS, "star", image(len(tokens)), f"thumb {name}".encode(),
                      ("fake-1", FakeMatcher().embed_inputs(image(len(tokens)))[0]), actor=student)
    g.add_example(CLASS_SYMBOLS, "star", image(9), b"t9", new_symbol=False, actor=g.student(tokens["Ana"]))
    g.add_example(CLASS_SYMBOLS, "moon", image(4), b"t4", actor=TEACHER)
    g.add_example(CLASS_SYMBOLS, "comet", image(5), b"t5", actor=TEACHER)
    g.delete_symbol(CLASS_SYMBOLS, "comet", actor=TEACHER)  # the largest symbol and example ids: unused now
    g.add_set_bulk("Class 2B", SetKind.USER, [("a", image(6), b"t6"), ("b", image(7), b"t7")])
    items = [(str(d), image(10 + d), f"d{d}".encode()) for d in range(3)]
    g.add_set_bulk("Digits", SetKind.DIGITS, items, ("fake-2", np.arange(3 * 4, dtype=np.float32).reshape(3, 4)))
    ReferenceIndex(g).references(CLASS_SYMBOLS, FakeMatcher("fake-1"))  # embeds the rest, stores them
    g.set_meta("default_sets_v1", "done")
    tokens["Zoë"] = old
    return g, tokens


def test_a_whole_gallery_goes_into_postgresql_and_back_unchanged(school, postgres, tmp_path):
    source, tokens = school
    target = postgres.create_database("school")
    lines = []
    report = copy_gallery(str(source.path), target, log=lines.append)
    assert [r.table for r in report] == list(TABLES) and all(r.source == r.target for r in report)
    assert {r.table: r.rows for r in report} == {t: len(v) for t, v in rows(source).items()}
    assert lines[-1].startswith("verified: every table holds the same rows in both")
    pg = Gallery(target)
    assert rows(pg) == rows(source)  # byte for byte: inputs, thumbnails, vectors with their model ids
    assert pg.sets() == source.sets() and pg.symbols(CLASS_SYMBOLS) == source.symbols(CLASS_SYMBOLS)
    assert pg.student(tokens["Ana"]) == source.student(tokens["Ana"])  # students keep their identities
    with pytest.raises(Exception, match="started a new class"):
        pg.student(tokens["Zoë"])  # and a retired one stays retired
    fresh = FakeMatcher("fake-1")
    ReferenceIndex(pg).references(CLASS_SYMBOLS, fresh)
    assert fresh.calls == 0  # every stored embedding came across with its model id

    with source._connect() as s:
        used = source._store.last_ids(s)
    pg.add_example(CLASS_SYMBOLS, "sun", image(20), b"t20", actor=TEACHER)
    sun = next(s for s in pg.symbols(CLASS_SYMBOLS) if s["name"] == "sun")
    assert (sun["id"], sun["example_id"]) == (used["symbols"] + 1, used["examples"] + 1)  # "comet"'s stay unused
    _, cleo = pg.join_class("Cleo")
    assert cleo.owner == used["owners"] + 1

    back = tmp_path / "back.sqlite3"
    copy_gallery(target, f"sqlite://{back}", log=lines.append)  # and back again, into a new file
    assert rows(Gallery(back)) == rows(pg)


def test_a_target_that_holds_a_gallery_is_refused_unless_replace_and_left_as_it_was(school, postgres):
    source, _ = school
    target = postgres.create_database("busy")
    busy = Gallery(target)
    busy.add_example(CLASS_SYMBOLS, "mine", image(1), b"p", actor=SOLO)
    before = rows(busy)
    with pytest.raises(CopyError, match=r"already holds a gallery \(0 sets besides Class symbols, 1 symbols, "
                                        r"0 students\): nothing was copied. Add --replace"):
        copy_gallery(str(source.path), target)
    assert rows(busy) == before
    copy_gallery(str(source.path), target, replace=True, log=lambda line: None)
    assert rows(busy) == rows(source)
    with busy._connect() as s:
        assert busy._store.last_ids(s)["symbols"] >= 2  # ids the target once used are not handed out again
    with pytest.raises(CopyError, match="same database"):
        copy_gallery(target, target)
    with pytest.raises(CopyError, match="same database"):  # one database, two spellings
        copy_gallery(target.replace("127.0.0.1", "localhost"), target)
    (source.path.parent / "link.sqlite3").symlink_to(source.path)
    with pytest.raises(CopyError, match="same database"):
        copy_gallery(str(source.path.parent / "link.sqlite3"), str(source.path))
    assert rows(busy) == rows(source)  # the probe of "same database" left no row behind


def test_a_previous_release_file_is_migrated_then_copied(postgres, tmp_path):
    path = tmp_path / "v2.sqlite3"
    shutil.copy(V2_DATABASE, path)
    target = postgres.create_database("from_v2")
    copy_gallery(f"sqlite://{path}", target, log=lambda line: None)
    pg = Gallery(target)
    assert [(s["name"], s["symbols"]) for s in pg.sets()] == [(CLASS_SYMBOLS, 3), ("Class 2B", 2), ("Digits", 2)]
    assert pg.get_meta("schema_version") == "4" and rows(pg) == rows(Gallery(path))


def siamese_db(*args):
    return subprocess.run([sys.executable, "-m", "siamese", "db", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def test_the_command_line_copies_verifies_and_refuses_with_messages(school, postgres):
    source, _ = school
    url = postgres.create_database("cli").replace("postgres@", "postgres:hunter2@")  # trusted: ignored
    done = siamese_db("copy", "--from", f"sqlite://{source.path}", "--to", url)
    assert done.returncode == 0, done.stderr
    assert "verified: every table holds the same rows in both" in done.stdout and "hunter2" not in done.stdout
    assert f"-> postgresql://postgres@127.0.0.1:{postgres.port}/cli" in done.stdout
    again = siamese_db("copy", "--from", f"sqlite://{source.path}", "--to", url)
    assert again.returncode == 1 and "already holds a gallery" in again.stderr and "--replace" in again.stderr
    assert siamese_db("copy", "--from", f"sqlite://{source.path}", "--to", url, "--replace").returncode == 0

    import psycopg
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    newer = siamese_db("copy", "--from", f"sqlite://{source.path}", "--to", url, "--replace")
    assert newer.returncode == 1 and "holds gallery schema version 5; this release reads version 4" in newer.stderr
    assert "hunter2" not in newer.stderr and "Traceback" not in newer.stderr
    bad = siamese_db("copy", "--from", "mysql://root:pw@db/school", "--to", url)
    assert bad.returncode == 1 and "unknown scheme" in bad.stderr and ":pw@" not in bad.stderr


def test_a_sqlite_file_of_a_newer_release_is_refused_not_used(tmp_path):
    g = Gallery(tmp_path / "g.sqlite3")
    g.set_meta("schema_version", "5")
    with pytest.raises(GalleryUnavailable, match="schema version 5, written by a newer release; this release "
                                                 "reads version 4"):
        Gallery(tmp_path / "g.sqlite3")
