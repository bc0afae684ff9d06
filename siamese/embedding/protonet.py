"""The prototypical network as Keras trains it: episodes as a ``PyDataset``, the loss as
``compute_loss`` and the best checkpoint as a callback, for one ``model.fit`` in
:func:`siamese.embedding.training.train_episodic`.

Method: Snell, Swersky and Zemel, "Prototypical Networks for Few-shot Learning", NeurIPS 2017:
each class's prototype is its support embedding (1-shot), and the loss is the cross-entropy of the
softmax over the negative squared Euclidean distances from each query to each prototype, here
divided by a temperature (Oreshkin et al. 2018). Imported only to train: it imports TensorFlow.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

KEPT_EPISODES = 16
"""Episodes kept after they are drawn, for Keras to read again (it reads the first two before
training, to learn their shape and dtype)."""


class Episodes(keras.utils.PyDataset):
    """An endless stream of training episodes, drawn in order from one random generator.

    Episode i is drawn the first time it is asked for and kept a while, so reading it again (as
    Keras does with the first two) gives the same images and draws nothing: the stream of episodes
    is the one that ``draw`` makes when called in turn.

    Arguments:
        draw: ``draw() -> (way * (1 + queries), 28, 28) float32``, the next episode.
    """

    def __init__(self, draw: Callable[[], np.ndarray]):
        super().__init__()
        self._draw = draw
        self._drawn: dict[int, np.ndarray] = {}
        self._next = 0

    @property
    def num_batches(self):
        return None  # endless: fit's steps_per_epoch and epochs say how many

    def __getitem__(self, i: int):
        while self._next <= i:
            self._drawn[self._next] = self._draw()
            self._next += 1
        for old in [k for k in self._drawn if k < i - KEPT_EPISODES]:
            del self._drawn[old]
        return (self._drawn[i],)


class PrototypicalNetwork(keras.Model):
    """Wraps an embedding to train it on episodes: input one episode, loss the prototypical loss.

    Arguments:
        embedding: model ``(n, 28, 28) float32 -> (n, d) float32``; its weights are the ones trained.
        way, queries: N and Q of every episode (1-shot: per class, the support then its queries).
        temperature: logits are ``-squared distance / temperature``.
    """

    def __init__(self, embedding: keras.Model, way: int, queries: int, temperature: float = 1.0):
        super().__init__(name="prototypical_network")
        self.embedding = embedding
        self.way, self.queries, self.temperature = way, queries, temperature
        self._targets = tf.constant(np.repeat(np.arange(way), queries), tf.int32)

    def call(self, x, training=False):
        # Keras's PyDataset leaves the batch size unknown; stating it keeps the graph, and so the float
        # rounding of every step, the same as for a NumPy episode (measured: weights differ otherwise).
        x = tf.ensure_shape(x, (self.way * (1 + self.queries), *x.shape[1:]))
        return self.embedding(x, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean cross-entropy over the episode's ``way * queries`` queries (a float32 scalar)."""
        emb = tf.reshape(y_pred, (self.way, 1 + self.queries, -1))
        prototypes = emb[:, 0]
        queries = tf.reshape(emb[:, 1:], (self.way * self.queries, -1))
        sq = tf.reduce_sum(tf.square(queries[:, None] - prototypes[None]), axis=-1)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(self._targets, -sq / self.temperature))


class BestCheckpoint(keras.callbacks.Callback):
    """Reports each episode (one Keras epoch) and keeps the weights best on validation.

    Arguments:
        embedding: the model being trained; validate: ``validate(embedding) -> accuracy`` in [0, 1].
        episodes, validate_every: validation after every ``validate_every`` episodes and the last.
        progress: optional ``progress(episode, episodes, loss)``; log: where validation lines go.

    Attributes:
        history: ``[{"episode", "accuracy", "seconds"}]``, one per validation (seconds since
            training began); best_accuracy, best_weights: the best so far (the later on ties).
    """

    def __init__(self, embedding, validate, episodes: int, validate_every: int, progress=None, log=print):
        super().__init__()
        self.embedding, self.validate = embedding, validate
        self.episodes, self.validate_every = episodes, validate_every
        self.progress, self.log = progress, log
        self.history: list[dict] = []
        self.best_accuracy, self.best_weights = -1.0, None
        self.start = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        e, loss = epoch + 1, float(logs["loss"])
        if self.progress:
            self.progress(e, self.episodes, loss)
        if e % self.validate_every == 0 or e == self.episodes:
            acc = self.validate(self.embedding)
            self.history.append({"episode": e, "accuracy": acc, "seconds": time.perf_counter() - self.start})
            self.log(f"episode {e}: loss {loss:.3f}, validation accuracy {100 * acc:.1f}%")
            if acc >= self.best_accuracy:
                self.best_accuracy, self.best_weights = acc, self.embedding.get_weights()
