"""The embedding's training: its episodes (views, distortion, within-alphabet mixing), loss and
settings (no real data needed)."""
import numpy as np
import pytest

from siamese.embedding.training import Digits, TrainConfig, _episode, distort
from siamese.fewshot.episodes import EpisodeSampler


def _square(size=28, lo=8, hi=20):
    img = np.zeros((size, size), np.float32)
    img[lo:hi, lo] = img[lo:hi, hi - 1] = img[lo, lo:hi] = img[hi - 1, lo:hi] = 1.0
    return img


def test_distort_at_strength_zero_is_the_identity():
    img = _square()
    out = distort(img, np.random.default_rng(0), strength=0.0)
    np.testing.assert_allclose(out, img, atol=1 / 255)


def test_distort_moves_ink_a_little_and_keeps_it():
    img = _square()
    rng = np.random.default_rng(1)
    outs = [distort(img, rng) for _ in range(20)]
    assert all(o.shape == (28, 28) and o.dtype == np.float32 and 0 <= o.min() and o.max() <= 1 for o in outs)
    assert sum(not np.allclose(o, img, atol=0.05) for o in outs) >= 18  # it does distort
    for o in outs:  # ...but slightly: ink stays about as much, and mostly where it was
        assert 0.6 < o.sum() / img.sum() < 1.5
        centre = (np.indices(o.shape) * o).sum(axis=(1, 2)) / o.sum()
        assert np.abs(centre - 13.5).max() < 4


def _toy(n_groups=3, chars_per_group=6, per_char=8):
    labels = np.repeat(np.arange(n_groups * chars_per_group), per_char)
    groups = labels // chars_per_group
    images = (labels[:, None, None] * np.ones((1, 28, 28))).astype(np.float32)  # pixel value = class
    return images, labels, groups


@pytest.mark.parametrize("within", [0.0, 1.0])
def test_episode_layout_and_within_alphabet_sampling(within):
    images, labels, groups = _toy()
    sampler = EpisodeSampler(labels, groups)
    group_of_class = np.arange(18) // 6  # _toy: 3 alphabets of 6 characters
    cfg = TrainConfig(way=5, queries=3, distort=0.0, within_alphabet=within)
    rng = np.random.default_rng(0)
    seen_groups = []
    for _ in range(30):
        x = _episode(images, sampler, cfg, rng, within_alphabet=within)
        assert x.shape == (5 * 4, 28, 28)
        cls = x.reshape(5, 4, -1).max(axis=2)  # support then 3 queries of the same class per row
        assert (cls == cls[:, :1]).all() and len(np.unique(cls[:, 0])) == 5
        seen_groups.append(len(np.unique(group_of_class[cls[:, 0].astype(int)])))
    if within:
        assert set(seen_groups) == {1}
    else:
        assert max(seen_groups) > 1


def _digits(per_digit=7):
    """Ten toy digit classes whose pixel value is 100 + the digit (apart from every toy character)."""
    labels = np.repeat(np.arange(10), per_digit)
    return Digits((100 + labels[:, None, None] * np.ones((1, 28, 28))).astype(np.float32), labels)


def test_digit_episodes_put_the_ten_digits_first_unrotated_and_fill_the_rest_with_characters():
    """With ``digits`` = 1 every episode's first ten classes are the digits 0-9 in order (support
    and queries of one digit alike, never turned: a turned 6 is a 9), the other way - 10 classes
    are characters; with ``digits`` = 0 no digit ever appears."""
    images, labels, groups = _toy()
    sampler = EpisodeSampler(labels, groups, rotations=4)
    digits = _digits()
    digits.images[:, :, :10] = digits.images[:, :, 18:] = 0  # an upright band: a quarter turn would lie it down
    rng = np.random.default_rng(0)
    cfg = TrainConfig(way=14, queries=3, distort=0.0, digits=1.0)
    for _ in range(10):
        x = _episode(images, sampler, cfg, rng, digits=digits).reshape(14, 4, 28, 28)
        value = x.max(axis=(2, 3))
        assert (value == value[:, :1]).all()
        assert list(value[:10, 0]) == [100 + d for d in range(10)]
        assert (value[10:, 0] < 100).all()  # characters (two views of one may share a value)
        assert ((x[:10].max(axis=3) > 0).sum(axis=2) == 28).all()  # every row inked: never turned
    none = TrainConfig(way=14, queries=3, distort=0.0, digits=0.0)
    assert all(_episode(images, sampler, none, rng, digits=digits).max() < 100 for _ in range(10))


