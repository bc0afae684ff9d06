"""siamese.search.index: search over the reference sets (nearest references, best per symbol) and the
cache of each set's embeddings per (set id, revision, model)."""
import numpy as np
import pytest

from siamese.classroom import SOLO
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery, SetKind
from siamese.gallery.errors import GalleryError
from siamese.distance import nearest
from siamese.search.index import ReferenceIndex, embed_for_storage, top_symbols
from helpers import FakeMatcher, image
from helpers import emb


def bulk(gallery, name, items, matcher):
    return gallery.add_set_bulk(name, SetKind.USER, items, embed_for_storage(matcher, [x for _, x, _ in items]))


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    refs = rng.normal(size=(1000, 16)).astype(np.float32)
    q = rng.normal(size=16).astype(np.float32)
    idx, dist = nearest(q, refs, k=5)
    brute = np.linalg.norm(refs - q, axis=1)
    np.testing.assert_array_equal(idx, np.argsort(brute)[:5])
    np.testing.assert_allclose(dist, np.sort(brute)[:5], rtol=1e-4)
    assert nearest(q, refs[:3], k=5)[0].shape == (3,)
    assert nearest(q, refs[:0], k=5)[0].shape == (0,)


def test_top_symbols_keeps_the_best_example_per_symbol():
    emb = np.array([[0.0], [0.1], [0.2], [5.0]], np.float32)
    symbols = np.array(["a", "a", "b", "c"], dtype=object)
    out = top_symbols(np.array([0.0], np.float32), emb, symbols, k=5)
    assert [(symbols[i], round(d, 3)) for i, d in out] == [("a", 0.0), ("b", 0.2), ("c", 5.0)]


def test_register_then_reference_embeddings(gallery, index):
    m = FakeMatcher()
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"png", emb(m, image(1)), actor=SOLO)
    gallery.add_example(CLASS_SYMBOLS, "moon", image(2), b"png", emb(m, image(2)), actor=SOLO)
    refs = index.references(CLASS_SYMBOLS, m)
    assert list(refs.symbols) == ["star", "moon"]
    np.testing.assert_allclose(refs.embeddings, m.embed_inputs(np.stack([image(1), image(2)])), atol=0.2)
    assert refs.embeddings.flags["C_CONTIGUOUS"] and refs.embeddings.dtype == np.float32


def test_reference_cache_is_invalidated_by_writes(gallery, index):
    m = FakeMatcher()
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"png", emb(m, image(1)), actor=SOLO)
    assert len(index.references(CLASS_SYMBOLS, m).symbols) == 1
    gallery.add_example(CLASS_SYMBOLS, "moon", image(2), b"png", emb(m, image(2)), actor=SOLO)
    assert len(index.references(CLASS_SYMBOLS, m).symbols) == 2
    gallery.delete_symbol(CLASS_SYMBOLS, "star", actor=SOLO)
    assert list(index.references(CLASS_SYMBOLS, m).symbols) == ["moon"]


def test_switching_models_recomputes_embeddings(gallery, index):
    old, new = FakeMatcher("old"), FakeMatcher("new", scale=2.0)
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"png", emb(old, image(1)), actor=SOLO)
    a = index.references(CLASS_SYMBOLS, old).embeddings
    b = index.references(CLASS_SYMBOLS, new).embeddings
    np.testing.assert_allclose(b, 2 * a, rtol=1e-5)
    calls = new.calls
    ReferenceIndex(Gallery(gallery.path)).references(CLASS_SYMBOLS, new)  # stored now: a fresh process needs no recompute
    assert new.calls == calls


def test_unknown_set(gallery, index):
    with pytest.raises(GalleryError, match="no reference set"):
        index.references("nope", FakeMatcher())


def test_delete_while_another_session_embeds_does_not_crash(gallery, index):
    """Session A fills in missing embeddings while session B deletes one of the examples."""
    for i, n in enumerate("abc"):
        gallery.add_example(CLASS_SYMBOLS, n, image(i), b"png", actor=SOLO)  # no matcher: embeddings missing

    class Racy(FakeMatcher):
        def embed_inputs(self, x):
            Gallery(gallery.path).delete_symbol(CLASS_SYMBOLS, "b", actor=SOLO)
            return super().embed_inputs(x)

    index.references(CLASS_SYMBOLS, Racy())
    assert list(index.references(CLASS_SYMBOLS, FakeMatcher("fake-1")).symbols) == ["a", "c"]


