"""The default reference sets, built on first run from the dataset cache.

- "Digits": 50 MNIST *training* images of each digit (the test split stays clean for measuring),
  chosen as the medoids of 50 k-means clusters of that digit's embeddings by the shipped model, so
  that the references cover the ways each digit is written. Their indices are in
  ``assets/digit_references.json`` (:func:`select_digit_references`, ``python -m siamese
  digit-references``); the app only reads them. A database holding another choice (an older
  file) gets its Digits set rebuilt at the next start (:func:`digits_version`).
- "Omniglot: <alphabet>": one per evaluation alphabet, one reference per character (drawer 1),
  so users can try one-shot recognition on alphabets the model has never seen.
- "Class symbols" (created by :class:`siamese.gallery.gallery.Gallery`): what users register.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
from PIL import Image

from siamese import paths
from siamese.data.datasets import DatasetError, load_mnist, omniglot_path
from siamese.gallery.schema import DIGITS, OMNIGLOT_PREFIX
from siamese.gallery.gallery import Gallery, SetKind
from siamese.data.codec import stored_input, thumbnail_png
from siamese.search.index import embed_for_storage
from siamese.data.preprocess import batch_to_model_input, to_model_input
from siamese.distance import squared_distances

DIGIT_REFERENCES = 50
"""References per digit in the "Digits" set (README, "The Digits set": top-1 by references per digit)."""
DIGIT_REFERENCES_FILE = paths.ASSETS_DIR / "digit_references.json"
DIGITS_SET = (f"Digits: {DIGIT_REFERENCES} MNIST training images of each digit, chosen to cover the ways it is "
              "written (the test digits stay unseen). Omniglot: one drawing per character of each alphabet "
              "the model never saw.")
"""What the default sets hold, for the Home page."""
SEEDED_KEY = "default_sets_v2"
DIGITS_KEY = "digits_set"  # which Digits set a database holds: rebuilt when it is not digits_version()


def select_digit_references(embed, per_digit: int = DIGIT_REFERENCES, seed: int = 0) -> dict:
    """Choose the Digits set's references among the MNIST training images: for each digit, k-means
    with ``per_digit`` clusters over its embeddings, then the image nearest each centre (a medoid),
    largest cluster first.

    Arguments:
        embed: ``(n, 28, 28) float32 -> (n, d) float32``, e.g. ``matcher.embed_inputs``.

    Returns:
        ``{"0": [index into x_train, ...], ..., "9": [...]}``, ``per_digit`` each.

    Raises:
        DatasetError: MNIST is not available.
    """
    from sklearn.cluster import KMeans  # deferred: only this offline selection needs it

    (x, y), _ = load_mnist()
    inputs, ok = batch_to_model_input(x)
    emb = embed(np.stack([stored_input(v) for v in inputs]))
    chosen = {}
    for digit in range(10):
        idx = np.flatnonzero((y == digit) & ok)
        km = KMeans(per_digit, n_init=3, random_state=seed).fit(emb[idx])
        order = np.argsort(-np.bincount(km.labels_, minlength=per_digit), kind="stable")
        centres = km.cluster_centers_[order]
        e = emb[idx]
        nearest = ((e ** 2).sum(1)[None, :] - 2.0 * centres @ e.T).argmin(axis=1)  # + |centre|^2: same argmin
        chosen[str(digit)] = [int(i) for i in idx[nearest]]
    return chosen


def digits_set_accuracy(embed, indices: dict) -> dict:
    """Top-1 of a Digits set on all 10,000 MNIST **test** digits: each gets the digit of its
    nearest reference (Euclidean distance; references embedded from their 8-bit stored inputs, as
    the app matches), with a 95% Wilson interval.

    Arguments:
        embed: ``(n, 28, 28) float32 -> (n, d) float32``; indices: ``{digit: [x_train index]}``.

    Returns:
        ``{"top1", "ci95": [low, high], "correct", "queries", "per_digit"}``.

    Raises:
        DatasetError: MNIST is not available.
    """
    from siamese.fewshot.evaluation import wilson_interval

    (x, _), (x_test, y_test) = load_mnist()
    ref_idx = np.array([i for d in sorted(indices) for i in indices[d]])
    ref_digit = np.array([int(d) for d in sorted(indices) for _ in indices[d]])
    refs = embed(np.stack([stored_input(v) for v in batch_to_model_input(x[ref_idx])[0]]))
    queries = embed(batch_to_model_input(x_test)[0])  # a query is not stored: full precision, as in the app
    sq = squared_distances(queries, refs)
    correct = int((ref_digit[sq.argmin(axis=1)] == y_test).sum())
    low, high = wilson_interval(correct, len(y_test))
    return {"top1": correct / len(y_test), "ci95": [round(low, 4), round(high, 4)], "correct": correct,
            "queries": int(len(y_test)), "per_digit": len(ref_idx) // 10}


def digit_reference_indices() -> dict:
    """``{digit: [x_train index, ...]}`` of the shipped Digits set (``assets/digit_references.json``)."""
    return json.loads(DIGIT_REFERENCES_FILE.read_text(encoding="utf-8"))["indices"]


def digits_version() -> str:
    """Names the shipped choice of Digits references: ``"mnist-train-medoids-50-<12 hex>"``, the
    hex digits from a SHA-256 of the chosen indices. A database whose Digits set was built from
    another choice (a new model chose new medoids) is rebuilt by :func:`seed_default_sets`."""
    chosen = json.dumps(digit_reference_indices(), sort_keys=True).encode()
    return f"mnist-train-medoids-{DIGIT_REFERENCES}-{hashlib.sha256(chosen).hexdigest()[:12]}"


def digit_items(per_digit: int = DIGIT_REFERENCES):
    """``[(digit name, model input, thumbnail)]``: the first ``per_digit`` shipped references of
    each digit, from the MNIST training images."""
    (x, _), _ = load_mnist()
    items = []
    for digit, indices in sorted(digit_reference_indices().items()):
        for i in indices[:per_digit]:
            x_in = to_model_input(x[i], canvas=False)
            if x_in is None:  # a blank image in a damaged file
                raise DatasetError(f"MNIST training image {i} (a reference for {digit}) has no ink")
            items.append((digit, x_in, thumbnail_png(255 - x[i])))
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


def add_default_set(gallery: Gallery, set_name: str, kind: SetKind, items, matcher=None, replace: bool = False) -> None:
    """Create one default set if it is missing (or rebuild it, ``replace``), embedded now when a
    matcher is given."""
    if gallery.has_set(set_name) and not replace:
        return
    embeddings = embed_for_storage(matcher, [x for _, x, _ in items]) if matcher is not None else None
    gallery.add_set_bulk(set_name, kind, items, embeddings, replace=replace)


def seed_default_sets(gallery: Gallery, matcher=None) -> list[str]:
    """Create the default sets that are missing, and rebuild a Digits set of an older version
    (users' sets are never touched); safe to call from several processes at once.

    Returns:
        messages for the user about datasets that were not available (empty when all is well).
        Never raises for a missing dataset: the app must start without data.
    """
    version = digits_version()
    if gallery.get_meta(SEEDED_KEY) == "done" and gallery.get_meta(DIGITS_KEY) == version:
        return []
    problems = []
    try:
        old = gallery.has_set(DIGITS) and gallery.get_meta(DIGITS_KEY) != version
        add_default_set(gallery, DIGITS, SetKind.DIGITS, digit_items(), matcher, replace=old)
        gallery.set_meta(DIGITS_KEY, version)
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
