"""Train the matcher's embedding network on Omniglot background alphabets.

Method: prototypical networks (Snell, Swersky and Zemel, NeurIPS 2017). Each training step is an
episode of N classes with one support and Q queries per class; the loss is the cross-entropy of
the softmax over negative squared Euclidean distances from each query to each class prototype.
We chose it over pair-wise binary cross-entropy or a contrastive loss because it trains exactly
the decision the app makes (nearest reference by Euclidean distance among many candidates) and
needs no margin to tune. Classes are augmented with 90-degree rotations (each rotation is a new
class, as in Vinyals et al. 2016 and Snell et al. 2017) and optionally mirror images, and every
image with a small random affine distortion (rotation, scale, shear, shift; the idea of Koch et
al. 2015, section 4.2). Optionally the logits are the negative squared distances divided by a
temperature (metric scaling, Oreshkin et al. 2018, TADAM): it only softens the training loss;
matching still ranks by plain Euclidean distance.

Episodes come from :class:`siamese.fewshot.episodes.EpisodeSampler` and are augmented here; Keras trains
on them through :mod:`siamese.embedding.protonet` (episode stream, loss, best-checkpoint callback).
The digit classes (``TrainConfig.digits``) hold MNIST training digits and, with
``TrainConfig.pen_widths``, the training writers' UNIPEN pen digits drawn as canvas sketches
(:mod:`siamese.data.strokes`), so digits drawn on the canvas are not a new kind of image to it.
Evaluation alphabets never enter training or model selection: a few background alphabets are held
out for validation (:func:`siamese.data.datasets.split_background`; checkpoint choice and threshold
calibration).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from siamese.data.datasets import Omniglot, split_background
from siamese.fewshot.episodes import EpisodeSampler, n_views
from siamese.fewshot.evaluation import evaluate


SHIPPED_DIGITS = 0.25
"""``TrainConfig.digits`` of the shipped model (the command line's default; the dataclass keeps 0 so
experiments on other data, such as :mod:`siamese.measure.unseen_digits`, are unchanged)."""
PEN_WIDTHS = (10, 18, 30)
"""Pen widths (canvas px) tried for issue #23 (``--pen-widths 10 18 30``; the canvas's slider is
4-40, default 18). Not the shipped model: 5,000 episodes with them lost on every validation measure
(pen digits of the held-out writers 94.4% against 95.0%, Omniglot validation 86.0% against 86.2%)."""
PCA_DIGITS = 10_000
"""Training digits added to the images the PCA projection is fitted on, when digits were trained."""


@dataclass
class TrainConfig:
    """Hyperparameters of :func:`train_embedding` (defaults are the shipped model's, except
    ``digits``: the shipped model used :data:`SHIPPED_DIGITS`)."""
    episodes: int = 8000
    way: int = 20
    queries: int = 5
    learning_rate: float = 1e-3
    seed: int = 0
    validate_every: int = 500
    pooled_blocks: int = 3
    """See :func:`siamese.lecture.models.build_conv_embedding`: 3 keeps a 3x3 map (576-d), 4 is classic."""
    distort: float = 1.0
    """Strength of the per-image affine distortion (see :func:`distort`); 0 = only shifts of up
    to 2 px."""
    within_alphabet: float = 0.0
    """Fraction of episodes whose classes all come from one alphabet (needs ``groups``)."""
    projection_dim: int = 128
    """After training, project the embedding onto its first principal components (0 = keep it)."""
    temperature: float = 1.0
    """Logits = -squared distance / temperature (1 = Snell et al.). Measured on validation
    (20-way 1-shot within-alphabet, 2,000 queries): 16 learns faster (86.3% against 83.1% after
    2,000 episodes; 4 and 64 alike) but ends where 1 does (87.3% after 8,000), and that run's
    checkpoint scored 84.6% (82.2-86.7) on the evaluation alphabets against 86.5% (84.2-88.5): no
    better, so not used for the shipped model."""
    digits: float = 0.0
    """Fraction of episodes in which ten of the ``way`` classes are the ten MNIST digits (training
    split; 1 support and ``queries`` queries each, distorted like the characters, never rotated: a
    turned 6 is a 9) and the other ``way - 10`` are Omniglot classes. 0 = Omniglot only (the first
    releases' model). Why: an embedding that never saw digits leaves about 2 test digits in 100
    nearer a reference of another digit (README, "The Digits set"); with digits in the episodes
    they are learnt as classes of their own and kept apart from the characters too."""
    pen_widths: tuple = ()
    """Pen widths (px) at which the training writers' UNIPEN pen digits
    (:func:`siamese.data.strokes.split_writers` of ``pen_digits_train.json``) join the MNIST digits
    of the digit classes, drawn as canvas sketches and prepared as the app prepares them
    (:func:`siamese.data.strokes.pen_digit_inputs`). Empty: MNIST only (models before #23)."""
    mirror: bool = False
    """Mirror images of each class are new classes too (with the rotations: 8 per character).
    Measured: 84.8% against 83.1% after 2,000 episodes, but no gain with a temperature of 4 or 8
    (85.5%, 85.9% against 86.2%): not used for the shipped model."""

    def __post_init__(self):
        """Raises ValueError for a value that cannot train (before any data is loaded)."""
        checks = [(self.episodes >= 1, "episodes must be at least 1"),
                  (self.way >= 2, "way must be at least 2"),
                  (self.queries >= 1, "queries must be at least 1"),
                  (self.learning_rate > 0, "learning_rate must be positive"),
                  (self.validate_every >= 1, "validate_every must be at least 1"),
                  (self.pooled_blocks in (3, 4), "pooled_blocks must be 3 or 4"),
                  (self.distort >= 0, "distort must be 0 or more"),
                  (0 <= self.within_alphabet <= 1, "within_alphabet must be between 0 and 1"),
                  (self.projection_dim >= 0, "projection_dim must be 0 or more"),
                  (self.temperature > 0, "temperature must be positive"),
                  (0 <= self.digits <= 1, "digits must be between 0 and 1"),
                  (self.digits == 0 or self.way > 10, "episodes with the ten digits need a way above 10"),
                  (all(w > 0 for w in self.pen_widths), "pen_widths must be positive")]
        bad = [msg for ok, msg in checks if not ok]
        if bad:
            raise ValueError("; ".join(bad))


def distort(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A random small affine distortion of one model input (Pillow's affine transform, bilinear).

    At ``strength`` 1: rotation up to 10 degrees, scale 0.85-1.15, shear up to 0.2, shift up to 2
    px each way, about the centre. Ranges after Koch et al. 2015 (section 4.2), who distorted
    Omniglot pairs the same way.

    Arguments:
        image: ``(28, 28) float32`` in [0, 1].

    Returns:
        ``(28, 28) float32`` in [0, 1].
    """
    from PIL import Image

    angle = np.deg2rad(rng.uniform(-10, 10) * strength)
    scale = 1 + rng.uniform(-0.15, 0.15) * strength
    shear = rng.uniform(-0.2, 0.2) * strength
    shift = rng.uniform(-2, 2, 2) * strength
    forward = np.array([[np.cos(angle), -np.sin(angle) + shear], [np.sin(angle), np.cos(angle)]]) * scale
    inverse = np.linalg.inv(forward)  # Pillow maps each output pixel back to its input position
    centre = np.full(2, (image.shape[0] - 1) / 2)
    offset = centre - inverse @ (centre + shift)
    img = Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
    out = img.transform(img.size, Image.Transform.AFFINE, (*inverse[0], offset[0], *inverse[1], offset[1]),
                        Image.Resampling.BILINEAR)
    return np.asarray(out, np.float32) / 255.0


def check_episodes(labels: np.ndarray, cfg: TrainConfig, rotations: int = 4) -> None:
    """Check that ``labels`` ``(n,) int`` can fill ``cfg``'s episodes.

    Raises:
        ValueError: fewer classes (characters x views) than ``cfg.way``, or a class with fewer
            images than one support plus ``cfg.queries`` (Omniglot has 20 per character).
    """
    counts = np.unique(labels, return_counts=True)[1]
    n_classes = len(counts) * n_views(rotations, cfg.mirror)
    if n_classes < cfg.way:
        raise ValueError(f"{cfg.way}-way episodes need {cfg.way} classes; the training data has {n_classes}")
    if len(counts) and counts.min() < 1 + cfg.queries:
        raise ValueError(f"{cfg.queries} queries per class need {1 + cfg.queries} images of each class; "
                         f"some have only {counts.min()} (lower --queries)")


def _episode(images, sampler: EpisodeSampler, cfg: TrainConfig, rng, within_alphabet: float = 0.0,
             digits: "Digits | None" = None):
    """Images ``(way * (1 + queries), 28, 28) float32`` of one training episode: per class, the
    support first, then its queries, each as its view shows it and distorted (or only shifted).
    With probability ``within_alphabet`` (``cfg.within_alphabet`` where an alphabet can fill an
    episode, else 0) all classes come from one alphabet; with probability ``cfg.digits`` (when
    ``digits`` is given) the first ten classes are the ten digits, in order.

    Draws, in this order (the shipped model's stream): the protocol coin (only when
    ``within_alphabet`` > 0), the digits coin (only when ``digits`` is given and ``cfg.digits`` >
    0), the classes, then class by class its images and their distortions.
    """
    within = within_alphabet > 0 and rng.random() < within_alphabet
    with_digits = digits is not None and cfg.digits > 0 and rng.random() < cfg.digits
    sources = [(digits.images, digits.sampler, d) for d in range(digits.sampler.n_classes)] if with_digits else []
    protocol = "within-alphabet" if within else "random"
    sources += [(images, sampler, c) for c in sampler.classes(cfg.way - len(sources), rng, protocol)]
    batch = []
    for source, source_sampler, c in sources:
        imgs = source_sampler.view(source[source_sampler.images(c, 1 + cfg.queries, rng)], c)
        if cfg.distort > 0:
            batch.extend(distort(img, rng, cfg.distort) for img in imgs)
        else:
            shifts = rng.integers(-2, 3, size=(len(imgs), 2))
            batch.extend(np.roll(img, tuple(s), axis=(0, 1)) for img, s in zip(imgs, shifts))
    return np.stack(batch).astype(np.float32)


@dataclass
class Digits:
    """Digit classes mixed into training episodes (``TrainConfig.digits``).

    Arguments:
        images: ``(n, 28, 28) float32`` model inputs (:func:`siamese.data.preprocess.batch_to_model_input`
            of MNIST training images); labels: ``(n,) int`` digit of each, 0-9.
    """
    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        self.sampler = EpisodeSampler(self.labels, rotations=1)

    @classmethod
    def mnist_training(cls) -> "Digits":
        """The first :data:`~siamese.data.datasets.MNIST_TRAINED` (50,000) MNIST training digits; the other
        10,000 stay unseen for validation (open-set calibration) and the test split for measuring.

        Raises:
            siamese.data.datasets.DatasetError: MNIST is not available.
        """
        from siamese.data.datasets import MNIST_TRAINED, load_mnist
        from siamese.data.preprocess import batch_to_model_input

        (x, y), _ = load_mnist()
        x, y = x[:MNIST_TRAINED], y[:MNIST_TRAINED]
        inputs, ok = batch_to_model_input(x)
        return cls(inputs[ok], y[ok].astype(int))

    @classmethod
    def mnist_and_pen(cls, pen_widths=PEN_WIDTHS) -> "Digits":
        """:meth:`mnist_training` plus the training writers' pen digits (:func:`siamese.data.strokes.split_writers`
        of ``pen_digits_train.json``: 4/5 of its 93 writers; the other fifth stays for validation)
        drawn as canvas sketches at each of ``pen_widths`` px. With (10, 18, 30): 50,000 MNIST and
        15,870 canvas images.

        Raises:
            siamese.data.datasets.DatasetError: MNIST or the pen digits are not available.
        """
        from siamese.data.strokes import load_pen_digits, pen_digit_inputs, split_writers

        mnist = cls.mnist_training()
        if not pen_widths:
            return mnist
        pen_x, pen_y = pen_digit_inputs(split_writers(load_pen_digits())[0], tuple(pen_widths))
        return cls(np.concatenate([mnist.images, pen_x]), np.concatenate([mnist.labels, pen_y]))


def train_episodic(images, labels, cfg: TrainConfig, validate, rotations: int = 4, progress=None, log=print,
                   groups=None, digits: Digits | None = None):
    """Prototypical-network training of the Conv-4 embedding on any labelled images: one
    ``model.fit`` over a stream of episodes (:mod:`siamese.embedding.protonet`), Adam with a cosine decay of
    the learning rate to 2% over ``cfg.episodes``.

    Arguments:
        images: ``(n, 28, 28) float32`` training images; labels: ``(n,) int``.
        groups: optional ``(n,) int`` alphabet of each image, for within-alphabet episodes.
        digits: the digit classes mixed into ``cfg.digits`` of the episodes, or None (none).
        validate: callable ``validate(model) -> accuracy`` used to keep the best checkpoint.
        rotations: 4 = each 90-degree rotation of a class is a new class (Omniglot); 1 = none
            (digits: a rotated 6 is a 9). ``cfg.mirror`` doubles the views.
        progress: optional ``progress(episode, total, loss)``; log: where validation lines go.

    Returns:
        ``(model, history)`` as :func:`train_embedding`.
    """
    import keras

    from siamese.embedding.network import build_conv_embedding
    from siamese.embedding.protonet import BestCheckpoint, Episodes, PrototypicalNetwork

    check_episodes(labels, cfg, rotations)
    keras.utils.set_random_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    sampler = EpisodeSampler(labels, groups, rotations=rotations, mirror=cfg.mirror)
    # Within-alphabet episodes only where an alphabet has enough classes; otherwise all are random.
    within = cfg.within_alphabet if sampler.fits_within_alphabet(cfg.way) else 0.0
    model = build_conv_embedding(pooled_blocks=cfg.pooled_blocks)
    network = PrototypicalNetwork(model, cfg.way, cfg.queries, cfg.temperature)
    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.episodes, alpha=0.02)
    network.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=False)
    checkpoint = BestCheckpoint(model, validate, cfg.episodes, cfg.validate_every, progress, log)
    start = time.perf_counter()
    # One Keras epoch per episode: the loss Keras reports is then that episode's, not a running mean.
    network.fit(Episodes(lambda: _episode(images, sampler, cfg, rng, within, digits)), epochs=cfg.episodes,
                steps_per_epoch=1, shuffle=False, verbose=0, callbacks=[checkpoint])
    history = {"validation": checkpoint.history, "config": cfg.__dict__.copy(),
               "train_seconds": time.perf_counter() - start, "best_validation": checkpoint.best_accuracy}
    model.set_weights(checkpoint.best_weights)
    return model, history


def train_embedding(background: Omniglot, cfg: TrainConfig = TrainConfig(), progress=None, log=print,
                    digits: Digits | None = None):
    """Train the Conv-4 embedding with the prototypical loss on the background alphabets (and,
    with ``cfg.digits`` > 0, the MNIST training digits).

    Arguments:
        background: the background split (:func:`siamese.data.datasets.load_omniglot`).
        digits: the digit classes (needed when ``cfg.digits`` > 0; default
            :meth:`Digits.mnist_training`). Checkpoints are still chosen on Omniglot validation
            alphabets only.
        cfg: hyperparameters.
        progress: optional callable ``progress(episode, total, loss)``.
        log: where validation lines go.

    Returns:
        ``(model, history)``: the Keras embedding model with the best validation weights (20-way
        1-shot within-alphabet on the held-out background alphabets), and a dict with per-check
        validation accuracy, training seconds and the config.
    """
    train_mask, val_mask = split_background(background)
    val_idx = np.flatnonzero(val_mask)
    if cfg.digits > 0 and digits is None:
        digits = Digits.mnist_training()
    elif cfg.digits == 0:
        digits = None

    def validate(model):
        emb = embed_array(model, background.images[val_idx])
        return evaluate(emb, background.labels[val_idx], background.alphabet_of_image[val_idx],
                        background.drawers[val_idx], way=20, shot=1, protocol="within-alphabet",
                        episodes=30, seed=1234).accuracy

    model, history = train_episodic(background.images[train_mask], background.labels[train_mask], cfg, validate,
                                    rotations=4, progress=progress, log=log,
                                    groups=background.alphabet_of_image[train_mask], digits=digits)
    if cfg.projection_dim:
        fit_on = background.images[train_mask]
        if digits is not None:  # the projection keeps the directions digits need too
            pick = np.random.default_rng(cfg.seed).choice(len(digits.images), min(PCA_DIGITS, len(digits.images)),
                                                          replace=False)
            fit_on = np.concatenate([fit_on, digits.images[np.sort(pick)]])
        model, kept = add_pca_projection(model, fit_on, cfg.projection_dim)
        history["projection"] = {"dim": cfg.projection_dim, "explained_variance": round(kept, 4),
                                 "validation_after": validate(model)}
        log(f"PCA projection to {cfg.projection_dim}-d keeps {100 * kept:.1f}% of the variance; "
            f"validation accuracy {100 * history['projection']['validation_after']:.1f}%")
    return model, history


def add_pca_projection(model, images: np.ndarray, dim: int):
    """Append a linear projection onto the first ``dim`` principal components of the model's
    embeddings of ``images`` (scikit-learn PCA, fitted on training images only).

    Why: the 576-d embedding makes matching against 100,000 references read 230 MB per query;
    128 principal components keep about 97% of the variance and the validation accuracy (measured
    for the shipped model: 87.2% against 87.3% for the full 576-d, 20-way 1-shot within-alphabet)
    at a quarter of the memory read per query. Distances between projected embeddings are
    Euclidean distances in the PCA subspace.

    Arguments:
        model: embedding model ``(n, 28, 28) -> (n, d)``; images: ``(n, 28, 28) float32``.

    Returns:
        ``(model, explained_variance_ratio)``: a new Keras model ``(n, 28, 28) -> (n, dim)`` whose
        last layer is a plain ``Dense`` named "pca_projection" (saved and loaded like any layer).

    Raises:
        ValueError: ``dim`` larger than the embedding or than the number of images.
    """
    import keras
    from sklearn.decomposition import PCA

    emb = embed_array(model, images)
    if not 0 < dim <= min(emb.shape):
        raise ValueError(f"projection_dim must be between 1 and {min(emb.shape)}, not {dim}")
    pca = PCA(dim, random_state=0).fit(emb)
    dense = keras.layers.Dense(dim, name="pca_projection")
    out = dense(model.output)
    dense.set_weights([pca.components_.T.astype(np.float32),
                       (-pca.mean_ @ pca.components_.T).astype(np.float32)])
    return keras.Model(model.input, out, name=model.name), float(pca.explained_variance_ratio_.sum())


def embed_array(model, x, batch_size: int = 1024) -> np.ndarray:
    """Embed preprocessed images ``(n, 28, 28) float32`` with a direct model call (not
    ``predict``, whose fixed cost is ~40 ms per call). Returns ``(n, d) float32``."""
    out = [np.asarray(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, model.output_shape[-1]), np.float32)
