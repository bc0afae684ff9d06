"""The lecture's three pair models (the matcher's embedding network is :mod:`siamese.embedding.network`).

All models take ``(batch, 28, 28) float32`` images in [0, 1] (ink = 1, see
:mod:`siamese.data.preprocess`). Pair models take two such batches and return ``(batch, 1) float32``,
the predicted probability that the two images show the same class.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from siamese.embedding.network import INPUT_SHAPE

TOWER_UNITS = 128
EPSILON = 1e-7
"""Floor for the squared distance before the square root: sqrt has an infinite derivative at 0,
so identical inputs would give NaN gradients without it."""


@keras.saving.register_keras_serializable(package="siamese")
class EuclideanDistance(layers.Layer):
    """Euclidean distance between two batches of embeddings: the Siamese distance.

    Call arguments:
        inputs: a list ``[a, b]`` of ``(batch, d)`` float32 tensors.

    Returns:
        ``(batch, 1)`` float32, ``sqrt(max(sum((a - b)**2), EPSILON))``; finite value and
        gradients even for identical inputs.
    """

    def call(self, inputs):
        a, b = inputs
        squared = ops.sum(ops.square(a - b), axis=-1, keepdims=True)
        return ops.sqrt(ops.maximum(squared, EPSILON))

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)


def build_dense_tower(name: str = "tower") -> keras.Model:
    """The lecture's tower: Flatten + Dense(128, relu); 100,480 parameters.

    Returns:
        a Keras model ``(batch, 28, 28) -> (batch, 128)`` float32.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(TOWER_UNITS, activation="relu", name="dense")(x)
    return keras.Model(inputs, x, name=name)


def _pair_inputs():
    return keras.Input(INPUT_SHAPE, name="left"), keras.Input(INPUT_SHAPE, name="right")


def build_separate_towers() -> keras.Model:
    """Variant 1 of the lecture: two towers with separate weights, concatenated, then
    Dense(1, sigmoid). 201,217 parameters."""
    left, right = _pair_inputs()
    a = build_dense_tower("left_tower")(left)
    b = build_dense_tower("right_tower")(right)
    x = layers.Concatenate(name="concat")([a, b])
    out = layers.Dense(1, activation="sigmoid", name="same_probability")(x)
    return keras.Model([left, right], out, name="separate_towers")


def build_shared_concat() -> keras.Model:
    """Variant 2: ONE tower called on both inputs (shared weights), concatenated, then
    Dense(1, sigmoid). 100,737 parameters."""
    left, right = _pair_inputs()
    tower = build_dense_tower("shared_tower")
    x = layers.Concatenate(name="concat")([tower(left), tower(right)])
    out = layers.Dense(1, activation="sigmoid", name="same_probability")(x)
    return keras.Model([left, right], out, name="shared_concat")


def build_siamese_distance(close_means_same: bool = True) -> keras.Model:
    """Variant 3, the Siamese network: shared tower, Euclidean distance, Dense(1, sigmoid).
    100,482 parameters.

    Arguments:
        close_means_same: start the final Dense with kernel -1 and bias +1, a prior that a small
            distance means "same". With Keras's default (random) initial kernel, a positive draw
            says "far apart means same"; training then shrinks every distance to zero instead of
            flipping the sign and the model sticks at 50% pair accuracy (measured in 3 of 4 seeds
            on MNIST, see FINDINGS.md of the project). False reproduces the lecture's exact model.
    """
    left, right = _pair_inputs()
    tower = build_dense_tower("shared_tower")
    distance = EuclideanDistance(name="distance")([tower(left), tower(right)])
    init = dict(kernel_initializer=keras.initializers.Constant(-1.0),
                bias_initializer=keras.initializers.Constant(1.0)) if close_means_same else {}
    out = layers.Dense(1, activation="sigmoid", name="same_probability", **init)(distance)
    return keras.Model([left, right], out, name="siamese_distance")


VARIANTS = {
    "separate": ("Separate towers + concat", build_separate_towers),
    "shared": ("Shared tower + concat", build_shared_concat),
    "siamese": ("Shared tower + distance (Siamese)", build_siamese_distance),
}
"""The lecture's three variants: key -> (display name, builder)."""
