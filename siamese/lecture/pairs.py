"""Image pairs for the lecture's pair models: label 1 = same class, 0 = different, half and half."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def make_pairs(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, per_image: int = 1):
    """The lecture's pair construction, vectorised.

    For every image, ``per_image`` positive pairs (another image of the same class, never itself)
    and as many negative pairs (an image of a different class), so the set is exactly balanced.

    Arguments:
        images: ``(n, 28, 28) float32``; labels: ``(n,) int``, each class with at least 2 images.
        rng: ``numpy.random.Generator`` (seeded by the caller).

    Returns:
        ``(left (2 n per_image, 28, 28) float32, right (same), same (2 n per_image,) float32)``,
        shuffled.

    Raises:
        ValueError: a class with a single image (no positive pair possible) or a single class.
    """
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError("pairs need at least two classes")
    if counts.min() < 2:
        raise ValueError(f"class {classes[counts.argmin()]} has one image: no positive pair possible")
    n = len(labels)
    anchors = np.tile(np.arange(n), per_image)
    # Positives: a random other member of the anchor's class (offset 1..count-1 within the class).
    order = np.argsort(labels, kind="stable")
    start = np.searchsorted(labels[order], labels)  # first position of each image's class in `order`
    pos_in_class = np.empty(n, int)
    pos_in_class[order] = np.arange(n) - np.repeat(np.searchsorted(labels[order], classes), counts)
    count = counts[np.searchsorted(classes, labels)]
    a_count = count[anchors]
    offset = rng.integers(1, a_count)
    positives = order[start[anchors] + (pos_in_class[anchors] + offset) % a_count]
    # Negatives: uniform over the images of other classes (rejection-free: skip the own class block).
    draw = rng.integers(0, n - a_count)
    a_start = start[anchors]
    negatives = order[np.where(draw < a_start, draw, draw + a_count)]
    left = np.concatenate([anchors, anchors])
    right = np.concatenate([positives, negatives])
    same = np.concatenate([np.ones(len(anchors)), np.zeros(len(anchors))]).astype(np.float32)
    perm = rng.permutation(len(left))
    return images[left[perm]], images[right[perm]], same[perm]


@dataclass
class PairData:
    """Training and validation pairs built from disjoint image sets.

    Arrays as returned by :func:`make_pairs`; ``description`` says what they were built from.
    """
    train: tuple
    val: tuple
    description: str


def mnist_pairs(n_pairs: int | None, seed: int = 0, val_pairs: int = 4000) -> PairData:
    """MNIST pairs: training pairs from the training images, validation pairs from the test images,
    so no pair crosses the split.

    Arguments:
        n_pairs: number of training pairs; None = the lecture's full set (one positive and one
            negative per training image: 120,000 pairs).
        val_pairs: number of validation pairs (from the 10,000 test images).
    """
    from siamese.data.datasets import load_mnist

    (x, y), (xt, yt) = load_mnist()
    rng = np.random.default_rng(seed)
    x, xt = x.astype(np.float32) / 255.0, xt.astype(np.float32) / 255.0
    if n_pairs is not None and n_pairs < 2 * len(y):
        keep = rng.choice(len(y), size=max(n_pairs // 2, 20), replace=False)
        x, y = x[keep], y[keep]
    keep_t = rng.choice(len(yt), size=min(len(yt), max(val_pairs // 2, 20)), replace=False)
    train = make_pairs(x, y, rng)
    val = make_pairs(xt[keep_t], yt[keep_t], rng)
    return PairData(train, val, f"MNIST: {len(train[2]):,} training pairs from {len(y):,} training images, "
                                f"{len(val[2]):,} validation pairs from test images")


def omniglot_pairs(n_pairs: int | None, seed: int = 0, val_pairs: int = 4000) -> PairData:
    """Omniglot background pairs: training pairs from the training alphabets, validation pairs from
    the held-out background alphabets (:func:`siamese.data.datasets.split_background`)."""
    from siamese.data.datasets import load_omniglot, split_background

    bg = load_omniglot("background")
    train_mask, val_mask = split_background(bg)
    rng = np.random.default_rng(seed)
    tr = np.flatnonzero(train_mask)
    if n_pairs is not None and n_pairs < 2 * len(tr):
        chars = rng.permutation(np.unique(bg.labels[tr]))[:max(n_pairs // 40, 2)]
        tr = tr[np.isin(bg.labels[tr], chars)]  # whole characters, so every class keeps 20 drawings
    va = np.flatnonzero(val_mask)
    chars_v = rng.permutation(np.unique(bg.labels[va]))[:max(val_pairs // 40, 2)]
    va = va[np.isin(bg.labels[va], chars_v)]
    train = make_pairs(bg.images[tr], bg.labels[tr], rng)
    val = make_pairs(bg.images[va], bg.labels[va], rng)
    return PairData(train, val, f"Omniglot background: {len(train[2]):,} training pairs from "
                                f"{len(tr):,} images, {len(val[2]):,} validation pairs from held-out alphabets")
