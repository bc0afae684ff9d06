"""siamese.search.openset (the per-set "looks new" rule) and siamese.measure.calibration, on small
made-up embeddings whose expected values are worked out by hand in each docstring."""
import numpy as np
import pytest

from siamese.distance import nearest_distances
from siamese.search.openset import Confidence, NoveltyCalibration, judge, set_novelty
from siamese.measure.calibration import SetTrial, measure, nearest_two, per_set_rule, roc_auc


def calibration(correction=1.0, same=(0.0, 4.0)):
    return NoveltyCalibration(np.array(same), correction, sure=0.01, likely=0.05, ambiguity=1.1)


# One reference at 0 on a line; the pool's nearest distances are 1, 2, 3 and 4.
REFS, POOL = np.array([[0.0]]), np.array([[1.0], [2.0], [-3.0], [4.0]])


def test_known_rejection_reads_the_same_character_quantiles():
    """Quantiles (1, 2, 3) at levels (0, 1/2, 1): half the known pairs are farther than 2, a quarter
    farther than 2.5, all farther than 0.5 (below the smallest), none farther than 4; and the
    inverse gives 2 for a half and 2.5 for a quarter."""
    cal = calibration(same=(1.0, 2.0, 3.0))
    np.testing.assert_allclose(cal.known_rejection(np.array([0.5, 1.5, 2.0, 2.5, 4.0])), [1, 0.75, 0.5, 0.25, 0])
    np.testing.assert_allclose(cal.distance_rejecting(np.array([0.5, 0.25])), [2.0, 2.5])


def test_nearest_distances_of_the_pool():
    """|1-0|, |2-0|, |-3-0|, |4-0|; a second reference at 3.5 is nearer to 2 (1.5) and to 4 (0.5)."""
    np.testing.assert_allclose(nearest_distances(POOL, REFS), [1, 2, 3, 4])
    np.testing.assert_allclose(nearest_distances(POOL, np.array([[0.0], [3.5]]), chunk=3), [1, 1.5, 3, 0.5],
                               atol=1e-6)


@pytest.mark.parametrize("correction, threshold", [(1.0, 2.0), (2.0, 2.0), (3.0, 1.0)])
def test_set_threshold_is_the_equal_error_point_of_the_set(correction, threshold):
    """Known distances uniform on [0, 4] (rejection 1 - d/4); never-seen acceptance = correction x
    (pool points closer than d) / 4. Match iff acceptance <= rejection:
    - correction 1: on (1, 2] one pool point is closer: 1/4 <= 1 - d/4 holds up to d = 3, so all of
      (1, 2] matches; on (2, 3] two are: 2/4 <= 1 - d/4 needs d <= 2: none. Threshold 2.
    - correction 2: on (1, 2]: 2/4 <= 1 - d/4 up to d = 2, so 2; on (2, 3]: 1 <= 1 - d/4 never. 2.
    - correction 3: on (1, 2]: 3/4 <= 1 - d/4 needs d <= 1: none, and d = 1 itself has no pool
      point closer (acceptance 0). Threshold 1."""
    novelty = set_novelty(POOL, REFS, calibration(correction))
    assert novelty.threshold == pytest.approx(threshold)
    np.testing.assert_allclose(novelty.new_acceptance(np.array([0.5, 1.0, 1.5, 4.5])),
                               np.minimum(1, correction * np.array([0, 0, 1, 4]) / 4))


def test_more_references_lower_the_threshold():
    """A second reference at 2.5 brings the pool's points 2 and 4 within 0.5 and 1.5 (the others
    stay at 1 and 3): pool distances 0.5, 1, 1.5, 3. Match iff (pool points closer than d) <= 4 - d:
    on (1, 1.5] two are closer, 2 <= 4 - d holds; on (1.5, 3] three, 3 <= 4 - d needs d <= 1.
    The threshold falls from 2 to 1.5."""
    one = set_novelty(POOL, REFS, calibration())
    two = set_novelty(POOL, np.array([[0.0], [2.5]]), calibration())
    assert (one.threshold, two.threshold) == pytest.approx((2.0, 1.5))


@pytest.mark.parametrize("d1, d2, expected", [
    (0.5, None, (True, Confidence.SURE)),        # no pool point closer than 0.5: acceptance 0 <= 1%
    (0.5, 0.52, (True, Confidence.AMBIGUOUS)),   # runner-up within 1.1 x 0.5 = 0.55
    (0.5, 0.56, (True, Confidence.SURE)),
    (1.5, None, (True, Confidence.UNSURE)),      # one pool point of 4 closer: 25% > 5%
    (1.5, 1.6, (True, Confidence.UNSURE)),       # "may be new" comes before "which one"
    (3.0, None, (False, Confidence.UNSURE)),     # beyond 2; 1 - 3/4 = 25% of known sketches are this far
    (3.9, None, (False, Confidence.LIKELY)),     # 1 - 3.9/4 = 2.5%: between 1% and 5%
    (4.5, None, (False, Confidence.SURE)),       # no known sketch is this far (rejection 0 <= 1%)
])
def test_judge(d1, d2, expected):
    assert judge(d1, d2, set_novelty(POOL, REFS, calibration())) == expected


