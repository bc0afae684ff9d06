"""The convolutional embedding network used for matching.

It takes ``(batch, 28, 28) float32`` images in [0, 1] (ink = 1, see :mod:`siamese.data.preprocess`).
"""
from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28)


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
