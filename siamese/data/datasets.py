"""MNIST and Omniglot, fetched the standard way and checked before use, and the background split's
held-out validation alphabets.

Files are fetched with ``keras.utils.get_file`` (hash-checked) into :func:`siamese.paths.data_dir`
(``SIAMESE_DATA_DIR``), laid out as::

    mnist/mnist.npz
    omniglot/images_background.zip
    omniglot/images_evaluation.zip

A file already in that directory (for instance placed by hand, or ``../shared/data``, whose files
are complete but not byte-identical to the published ones) is checked by content instead of hash:
keys, shapes, dtypes and label counts for MNIST; alphabets, characters and images per split for
Omniglot. Derived arrays go to :func:`siamese.paths.cache_dir`, never next to the source files.

Sources:
- MNIST: LeCun, Cortes and Burges, as published by Keras
  (https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz).
- Omniglot: Lake, Salakhutdinov and Tenenbaum, "Human-level concept learning through probabilistic
  program induction", Science 2015; files from https://github.com/brendenlake/omniglot (python/).
  The 30 background alphabets are for training, the 20 evaluation alphabets for one-shot tests.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from siamese import paths
from siamese.data.preprocess import batch_to_model_input

MNIST_TRAINED = 50_000
"""MNIST training digits an embedding may train on (``x_train[:50000]``); ``x_train[50000:]`` is
validation (open-set calibration, choices), ``x_test`` is only measured."""
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

OMNIGLOT_URL = "https://github.com/brendenlake/omniglot/raw/master/python/{name}.zip"
OMNIGLOT_MD5 = {"images_background": "68d2efa1b9178cc56df9314c21c6e718",
                "images_evaluation": "6b91aef0f799c5bb55b94e3f2daec811"}
# (alphabets, characters, images) per split, from Lake et al. 2015 and the official zips.
OMNIGLOT_COUNTS = {"background": (30, 964, 19280), "evaluation": (20, 659, 13180)}
CACHE_VERSION = 1  # bump when preprocessing changes, so derived arrays are rebuilt
VALIDATION_EVERY = 8
"""Every 8th background alphabet (sorted by name) is held out for validation: 4 of 30."""


class DatasetError(RuntimeError):
    """A dataset file is missing, cannot be fetched, or fails its content check."""


def fetch_file(subdir: str, fname: str, url: str, file_hash: str, check) -> Path:
    """The checked local path of a dataset file: ``<data dir>/<subdir>/<fname>``
    (:func:`siamese.paths.data_dir`), fetched with ``keras.utils.get_file`` into the same place when
    absent (``file_hash``: its sha256 or md5, checked by Keras). The one place a dataset is fetched.

    Arguments:
        check: called with the local path, present or just fetched; raises :class:`DatasetError`
            when the content is not what it should be.

    Raises:
        DatasetError: absent and not fetchable (offline, HTTP error, hash mismatch, read-only data
            directory; the message says where to put the file by hand), or refused by ``check``.
    """
    local = paths.data_dir() / subdir / fname
    if local.exists():
        check(local)
        return local
    import keras  # deferred: importing Keras costs seconds

    try:
        got = keras.utils.get_file(fname, origin=url, file_hash=file_hash,
                                   cache_dir=str(paths.data_dir()), cache_subdir=subdir)
    except Exception as exc:  # offline, HTTP error, hash mismatch, read-only cache
        raise DatasetError(
            f"Could not fetch {fname} from {url} ({type(exc).__name__}: {exc}). Download it by hand "
            f"and put it at {local} (or set SIAMESE_DATA_DIR to a directory holding {subdir}/{fname})."
        ) from exc
    check(Path(got))
    return Path(got)


def _check_mnist(path: Path) -> None:
    try:
        with np.load(path) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as exc:
        raise DatasetError(f"{path} is not a readable MNIST npz with keys x_train, y_train, "
                           f"x_test, y_test ({type(exc).__name__}: {exc}); replace it with "
                           f"{MNIST_URL}") from exc
    expect = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}
    for key, shape in expect.items():
        if arrays[key].shape != shape or arrays[key].dtype != np.uint8:
            raise DatasetError(f"{path}: {key} is {arrays[key].shape} {arrays[key].dtype}, expected "
                               f"{shape} uint8; replace it with {MNIST_URL}")
    for key, counts in (("y_train", MNIST_TRAIN_COUNTS), ("y_test", MNIST_TEST_COUNTS)):
        if tuple(np.bincount(arrays[key], minlength=10)) != counts:
            raise DatasetError(f"{path}: the label counts of {key} are not MNIST's; replace it with {MNIST_URL}")


def mnist_path() -> Path:
    """Path of the checked ``mnist.npz``. Raises :class:`DatasetError`."""
    return fetch_file("mnist", "mnist.npz", MNIST_URL, MNIST_SHA256, _check_mnist)


def load_mnist():
    """MNIST as Keras publishes it.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images ``(n, 28, 28) uint8`` (light ink on
        black, 0..255), labels ``(n,) uint8`` digits 0..9; n = 60,000 and 10,000.

    Raises:
        DatasetError: file missing and not downloadable, or failing its content check.
    """
    with np.load(mnist_path()) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _omniglot_members(path: Path, split: str) -> list[str]:
    """Sorted PNG member names of an Omniglot zip, after checking its counts."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if n.endswith(".png"))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"{path} is not a readable zip ({exc}); replace it with "
                           f"{OMNIGLOT_URL.format(name='images_' + split)}") from exc
    parts = [n.split("/") for n in names]
    alphabets = {p[-3] for p in parts if len(p) >= 3}
    characters = {(p[-3], p[-2]) for p in parts if len(p) >= 3}
    found = (len(alphabets), len(characters), len(names))
    if found != OMNIGLOT_COUNTS[split]:
        exp = OMNIGLOT_COUNTS[split]
        raise DatasetError(
            f"{path} holds {found[0]} alphabets, {found[1]} characters and {found[2]} images; Omniglot's "
            f"{split} split has {exp[0]}, {exp[1]} and {exp[2]}. The file is incomplete: replace it with "
            f"{OMNIGLOT_URL.format(name='images_' + split)}")
    return names