def test_a_match_is_probable_between_the_two_levels():
    """A pool of 40 points at 1.0, 1.1, ..., 4.9 and known distances uniform on [0, 4]: at d = 0.95
    none is closer (sure); at d = 1.25 three of 40 (7.5% > 5%: not sure); at d = 1.05 one of 40
    (2.5%: probably), and 2.5% <= 1 - 1.05/4, so it is a match."""
    pool = np.arange(10, 50)[:, None] / 10.0
    novelty = set_novelty(pool, REFS, calibration())
    assert [judge(d, None, novelty) for d in (0.95, 1.05, 1.25)] == [
        (True, Confidence.SURE), (True, Confidence.LIKELY), (True, Confidence.UNSURE)]


def test_calibration_from_card():
    """No section (a tower trained in the app, an older card): None, the single threshold serves."""
    assert NoveltyCalibration.from_card({}) is None and NoveltyCalibration.from_card({"threshold": 2.0}) is None
    cal = NoveltyCalibration.from_card({"open_set": {"same_quantiles": [1, 2, 3], "pool_correction": 1.5,
                                                     "sure": 0.01, "likely": 0.05, "ambiguity": 1.1}})
    assert (cal.pool_correction, cal.sure, cal.likely, cal.ambiguity) == (1.5, 0.01, 0.05, 1.1)
    np.testing.assert_array_equal(cal.same_quantiles, [1, 2, 3])


def test_nearest_two_keeps_one_distance_per_symbol():
    """References 0 and 1 (symbol 7) and 5 (symbol 3); a query at 0.9 is 0.1 from symbol 7 (its
    second example, 0.9 from the first, is not a second symbol) and 4.1 from symbol 3."""
    d1, d2, pred = nearest_two(np.array([[0.9]]), np.array([[0.0], [1.0], [5.0]]), np.array([7, 7, 3]))
    np.testing.assert_allclose([d1[0], d2[0]], [0.1, 4.1], atol=1e-6)
    assert pred[0] == 7
    _, d2, _ = nearest_two(np.array([[0.9]]), REFS, np.array([7]))
    assert d2[0] == np.inf


@pytest.mark.parametrize("known, unknown, auc", [([1, 2], [3, 4], 1.0), ([3, 4], [1, 2], 0.0), ([3], [3], 0.5),
                                                 ([1, 3], [2], 0.5), ([1, 2, 3], [2.5], 2 / 3)])
def test_roc_auc_by_counting_pairs(known, unknown, auc):
    """The share of (known, never-seen) pairs where the known scores lower, ties half: e.g. known
    (1, 2, 3) against 2.5: two of three pairs."""
    assert roc_auc(np.array(known, float), np.array(unknown, float)) == pytest.approx(auc)


def test_measure_counts_each_error():
    """One set (reference 0, symbol 1; pool as above; threshold 2). Known sketches at 0.5 and 3
    (one matched, one called new); never-seen at 1.5 (matched) and 3.5 and 4 (new): known called
    new 1/2, never-seen matched 1/3; top-1 is 1 (one symbol)."""
    trial = SetTrial(REFS, np.array([1]), np.array([[0.5], [3.0]]), np.array([1, 1]),
                     np.array([[1.5], [3.5], [-4.0]]), POOL)
    r = measure([trial], per_set_rule(calibration()))
    assert (r["top1"], r["known_new"], r["unseen_match"], r["known"], r["unknown"]) == (1.0, 0.5, pytest.approx(1 / 3),
                                                                                         2, 3)


def test_a_set_kind_with_its_own_known_distances_gets_its_own_threshold():
    """Known distances uniform on [0, 4] in general, but on [0, 1] for "digits" (rejection
    1 - d): with the pool at 1, 2, 3, 4 (correction 1) the general threshold is 2 (see above) and
    the digits one 1 (at d <= 1 no pool point is closer and rejection >= 0; beyond 1 rejection is
    0 < 1/4). Other kinds, None, and a card without kinds keep the general quantiles."""
    cal = NoveltyCalibration(np.array([0.0, 4.0]), 1.0, 0.01, 0.05, 1.1, {"digits": np.array([0.0, 1.0])})
    assert set_novelty(POOL, REFS, cal).threshold == pytest.approx(2.0)
    assert set_novelty(POOL, REFS, cal.for_kind("digits")).threshold == pytest.approx(1.0)
    assert cal.for_kind("omniglot") is cal and cal.for_kind(None) is cal
    np.testing.assert_allclose(cal.for_kind("digits").known_rejection(np.array([0.5])), [0.5])
    card = {"open_set": {"same_quantiles": [0.0, 4.0], "pool_correction": 1.0, "sure": 0.01, "likely": 0.05,
                         "ambiguity": 1.1}}
    assert NoveltyCalibration.from_card(card).for_kind("digits").same_quantiles.tolist() == [0.0, 4.0]
    card["open_set"]["kind_quantiles"] = {"digits": [0.0, 1.0]}
    assert NoveltyCalibration.from_card(card).for_kind("digits").same_quantiles.tolist() == [0.0, 1.0]


