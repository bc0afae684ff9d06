"""The default reference sets, built on first run from the dataset cache.

- "Digits": 50 MNIST *training* images of each digit (the test split stays clean for measuring),
  chosen as the medoids of 50 k-means clusters of that digit's embeddings by the shipped model, so
  that the references cover the ways each digit is written; and, next to them, digits written with
  a pen by the *training* writers of UNIPEN (``unipen/pen_digits_train.json``, split by
  :func:`siamese.data.strokes.split_writers`) drawn as the canvas draws them, chosen the same way
  (:func:`select_pen_references`; issue #23: digits drawn on the canvas landed farther from MNIST
  scans than test scans do). The MNIST indices and the pen digits' strokes (CC BY 4.0, see
  ``../shared/data/README.md``; a few hundred digits, so the app needs no UNIPEN file) are in
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
from siamese.data.datasets import APOSTROPHES, DatasetError, alphabet_name, load_mnist, omniglot_path
from siamese.gallery.schema import DIGITS, OMNIGLOT_PREFIX
from siamese.gallery.gallery import Gallery, SetKind
from siamese.data.codec import stored_input, thumbnail_png
from siamese.data.strokes import PEN_PX, load_pen_digits, pen_digit_sketch, split_writers
from siamese.search.index import embed_for_storage
from siamese.data.preprocess import batch_to_model_input, to_model_input
from siamese.distance import squared_distances

DIGIT_REFERENCES = 50
"""References per digit in the "Digits" set (README, "The Digits set": top-1 by references per digit)."""
PEN_REFERENCES = 0
"""Pen references per digit in the "Digits" set, next to the MNIST ones (docs/model.md, "The Digits set")."""
DIGIT_REFERENCES_FILE = paths.ASSETS_DIR / "digit_references.json"
DIGITS_SET = (f"Digits: {DIGIT_REFERENCES} MNIST training images of each digit, chosen to cover the ways it is "
              "written (the test digits stay unseen). Omniglot: one drawing per character of each alphabet "
              "the model never saw.")
"""What the default sets hold, for the Home page."""
SEEDED_KEY = "default_sets_v2"
DIGITS_KEY = "digits_set"  # which Digits set a database holds: rebuilt when it is not digits_version()


def medoids(emb: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Indices into ``emb`` ``(n, d) float32`` of the ``k`` medoids of a k-means clustering (the
    point nearest each centre), largest cluster first; ``k`` must be at most ``n``."""
    from sklearn.cluster import KMeans  # deferred: only the offline selection needs it

    km = KMeans(k, n_init=3, random_state=seed).fit(emb)
    order = np.argsort(-np.bincount(km.labels_, minlength=k), kind="stable")
    centres = km.cluster_centers_[order]
    return ((emb ** 2).sum(1)[None, :] - 2.0 * centres @ emb.T).argmin(axis=1)  # + |centre|^2: same argmin


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
    (x, y), _ = load_mnist()
    inputs, ok = batch_to_model_input(x)
    emb = embed(np.stack([stored_input(v) for v in inputs]))
    chosen = {}
    for digit in range(10):
        idx = np.flatnonzero((y == digit) & ok)
        chosen[str(digit)] = [int(i) for i in idx[medoids(emb[idx], per_digit, seed)]]
    return chosen


def pen_reference_input(item: dict, width: float = PEN_PX) -> np.ndarray | None:
    """A pen digit (``{"label", "strokes", ...}``, UNIPEN tablet units, y up) as the Digits set
    stores it: drawn as the canvas draws it (:func:`siamese.data.strokes.pen_digit_sketch`) and
    prepared as the app prepares a sketch. ``(28, 28) float32`` in [0, 1], or None if the app would
    refuse the drawing."""
    return to_model_input(pen_digit_sketch(item, width), canvas=True, background=255)


def select_pen_references(embed, per_digit: int = PEN_REFERENCES, seed: int = 0, width: float = PEN_PX) -> dict:
    """Choose the Digits set's pen references among the *training* writers' pen digits (never the
    validation writers, who calibrate; never ``pen_digits.json``, the test file): for each digit,
    the medoids of ``per_digit`` k-means clusters of their embeddings, drawn at ``width`` px.

    Arguments:
        embed: ``(n, 28, 28) float32 -> (n, d) float32``.

    Returns:
        ``{"0": [{"writer", "strokes"}, ...], ...}``, ``per_digit`` each (empty lists when 0).

    Raises:
        DatasetError: ``unipen/pen_digits_train.json`` is not available.
    """
    train, _ = split_writers(load_pen_digits())
    kept = [(it, x) for it in train if (x := pen_reference_input(it, width)) is not None]
    labels = np.array([int(it["label"]) for it, _ in kept])
    emb = embed(np.stack([stored_input(x) for _, x in kept])) if per_digit else None
    chosen = {}
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        picked = idx[medoids(emb[idx], per_digit, seed)] if per_digit else []
        chosen[str(digit)] = [{"writer": kept[i][0]["writer"], "strokes": kept[i][0]["strokes"]} for i in picked]
    return chosen


