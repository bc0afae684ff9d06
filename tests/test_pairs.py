"""siamese.lecture.pairs: the lecture's make_pairs, and split hygiene of the pair sets."""
import numpy as np
import pytest

from siamese.lecture.pairs import make_pairs


@pytest.fixture(scope="module")
def tiny():
    """60 'images' whose pixel [0, 0] is their own index and [0, 1] their label (6 classes)."""
    labels = np.repeat(np.arange(6), 10)
    np.random.default_rng(1).shuffle(labels)
    images = np.zeros((60, 28, 28), np.float32)
    images[:, 0, 0] = np.arange(60)
    images[:, 0, 1] = labels
    return images, labels


def test_balance_labels_and_no_self_pairs(tiny):
    images, labels = tiny
    left, right, same = make_pairs(images, labels, np.random.default_rng(0), per_image=3)
    assert len(same) == 2 * 3 * 60 and same.mean() == 0.5 and same.dtype == np.float32
    li, ri = left[:, 0, 0].astype(int), right[:, 0, 0].astype(int)
    assert (li != ri).all()  # positives never pair an image with itself
    np.testing.assert_array_equal(labels[li] == labels[ri], same == 1)  # labels are correct
    assert len(np.unique(li)) == 60  # every image is an anchor


def test_negatives_cover_all_other_classes(tiny):
    images, labels = tiny
    left, right, same = make_pairs(images, labels, np.random.default_rng(0), per_image=20)
    neg = same == 0
    pairs = set(zip(left[neg, 0, 1].astype(int), right[neg, 0, 1].astype(int)))
    assert len(pairs) == 6 * 5


def test_seeded_and_shuffled(tiny):
    images, labels = tiny
    a = make_pairs(images, labels, np.random.default_rng(3))
    b = make_pairs(images, labels, np.random.default_rng(3))
    np.testing.assert_array_equal(a[2], b[2])
    assert 0 < a[2][:60].mean() < 1  # not all positives first


def test_unusable_classes_are_refused():
    images = np.zeros((3, 28, 28), np.float32)
    with pytest.raises(ValueError, match="one image"):
        make_pairs(images, np.array([0, 0, 1]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="two classes"):
        make_pairs(images, np.array([0, 0, 0]), np.random.default_rng(0))


@pytest.mark.realdata
def test_mnist_pairs_never_cross_the_split(real_data_dir, monkeypatch):
    from siamese.data.datasets import load_mnist
    from siamese.lecture.pairs import mnist_pairs

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    p = mnist_pairs(2000, seed=0, val_pairs=400)
    (x, _), (xt, _) = load_mnist()
    train_set = {im.tobytes() for im in (x.astype(np.float32) / 255.0)}
    for arr in (p.val[0], p.val[1]):
        assert not any(im.tobytes() in train_set for im in arr)
    assert len(p.train[2]) == 2000 and p.train[2].mean() == 0.5


@pytest.mark.slow
@pytest.mark.realdata
def test_omniglot_pairs_use_disjoint_alphabets(real_data_dir, monkeypatch):
    from siamese.lecture.pairs import omniglot_pairs

    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    p = omniglot_pairs(4000, seed=0, val_pairs=800)
    train = {im.tobytes() for im in p.train[0]}
    assert not any(im.tobytes() in train for im in p.val[0])
    assert p.train[2].mean() == 0.5 and p.val[2].mean() == 0.5