def test_trials_of_a_kind_are_measured_with_that_kind_s_calibration():
    """The same digits trial as test_measure_counts_each_error, known sketches at 0.5 and 3: with
    the digits quantiles [0, 1] the threshold is 1, so 0.5 matches and 3 is new either way, and the
    never-seen sketch at 1.5 is now called new too (0 of 3 matched, against 1 of 3)."""
    cal = NoveltyCalibration(np.array([0.0, 4.0]), 1.0, 0.01, 0.05, 1.1, {"digits": np.array([0.0, 1.0])})
    args = (REFS, np.array([1]), np.array([[0.5], [3.0]]), np.array([1, 1]), np.array([[1.5], [3.5], [-4.0]]), POOL)
    assert measure([SetTrial(*args)], per_set_rule(cal))["unseen_match"] == pytest.approx(1 / 3)
    assert measure([SetTrial(*args, kind="digits")], per_set_rule(cal))["unseen_match"] == 0.0


def test_nearest_own_quantiles_use_only_references_of_the_query_s_own_label():
    """Queries at 0 (label 0) and 10 (label 1); references at 1 (label 0), 9 (label 0) and 13
    (label 1): the nearest of its own label is 1 away for the first and 3 away for the second (the
    reference at 9, 1 away, is another label's), so the quantiles run from 1 to 3."""
    from siamese.measure.calibration import nearest_own_quantiles

    q = nearest_own_quantiles(np.array([[0.0], [10.0]]), np.array([0, 1]), np.array([[1.0], [9.0], [13.0]]),
                              np.array([0, 0, 1]), n=3)
    np.testing.assert_allclose(q, [1.0, 2.0, 3.0], atol=1e-5)


def test_digits_drawn_like_a_sketch_are_model_inputs_that_moved_a_little():
    """A plain stroke as a dataset image: preprocessed, then distorted (same shape, range and about
    the same ink, not the plain model input), and the same seed gives the same inputs."""
    from siamese.measure.calibration import drawn_like_a_sketch
    from siamese.data.preprocess import to_model_input

    img = np.zeros((28, 28), np.uint8)
    img[5:23, 12:16] = 255
    x = drawn_like_a_sketch(np.stack([img] * 4), seed=3)
    plain = to_model_input(img, canvas=False)
    assert x.shape == (4, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert all(not np.allclose(v, plain, atol=0.05) for v in x)
    assert all(abs(v.sum() - plain.sum()) < 0.35 * plain.sum() for v in x)
    np.testing.assert_array_equal(x, drawn_like_a_sketch(np.stack([img] * 4), seed=3))


def test_the_levels_are_inclusive_and_a_runner_up_at_exactly_the_ambiguity_factor_is_not_ambiguous():
    """Known distances uniform on [0, 4]: 1 - 3/4 = 25% of known sketches are as far as 3, exactly
    a "sure" level of 25% (at most it: sure); a runner-up at exactly 1.1 x d1 is not "within" it."""
    cal = NoveltyCalibration(np.array([0.0, 4.0]), 1.0, sure=0.25, likely=0.5, ambiguity=1.1)
    assert judge(3.0, None, set_novelty(POOL, REFS, cal)) == (False, Confidence.SURE)
    assert judge(3.0, None, set_novelty(POOL, REFS, calibration())) == (False, Confidence.UNSURE)
    assert judge(0.5, 0.55, set_novelty(POOL, REFS, calibration())) == (True, Confidence.SURE)


def test_the_rules_parameters_cannot_change_under_a_running_match():
    import dataclasses

    novelty = set_novelty(POOL, REFS, calibration())
    for obj, field in ((novelty, "threshold"), (novelty.calibration, "sure")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, 0.0)


def test_the_threshold_candidates_follow_the_pool_correction():
    """Candidates are the pool distances and the distances where known rejection meets each level
    ``correction x i / p`` (i = 1..p): with 40 pool points at 1.0 .. 4.9 and correction 2, the
    levels are 2/40, 4/40, ...; acceptance at d in (1.0, 1.1] is 2/40 and known rejection 1 - d/4
    is at least that up to d = 3.8, so 1.1 matches and 1.2 (acceptance 4/40 <= 1 - 1.2/4) too."""
    pool = np.arange(10, 50)[:, None] / 10.0
    novelty = set_novelty(pool, REFS, calibration(correction=2.0))
    acceptance = novelty.new_acceptance(np.array([novelty.threshold + 1e-9]))
    assert acceptance[0] > novelty.calibration.known_rejection(novelty.threshold + 1e-9)  # just beyond: new
    assert novelty.new_acceptance(novelty.threshold) <= novelty.calibration.known_rejection(novelty.threshold)
    brute = [d for d in np.linspace(0, 5, 50001)
             if novelty.new_acceptance(d) <= novelty.calibration.known_rejection(d)]
    assert novelty.threshold == pytest.approx(max(brute), abs=1e-3)
