"""siamese.gallery: the SQLite reference sets."""
import sqlite3
import threading

import numpy as np
import pytest

from siamese.gallery import MAX_NAME, MY_SYMBOLS, Gallery, GalleryError, bytes_to_input, clean_name, input_to_bytes


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


@pytest.fixture
def gallery(tmp_path):
    return Gallery(tmp_path / "g.sqlite3")


def test_my_symbols_exists_and_wal_is_on(gallery):
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS]
    con = sqlite3.connect(gallery.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_register_then_reference_embeddings(gallery):
    m = FakeMatcher()
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"png", m)
    gallery.add_example(MY_SYMBOLS, "moon", image(2), b"png", m)
    refs = gallery.references(MY_SYMBOLS, m)
    assert list(refs.symbols) == ["star", "moon"]
    np.testing.assert_allclose(refs.embeddings, m.embed_inputs(np.stack([image(1), image(2)])), atol=0.2)
    assert refs.embeddings.flags["C_CONTIGUOUS"] and refs.embeddings.dtype == np.float32


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
])
def test_bad_names_are_refused(gallery, bad, message):
    with pytest.raises(GalleryError, match=message):
        gallery.add_example(MY_SYMBOLS, bad, image(1), b"png")
    assert gallery.symbols(MY_SYMBOLS) == []


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "**bold** [x](y)", "../../etc/passwd",
                                  "🌟 star", "שלום", "x" * MAX_NAME])
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


def test_reference_cache_is_invalidated_by_writes(gallery):
    m = FakeMatcher()
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"png", m)
    assert len(gallery.references(MY_SYMBOLS, m).symbols) == 1
    gallery.add_example(MY_SYMBOLS, "moon", image(2), b"png", m)
    assert len(gallery.references(MY_SYMBOLS, m).symbols) == 2
    gallery.delete_symbol(MY_SYMBOLS, "star")
    assert list(gallery.references(MY_SYMBOLS, m).symbols) == ["moon"]


def test_switching_models_recomputes_embeddings(gallery):
    old, new = FakeMatcher("old"), FakeMatcher("new", scale=2.0)
    gallery.add_example(MY_SYMBOLS, "star", image(1), b"png", old)
    a = gallery.references(MY_SYMBOLS, old).embeddings
    b = gallery.references(MY_SYMBOLS, new).embeddings
    np.testing.assert_allclose(b, 2 * a, rtol=1e-5)
    calls = new.calls
    Gallery(gallery.path).references(MY_SYMBOLS, new)  # stored now: a fresh process needs no recompute
    assert new.calls == calls


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
    assert gallery.add_set_bulk("Digits", "digits", items, m) is True
    assert gallery.add_set_bulk("Digits", "digits", items, m) is False
    assert [(s["name"], s["examples"]) for s in gallery.symbols("Digits")] == [("a", 2), ("b", 1)]
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS, "Digits"]


def test_unknown_set(gallery):
    with pytest.raises(GalleryError, match="no reference set"):
        gallery.references("nope", FakeMatcher())


def test_input_bytes_round_trip():
    x = image(5)
    np.testing.assert_allclose(bytes_to_input(input_to_bytes(x)), x, atol=1 / 255)


def test_wrong_shaped_input_is_refused_and_changes_nothing(gallery):
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        gallery.add_example(MY_SYMBOLS, "bad", np.ones((5, 5), np.float32), b"png")
    with pytest.raises(ValueError, match="finite"):
        gallery.add_example(MY_SYMBOLS, "nan", np.full((28, 28), np.nan, np.float32), b"png")
    assert gallery.symbols(MY_SYMBOLS) == []


def test_delete_while_another_session_embeds_does_not_crash(gallery):
    """Session A fills in missing embeddings while session B deletes one of the examples."""
    for i, n in enumerate("abc"):
        gallery.add_example(MY_SYMBOLS, n, image(i), b"png")  # no matcher: embeddings missing

    class Racy(FakeMatcher):
        def embed_inputs(self, x):
            Gallery(gallery.path).delete_symbol(MY_SYMBOLS, "b")
            return super().embed_inputs(x)

    gallery.references(MY_SYMBOLS, Racy())
    assert list(gallery.references(MY_SYMBOLS, FakeMatcher("fake-1")).symbols) == ["a", "c"]


def test_delete_set_only_for_imported_sets(gallery):
    gallery.add_set_bulk("Digits", "digits", [("a", image(1), b"p")])
    gallery.add_set_bulk("Class 2B", "user", [("a", image(1), b"p")])
    for name, message in ((MY_SYMBOLS, "cannot be deleted"), ("Digits", "cannot be deleted"), ("nope", "no reference set")):
        with pytest.raises(GalleryError, match=message):
            gallery.delete_set(name)
    gallery.delete_set("Class 2B")
    assert [s["name"] for s in gallery.sets()] == [MY_SYMBOLS, "Digits"]
