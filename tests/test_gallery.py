"""siamese.gallery: storing the reference sets in SQLite (search is tests/test_index.py)."""
import sqlite3
import threading

import numpy as np
import pytest

from siamese.gallery import (MAX_NAME, MY_SYMBOLS, Gallery, GalleryError, SetKind, bytes_to_input, clean_name,
                             input_to_bytes)
from siamese.index import ReferenceIndex, embed_for_storage


class FakeMatcher:
    """Embeds an input as its row and column ink sums (56-d): deterministic, no TensorFlow."""

    def __init__(self, model_id="fake-1", scale=1.0):
        self.model_id, self.scale, self.calls = model_id, scale, 0
        self.dim = 56
        self.threshold = 1.0

    def embed_inputs(self, x):
        self.calls += 1
        x = np.asarray(x, np.float32).reshape(-1, 28, 28)
        return (self.scale * np.concatenate([x.sum(1), x.sum(2)], axis=1)).astype(np.float32)


def image(seed):
    return np.random.default_rng(seed).random((28, 28)).astype(np.float32)


def test_my_symbols_exists_and_wal_is_on(gallery):
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS]
    con = sqlite3.connect(gallery.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_duplicate_name_is_refused_with_a_clear_message_and_changes_nothing(gallery):
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"png")
    with pytest.raises(GalleryError, match="already has a symbol called “star”"):
        gallery.add_example(MY_SYMBOLS, " star ", image(2), b"png")
    assert gallery.symbols(MY_SYMBOLS) == [{"name": "star", "examples": 1, "example_id": 1}]


def test_another_example_of_an_existing_symbol(gallery):
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"png")
    gallery.add_example(MY_SYMBOLS, "star", image(2), b"png", new_symbol=False)
    assert gallery.symbols(MY_SYMBOLS)[0]["examples"] == 2
    with pytest.raises(GalleryError, match="no symbol called"):
        gallery.add_example(MY_SYMBOLS, "moon", image(3), b"png", new_symbol=False)


@pytest.mark.parametrize("bad, message", [
    ("", "type a name"), ("   \t ", "type a name"), ("x" * 10_000, "keep it to"),
    ("a\nb", "control characters"), ("evil\u202eltr", "control characters"), ("nul\x00", "control characters"),
    # invisible characters that would let two names look the same, or reorder what is shown
    ("star\u200c", "control characters"), ("\u200dstar", "control characters"), ("st\u200car", "control characters"),
    ("a\u2066b\u2069", "control characters"), ("a\u200bb", "control characters"), ("\ufeffstar", "control characters"),
    ("so\u00adft", "control characters"), ("x" * (MAX_NAME + 1), "41 characters long"),
    ("🌟" * (MAX_NAME + 1), "41 characters long"), ("a" + "\u0301" * 40, "too many accents"),
])
def test_bad_names_are_refused(gallery, bad, message):
    with pytest.raises(GalleryError, match=message):
        gallery.add_example(MY_SYMBOLS, bad, image(1), b"png")
    assert gallery.symbols(MY_SYMBOLS) == []


@pytest.mark.parametrize("name", [
    "<script>alert(1)</script>", "**bold** [x](y)", "../../etc/passwd", "🌟 star", "שלום", "x" * MAX_NAME,
    "می\u200cخواهم",  # Persian "I want", with the zero-width non-joiner (the half-space) it needs
    "क्\u200dष",  # Devanagari: a joiner after a virama
    "👩\u200d💻", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "👩🏽\u200d💻",  # emoji ZWJ sequences
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland: tag characters
    "👨\u200d👩\u200d👧\u200d👦" * MAX_NAME,  # 40 characters as a person counts them (280 code points)
])
def test_odd_but_valid_names_are_kept_verbatim(gallery, name):
    assert gallery.add_example(MY_SYMBOLS, name, image(1), b"png") == name
    assert gallery.symbols(MY_SYMBOLS)[0]["name"] == name


def test_clean_name_normalises_unicode():
    assert clean_name("e\u0301") == "\u00e9"