def digits_set_accuracy(embed, path=None) -> dict:
    """Top-1 of a Digits set (``assets/digit_references.json`` or ``path``): each query gets the
    digit of its nearest reference (Euclidean distance; references embedded from their 8-bit stored
    inputs, as the app matches), with a 95% Wilson interval, on all 10,000 MNIST **test** digits
    and, under ``"pen_validation"``, on the pen digits of the *validation* writers of
    ``pen_digits_train.json`` drawn as canvas sketches (18 px pen; the test file is never used here).

    Arguments:
        embed: ``(n, 28, 28) float32 -> (n, d) float32``.

    Returns:
        ``{"top1", "ci95": [low, high], "correct", "queries", "per_digit", "pen_validation": {"top1",
        "ci95", "correct", "queries"}}``.

    Raises:
        DatasetError: MNIST or the UNIPEN training file is not available.
    """
    from siamese.data.strokes import pen_digit_inputs
    from siamese.fewshot.evaluation import wilson_interval

    items = digit_items(path=path)
    refs = embed(np.stack([stored_input(x) for _, x, _ in items]))
    ref_digit = np.array([int(d) for d, _, _ in items])

    def top1(queries, labels):
        correct = int((ref_digit[squared_distances(embed(queries), refs).argmin(axis=1)] == labels).sum())
        low, high = wilson_interval(correct, len(labels))
        return {"top1": correct / len(labels), "ci95": [round(low, 4), round(high, 4)], "correct": correct,
                "queries": int(len(labels))}
    _, (x_test, y_test) = load_mnist()
    out = top1(batch_to_model_input(x_test)[0], y_test)  # a query is not stored: full precision, as in the app
    out["per_digit"] = len(digit_references(path)["indices"]["0"])
    out["pen_validation"] = top1(*pen_digit_inputs(split_writers(load_pen_digits())[1]))
    return out


def digit_references(path=None) -> dict:
    """The shipped choice of Digits references (``assets/digit_references.json``, or ``path``):
    ``{"indices": {digit: [x_train index, ...]}, "pen": {"width": px, "references": {digit:
    [{"writer", "strokes"}, ...]}} | absent, ...}`` (an older file has no ``"pen"``)."""
    return json.loads((DIGIT_REFERENCES_FILE if path is None else path).read_text(encoding="utf-8"))


def digit_reference_indices() -> dict:
    """``{digit: [x_train index, ...]}`` of the shipped Digits set's MNIST references."""
    return digit_references()["indices"]


def digits_version() -> str:
    """Names the shipped choice of Digits references: ``"mnist-train-medoids-50-<12 hex>"``, the
    hex digits from a SHA-256 of the chosen indices and pen references. A database whose Digits set
    was built from another choice (a new model chose new medoids) is rebuilt by
    :func:`seed_default_sets`."""
    chosen = digit_references()
    key = {"indices": chosen["indices"], "pen": chosen["pen"]} if chosen.get("pen") else chosen["indices"]
    blob = json.dumps(key, sort_keys=True).encode()  # a file without pen references keeps its old name
    return f"mnist-train-medoids-{DIGIT_REFERENCES}-{hashlib.sha256(blob).hexdigest()[:12]}"


def digit_items(per_digit: int = DIGIT_REFERENCES, path=None):
    """``[(digit name, model input, thumbnail)]``: the first ``per_digit`` shipped MNIST references
    of each digit, then the pen references (drawn as the canvas draws them).

    Raises:
        DatasetError: MNIST is not available or a reference has no ink.
    """
    chosen = digit_references(path)
    (x, _), _ = load_mnist()
    items = []
    for digit, indices in sorted(chosen["indices"].items()):
        for i in indices[:per_digit]:
            x_in = to_model_input(x[i], canvas=False)
            if x_in is None:  # a blank image in a damaged file
                raise DatasetError(f"MNIST training image {i} (a reference for {digit}) has no ink")
            items.append((digit, x_in, thumbnail_png(255 - x[i])))
    pen = chosen.get("pen") or {}
    for digit, drawn in sorted(pen.get("references", {}).items()):
        for item in drawn:
            x_in = pen_reference_input(item, pen["width"])
            if x_in is None:
                raise DatasetError(f"a pen reference for {digit} in the Digits references file has no ink")
            items.append((digit, x_in, thumbnail_png(pen_digit_sketch(item, pen["width"])[..., 0])))
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


def rename_old_alphabet_sets(gallery: Gallery) -> None:
    """Sets built by a release that named an alphabet by its folder, "_" as a space ("Omniglot:
    Ge ez"), get the alphabet's name (:func:`siamese.data.datasets.alphabet_name`: "Omniglot:
    Ge'ez"), keeping everything they hold, so no set is built twice nor left orphaned."""
    for folder in APOSTROPHES:
        old = OMNIGLOT_PREFIX + folder.replace("_", " ")
        if gallery.has_set(old):  # a read: most starts write nothing
            gallery.rename_default_set(old, OMNIGLOT_PREFIX + alphabet_name(folder))


def seed_default_sets(gallery: Gallery, matcher=None) -> list[str]:
    """Create the default sets that are missing, and rebuild a Digits set of an older version
    (users' sets are never touched); safe to call from several processes at once.

    Returns:
        messages for the user about datasets that were not available (empty when all is well).
        Never raises for a missing dataset: the app must start without data.
    """
    version = digits_version()
    rename_old_alphabet_sets(gallery)
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
            add_default_set(gallery, OMNIGLOT_PREFIX + alphabet_name(alphabet), SetKind.OMNIGLOT, items, matcher)
    except Exception as exc:
        problems.append(f"Omniglot is not available: {exc}")
    if not problems:
        gallery.set_meta(SEEDED_KEY, "done")
    return problems
