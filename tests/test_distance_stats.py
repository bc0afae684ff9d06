"""siamese.measure.histograms: the pairs, the bins, the shares read off them, the card section and the
``distance-histograms`` command."""
import json
import shutil

import numpy as np
import pytest

from siamese.measure.histograms import (CARD_KEY, DIFFERENT, SAME, DistanceHistograms, PairHistogram, bin_edges,
                                        counts, digit_pairs, omniglot_pairs, pair_distances)


def histogram(same=(3, 1), different=(0, 4), edges=(0.0, 1.0, 2.0)):
    return PairHistogram("t", "s", np.array(edges), np.array(same), np.array(different))


def test_omniglot_pairs_take_every_same_pair_by_two_drawers_and_random_different_ones():
    """3 characters x 4 drawers: C(4, 2) = 6 same pairs each. A second drawing of character 0 by
    drawer 1 adds C(5, 2) - 6 = 4 pairs, less the one of two drawings by drawer 1: 18 + 3."""
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0])
    drawers = np.array([1, 2, 3, 4] * 3 + [1])
    i, j, same = omniglot_pairs(labels, drawers, 50, np.random.default_rng(0))
    assert same.sum() == 18 + 3 and (~same).sum() == 50
    assert (labels[i[same]] == labels[j[same]]).all() and (labels[i[~same]] != labels[j[~same]]).all()
    assert (drawers[i] != drawers[j]).all()
    assert len({tuple(sorted(p)) for p in zip(i[same], j[same])}) == same.sum()  # each pair once


def test_digit_pairs_are_n_same_then_n_different_and_seeded():
    labels = np.repeat(np.arange(10), 30)
    i, j, same = digit_pairs(labels, 500, np.random.default_rng(1))
    assert same[:500].all() and not same[500:].any()
    assert (labels[i[:500]] == labels[j[:500]]).all() and (i[:500] != j[:500]).all()
    assert (labels[i[500:]] != labels[j[500:]]).all()
    again = digit_pairs(labels, 500, np.random.default_rng(1))
    assert all((a == b).all() for a, b in zip((i, j, same), again))


def test_pair_distances_are_euclidean():
    e = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]], np.float32)
    np.testing.assert_allclose(pair_distances(e, np.array([0, 0, 1]), np.array([1, 2, 2])), [5.0, 10.0, 5.0])


def test_bin_edges_run_from_zero_to_a_half_step_above_almost_every_distance():
    """99.9% of 0..9.99 (step 0.01) is about 9.98: rounded up to 10.0."""
    edges = bin_edges([np.arange(0, 5, 0.01), np.arange(5, 10, 0.01)], bins=20)
    assert edges[0] == 0 and edges[-1] == 10.0 and len(edges) == 21
    assert bin_edges([np.zeros(5)])[-1] == 0.5  # all at 0: still one half-unit wide


def test_counts_put_distances_beyond_the_last_edge_in_the_last_bin():
    assert counts(np.array([0.1, 0.5, 1.5, 2.0, 7.0]), np.array([0.0, 1.0, 2.0])).tolist() == [2, 3]


@pytest.mark.parametrize("d, same_farther, different_closer", [
    (-1.0, 1.0, 0.0), (0.0, 1.0, 0.0),
    (0.5, 1 - 1.5 / 4, 0.0),   # half of the 3 same pairs in [0, 1) lie below 0.5
    (1.0, 0.25, 0.0),          # the 3 same pairs of bin 1 are all within 1
    (1.5, 0.125, 0.5),         # half of bin 2: half its same pair, half of the 4 different ones
    (2.0, 0.0, 1.0), (9.0, 0.0, 1.0),
])
def test_shares_read_off_the_bins(d, same_farther, different_closer):
    h = histogram()
    assert h.same_farther(d) == pytest.approx(same_farther)
    assert h.different_closer(d) == pytest.approx(different_closer)


def test_rows_give_each_kind_shares_summing_to_one():
    rows = histogram().rows()
    assert [(r["pairs"], r["start"], r["share"]) for r in rows] == [
        (SAME, 0.0, 0.75), (SAME, 1.0, 0.25), (DIFFERENT, 0.0, 0.0), (DIFFERENT, 1.0, 1.0)]


