"""siamese.fewshot.episodes: which images an episode draws, on labels whose structure is known."""
import numpy as np
import pytest

from siamese.fewshot.episodes import EpisodeSampler, n_views

# synthetic (conftest): 4 alphabets x 25 characters x 20 drawers; image i is character i // 20 by
# drawer i % 20 + 1, so the image of (character c, drawer d) is c * 20 + d - 1.


def test_within_alphabet_episodes_use_one_alphabet_and_distinct_drawers(synthetic):
    labels, groups, drawers = synthetic
    sampler, rng = EpisodeSampler(labels, groups, drawers), np.random.default_rng(0)
    for _ in range(50):
        support, queries = sampler.sample(20, 3, rng, "within-alphabet")
        assert len(np.unique(groups[np.concatenate([support.ravel(), queries])])) == 1
        assert len(np.unique(labels[queries])) == 20
        assert (labels[support] == labels[queries][:, None]).all()
        assert not set(drawers[support.ravel()]) & set(drawers[queries])


def test_within_alphabet_needs_enough_characters(synthetic):
    labels, groups, drawers = synthetic
    with pytest.raises(ValueError, match="no alphabet has 30"):
        EpisodeSampler(labels, groups, drawers).sample(30, 1, np.random.default_rng(0), "within-alphabet")
    with pytest.raises(ValueError, match="no alphabet has 5"):  # without alphabets, none has any
        EpisodeSampler(labels).sample(5, 1, np.random.default_rng(0), "within-alphabet")


def test_unknown_protocol_and_too_few_classes_are_refused(synthetic):
    labels, groups, drawers = synthetic
    sampler, rng = EpisodeSampler(labels, groups, drawers), np.random.default_rng(0)
    with pytest.raises(ValueError, match="protocol must be one of"):
        sampler.sample(5, 1, rng, "within_alphabet")
    with pytest.raises(ValueError, match="101-way needs 101 classes, only 100 available"):
        sampler.sample(101, 1, rng, "random")


def test_episodes_without_drawers_need_k_plus_one_images_per_class():
    """drawers=None: support and query are distinct images of the class; a class with exactly K + 1
    images is enough (each of its images is used), one with K is refused."""
    from siamese.fewshot.evaluation import evaluate

    labels = np.repeat(np.arange(5), 4)  # 5 classes x 4 images
    groups = np.zeros_like(labels)
    sampler, rng = EpisodeSampler(labels, groups), np.random.default_rng(0)
    for _ in range(20):
        support, queries = sampler.sample(5, 3, rng, "random")
        assert (labels[support] == labels[queries][:, None]).all() and len(np.unique(labels[queries])) == 5
        assert sorted(np.concatenate([support.ravel(), queries])) == list(range(20))
    emb = np.eye(5, dtype=np.float32)[labels]
    assert evaluate(emb, labels, groups, None, way=5, shot=3, protocol="random", episodes=5).accuracy == 1.0
    with pytest.raises(ValueError, match="class .* has 4 images, 4-shot needs 5"):
        sampler.sample(5, 4, rng, "random")


def test_evaluation_draws_in_the_documented_order(synthetic):
    """The recorded numbers depend on the stream: the classes (one choice over class ids; within
    an alphabet, after one integer that picks the alphabet), then K + 1 drawers (one choice over
    the sorted drawers) for the whole episode, or without drawers a permutation of each class."""
    labels, groups, drawers = synthetic
    sampler = EpisodeSampler(labels, groups, drawers)
    rng, mine = np.random.default_rng(7), np.random.default_rng(7)
    support, queries = sampler.sample(5, 2, rng, "random")
    chosen = mine.choice(100, size=5, replace=False)
    picked = mine.choice(np.arange(1, 21), size=3, replace=False)
    np.testing.assert_array_equal(support, chosen[:, None] * 20 + picked[:2] - 1)
    np.testing.assert_array_equal(queries, chosen * 20 + picked[2] - 1)

    support, queries = sampler.sample(5, 1, rng, "within-alphabet")
    alphabet = mine.integers(4)
    chosen = mine.choice(np.arange(alphabet * 25, (alphabet + 1) * 25), size=5, replace=False)
    picked = mine.choice(np.arange(1, 21), size=2, replace=False)
    np.testing.assert_array_equal(queries, chosen * 20 + picked[1] - 1)

    support, queries = EpisodeSampler(labels, groups).sample(5, 2, rng, "random")
    chosen = mine.choice(100, size=5, replace=False)
    shuffled = np.array([mine.permutation(np.arange(c * 20, (c + 1) * 20)) for c in chosen])
    np.testing.assert_array_equal(support, shuffled[:, :2])
    np.testing.assert_array_equal(queries, shuffled[:, 2])
    assert rng.random() == mine.random()  # nothing else was drawn


def test_views_are_classes_of_their_own():
    """2 characters with 4 rotations and mirror images: 8 views each, 16 classes; class id c is
    character c // 8 in view c % 8, a view being c % 4 quarter turns, then mirrored if c % 8 >= 4."""
    labels = np.repeat([10, 20], 3)
    sampler = EpisodeSampler(labels, rotations=4, mirror=True)
    assert (n_views(4, True), n_views(4, False), n_views(1, False)) == (8, 4, 1)
    assert sampler.views == 8 and sampler.n_classes == 16
    assert sorted(sampler.classes(16, np.random.default_rng(0), "random")) == list(range(16))
    rng = np.random.default_rng(0)
    assert set(sampler.images(11, 3, rng)) == {3, 4, 5}  # class 11: character 1 (label 20)
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 5, 3] = 1.0  # row 5, column 3
    # np.rot90 turns counterclockwise: (row, col) -> (27 - col, row); mirror: col -> 27 - col
    marks = {c: tuple(np.argwhere(sampler.view(image, c)[0])[0]) for c in (0, 1, 2, 4, 5, 9)}
    assert marks == {0: (5, 3), 1: (24, 5), 2: (22, 24), 4: (5, 24), 5: (24, 22), 9: (24, 5)}


def test_within_alphabet_counts_views_and_skips_small_alphabets():
    """Alphabet 0 has 2 characters (8 classes with 4 rotations), alphabet 1 has 1 (4 classes):
    8-way within-alphabet episodes always come from alphabet 0; 9-way ones from none."""
    labels = np.repeat([0, 1, 2], 2)
    groups = np.repeat([0, 0, 1], 2)
    sampler, rng = EpisodeSampler(labels, groups, rotations=4), np.random.default_rng(0)
    assert sampler.fits_within_alphabet(8) and not sampler.fits_within_alphabet(9)
    assert not EpisodeSampler(labels, rotations=4).fits_within_alphabet(2)  # no alphabets given
    for _ in range(10):
        assert sorted(sampler.classes(8, rng, "within-alphabet")) == list(range(8))
    with pytest.raises(ValueError, match="evaluation episodes show images as they are"):
        sampler.sample(2, 1, rng, "random")


def test_training_images_are_one_choice_per_class():
    labels = np.repeat(np.arange(3), 6)
    rng, mine = np.random.default_rng(3), np.random.default_rng(3)
    got = EpisodeSampler(labels).images(2, 4, rng)
    np.testing.assert_array_equal(got, mine.choice(np.arange(12, 18), size=4, replace=False))
    assert len(set(got)) == 4
    with pytest.raises(ValueError):
        EpisodeSampler(labels).images(0, 7, rng)
