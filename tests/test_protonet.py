"""siamese.embedding.protonet: the episode stream, the prototypical loss by hand, the best checkpoint."""
import keras
import numpy as np
import pytest

from siamese.embedding.protonet import KEPT_EPISODES, BestCheckpoint, Episodes, PrototypicalNetwork


def test_episodes_are_drawn_once_in_order_and_read_again_unchanged():
    """Keras reads episodes 0 and 1 to learn their shape, then 0, 1, 2, ...: nothing is drawn twice."""
    drawn = []

    def draw():
        drawn.append(len(drawn))
        return np.full((2, 28, 28), len(drawn) - 1, np.float32)

    stream = Episodes(draw)
    assert stream.num_batches is None  # endless
    for i in [0, 1, 0, 1, 2, 3]:
        (x,) = stream[i]
        assert x[0, 0, 0] == i
    assert drawn == [0, 1, 2, 3]
    assert stream[5][0][0, 0, 0] == 5 and drawn == [0, 1, 2, 3, 4, 5]  # a skipped index is drawn in turn
    stream[5 + KEPT_EPISODES + 1]
    with pytest.raises(KeyError):  # long past: dropped, never drawn again
        stream[0]


def _mean_pixel_embedding():
    """Embeds an image as its mean pixel value (a 1-d embedding)."""
    inputs = keras.Input((28, 28))
    dense = keras.layers.Dense(1, use_bias=False)
    out = dense(keras.layers.Flatten()(inputs))
    dense.set_weights([np.full((784, 1), 1 / 784, np.float32)])
    return keras.Model(inputs, out)


@pytest.mark.parametrize("temperature, expected", [(1.0, np.log1p(np.exp(-1.0))), (2.0, np.log1p(np.exp(-0.5)))])
def test_loss_is_the_cross_entropy_over_negative_squared_distances(temperature, expected):
    """2-way, 1 query: class c's support and query embed as c. Query 0 is at squared distance 0 from
    prototype 0 and 1 from prototype 1: logits (0, -1 / T), cross-entropy log(1 + exp(-1 / T)); query
    1 alike, so that is the mean."""
    network = PrototypicalNetwork(_mean_pixel_embedding(), way=2, queries=1, temperature=temperature)
    episode = np.repeat([0.0, 0.0, 1.0, 1.0], 28 * 28).reshape(4, 28, 28).astype(np.float32)
    loss = network.compute_loss(y_pred=network(episode))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_an_episode_of_another_size_is_refused():
    import tensorflow as tf

    network = PrototypicalNetwork(_mean_pixel_embedding(), way=2, queries=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Shape of tensor input \[6,28,28\]"):
        network(np.zeros((6, 28, 28), np.float32))


class _Counter:
    """Stands for the embedding: its "weights" are how often they were read."""
    reads = 0

    def get_weights(self):
        self.reads += 1
        return self.reads


def test_best_checkpoint_validates_on_schedule_and_keeps_the_later_of_ties():
    scores = iter([0.5, 0.7, 0.7, 0.6])
    lines, calls = [], []
    checkpoint = BestCheckpoint(_Counter(), lambda model: next(scores), episodes=7, validate_every=2,
                                progress=lambda e, total, loss: calls.append((e, total, loss)), log=lines.append)
    for epoch in range(7):
        checkpoint.on_epoch_end(epoch, {"loss": 10.0 - epoch})
    assert calls == [(e, 7, 11.0 - e) for e in range(1, 8)]
    assert [h["episode"] for h in checkpoint.history] == [2, 4, 6, 7]  # every 2nd, and the last
    assert lines[1] == "episode 4: loss 7.000, validation accuracy 70.0%"
    assert checkpoint.best_accuracy == 0.7 and checkpoint.best_weights == 3  # episode 6's, read third