def test_rename_and_delete(gallery):
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"png")
    gallery.add_example(MY_SYMBOLS, "moon", image(2), b"png")
    with pytest.raises(GalleryError, match="already has"):
        gallery.rename_symbol(MY_SYMBOLS, "star", "moon")
    gallery.rename_symbol(MY_SYMBOLS, "star", "sun")
    gallery.delete_symbol(MY_SYMBOLS, "moon")
    assert [s["name"] for s in gallery.symbols(MY_SYMBOLS)] == ["sun"]
    with pytest.raises(GalleryError, match="no symbol called"):
        gallery.delete_symbol(MY_SYMBOLS, "moon")


def test_concurrent_registrations_all_arrive(gallery):
    """16 threads (as 16 sessions) register 10 symbols each at once: none is lost."""
    errors = []

    def worker(t):
        try:
            g = Gallery(gallery.path)
            for i in range(10):
                g.add_example(MY_SYMBOLS, f"s{t}-{i}", image(t * 10 + i), b"png")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len(gallery.symbols(MY_SYMBOLS)) == 160


def test_concurrent_duplicates_exactly_one_wins(gallery):
    results = []

    def worker():
        try:
            Gallery(gallery.path).add_example(MY_SYMBOLS, "same", image(0), b"png")
            results.append("ok")
        except GalleryError:
            results.append("dup")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["dup"] * 7 + ["ok"]


def test_bulk_set_is_created_once(gallery):
    m = FakeMatcher()
    items = [("a", image(1), b"p"), ("a", image(2), b"p"), ("b", image(3), b"p")]
    vectors = embed_for_storage(m, [x for _, x, _ in items])
    assert gallery.add_set_bulk("Digits", SetKind.DIGITS, items, vectors) is True
    assert gallery.add_set_bulk("Digits", SetKind.DIGITS, items, vectors) is False
    assert [(s["name"], s["examples"]) for s in gallery.symbols("Digits")] == [("a", 2), ("b", 1)]
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS, "Digits"]


def test_input_bytes_round_trip():
    x = image(5)
    np.testing.assert_allclose(bytes_to_input(input_to_bytes(x)), x, atol=1 / 255)


def test_wrong_shaped_input_is_refused_and_changes_nothing(gallery):
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        gallery.add_example(MY_SYMBOLS, "bad", np.ones((5, 5), np.float32), b"png")
    with pytest.raises(ValueError, match="finite"):
        gallery.add_example(MY_SYMBOLS, "nan", np.full((28, 28), np.nan, np.float32), b"png")
    assert gallery.symbols(MY_SYMBOLS) == []


def test_delete_set_only_for_imported_sets(gallery):
    gallery.add_set_bulk("Digits", "digits", [("a", image(1), b"p")])
    gallery.add_set_bulk("Class 2B", "user", [("a", image(1), b"p")])
    for name, message in ((MY_SYMBOLS, "cannot be deleted"), ("Digits", "cannot be deleted"), ("nope", "no reference set")):
        with pytest.raises(GalleryError, match=message):
            gallery.delete_set(name)
    gallery.delete_set("Class 2B")
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS, "Digits"]


def test_symbol_and_example_ids_are_never_reused(gallery):
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"p1")
    first = gallery.symbols(MY_SYMBOLS)[0]["example_id"]
    gallery.delete_symbol(MY_SYMBOLS, "star")
    gallery.add_example(MY_SYMBOLS, "moon", image(2), b"p2")
    assert gallery.symbols(MY_SYMBOLS)[0]["example_id"] > first
    con = sqlite3.connect(gallery.path)
    ids = con.execute("SELECT name, seq FROM sqlite_sequence ORDER BY name").fetchall()
    assert dict(ids)["symbols"] == 2 and dict(ids)["examples"] == 2


V1_SCHEMA = """
CREATE TABLE ref_sets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0);
CREATE TABLE symbols (id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL REFERENCES ref_sets(id) ON DELETE CASCADE,
    name TEXT NOT NULL, UNIQUE (set_id, name));
CREATE TABLE examples (id INTEGER PRIMARY KEY, symbol_id INTEGER NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
    model_input BLOB NOT NULL, thumbnail BLOB NOT NULL, created TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE embeddings (example_id INTEGER NOT NULL REFERENCES examples(id) ON DELETE CASCADE, model_id TEXT NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (example_id, model_id));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""
"""The first release's schema, verbatim: ids were plain INTEGER PRIMARY KEYs."""


