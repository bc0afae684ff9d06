"""Load an embedding model and embed images with it: the public API, ``from siamese import
load_matcher``. Searching embeddings is :mod:`siamese.search.index`'s job.

>>> m = load_matcher()                      # the model shipped in assets/
>>> e = m.embed(images)                     # (n, H, W) uint8, dark ink on light -> (n, d) float32
>>> from siamese.distance import nearest
>>> nearest(e[0], reference_embeddings)     # indices and Euclidean distances, nearest first
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siamese import paths
from siamese.embedding.card import ModelLoadError, card_path_for, read_card, threshold_of
from siamese.data.preprocess import SIZE, batch_to_model_input

DEFAULT_MODEL = paths.SHIPPED_MODEL


def file_model_id(path) -> str:
    """Identifier of a model file: the first 12 hex digits of its sha256. Embeddings are stored
    with it so that spaces of different models are never mixed."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@dataclass
class Matcher:
    """An embedding model with its distance threshold.

    Attributes:
        model: Keras model ``(n, 28, 28) float32 -> (n, d) float32``.
        model_id: see :func:`file_model_id`.
        threshold: Euclidean distance beyond which the nearest reference "looks new" (from the
            model card, calibrated at the equal-error rate on held-out pairs).
        card: the model card dict (empty if none).
    """
    model: object
    model_id: str
    threshold: float
    card: dict

    def __post_init__(self):
        import tensorflow as tf

        self._lock = threading.Lock()
        shape = (-1,) + tuple(self.model.input_shape[1:])
        # One compiled graph for every batch size: ~1 ms for one sketch against ~9 ms for an eager
        # call and ~40 ms for predict() (benchmarks/run.py match).
        self._fn = tf.function(lambda x: self.model(tf.reshape(x, shape), training=False),
                               input_signature=[tf.TensorSpec((None, SIZE, SIZE), tf.float32)])

    @property
    def dim(self) -> int:
        return int(self.model.output_shape[-1])

    def embed_inputs(self, x: np.ndarray) -> np.ndarray:
        """Embed preprocessed inputs ``(n, 28, 28) float32`` in [0, 1] (ink = 1).

        Calls the model through one compiled ``tf.function`` (~1 ms for one image on 2 cores)
        rather than ``predict`` (~40 ms fixed cost per call). Serialised with a lock: safe to call
        from the threads of many Streamlit sessions at once.

        Returns:
            ``(n, d) float32``.
        """
        x = np.asarray(x, np.float32).reshape(-1, SIZE, SIZE)
        if len(x) == 0:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            out = [self._fn(x[i:i + 512]).numpy() for i in range(0, len(x), 512)]
        return np.concatenate(out).astype(np.float32)

    def embed(self, images) -> np.ndarray:
        """Embed raw grayscale images.

        Arguments:
            images: ``(n, H, W) uint8`` (or a list of ``(H, W)`` arrays of any sizes), dark ink on a
                light background, as Omniglot PNGs and canvas sketches flattened on white. Light
                ink on dark (MNIST) is recognised too.

        Returns:
            ``(n, d) float32`` embeddings; compare them with Euclidean distance.

        Raises:
            ValueError: if some image has no ink (its indices are in the message).
        """
        x, ok = batch_to_model_input(images)
        if not ok.all():
            raise ValueError(f"images with no ink (empty sketches) at indices {np.flatnonzero(~ok).tolist()}")
        return self.embed_inputs(x)


def load_matcher(path=None, card_path=None) -> Matcher:
    """Load an embedding model and its model card, and warm it up.

    Arguments:
        path: ``.keras`` file; default the shipped ``assets/embedding.keras``.
        card_path: model card JSON; default :func:`siamese.embedding.card.card_path_for` (``model_card.json``
            beside the shipped model, ``<stem>.json`` beside another file). No card, or one
            without a threshold: :func:`siamese.embedding.card.threshold_of` (the shipped model's).

    Returns:
        a warmed-up :class:`Matcher` (the first real call pays no one-off tracing cost).

    Raises:
        ModelLoadError: the file is missing, not a valid Keras archive, needs unsafe
            deserialization, does not map ``(n, 28, 28)`` to ``(n, d)``, or its card is invalid.
    """
    import keras

    from siamese.lecture import models  # noqa: F401  registers the custom layers for deserialization

    path = Path(path or DEFAULT_MODEL)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise ModelLoadError(f"{path} is not a loadable Keras model: the file is truncated, corrupt, not "
                             f"a .keras archive, or needs unsafe deserialization ({type(exc).__name__})") from exc
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelLoadError(f"{path} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; an "
                             "embedding model has one of each")
    shape_in, shape_out = tuple(model.input_shape), tuple(model.output_shape)
    if shape_in[1:] not in ((SIZE, SIZE), (SIZE, SIZE, 1)) or len(shape_out) != 2 or not shape_out[1]:
        raise ModelLoadError(f"{path} maps {shape_in} to {shape_out}; an embedding model must map "
                             f"(n, {SIZE}, {SIZE}) to (n, d)")
    if card_path is None:
        card_path = card_path_for(path)
    card = read_card(card_path) if Path(card_path).is_file() else {}
    matcher = Matcher(model, file_model_id(path), threshold_of(card), card)
    matcher.embed_inputs(np.zeros((1, SIZE, SIZE), np.float32))  # warm-up: trace once, now
    return matcher