def test_ids_are_never_reused_so_caches_cannot_go_stale(gallery, index):
    """Set A is matched (its references cached), then deleted; set B, created next, must be
    served its own references, not A's: ids of sets, symbols and examples are never reused."""
    m = FakeMatcher()
    bulk(gallery, "A", [("alpha", image(1), b"pa"), ("beta", image(2), b"pb")], m)
    refs_a = index.references("A", m)
    gallery.delete_set("A", actor=SOLO)
    bulk(gallery, "B", [("gamma", image(3), b"pg"), ("delta", image(4), b"pd")], m)
    refs_b = index.references("B", m)
    assert list(refs_b.symbols) == ["gamma", "delta"]
    assert not set(refs_b.example_ids) & set(refs_a.example_ids)
    assert [gallery.thumbnail(i) for i in refs_b.example_ids] == [b"pg", b"pd"]
    for i in refs_a.example_ids:  # a page still showing A's matches gets "deleted", not B's images
        with pytest.raises(GalleryError, match="deleted"):
            gallery.thumbnail(i)


@pytest.mark.parametrize("change, expect", [
    ("add", ["star", "moon", "sun"]),
    ("another example", ["star", "moon", "star"]),
    ("rename", ["comet", "moon"]),
    ("delete", ["moon"]),
])
def test_every_change_shows_in_the_very_next_references_call(gallery, index, change, expect):
    m = FakeMatcher()
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"p", emb(m, image(1)), actor=SOLO)
    gallery.add_example(CLASS_SYMBOLS, "moon", image(2), b"p", emb(m, image(2)), actor=SOLO)
    assert list(index.references(CLASS_SYMBOLS, m).symbols) == ["star", "moon"]  # now cached
    if change == "add":
        gallery.add_example(CLASS_SYMBOLS, "sun", image(3), b"p", emb(m, image(3)), actor=SOLO)
    elif change == "another example":
        gallery.add_example(CLASS_SYMBOLS, "star", image(3), b"p", emb(m, image(3)), new_symbol=False, actor=SOLO)
    elif change == "rename":
        gallery.rename_symbol(CLASS_SYMBOLS, "star", "comet", actor=SOLO)
    else:
        gallery.delete_symbol(CLASS_SYMBOLS, "star", actor=SOLO)
    assert list(index.references(CLASS_SYMBOLS, m).symbols) == expect


def test_an_imported_set_shows_in_the_very_next_references_call(gallery, index):
    """Import = a new set under a name that was deleted a moment ago: never the old contents."""
    m = FakeMatcher()
    bulk(gallery, "Class", [("old", image(1), b"p")], m)
    assert list(index.references("Class", m).symbols) == ["old"]
    gallery.delete_set("Class", actor=SOLO)
    bulk(gallery, "Class", [("new", image(2), b"p")], m)
    assert list(index.references("Class", m).symbols) == ["new"]


def test_references_carry_their_kind_and_what_is_derived_from_them_once_per_revision(gallery, index):
    """Each version of a set computes what is derived from it once (its "looks new" rule, the Draw
    page's map); a write makes a new version, which computes afresh; "only mine" is its own."""
    m = FakeMatcher()
    bulk(gallery, "Shapes", [("a", image(1), b"png"), ("b", image(2), b"png")], m)
    refs = index.references("Shapes", m)
    assert refs.kind == SetKind.USER and index.references(CLASS_SYMBOLS, m).kind == SetKind.USER
    calls = []
    make = lambda: calls.append(1) or object()  # noqa: E731
    first = refs.derived("rule", make)
    assert refs.derived("rule", make) is first and len(calls) == 1
    assert index.references("Shapes", m).derived("rule", make) is first and len(calls) == 1  # the cached object
    mine = refs.of_owner(SOLO.owner)
    assert mine.kind == refs.kind and mine.derived("rule", make) is not first and len(calls) == 2
    gallery.add_example("Shapes", "c", image(3), b"png", emb(m, image(3)), actor=SOLO)
    assert index.references("Shapes", m).derived("rule", make) is not first and len(calls) == 3


def test_a_set_kind_is_read_from_the_gallery(gallery):
    gallery.add_set_bulk("Pen digits", SetKind.DIGITS, [("1", image(1), b"png")])
    assert gallery.kind("Pen digits") is SetKind.DIGITS and gallery.kind(CLASS_SYMBOLS) is SetKind.USER
    with pytest.raises(GalleryError, match="no reference set called 'Nope'"):
        gallery.kind("Nope")
