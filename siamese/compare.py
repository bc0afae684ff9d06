"""The Compare page's use case, without Streamlit: two sketches, the Euclidean distance between
their embeddings, and whether the model calls them one symbol.

The distance is the one Draw & match shows (:func:`siamese.matching.match_sketch`): sketch A is
preprocessed and embedded as a query, sketch B as a reference is stored
(:func:`siamese.search.index.embed_for_storage`, 8-bit), and the distance comes from the same
:func:`siamese.distance.nearest`. Register sketch B, draw sketch A on Draw & match, and the same
number comes out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from siamese import paths
from siamese.distance import nearest
from siamese.search.index import embed_for_storage
from siamese.embedding.matcher import Matcher
from siamese.data.preprocess import prepare

NAMES = ("Sketch A (left)", "Sketch B (right)")


class PairVerdict(StrEnum):
    """SAME: distance at most the threshold; DIFFERENT: beyond it; INCOMPLETE: a sketch has no
    usable ink (nothing is embedded)."""
    SAME = "same"
    DIFFERENT = "different"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class SketchPair:
    """Outcome of :func:`compare_sketches`.

    Attributes:
        inputs: the two model inputs ``(28, 28) float32`` in [0, 1] (ink = 1), None for a sketch
            with no usable ink.
        reasons: why each missing input is missing, in a sentence for the user ("" when present).
        distance: Euclidean distance between the two embeddings, None when INCOMPLETE.
        threshold: the model's pair threshold (:func:`siamese.embedding.card.threshold_of`).
        verdict: see :class:`PairVerdict`.
    """
    inputs: tuple[np.ndarray | None, np.ndarray | None]
    reasons: tuple[str, str]
    distance: float | None
    threshold: float
    verdict: PairVerdict

    def missing(self) -> str:
        """Which sketch is missing and why, in one or two sentences; "" when both are there."""
        gone = [i for i, x in enumerate(self.inputs) if x is None]
        if len(gone) == 2 and self.reasons[0] == self.reasons[1]:
            return f"Both canvases: {self.reasons[0]} Draw one symbol on each."
        return " ".join(f"{NAMES[i]}: {self.reasons[i]}" for i in gone)


def compare_sketches(image_a, image_b, matcher: Matcher, background: float | None = None) -> SketchPair:
    """Preprocess two sketches, embed them and measure the distance between them.

    Arguments:
        image_a, image_b: canvas RGBA ``(H, W, 4) uint8``, any image
            :func:`siamese.data.preprocess.prepare` accepts, or None (canvas not ready). Canvas rules
            apply (a click or stray specks are not a symbol).
        matcher: the embedding model and its pair threshold.
        background: the canvas's grey level in [0, 255] (the app's canvas: 255).

    Returns:
        :class:`SketchPair`; the model is called only when both sketches have ink.
    """
    prepared = [prepare(image, canvas=True, background=background) for image in (image_a, image_b)]
    inputs = tuple(p.input for p in prepared)
    reasons = tuple("" if p.input is not None else p.reason for p in prepared)
    if inputs[0] is None or inputs[1] is None:
        return SketchPair(inputs, reasons, None, matcher.threshold, PairVerdict.INCOMPLETE)
    query = matcher.embed_inputs(inputs[0][None])[0]
    _, reference = embed_for_storage(matcher, inputs[1][None])
    distance = float(nearest(query, reference, k=1)[1][0])
    verdict = PairVerdict.SAME if distance <= matcher.threshold else PairVerdict.DIFFERENT
    return SketchPair(inputs, reasons, distance, matcher.threshold, verdict)


PEN_PAIRS_FILE = paths.ASSETS_DIR / "pen_digit_pairs.json"
"""What the Compare page's models say about pairs of digits people wrote with a pen, measured by
``python -m benchmarks.pen_pairs`` (#24 item 14): the page's advice and claims come from it."""


def pen_pairs_measured(path=None) -> dict | None:
    """The measurements of :data:`PEN_PAIRS_FILE` (or ``path``), or None when missing or unreadable
    (the page then states no number)."""
    try:
        measured = json.loads(Path(path or PEN_PAIRS_FILE).read_text(encoding="utf-8"))
        return measured if isinstance(measured, dict) and "pairs" in measured else None
    except (OSError, ValueError):
        return None


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def pen_pairs_sentences(measured: dict | None, model_id: str) -> tuple[str, str]:
    """The Compare page's two measured sentences (``""`` for one it cannot state).

    Arguments:
        measured: :func:`pen_pairs_measured`; model_id: the embedding the page uses (its sentence
            is stated only for the model that was measured: a new model needs a new measurement).

    Returns:
        ``(the embedding's verdict on pen-digit pairs, the three pair models' verdicts)``.
    """
    from siamese.lecture.models import VARIANTS

    if not measured:
        return "", ""
    same, different = measured["pairs"]["same"], measured["pairs"]["different"]
    where = (f"{same:,} pairs of one digit and {different:,} pairs of two different digits, each written with a pen "
             "by two people (UNIPEN)")
    first = ""
    e = measured.get("embedding") or {}
    if e.get("model_id") == model_id:
        miss = 1 - e["same_called_same"]
        first = (f"Measured on {where}: this model calls {_pct(e['same_called_same'])} of the one-digit pairs the same "
                 f"symbol and {_pct(e['different_called_different'])} of the two-digit pairs different"
                 + (f", so about one try in {max(2, round(1 / miss))} with the same digit comes out “different”: "
                    "draw it again, more like the first." if miss >= 0.01 else "."))
    models = {k: v["mean"] for k, v in (measured.get("pair_models") or {}).items() if k in VARIANTS}
    if "siamese" not in models:
        return first, ""
    runs = len(measured["pair_models"]["siamese"]["seeds"])
    s = models["siamese"]
    second = (f"Measured on the same pen-digit pairs after {runs} trainings (one per seed) with "
              f"{measured.get('pair_training', 'the Train page')}: the Siamese model says “same” for {_pct(s['same_called_same'])} of the "
              f"one-digit pairs and “different” for {_pct(s['different_called_different'])} of the two-digit pairs")
    concat = {k: m for k, m in models.items() if k != "siamese"}
    if concat:
        medians = [m["median_p_same"] for m in concat.values()]
        says = " and ".join(f"{VARIANTS[k][0]} {_pct(m['same_called_same'])}" for k, m in concat.items())
        near_half = all(abs(m["median_p_same"] - 0.5) <= 0.1 and abs(m["median_p_different"] - 0.5) <= 0.1
                        for m in concat.values())
        second += ("; the concatenating models answer close to 50% whatever the pair" if near_half else
                   "; the concatenating models") + (f" (median probability of “same” {min(medians):.2f} to "
                                                    f"{max(medians):.2f}; one-digit pairs called “same”: {says})")
        if near_half:
            second += (": they learned MNIST's pixels, not how to compare two drawings, so their answer for your two "
                       "sketches is close to a coin toss")
    return first, second + "."
