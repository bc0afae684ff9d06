"""siamese.fewshot.evaluation on synthetic embeddings whose answers are known."""
import numpy as np
import pytest

from siamese.fewshot.evaluation import (EvalResult, calibrate_threshold, classify, confused_pairs, error_rates, evaluate,
                                        pair_distances, wilson_interval)

# synthetic (conftest): 4 alphabets x 25 characters x 20 drawers; a perfect embedding is one-hot(class).


def test_perfect_model_scores_one(synthetic):
    labels, groups, drawers = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    res = evaluate(emb, labels, groups, drawers, way=20, shot=1, protocol="within-alphabet", episodes=30)
    assert res.accuracy == 1.0 and res.n_queries == 600


@pytest.mark.parametrize("way", [5, 20])
def test_constant_model_scores_chance(synthetic, way):
    """Every candidate at the same distance: random tie-breaking gives about 1/N, not 100%."""
    labels, groups, drawers = synthetic
    emb = np.zeros((len(labels), 8), np.float32)
    res = evaluate(emb, labels, groups, drawers, way=way, shot=1, protocol="random", episodes=4000 // way)
    assert res.ci_low <= 1 / way <= res.ci_high


def test_random_model_scores_chance(synthetic):
    labels, groups, drawers = synthetic
    emb = np.random.default_rng(1).normal(size=(len(labels), 16)).astype(np.float32)
    res = evaluate(emb, labels, groups, drawers, way=5, shot=1, protocol="within-alphabet", episodes=400)
    assert res.ci_low <= 0.2 <= res.ci_high


def test_default_episodes_give_at_least_400_queries(synthetic):
    """Defaults: 20-way 1-shot, ceil(400 / N) episodes but at least 40 (5-way: 80 x 5 = 400 queries;
    20-way: 40 x 20 = 800)."""
    labels, groups, drawers = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    assert evaluate(emb, labels, groups, drawers, way=5, shot=1).n_queries == 400
    res = evaluate(emb, labels, groups, drawers)
    assert (res.way, res.shot, res.n_queries) == (20, 1, 800)


def test_progress_is_reported_after_each_episode(synthetic):
    labels, groups, drawers = synthetic
    calls = []
    evaluate(np.eye(labels.max() + 1, dtype=np.float32)[labels], labels, groups, drawers, way=5, episodes=3,
             progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_ties_are_broken_at_random():
    rng = np.random.default_rng(0)
    picks = [int(classify(np.zeros((1, 2), np.float32), np.zeros((4, 2), np.float32), rng)[0][0]) for _ in range(400)]
    counts = np.bincount(picks, minlength=4)
    assert counts.min() > 60  # each of 4 tied candidates is picked about 100 times


def test_prototype_is_the_support_mean():
    support = np.array([[0.0, 0.0], [2.0, 0.0]], np.float32)
    pred, dist = classify(np.array([[0.9, 0.0]], np.float32), support, np.random.default_rng(0))
    assert pred[0] == 0 and dist[0] == pytest.approx([0.9, 1.1])  # distances, not squared, not clipped


def test_k_shot_prototype_is_the_mean_of_the_k_supports():
    """Through evaluate(): with K = 3 the K-shot mean rescues classes whose single drawings are poor.

    4 classes x 4 drawers; image (class c, drawer d) embeds as one-hot(c) + b_c * one-hot(4 + d),
    i.e. a class part plus a "messiness" part on a dimension of its own per drawer, with b = sqrt(3)
    for the messy classes 0 and 1 and b = 0 for the clean classes 2 and 3. Support and query
    drawers of an episode are distinct, so these drawer dimensions are orthogonal and the squared
    distance from a query of class c to a prototype of class j is
        |one-hot(c) - one-hot(j)|^2 (0 or 2) + b_c^2 (the query's own mess, the same for every j)
        + the prototype's mess: b_j^2 / K for the mean of K supports, b_j^2 for a single support.
    Mean prototype, K = 3, messy query: own 0 + 3 + 1 = 4, clean class 2 + 3 + 0 = 5, other messy
    class 2 + 3 + 1 = 6: right. A clean query is at 0 from its own prototype: right. So 100%.
    One support as the prototype (K = 1, or K = 3 keeping only the first support): a messy query
    is at 0 + 3 + 3 = 6 from its own class but 5 from each clean one: always wrong. way = 4 puts
    all 4 classes in every episode, so that scores exactly 2 of 4 = 50%.
    """
    way, shot, drawers_per_class, messy = 4, 3, 4, np.sqrt(3.0)  # exactly K + 1 drawers: all are used
    labels = np.repeat(np.arange(way), drawers_per_class)
    drawers = np.tile(np.arange(drawers_per_class), way)
    emb = np.zeros((len(labels), way + drawers_per_class), np.float32)
    emb[np.arange(len(labels)), labels] = 1.0
    emb[np.arange(len(labels)), way + drawers] = np.where(labels < 2, messy, 0.0)
    groups = np.zeros_like(labels)
    res = evaluate(emb, labels, groups, drawers, way=way, shot=shot, protocol="random", episodes=25)
    assert res.shot == 3 and res.n_queries == 100 and res.accuracy == 1.0
    one_shot = evaluate(emb, labels, groups, drawers, way=way, shot=1, protocol="random", episodes=25)
    assert one_shot.accuracy == 0.5  # what a single support gives: the data tell the two apart


def test_wilson_interval():
    """By hand, z = 1.96: 1 of 2 gives centre 0.5 and half-width z * sqrt(1/8 + z^2/16) / (1 + z^2/2)
    = 0.40547; n of n gives low = 1 / (1 + z^2 / n) and high = 1 (clipped: rounding can exceed it,
    e.g. 5 of 5 computes 1.0000000000000002); no data gives the whole [0, 1]."""
    low, high = wilson_interval(90, 100)
    assert low == pytest.approx(0.82563, abs=1e-5) and high == pytest.approx(0.94477, abs=1e-5)
    assert wilson_interval(1, 2) == pytest.approx((0.5 - 0.40547, 0.5 + 0.40547), abs=1e-5)
    assert wilson_interval(1, 1) == pytest.approx((1 / (1 + 1.96 ** 2), 1.0))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    for n in range(1, 50):
        for correct in (0, n):
            low, high = wilson_interval(correct, n)
            assert 0.0 <= low < high <= 1.0


def test_eval_result_as_text_and_json():
    res = EvalResult("random", 5, 2, 2 / 3, 0.123456, 0.987654, 3)
    assert str(res) == "5-way 2-shot random: 66.7% (95% CI 12.3-98.8, 3 queries)"
    assert res.as_dict() == {"protocol": "random", "way": 5, "shot": 2, "accuracy": 0.6667,
                             "ci95": [0.1235, 0.9877], "queries": 3}


def test_threshold_calibration_on_separable_pairs(synthetic):
    labels, _, _ = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    dist, same = pair_distances(emb, labels, n_pairs=1000)
    assert same.sum() == 500
    calib = calibrate_threshold(dist, same)
    assert calib["false_accept"] == 0 and calib["false_reject"] == 0
    assert error_rates(dist, same, 2.0) == {"false_accept": 1.0, "false_reject": 0.0}


def test_pairs_are_counted_exactly_and_never_pair_an_image_with_itself():
    labels = np.repeat(np.arange(50), 20)
    emb = np.random.default_rng(0).normal(size=(len(labels), 8)).astype(np.float32)  # all distinct
    dist, same = pair_distances(emb, labels, n_pairs=1001)
    assert len(dist) == 1001 and same.sum() == 500
    assert dist[same].min() > 0  # a same-class pair is two different drawings


def test_threshold_is_at_the_equal_error_rate_and_accepts_ties():
    """Same pairs at 1 and 3, different pairs at 2 and 4; "same" means distance <= threshold. By
    hand, (false accept, false reject) per candidate: 1: (0, .5), 2: (.5, .5), 3: (.5, 0), 4: (1, 0).
    Equal error rate: threshold 2, both .5 (the lowest total error, .5, would pick 1 instead; with
    "<" a different pair at the threshold would not be accepted and 1 would be picked too)."""
    dist, same = np.array([1.0, 3.0, 2.0, 4.0]), np.array([True, True, False, False])
    assert calibrate_threshold(dist, same) == {"threshold": 2.0, "false_accept": 0.5, "false_reject": 0.5}
    dist, same = np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, False, True, False])
    assert error_rates(dist, same, 2.0) == {"false_accept": 0.5, "false_reject": 0.5}
    assert error_rates(dist, same, 3.0) == {"false_accept": 0.5, "false_reject": 0.0}


