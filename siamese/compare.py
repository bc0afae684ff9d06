"""The Compare page's use case, without Streamlit: two sketches, the Euclidean distance between
their embeddings, and whether the model calls them one symbol.

The distance is the one Draw & match shows (:func:`siamese.matching.match_sketch`): sketch A is
preprocessed and embedded as a query, sketch B as a reference is stored
(:func:`siamese.search.index.embed_for_storage`, 8-bit), and the distance comes from the same
:func:`siamese.distance.nearest`. Register sketch B, draw sketch A on Draw & match, and the same
number comes out.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

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