def test_digits_at_zero_leave_the_episode_stream_unchanged():
    """The shipped model of the first releases was made with this stream: no digits coin is drawn
    when ``digits`` is 0 or no digit classes are given."""
    images, labels, groups = _toy()
    sampler = EpisodeSampler(labels, groups, rotations=4)
    cfg = TrainConfig(way=5, queries=3)
    a = [_episode(images, sampler, cfg, rng) for rng in [np.random.default_rng(3)] for _ in range(5)]
    b = [_episode(images, sampler, cfg, rng, digits=_digits()) for rng in [np.random.default_rng(3)] for _ in range(5)]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))


def test_digit_episodes_come_at_the_configured_rate():
    images, labels, groups = _toy()
    sampler = EpisodeSampler(labels, groups, rotations=4)
    cfg = TrainConfig(way=12, queries=1, distort=0.0, digits=0.25)
    rng = np.random.default_rng(0)
    share = np.mean([_episode(images, sampler, cfg, rng, digits=_digits()).max() >= 100 for _ in range(400)])
    assert 0.18 < share < 0.32


def test_pca_projection_keeps_distances_in_the_subspace_and_saves(tmp_path):
    import keras

    from siamese.embedding.training import add_pca_projection, embed_array
    from siamese.embedding.network import build_conv_embedding

    rng = np.random.default_rng(0)
    images = rng.random((200, 28, 28), dtype=np.float32)
    base = build_conv_embedding()
    model, kept = add_pca_projection(base, images, 16)
    assert model.output_shape == (None, 16) and 0 < kept <= 1
    full, proj = embed_array(base, images), embed_array(model, images)
    from sklearn.decomposition import PCA
    expected = PCA(16, random_state=0).fit_transform(full)
    np.testing.assert_allclose(np.abs(proj), np.abs(expected), atol=1e-3)  # same subspace, up to sign
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(embed_array(again, images), proj, atol=1e-5)
    with pytest.raises(ValueError, match="projection_dim"):
        add_pca_projection(base, images, 1000)


def test_mirror_makes_each_mirror_image_a_class_of_its_own():
    images = np.zeros((8, 28, 28), np.float32)
    images[:, 5, 3] = 1.0  # an asymmetric mark: its column says whether the image was mirrored
    labels = np.repeat([0, 1], 4)
    rng = np.random.default_rng(0)
    seen = set()
    for mirror in (False, True):
        cfg = TrainConfig(way=2, queries=2, distort=0.0, mirror=mirror)
        sampler = EpisodeSampler(labels, mirror=mirror)
        for _ in range(20):
            x = _episode(images, sampler, cfg, rng).reshape(2, 3, 28, 28)
            cols = x.max(axis=2).argmax(axis=2)  # the mark's column: 3 +- 2 px of shift, or 24 +- 2 mirrored
            mirrored = cols > 13
            assert (mirrored == mirrored[:, :1]).all()  # a class is one view: support and queries alike
            seen |= {(mirror, bool(m)) for m in mirrored[:, 0]}
    assert seen == {(False, False), (True, False), (True, True)}