def omniglot_path(split: str) -> Path:
    """Path of the checked ``images_<split>.zip``; ``split`` is "background" or "evaluation"."""
    if split not in OMNIGLOT_COUNTS:
        raise ValueError(f"split must be 'background' or 'evaluation', not {split!r}")
    name = f"images_{split}"
    return fetch_file("omniglot", name + ".zip", OMNIGLOT_URL.format(name=name), OMNIGLOT_MD5[name],
                  lambda p: _omniglot_members(p, split))


@dataclass
class Omniglot:
    """One Omniglot split, preprocessed.

    Attributes:
        images: ``(n, 28, 28) float32`` in [0, 1], ink = 1 (see :mod:`siamese.data.preprocess`).
        labels: ``(n,) int32`` character index into ``characters``.
        drawers: ``(n,) int8`` drawer number 1..20 (the ``_YY`` of ``XXXX_YY.png``).
        characters: ``(c,)`` names ``"<Alphabet>/characterNN"``.
        char_alphabet: ``(c,) int32`` alphabet index of each character into ``alphabets``.
        alphabets: ``(a,)`` alphabet names.
        split: "background" or "evaluation".
    """
    images: np.ndarray
    labels: np.ndarray
    drawers: np.ndarray
    characters: np.ndarray
    char_alphabet: np.ndarray
    alphabets: np.ndarray
    split: str

    @property
    def alphabet_of_image(self) -> np.ndarray:
        """``(n,) int32`` alphabet index of each image."""
        return self.char_alphabet[self.labels]


