"""The default reference sets, built on first run from the dataset cache.

- "Digits": the first 5 test images of each MNIST digit (the model never trained on MNIST).
- "Omniglot: <alphabet>": one per evaluation alphabet, one reference per character (drawer 1),
  so users can try one-shot recognition on alphabets the model has never seen.
- "My symbols" (created by :class:`siamese.gallery.Gallery`): what users register.
"""
from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image

from .data import DatasetError, load_mnist, omniglot_path
from .gallery import DIGITS, OMNIGLOT_PREFIX, Gallery, SetKind, thumbnail_png
from .index import embed_for_storage
from .preprocess import to_model_input

DIGIT_REFERENCES = 5
"""References per digit in the "Digits" set."""
SEEDED_KEY = "default_sets_v1"


def digit_items(per_digit: int = DIGIT_REFERENCES):
    """``[(digit name, model input, thumbnail)]`` from the first MNIST test images of each digit."""
    _, (x, y) = load_mnist()
    items = []
    for digit in range(10):
        taken = 0
        for i in np.flatnonzero(y == digit):
            x_in = to_model_input(x[i], canvas=False)
            if x_in is None:  # a blank image in a damaged file: take the next one
                continue
            items.append((str(digit), x_in, thumbnail_png(255 - x[i])))
            taken += 1
            if taken == per_digit:
                break
    return items


def omniglot_items(drawer: int = 1) -> dict:
    """``{alphabet: [(character name, model input, thumbnail)]}`` for the evaluation alphabets,
    one drawing (by ``drawer``) per character."""
    out: dict = {}
    with zipfile.ZipFile(omniglot_path("evaluation")) as zf:
        for name in sorted(zf.namelist()):
            if not name.endswith(f"_{drawer:02d}.png"):
                continue
            alphabet, character = name.split("/")[-3:-1]
            try:
                img = np.asarray(Image.open(io.BytesIO(zf.read(name))).convert("L"))
            except Exception as exc:
                raise DatasetError(f"{name} in the Omniglot evaluation zip is not a readable PNG ({exc})") from exc
            x_in = to_model_input(img, canvas=False)
            if x_in is not None:
                out.setdefault(alphabet, []).append((character, x_in, thumbnail_png(img)))
    return out


def add_default_set(gallery: Gallery, set_name: str, kind: SetKind, items, matcher=None) -> None:
    """Create one default set if it is missing, embedded now when a matcher is given."""
    if gallery.has_set(set_name):
        return
    embeddings = embed_for_storage(matcher, [x for _, x, _ in items]) if matcher is not None else None
    gallery.add_set_bulk(set_name, kind, items, embeddings)


def seed_default_sets(gallery: Gallery, matcher=None) -> list[str]:
    """Create the default sets that are missing; safe to call from several processes at once.

    Returns:
        messages for the user about datasets that were not available (empty when all is well).
        Never raises for a missing dataset: the app must start without data.
    """
    if gallery.get_meta(SEEDED_KEY) == "done":
        return []
    problems = []
    try:
        add_default_set(gallery, DIGITS, SetKind.DIGITS, digit_items(), matcher)
    except Exception as exc:  # missing or damaged data must not stop the app
        problems.append(f"MNIST digits are not available: {exc}")
    try:
        for alphabet, items in omniglot_items().items():
            add_default_set(gallery, OMNIGLOT_PREFIX + alphabet.replace("_", " "), SetKind.OMNIGLOT, items, matcher)
    except Exception as exc:
        problems.append(f"Omniglot is not available: {exc}")
    if not problems:
        gallery.set_meta(SEEDED_KEY, "done")
    return problems