def test_confused_pairs_counts_mistakes(synthetic):
    labels, groups, drawers = synthetic
    # Classes 0 and 1 share an embedding: every 0/1 query in the same episode is a coin flip.
    emb = np.eye(labels.max() + 1, dtype=np.float32)[np.where(labels == 1, 0, labels)]
    res = evaluate(emb, labels, groups, drawers, way=25, shot=1, protocol="within-alphabet", episodes=40)
    pairs = confused_pairs(res, labels)
    assert pairs and {p[:2] for p in pairs} <= {(0, 1), (1, 0)}
    assert sum(p[2] for p in pairs) == res.n_queries - round(res.accuracy * res.n_queries)


def test_per_class_accuracy(synthetic):
    from siamese.fewshot.evaluation import per_class_accuracy
    labels, groups, drawers = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    res = evaluate(emb, labels, groups, drawers, way=5, shot=1, protocol="random", episodes=50)
    per = per_class_accuracy(res, labels)
    assert sum(n for _, n in per.values()) == 250 and all(c == n for c, n in per.values())


def test_confused_pairs_are_the_five_most_frequent_first():
    labels = np.repeat(np.arange(6), 20)
    drawers = np.tile(np.arange(20), 6)
    emb = np.zeros((len(labels), 2), np.float32)  # every query is a random guess: many different mistakes
    res = evaluate(emb, labels, np.zeros_like(labels), drawers, way=5, protocol="random", episodes=200)
    every = confused_pairs(res, labels, top=1000)
    counts = [c for _, _, c in every]
    assert len(every) == 30 and counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    assert confused_pairs(res, labels) == every[:5]
