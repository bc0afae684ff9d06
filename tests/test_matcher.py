"""siamese.embedding.matcher: the public API (load_matcher, embed) on the shipped model."""
import threading

import numpy as np
import pytest

from helpers import SHAPES, sketch
from siamese import ModelLoadError, load_matcher
from siamese.data.preprocess import to_dark_on_light


def test_embed_takes_any_size_dark_on_light(matcher):
    small = to_dark_on_light(sketch(SHAPES["seven"], size=105, width=6))
    large = to_dark_on_light(sketch(SHAPES["seven"], size=280))
    e = matcher.embed(np.stack([small, small]))
    assert e.shape == (2, matcher.dim) and e.dtype == np.float32
    e2 = matcher.embed([large])
    # The same drawing at another size lands close by (well inside the "same" threshold).
    assert np.linalg.norm(e[0] - e2[0]) < matcher.threshold / 2


def test_embed_rejects_empty_images(matcher):
    blank = np.full((2, 50, 50), 255, np.uint8)
    with pytest.raises(ValueError, match=r"no ink .* \[0, 1\]"):
        matcher.embed(blank)


def test_model_card_threshold_is_loaded(matcher):
    assert matcher.threshold == pytest.approx(matcher.card["threshold"])
    assert matcher.card["model_id"] == matcher.model_id


def test_corrupt_and_truncated_model_files(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a keras file at all")
    with pytest.raises(ModelLoadError, match="not a loadable Keras model"):
        load_matcher(bad)
    from siamese.embedding.matcher import DEFAULT_MODEL
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(DEFAULT_MODEL.read_bytes()[:20000])
    with pytest.raises(ModelLoadError, match="not a loadable Keras model"):
        load_matcher(truncated)
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_matcher(tmp_path / "missing.keras")


def test_wrong_input_shape_is_refused(tmp_path):
    import keras
    inputs = keras.Input((32, 32))
    model = keras.Model(inputs, keras.layers.Flatten()(inputs))
    path = tmp_path / "wrong.keras"
    model.save(path)
    with pytest.raises(ModelLoadError, match=r"must map \(n, 28, 28\)"):
        load_matcher(path)


def test_lambda_model_is_refused_in_safe_mode(tmp_path):
    import keras
    inputs = keras.Input((28, 28))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: keras.ops.reshape(x, (-1, 784)))(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelLoadError, match="not a loadable Keras model"):
        load_matcher(path)


def test_sixteen_threads_get_the_serial_results(matcher):
    rng = np.random.default_rng(0)
    x = rng.random((16, 28, 28)).astype(np.float32)
    serial = [matcher.embed_inputs(x[i:i + 1]) for i in range(16)]
    out = [None] * 16

    def work(i):
        for _ in range(5):
            out[i] = matcher.embed_inputs(x[i:i + 1])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for a, b in zip(serial, out):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_two_output_model_is_refused(tmp_path):
    import keras
    inputs = keras.Input((28, 28))
    flat = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(4)(flat), keras.layers.Dense(4)(flat)])
    path = tmp_path / "two.keras"
    model.save(path)
    with pytest.raises(ModelLoadError, match="2 outputs"):
        load_matcher(path)