def test_a_first_release_database_is_migrated_without_losing_anything(tmp_path):
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    m = FakeMatcher()
    con.execute("INSERT INTO ref_sets VALUES (1, ?, 'user', 3), (2, 'Imported', 'user', 0)", (MY_SYMBOLS,))
    con.execute("INSERT INTO symbols VALUES (1, 1, 'star'), (2, 1, 'moon'), (3, 2, 'x')")
    for ex, sym, seed in ((1, 1, 1), (2, 1, 2), (3, 2, 3), (4, 3, 4)):
        con.execute("INSERT INTO examples (id, symbol_id, model_input, thumbnail) VALUES (?, ?, ?, ?)",
                    (ex, sym, input_to_bytes(image(seed)), f"png{ex}".encode()))
        con.execute("INSERT INTO embeddings VALUES (?, 'fake-1', ?)", (ex, m.embed_inputs(image(seed))[0].tobytes()))
    con.execute("INSERT INTO meta VALUES ('default_sets_v1', 'done')")
    con.commit()
    con.close()

    g = Gallery(path)
    assert sorted((s["name"], s["symbols"], s["examples"]) for s in g.sets()) == [("Imported", 1, 1), (MY_SYMBOLS, 2, 3)]
    assert g.symbols(MY_SYMBOLS) == [{"name": "moon", "examples": 1, "example_id": 3},
                                     {"name": "star", "examples": 2, "example_id": 1}]
    assert g.thumbnail(4) == b"png4" and g.get_meta("default_sets_v1") == "done"
    fresh = FakeMatcher()
    refs = ReferenceIndex(g).references(MY_SYMBOLS, fresh)
    assert fresh.calls == 0  # stored embeddings kept: nothing recomputed
    np.testing.assert_allclose(refs.embeddings[0], m.embed_inputs(image(1))[0], atol=1e-6)
    g.delete_set("Imported")  # cascades still work after the rebuild
    g.add_set_bulk("Next", "user", [("y", image(5), b"p")])
    assert g.symbols("Next")[0]["example_id"] == 5  # not 4: the deleted example's id
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 3
    Gallery(path)  # opening again is a no-op
    assert g.get_meta("schema_version") == "2"


def test_examples_are_listed_with_their_stored_embeddings_and_thumbnails(gallery):
    m = FakeMatcher()
    model_id, vectors = embed_for_storage(m, [image(1)])
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"p1", (model_id, vectors[0]))
    gallery.add_example(MY_SYMBOLS, "moon", image(2), b"p2")
    gallery.add_example(MY_SYMBOLS, "star", image(3), b"p3", new_symbol=False)
    rows = gallery.examples(MY_SYMBOLS, model_id="fake-1")
    assert [(r.symbol, r.thumbnail, r.vector is not None) for r in rows] == \
        [("star", None, True), ("moon", None, False), ("star", None, False)]
    assert rows[0].model_input == input_to_bytes(image(1))
    by_symbol = gallery.examples(MY_SYMBOLS, thumbnails=True, by_symbol=True)
    assert [(r.symbol, r.thumbnail, r.vector) for r in by_symbol] == [("moon", b"p2", None), ("star", b"p1", None),
                                                                    ("star", b"p3", None)]
    gallery.store_embeddings("fake-1", {rows[1].id: np.ones(56, np.float32), 10_000: np.ones(56, np.float32)})
    assert np.frombuffer(gallery.examples(MY_SYMBOLS, model_id="fake-1")[1].vector, np.float32).sum() == 56
    with pytest.raises(GalleryError, match="no reference set"):
        gallery.examples("nope")


def test_revision_changes_with_every_write_and_not_with_stored_embeddings(gallery):
    before = gallery.revision(MY_SYMBOLS)
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"p")
    after_add = gallery.revision(MY_SYMBOLS)
    assert after_add[0] == before[0] and after_add[1] > before[1]
    gallery.store_embeddings("m", {gallery.examples(MY_SYMBOLS)[0].id: np.zeros(4, np.float32)})
    assert gallery.revision(MY_SYMBOLS) == after_add
    with pytest.raises(GalleryError, match="no reference set"):
        gallery.revision("nope")