APOSTROPHES = {"Ge_ez": "Ge'ez", "N_Ko": "N'Ko"}
"""Omniglot's alphabet folders whose "_" stands for an apostrophe, which its folder names never hold."""


def alphabet_name(folder: str) -> str:
    """An Omniglot alphabet's name as people write it, from its folder's name: ``"Ge_ez"`` ->
    "Ge'ez", ``"N_Ko"`` -> "N'Ko" (:data:`APOSTROPHES`), any other "_" a space
    (``"Old_Church_Slavonic_(Cyrillic)"`` -> "Old Church Slavonic (Cyrillic)")."""
    folder = str(folder)
    return APOSTROPHES.get(folder, folder.replace("_", " "))


def character_name(character: str) -> str:
    """An Omniglot character (``Omniglot.characters``' ``"<alphabet folder>/characterNN"``) in words:
    ``"Oriya/character03"`` -> "Oriya, character 3" (numbered from 1 within its alphabet, as in
    Omniglot's folders)."""
    alphabet, _, folder = str(character).rpartition("/")
    number = folder.removeprefix("character").lstrip("0") or "0"
    return f"{alphabet_name(alphabet)}, character {number}" if alphabet else f"character {number}"


def load_omniglot(split: str) -> Omniglot:
    """Load one Omniglot split, preprocessed to the model's 28x28 input.

    The background and evaluation splits are separate files and separate calls, so alphabets are
    never mixed. The first call decodes all PNGs (about 20 s for the background split) and caches
    the arrays in ``SIAMESE_CACHE_DIR``; later calls take well under a second.

    Raises:
        DatasetError: file missing and not downloadable, or incomplete.
        ValueError: unknown split.
    """
    src = omniglot_path(split)
    cache = paths.cache_dir() / f"omniglot_{split}_v{CACHE_VERSION}_{src.stat().st_size}.npz"
    if cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as f:
                return Omniglot(**{k: f[k] for k in f.files}, split=split)
        except Exception:
            pass  # a damaged cache is rebuilt below
    names = _omniglot_members(src, split)
    raw = []
    with zipfile.ZipFile(src) as zf:
        for name in names:
            raw.append(np.asarray(Image.open(io.BytesIO(zf.read(name))).convert("L")))
    images, ok = batch_to_model_input(raw)
    if not ok.all():
        raise DatasetError(f"{int((~ok).sum())} images of {src} have no ink")
    parts = [n.split("/") for n in names]
    char_names = [f"{p[-3]}/{p[-2]}" for p in parts]
    characters, labels = np.unique(char_names, return_inverse=True)
    alphabets, char_alphabet = np.unique([c.split("/")[0] for c in characters], return_inverse=True)
    drawers = np.array([int(p[-1].rsplit("_", 1)[1][:2]) for p in parts], np.int8)
    data = Omniglot(images=images, labels=labels.astype(np.int32), drawers=drawers,
                    characters=characters, char_alphabet=char_alphabet.astype(np.int32),
                    alphabets=alphabets, split=split)
    paths.atomic_write(cache, lambda tmp: np.savez(  # a killed process never leaves a half-written cache
        tmp, images=data.images, labels=data.labels, drawers=data.drawers, characters=data.characters,
        char_alphabet=data.char_alphabet, alphabets=data.alphabets))
    return data


def split_background(data: Omniglot) -> tuple[np.ndarray, np.ndarray]:
    """Boolean image masks ``(train, validation)`` over a background split, by alphabet.

    The validation alphabets (every :data:`VALIDATION_EVERY`-th by name, from the first) choose the
    checkpoint and calibrate the threshold, so the evaluation alphabets stay out of both.

    Returns:
        ``(train (n,) bool, validation (n,) bool)``, complementary; no alphabet is in both.
    """
    val_alphabets = np.arange(len(data.alphabets))[::VALIDATION_EVERY]
    val = np.isin(data.alphabet_of_image, val_alphabets)
    return ~val, val
