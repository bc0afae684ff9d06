"""siamese.evaluation on synthetic embeddings whose answers are known."""
import numpy as np
import pytest

from siamese.evaluation import (calibrate_threshold, classify, error_rates, evaluate, pair_distances,
                                sample_episode, wilson_interval)

N_ALPHABETS, CHARS, DRAWERS = 4, 25, 20


@pytest.fixture(scope="module")
def synthetic():
    """4 alphabets x 25 characters x 20 drawers; class c's 'perfect' embedding is one-hot(c)."""
    labels = np.repeat(np.arange(N_ALPHABETS * CHARS), DRAWERS)
    groups = labels // CHARS
    drawers = np.tile(np.arange(1, DRAWERS + 1), N_ALPHABETS * CHARS)
    return labels, groups, drawers


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
    labels, groups, drawers = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    assert evaluate(emb, labels, groups, drawers, way=5, shot=1).n_queries >= 400


def test_within_alphabet_episodes_use_one_alphabet_and_distinct_drawers(synthetic):
    labels, groups, drawers = synthetic
    rng = np.random.default_rng(0)
    for _ in range(50):
        support, queries = sample_episode(labels, groups, drawers, 20, 3, "within-alphabet", rng)
        assert len(np.unique(groups[np.concatenate([support.ravel(), queries])])) == 1
        assert len(np.unique(labels[queries])) == 20
        assert (labels[support] == labels[queries][:, None]).all()
        assert not set(drawers[support.ravel()]) & set(drawers[queries])


def test_within_alphabet_needs_enough_characters(synthetic):
    labels, groups, drawers = synthetic
    with pytest.raises(ValueError, match="no alphabet has 30"):
        sample_episode(labels, groups, drawers, 30, 1, "within-alphabet", np.random.default_rng(0))


def test_ties_are_broken_at_random():
    rng = np.random.default_rng(0)
    picks = [int(classify(np.zeros((1, 2), np.float32), np.zeros((4, 2), np.float32), rng)[0][0]) for _ in range(400)]
    counts = np.bincount(picks, minlength=4)
    assert counts.min() > 60  # each of 4 tied candidates is picked about 100 times


def test_prototype_is_the_support_mean():
    support = np.array([[0.0, 0.0], [2.0, 0.0]], np.float32)
    pred, dist = classify(np.array([[0.9, 0.0]], np.float32), support, np.random.default_rng(0))
    assert pred[0] == 0 and dist[0, 1] == pytest.approx(1.1)


def test_wilson_interval():
    low, high = wilson_interval(90, 100)
    assert low == pytest.approx(0.8256, abs=1e-3) and high == pytest.approx(0.9448, abs=1e-3)


def test_threshold_calibration_on_separable_pairs(synthetic):
    labels, _, _ = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    dist, same = pair_distances(emb, labels, n_pairs=1000)
    assert same.sum() == 500
    calib = calibrate_threshold(dist, same)
    assert calib["false_accept"] == 0 and calib["false_reject"] == 0
    assert error_rates(dist, same, 2.0) == {"false_accept": 1.0, "false_reject": 0.0}


def test_confused_pairs_counts_mistakes(synthetic):
    from siamese.evaluation import confused_pairs
    labels, groups, drawers = synthetic
    # Classes 0 and 1 share an embedding: every 0/1 query in the same episode is a coin flip.
    emb = np.eye(labels.max() + 1, dtype=np.float32)[np.where(labels == 1, 0, labels)]
    res = evaluate(emb, labels, groups, drawers, way=25, shot=1, protocol="within-alphabet", episodes=40)
    pairs = confused_pairs(res, labels)
    assert pairs and {p[:2] for p in pairs} <= {(0, 1), (1, 0)}
    assert sum(p[2] for p in pairs) == res.n_queries - round(res.accuracy * res.n_queries)


def test_per_class_accuracy(synthetic):
    from siamese.evaluation import per_class_accuracy
    labels, groups, drawers = synthetic
    emb = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    res = evaluate(emb, labels, groups, drawers, way=5, shot=1, protocol="random", episodes=50)
    per = per_class_accuracy(res, labels)
    assert sum(n for _, n in per.values()) == 250 and all(c == n for c, n in per.values())
