"""The lecture's three pair models and the convolutional embedding network used for matching.

All models take ``(batch, 28, 28) float32`` images in [0, 1] (ink = 1, see
:mod:`siamese.preprocess`). Pair models take two such batches and return ``(batch, 1) float32``,
the predicted probability that the two images show the same class.
"""
from __future__ import annotations

import keras
from keras import layers, ops

INPUT_SHAPE = (28, 28)
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


def build_conv_embedding(filters: int = 64, pooled_blocks: int = 3) -> keras.Model:
    """The matcher's embedding network: four blocks of Conv(3x3) + BatchNorm + ReLU, the first
    ``pooled_blocks`` of them followed by MaxPool(2).

    The "Conv-4" encoder of Vinyals et al. 2016 (Matching Networks) and Snell et al. 2017
    (Prototypical Networks) pools after all four blocks: 28 -> 14 -> 7 -> 3 -> 1, a
    ``filters``-dimensional output. We keep the last 3x3 map instead (``pooled_blocks=3``,
    ``9 * filters`` = 576 dimensions, same parameter count): where a stroke sits within the
    character survives into the embedding. Measured on the held-out background alphabets
    (20-way 1-shot within-alphabet, 2,000 training episodes, same seed): 85.8% against 82.1%.

    Returns:
        a Keras model ``(batch, 28, 28) float32 -> (batch, d) float32``, d = ``filters`` for
        ``pooled_blocks=4`` and ``9 * filters`` for 3.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Reshape(INPUT_SHAPE + (1,), name="add_channel")(inputs)
    for i in range(4):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.ReLU(name=f"relu{i + 1}")(x)
        if i < pooled_blocks:
            x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.Flatten(name="embedding")(x)
    return keras.Model(inputs, x, name="conv4_embedding")
