"""Open-set matching: is a sketch one of the set's symbols, or a symbol the set has never seen?

The nearest reference of a never-seen sketch gets closer the more references a set holds, so one
distance threshold cannot serve a set of 1 symbol and a set of 500 references alike (a threshold
calibrated on single pairs accepted 30% of never-seen symbols against the Digits set). The rule
here is calibrated per reference set, from two estimates:

- how often a **never-seen** symbol lands within distance ``d`` of the set: the share of a fixed
  *pool* of characters that no set holds (drawings of the held-out validation alphabets of the
  Omniglot background split, ``assets/novelty_pool.npz``) whose nearest reference in this set is
  closer than ``d``, times a correction factor (:attr:`NoveltyCalibration.pool_correction`,
  chosen on validation data because real never-seen symbols land closer than the pool predicts);
- how often a **known** symbol lands farther than ``d`` from its own reference: the share of
  same-character pairs (two drawers) of the validation alphabets farther apart than ``d``; for the
  Digits set, the share of validation digits (MNIST training digits never trained on) farther than
  ``d`` from the nearest reference of their own digit (:meth:`NoveltyCalibration.for_kind`), since
  an embedding trained on digits puts a digit much nearer its 50 references than one drawing of a
  character is to another.

A sketch at distance ``d`` from its nearest reference is a match when the first is at most the
second: the per-set equal-error point, so both mistakes stay as rare as the embedding allows for
this set, whatever its size. The same two numbers say how sure the verdict is. Why this rule and
what it scores: README, "Open-set matching"; calibrated by :mod:`siamese.measure.calibration`.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from siamese import paths
from siamese.distance import nearest_distances

POOL_FILE = paths.ASSETS_DIR / "novelty_pool.npz"
CARD_KEY = "open_set"


class Confidence(StrEnum):
    """How sure a verdict is, for words a student reads (see :func:`judge`): sure; probably; not
    sure (a match that may be new, or "looks new" for a sketch that may be known); or, for a match,
    not sure which symbol (another one is almost as close)."""
    SURE = "sure"
    LIKELY = "probably"
    UNSURE = "not sure"
    AMBIGUOUS = "not sure which"


@dataclass(frozen=True)
class NoveltyCalibration:
    """The calibrated parameters of the rule (the model card's ``open_set`` section).

    Attributes:
        same_quantiles: ``(q,) float`` distances of same-character pairs at the evenly spaced
            levels ``0, 1/(q-1), ..., 1`` (non-decreasing).
        pool_correction: factor applied to the pool's acceptance rate (>= 1 in practice).
        sure: an error estimate at most this makes the verdict "sure" (e.g. 0.01).
        likely: at most this, "probably" (e.g. 0.05); beyond it, "not sure".
        ambiguity: a match is "not sure" when the second-nearest symbol is within this factor
            of the nearest one's distance (e.g. 1.1).
        kind_quantiles: ``{set kind: (q,) float}`` known-distance quantiles that replace
            ``same_quantiles`` for sets of that kind (:class:`siamese.gallery.gallery.SetKind` values,
            e.g. "digits"); empty for an older card.
    """
    same_quantiles: np.ndarray
    pool_correction: float
    sure: float
    likely: float
    ambiguity: float
    kind_quantiles: dict = field(default_factory=dict)

    def for_kind(self, kind: str | None) -> NoveltyCalibration:
        """The calibration for a set of ``kind``: its own known-distance quantiles where the card
        has them, else this one."""
        if kind is None or kind not in self.kind_quantiles:
            return self
        return replace(self, same_quantiles=self.kind_quantiles[kind], kind_quantiles={})

    @classmethod
    def from_card(cls, card) -> NoveltyCalibration | None:
        """The calibration in a model card, or None when the card has none (a model trained in
        the app, an older card): matching then uses the card's single threshold."""
        section = card.get(CARD_KEY) if card else None
        if not section:
            return None
        kinds = {k: np.asarray(q, np.float64) for k, q in section.get("kind_quantiles", {}).items()}
        return cls(np.asarray(section["same_quantiles"], np.float64), float(section["pool_correction"]),
                   float(section["sure"]), float(section["likely"]), float(section["ambiguity"]), kinds)

    def known_rejection(self, d) -> np.ndarray:
        """Estimated share of known sketches farther than ``d`` from their own symbol's reference."""
        levels = np.linspace(0.0, 1.0, len(self.same_quantiles))
        return 1.0 - np.interp(d, self.same_quantiles, levels, left=0.0, right=1.0)

    def distance_rejecting(self, share) -> np.ndarray:
        """The distance beyond which that ``share`` of known sketches lie (inverse of
        :meth:`known_rejection`)."""
        levels = np.linspace(0.0, 1.0, len(self.same_quantiles))
        return np.interp(1.0 - np.clip(share, 0.0, 1.0), levels, self.same_quantiles)


@dataclass(frozen=True)
class SetNovelty:
    """The rule for one reference set.

    Attributes:
        pool_distances: ``(p,) float`` sorted distances from each pool image to its nearest
            reference in the set.
        threshold: the largest nearest distance still called a match (Euclidean).
        calibration: the model's :class:`NoveltyCalibration`.
    """
    pool_distances: np.ndarray
    threshold: float
    calibration: NoveltyCalibration

    def new_acceptance(self, d) -> np.ndarray:
        """Estimated share of never-seen sketches whose nearest reference is closer than ``d``
        (capped at 1)."""
        closer = np.searchsorted(self.pool_distances, d, side="left") / len(self.pool_distances)
        return np.minimum(1.0, self.calibration.pool_correction * closer)


def set_novelty(pool_embeddings: np.ndarray, references: np.ndarray, calibration: NoveltyCalibration,
                sq_norms: np.ndarray | None = None) -> SetNovelty:
    """Calibrate the rule for one reference set.

    Arguments:
        pool_embeddings: ``(p, d) float32`` the pool embedded by the set's model.
        references: ``(m, d) float32`` the set's embeddings (m >= 1); sq_norms: their squared
            norms, if known.

    Returns:
        :class:`SetNovelty`. Its threshold is exact: the match region ``{d : new_acceptance(d) <=
        known_rejection(d)}`` is an interval from 0 (one side rises with ``d``, the other falls),
        and its end is a pool distance or a point where the known-rejection curve meets one of
        the acceptance levels, so the largest matching candidate among those is the threshold.
    """
    pool = np.sort(nearest_distances(pool_embeddings, references, sq_norms).astype(np.float64))
    levels = np.minimum(1.0, calibration.pool_correction * np.arange(1, len(pool) + 1) / len(pool))
    candidates = np.concatenate([pool, calibration.distance_rejecting(levels)])
    novelty = SetNovelty(pool, 0.0, calibration)
    ok = novelty.new_acceptance(candidates) <= calibration.known_rejection(candidates)
    return SetNovelty(pool, float(candidates[ok].max()) if ok.any() else 0.0, calibration)


def judge(d1: float, d2: float | None, novelty: SetNovelty) -> tuple[bool, Confidence]:
    """Match or new, and how sure.

    Arguments:
        d1: distance to the nearest symbol; d2: to the second-nearest symbol (None if the set has
            one symbol).

    Returns:
        ``(match, confidence)``. For a match (``d1 <= novelty.threshold``) the estimated share of
        never-seen sketches landing this close decides: above ``likely`` UNSURE; else AMBIGUOUS
        when another symbol is within ``ambiguity`` times ``d1``; else SURE up to ``sure``, LIKELY
        beyond. For "looks new" the estimated share of known sketches landing this far decides the
        same way: SURE up to ``sure``, LIKELY up to ``likely``, UNSURE beyond.
    """
    cal = novelty.calibration

    def level(error):
        return Confidence.SURE if error <= cal.sure else Confidence.LIKELY if error <= cal.likely else Confidence.UNSURE
    if d1 > novelty.threshold:
        return False, level(cal.known_rejection(d1))
    confidence = level(novelty.new_acceptance(d1))
    if confidence != Confidence.UNSURE and d2 is not None and d2 < cal.ambiguity * d1:
        return True, Confidence.AMBIGUOUS
    return True, confidence


@functools.lru_cache(maxsize=1)
def pool_inputs() -> np.ndarray:
    """The pool's model inputs ``(p, 28, 28) float32`` in [0, 1] (stored 8-bit, ink = 1).

    Raises:
        OSError, KeyError: the shipped pool file is missing or damaged.
    """
    with np.load(POOL_FILE) as f:
        return f["inputs"].astype(np.float32) / 255.0


_pool_embeddings: dict = {}
_pool_lock = threading.Lock()


def pool_embeddings(matcher) -> np.ndarray:
    """The pool embedded by ``matcher`` (``(p, d) float32``), computed once per model."""
    with _pool_lock:
        if matcher.model_id not in _pool_embeddings:
            _pool_embeddings[matcher.model_id] = matcher.embed_inputs(pool_inputs())
        return _pool_embeddings[matcher.model_id]


def novelty_of(references, matcher, calibration: NoveltyCalibration) -> SetNovelty:
    """:func:`set_novelty` of a :class:`siamese.search.index.References`, computed once per object and
    kept on it (:meth:`~siamese.search.index.References.derived`): the index keeps one object per set
    revision (and owner), so a new revision is recalibrated and the old rule goes with its object.

    Arguments:
        calibration: the model's, for the set's kind (``calibration.for_kind(references.kind)``).
    """
    return references.derived(("novelty", matcher.model_id), lambda: set_novelty(
        pool_embeddings(matcher), references.embeddings, calibration, references.sq_norms))
