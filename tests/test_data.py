"""siamese.data.datasets: loaders on small fake files they build (everywhere) and on the real files (CI)."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from siamese.data import datasets as data


def fake_mnist(path, n_train=60000, n_test=10000):
    rng = np.random.default_rng(0)
    y_train = np.repeat(np.arange(10, dtype=np.uint8), np.array(data.MNIST_TRAIN_COUNTS))[:n_train]
    y_test = np.repeat(np.arange(10, dtype=np.uint8), np.array(data.MNIST_TEST_COUNTS))[:n_test]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_train=np.zeros((len(y_train), 28, 28), np.uint8), y_train=rng.permutation(y_train),
                        x_test=np.zeros((len(y_test), 28, 28), np.uint8), y_test=y_test)


def png(seed):
    img = Image.new("L", (105, 105), 255)
    rng = np.random.default_rng(seed)
    ImageDraw.Draw(img).line([tuple(rng.integers(10, 95, 2)) for _ in range(4)], fill=0, width=3)
    buf = io.BytesIO()
    img.convert("1").save(buf, format="PNG")
    return buf.getvalue()


def fake_omniglot(path, split, alphabets=2, chars=3, drawers=4):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for a in range(alphabets):
            for c in range(chars):
                for d in range(1, drawers + 1):
                    zf.writestr(f"images_{split}/Alpha_{a}/character{c + 1:02d}/{a * 100 + c:04d}_{d:02d}.png",
                                png(a * 1000 + c * 10 + d))
    return alphabets, alphabets * chars, alphabets * chars * drawers


@pytest.fixture
def fake_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_fake_mnist_loads(fake_dir):
    fake_mnist(fake_dir / "mnist" / "mnist.npz")
    (x, y), (xt, yt) = data.load_mnist()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and yt.shape == (10000,)


def test_incomplete_mnist_is_rejected_by_content(fake_dir):
    fake_mnist(fake_dir / "mnist" / "mnist.npz", n_train=1000)
    with pytest.raises(data.DatasetError, match=r"mnist\.npz: x_train is \(1000, 28, 28\) uint8, expected \(60000, 28, 28\)"):
        data.load_mnist()


def test_not_an_npz_is_rejected(fake_dir):
    (fake_dir / "mnist").mkdir(parents=True)
    (fake_dir / "mnist" / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(data.DatasetError, match="not a readable MNIST npz"):
        data.load_mnist()


def test_missing_file_offline_names_file_url_and_place(fake_dir, monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(data.DatasetError) as err:
        data.load_mnist()
    msg = str(err.value)
    assert "mnist.npz" in msg and data.MNIST_URL in msg and str(fake_dir / "mnist" / "mnist.npz") in msg
    assert "SIAMESE_DATA_DIR" in msg


def test_download_hash_mismatch_is_a_clear_error(fake_dir, monkeypatch):
    import keras

    def mismatch(fname, origin, file_hash, cache_dir, cache_subdir):
        raise ValueError("Incomplete or corrupted file detected. The sha256 file hash does not match")

    monkeypatch.setattr(keras.utils, "get_file", mismatch)
    with pytest.raises(data.DatasetError, match="images_evaluation.zip.*hash does not match"):
        data.omniglot_path("evaluation")


def test_fake_omniglot_loads_with_alphabets_characters_drawers(fake_dir, monkeypatch):
    counts = fake_omniglot(fake_dir / "omniglot" / "images_background.zip", "background")
    monkeypatch.setitem(data.OMNIGLOT_COUNTS, "background", counts)
    o = data.load_omniglot("background")
    assert o.images.shape == (24, 28, 28) and o.images.dtype == np.float32
    assert list(o.alphabets) == ["Alpha_0", "Alpha_1"]
    assert len(o.characters) == 6 and sorted(set(o.drawers.tolist())) == [1, 2, 3, 4]
    assert (o.alphabets[o.alphabet_of_image] == [c.split("/")[0] for c in o.characters[o.labels]]).all()
    again = data.load_omniglot("background")  # from the derived cache
    np.testing.assert_array_equal(again.images, o.images)


def test_derived_cache_is_not_written_next_to_the_source(fake_dir, monkeypatch, tmp_path):
    counts = fake_omniglot(fake_dir / "omniglot" / "images_evaluation.zip", "evaluation")
    monkeypatch.setitem(data.OMNIGLOT_COUNTS, "evaluation", counts)
    data.load_omniglot("evaluation")
    assert sorted(p.name for p in (fake_dir / "omniglot").iterdir()) == ["images_evaluation.zip"]


def test_incomplete_omniglot_is_rejected(fake_dir):
    fake_omniglot(fake_dir / "omniglot" / "images_evaluation.zip", "evaluation")
    with pytest.raises(data.DatasetError, match="holds 2 alphabets, 6 characters and 24 images.*incomplete"):
        data.load_omniglot("evaluation")


def test_unknown_split():
    with pytest.raises(ValueError, match="background"):
        data.omniglot_path("training")


def test_background_split_holds_out_every_eighth_alphabet():
    """17 alphabets of 2 characters x 3 drawings: alphabets 0, 8 and 16 (every 8th from the first)
    are held out, whole: 3 x 6 = 18 validation images, 84 for training."""
    char_alphabet = np.repeat(np.arange(17), 2).astype(np.int32)
    labels = np.repeat(np.arange(34), 3).astype(np.int32)
    bg = data.Omniglot(images=np.zeros((102, 28, 28), np.float32), labels=labels, drawers=np.ones(102, np.int8),
                       characters=np.arange(34).astype(str), char_alphabet=char_alphabet,
                       alphabets=np.array([f"A{i:02d}" for i in range(17)]), split="background")
    train, val = data.split_background(bg)
    assert train.dtype == val.dtype == bool and (train == ~val).all()
    assert sorted(set(bg.alphabet_of_image[val])) == [0, 8, 16] and val.sum() == 18
    assert not set(bg.alphabet_of_image[train]) & set(bg.alphabet_of_image[val])


# ---- real data (CI points SIAMESE_DATA_DIR at ../shared/data) ----

@pytest.mark.realdata
def test_real_mnist(real_data_dir, monkeypatch):
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    (x, y), (xt, yt) = data.load_mnist()
    assert x.shape == (60000, 28, 28) and y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@pytest.mark.slow
@pytest.mark.realdata
def test_real_omniglot_splits_are_disjoint(real_data_dir, monkeypatch):
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    bg, ev = data.load_omniglot("background"), data.load_omniglot("evaluation")
    assert (len(bg.alphabets), len(bg.characters), len(bg.images)) == (30, 964, 19280)
    assert (len(ev.alphabets), len(ev.characters), len(ev.images)) == (20, 659, 13180)
    assert not set(bg.alphabets) & set(ev.alphabets)
    assert np.isfinite(bg.images).all() and bg.images.max() == 1.0


@pytest.mark.slow
@pytest.mark.realdata
def test_real_background_split_holds_out_the_shipped_models_four_alphabets(real_data_dir, monkeypatch):
    """The alphabets that chose the shipped model's checkpoint (assets/model_card.json, "data")."""
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    bg = data.load_omniglot("background")
    train, val = data.split_background(bg)
    assert list(bg.alphabets[np.unique(bg.alphabet_of_image[val])]) == ["Alphabet_of_the_Magi", "Braille", "Hebrew",
                                                                         "N_Ko"]
    assert (val.sum(), train.sum()) == (2020, 17260)
