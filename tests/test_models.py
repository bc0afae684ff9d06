"""siamese.lecture.models: the lecture's three variants, the distance layer and the embedding net."""
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from siamese.lecture.models import EuclideanDistance, build_separate_towers, build_shared_concat, build_siamese_distance
from siamese.embedding.network import build_conv_embedding

RNG = np.random.default_rng(0)
X = RNG.random((4, 28, 28), dtype=np.float32)
Y = RNG.random((4, 28, 28), dtype=np.float32)


@pytest.mark.parametrize("builder, params", [
    # tower: 784*128 + 128 = 100,480; head on a 256-vector: 257; head on a distance: 2
    (build_separate_towers, 2 * 100_480 + 257),
    (build_shared_concat, 100_480 + 257),
    (build_siamese_distance, 100_480 + 2),
])
def test_parameter_counts(builder, params):
    assert builder().count_params() == params


@pytest.mark.parametrize("builder", [build_shared_concat, build_siamese_distance])
def test_shared_variants_use_one_tower(builder):
    model = builder()
    towers = [layer for layer in model.layers if layer.name == "shared_tower"]
    assert len(towers) == 1
    tower = towers[0]
    # Called on both inputs: the tower layer has two inbound calls.
    assert len(tower._inbound_nodes) >= 2
    # Changing the tower's weights changes what both branches compute.
    before = np.asarray(tower(X))
    tower.get_layer("dense").kernel.assign(tower.get_layer("dense").kernel * 2)
    assert not np.allclose(before, np.asarray(tower(X)))


def test_separate_towers_do_not_share():
    model = build_separate_towers()
    left, right = model.get_layer("left_tower"), model.get_layer("right_tower")
    assert not np.allclose(np.asarray(left(X)), np.asarray(right(X)))


def test_shared_concat_is_symmetric_in_its_embeddings():
    model = build_shared_concat()
    concat_in = tf.keras.Model(model.inputs, model.get_layer("concat").output)
    out = np.asarray(concat_in([X, X]))
    np.testing.assert_allclose(out[:, :128], out[:, 128:])


def test_distance_layer_value_and_identical_inputs_are_finite():
    a = tf.constant([[0.0, 3.0], [1.0, 1.0]])
    b = tf.constant([[4.0, 0.0], [1.0, 1.0]])
    layer = EuclideanDistance()
    with tf.GradientTape() as tape:
        tape.watch(a)
        d = layer([a, b])
        loss = tf.keras.losses.binary_crossentropy(tf.ones((2, 1)), tf.sigmoid(-d))
    grad = tape.gradient(loss, a)
    np.testing.assert_allclose(d.numpy()[:, 0], [5.0, np.sqrt(1e-7)], rtol=1e-5)
    assert np.isfinite(loss.numpy()).all() and np.isfinite(grad.numpy()).all()


def test_siamese_prior_says_close_means_same():
    model = build_siamese_distance()
    same = float(model([X, X])[0, 0])
    assert same > 0.5


def test_siamese_model_round_trips_in_a_fresh_process(tmp_path):
    """Saved as .keras, the model loads with load_model defaults (safe mode on) in a new process
    and gives identical outputs: the distance layer is registered, not a Lambda."""
    model = build_siamese_distance()
    path = tmp_path / "siamese.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", X), np.save(tmp_path / "y.npy", Y)
    expected = np.asarray(model([X, Y]))
    code = (
        "import numpy as np, keras, siamese.lecture.models\n"
        f"m = keras.models.load_model(r'{path}')\n"
        f"x, y = np.load(r'{tmp_path / 'x.npy'}'), np.load(r'{tmp_path / 'y.npy'}')\n"
        f"np.save(r'{tmp_path / 'out.npy'}', np.asarray(m([x, y])))\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(tmp_path.parent.parent),
                   env={**__import__("os").environ, "PYTHONPATH": str(__import__("helpers").ROOT)})
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


def test_conv_embedding_shape():
    assert build_conv_embedding()(X).shape == (4, 576)  # 3x3 map of 64 filters kept
    assert build_conv_embedding(pooled_blocks=4)(X).shape == (4, 64)  # the classic Conv-4