def section(**changes):
    s = {"model_id": "abc", "bin_edges": [0, 1, 2],
         "sets": {"omniglot": {"title": "Omniglot characters", "source": "src", "same": [3, 1], "different": [0, 4]}}}
    return {**s, **changes}


def test_from_card_reads_the_section_of_its_own_model_only():
    h = DistanceHistograms.from_card({CARD_KEY: section()}, "abc")
    assert list(h.sets) == ["omniglot"] and h.sets["omniglot"].same.tolist() == [3, 1]
    assert DistanceHistograms.from_card({CARD_KEY: section()}) is not None  # no id to check against
    assert DistanceHistograms.from_card({CARD_KEY: section()}, "another") is None  # a card carried over
    assert DistanceHistograms.from_card({}, "abc") is None
    assert DistanceHistograms.from_card(None) is None
    assert DistanceHistograms.from_card({"threshold": 3.0}, "abc") is None  # a tower trained in the app


@pytest.mark.parametrize("bad", [
    {"bin_edges": [0, 1]},                                     # 2 counts, 1 bin
    {"bin_edges": [0, 2, 1]},                                  # edges not increasing
    {"bin_edges": [0]},
    {"sets": {}},
    {"sets": {"omniglot": {"title": "t", "source": "s", "same": [3, -1], "different": [0, 4]}}},
    {"sets": {"omniglot": {"title": "t", "source": "s", "same": [3, 1]}}},  # no "different"
    {"sets": [1, 2]},
    {"bin_edges": None},
])
def test_from_card_refuses_a_malformed_section(bad):
    with pytest.raises(ValueError, match=CARD_KEY + "|counts do not fit"):
        DistanceHistograms.from_card({CARD_KEY: section(**bad)}, "abc")


@pytest.mark.slow
@pytest.mark.realdata
def test_the_command_writes_a_deterministic_section_where_same_pairs_are_closer(real_data_dir, tmp_path,
                                                                                monkeypatch, matcher):
    """On the shipped model, most same-character pairs lie within the threshold and most
    different-character pairs beyond it (its error rates on these pairs are about 4%, see the card)."""
    from siamese.embedding.card import read_card
    from siamese.cli import main
    from siamese.paths import SHIPPED_MODEL

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    model = tmp_path / "copy.keras"  # a copy of the shipped model: its card is copy.json (card_path_for)
    shutil.copyfile(SHIPPED_MODEL, model)
    card = tmp_path / "copy.json"
    card.write_text(json.dumps({"threshold": matcher.threshold, "note": "kept"}))
    main(["distance-histograms", "--model", str(model)])
    first = card.read_text()
    main(["distance-histograms", "--model", str(model)])
    assert card.read_text() == first  # seeded: the lead can rerun it on a new model
    written = read_card(card)
    assert written["note"] == "kept" and written[CARD_KEY]["model_id"] == matcher.model_id
    h = DistanceHistograms.from_card(written, matcher.model_id)
    assert list(h.sets) == ["omniglot", "mnist"]
    omniglot = h.sets["omniglot"]
    assert omniglot.same.sum() == 101 * 190  # every pair of 20 drawers, 101 validation characters
    assert omniglot.different.sum() == 20_000 and h.sets["mnist"].same.sum() == 20_000
    assert omniglot.same_farther(matcher.threshold) < 0.1 and omniglot.different_closer(matcher.threshold) < 0.1
    for digits_or_characters in h.sets.values():
        assert digits_or_characters.same_farther(matcher.threshold) < 0.5 < 1 - digits_or_characters.different_closer(
            matcher.threshold)


def test_the_shipped_card_has_the_histograms_of_the_shipped_model(matcher):
    """A retrained model gets a new card: this fails until the histograms are measured again."""
    h = DistanceHistograms.from_card(matcher.card, matcher.model_id)
    assert h is not None, ("assets/model_card.json has no distance histograms of assets/embedding.keras: "
                           "run `python -m siamese distance-histograms`")
    assert list(h.sets) == ["omniglot", "mnist"]