def test_temperature_scales_the_logits_of_the_training_loss():
    from siamese.embedding.training import train_episodic

    images, labels, _ = _toy(n_groups=1, chars_per_group=6, per_char=8)
    images = images / images.max()
    losses = {}
    for temperature in (1.0, 1e9):
        seen = []
        cfg = TrainConfig(episodes=1, way=5, queries=3, distort=0.0, temperature=temperature, validate_every=1)
        train_episodic(images, labels, cfg, validate=lambda m: 0.0, rotations=1,
                       progress=lambda e, total, loss: seen.append(loss), log=lambda s: None)
        losses[temperature] = seen[0]
    # an enormous temperature flattens the softmax: every class equally likely, loss = log(way)
    assert losses[1e9] == pytest.approx(np.log(5), abs=1e-3)
    assert abs(losses[1.0] - np.log(5)) > 0.01


@pytest.mark.parametrize("field, value", [("temperature", 0.0), ("way", 1), ("episodes", 0), ("distort", -1.0),
                                          ("within_alphabet", 1.5), ("pooled_blocks", 2), ("digits", -0.1),
                                          ("digits", 1.5), ("pen_widths", (18, 0))])
def test_config_refuses_values_that_cannot_train(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_digit_episodes_need_room_for_the_ten_digits():
    with pytest.raises(ValueError, match="way above 10"):
        TrainConfig(way=10, digits=0.5)
    TrainConfig(way=10, digits=0.0)  # the digits-unseen experiment: 8-way, no mixing


def test_train_command_says_what_is_wrong_before_loading_data(tmp_path):
    import subprocess
    import sys

    from helpers import ROOT

    proc = subprocess.run([sys.executable, "-m", "siamese", "train", "--temperature", "-1", "--out",
                           str(tmp_path / "m.keras")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "SIAMESE_DATA_DIR": str(tmp_path / "no-data")})
    assert proc.returncode == 1
    assert "temperature must be positive" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "m.keras").exists() and not (tmp_path / "no-data").exists()  # nothing fetched or written


def test_episodes_that_the_data_cannot_fill_are_refused_up_front():
    from siamese.embedding.training import check_episodes

    labels = np.repeat(np.arange(6), 8)  # 6 characters, 8 images each
    check_episodes(labels, TrainConfig(way=24, queries=7), rotations=4)  # 24 classes with rotations: fits
    with pytest.raises(ValueError, match="25-way episodes need 25 classes"):
        check_episodes(labels, TrainConfig(way=25, queries=7), rotations=4)
    check_episodes(labels, TrainConfig(way=25, queries=7, mirror=True), rotations=4)  # 48 with mirrors
    with pytest.raises(ValueError, match="8 queries per class need 9 images"):
        check_episodes(labels, TrainConfig(way=5, queries=8), rotations=4)


def test_training_with_canvas_pen_digits_is_reproducible_to_the_bit():
    """The same config and seed give the same weights: the pen digits are rendered
    (:func:`siamese.data.strokes.pen_digit_inputs`) and the episodes drawn identically each time, so
    the shipped command gives the same model and card twice (a tiny run stands in for the full one)."""
    from siamese.data.strokes import pen_digit_inputs
    from siamese.embedding.training import train_episodic

    items = [{"label": str(d), "writer": f"w{d}", "strokes": [[[0, 0], [10 + d, 5 * d], [3, 20 - d]], [[d, 2]]]}
             for d in range(10)]
    pen_x, pen_y = pen_digit_inputs(items * 2, widths=(10, 30))
    images, labels, groups = _toy()
    cfg = TrainConfig(episodes=3, way=12, queries=1, digits=1.0, projection_dim=0, validate_every=2, seed=5)
    runs = [train_episodic(images, labels, cfg, lambda m: 0.5, groups=groups, digits=Digits(pen_x, pen_y),
                           log=lambda line: None)[0].get_weights() for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*runs))
    other = train_episodic(images, labels, TrainConfig(**{**cfg.__dict__, "seed": 6}), lambda m: 0.5, groups=groups,
                           digits=Digits(pen_x, pen_y), log=lambda line: None)[0].get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], other))
