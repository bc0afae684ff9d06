"""The app's two use cases, without Streamlit: match a sketch against a reference set, and
register a sketch as a new symbol (or another example of one). Pages, benchmarks and tests call
these instead of assembling preprocessing, embedding, storage and search themselves."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from siamese.classroom import Actor
from siamese.gallery.gallery import Gallery
from siamese.gallery.errors import GalleryError
from siamese.data.codec import stored_input, thumbnail_png
from siamese.search.index import ReferenceIndex, References, embed_for_storage, top_symbols
from siamese.embedding.matcher import Matcher
from siamese.search.openset import Confidence, NoveltyCalibration, judge, novelty_of
from siamese.data.preprocess import prepare, to_dark_on_light


class Verdict(StrEnum):
    """What a match says: no ink (nothing computed), an empty reference set, a match (nearest
    distance at most the set's threshold) or "looks new" (beyond it: register it?)."""
    EMPTY = "empty"
    NO_REFERENCES = "no references"
    MATCH = "match"
    NEW = "new"


@dataclass
class Match:
    """One candidate symbol: its name, the Euclidean distance from the sketch's embedding to its
    nearest example, that example's id (for the thumbnail) and the symbol's owner's display name
    (two owners' symbols may share a name)."""
    symbol: str
    distance: float
    example_id: int
    owner_name: str = ""


@dataclass
class MatchResult:
    """Outcome of :func:`match_sketch`.

    Attributes:
        verdict: see :class:`Verdict`.
        model_input: ``(28, 28) float32`` the model saw, or None when empty.
        matches: up to k :class:`Match`, nearest first, one per symbol.
        threshold: the "looks new" distance: this set's (:mod:`siamese.search.openset`) when the model
            card is calibrated for open sets, else the card's single threshold.
        reason: for an empty sketch, why, in a sentence for the user; else "".
        confidence: how sure a match or "looks new" is (:func:`siamese.search.openset.judge`); None when
            there is no verdict or the model has no open-set calibration.
        new_acceptance, known_rejection: with a confidence, the estimated share of never-seen
            sketches that land as close as this one, and of known sketches that land as far.
        embedding: the sketch's ``(d,) float32`` embedding when the model was called, else None
            (for :mod:`siamese.search.embedding_map`, without embedding the sketch twice).
        references: the :class:`siamese.search.index.References` it was matched against, when they
            were read (for the map, without asking the database for the set's revision again).
    """
    verdict: Verdict
    model_input: np.ndarray | None = None
    matches: list = field(default_factory=list)
    threshold: float = 0.0
    reason: str = ""
    confidence: Confidence | None = None
    new_acceptance: float | None = None
    known_rejection: float | None = None
    embedding: np.ndarray | None = None
    references: References | None = None

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


def match_sketch(image, index: ReferenceIndex, set_name: str, matcher: Matcher, k: int = 5,
                 background: float | None = None, owner: int | None = None) -> MatchResult:
    """Preprocess a sketch, embed it and rank a reference set's symbols by distance.

    Arguments:
        image: canvas RGBA ``(H, W, 4) uint8``, any accepted image, or None (canvas not ready).
            Canvas rules apply (a click or stray specks are not a symbol; see
            :func:`siamese.data.preprocess.prepare`).
        background: the canvas's grey level in [0, 255] when the page knows it (see
            :func:`siamese.data.preprocess.ink_map`).
        owner: match only against this owner's symbols ("only mine"); None: the whole set.

    Returns:
        :class:`MatchResult`; an empty sketch never reaches the model.

    Raises:
        GalleryError: unknown set.
    """
    prepared = prepare(image, background=background)
    x = prepared.input
    if x is None:
        return MatchResult(Verdict.EMPTY, threshold=matcher.threshold, reason=prepared.reason)
    refs = index.references(set_name, matcher, owner)
    if len(refs.embeddings) == 0:
        return MatchResult(Verdict.NO_REFERENCES, x, threshold=matcher.threshold, references=refs)
    query = matcher.embed_inputs(x[None])[0]
    ranked = top_symbols(query, refs.embeddings, refs.symbol_ids, k, refs.sq_norms)
    matches = [Match(str(refs.symbols[i]), d, int(refs.example_ids[i]), str(refs.owner_names[i])) for i, d in ranked]
    calibration = NoveltyCalibration.from_card(getattr(matcher, "card", None))
    if calibration is None:  # a model without open-set calibration: its single threshold
        verdict = Verdict.MATCH if matches[0].distance <= matcher.threshold else Verdict.NEW
        return MatchResult(verdict, x, matches, matcher.threshold, embedding=query, references=refs)
    calibration = calibration.for_kind(refs.kind)
    novelty = novelty_of(refs, matcher, calibration)
    d1 = matches[0].distance
    match, confidence = judge(d1, matches[1].distance if len(matches) > 1 else None, novelty)
    return MatchResult(Verdict.MATCH if match else Verdict.NEW, x, matches, novelty.threshold, confidence=confidence,
                       new_acceptance=float(novelty.new_acceptance(d1)),
                       known_rejection=float(calibration.known_rejection(d1)), embedding=query,
                       references=refs)



def verdict_sentence(result: MatchResult, label=None) -> str:
    """The verdict in words a student understands, with how sure it is.

    Arguments:
        result: a MATCH or NEW :class:`MatchResult`.
        label: how to show a symbol, given a :class:`Match` (default its name; the page adds owners
            and keeps names literal).

    Returns:
        One sentence, e.g. "Close to 7, but not sure: it may be new.", in words, its numbers in
        :func:`verdict_details`. A model without open-set calibration (``confidence`` None, a
        Siamese tower trained in the app) has one threshold and no measure of how sure: its
        sentence reads as a LIKELY one does ("Probably 7: ...", "Looks new: ...").
    """
    label = label or (lambda m: m.symbol)
    best = result.best
    name = label(best)
    if result.confidence is None:  # one threshold and nothing that says how sure: the same words, no more
        if result.verdict == Verdict.MATCH:
            return f"Probably {name}: it is closer than the distance at which this model calls a sketch new."
        return f"Looks new: nothing in this set is close enough for this model (the nearest is {name}). Register it?"
    if result.verdict == Verdict.MATCH:
        runner = label(result.matches[1]) if len(result.matches) > 1 else ""  # AMBIGUOUS always has one
        return {Confidence.SURE: f"It is {name}: a symbol this set does not hold would rarely come this close.",
                Confidence.LIKELY: f"Probably {name}: few symbols this set does not hold come this close.",
                Confidence.AMBIGUOUS: f"Probably {name}, but not sure: {runner} is almost as close.",
                Confidence.UNSURE: f"Close to {name}, but not sure: it may be new."}[result.confidence]
    return {Confidence.SURE: f"Looks new: nothing in this set is close (the nearest is {name}). Register it?",
            Confidence.LIKELY: f"Looks new: probably not a symbol of this set (the nearest is {name}). Register it?",
            Confidence.UNSURE: f"Looks new, but not sure: it is fairly close to {name}. If you meant {name}, draw it "
                               "again; if not, register it."}[result.confidence]


def verdict_details(result: MatchResult) -> str:
    """The numbers behind a verdict, in one plain sentence (no symbol names): the distance and
    the threshold, and for a calibrated model how many unknown and known sketches land so."""
    if result.confidence is None:
        return (f"Distance to the nearest symbol {result.best.distance:.2f}; this model calls a sketch new beyond "
                f"{result.threshold:.2f} (its own decision boundary; it has no calibration that says how sure).")

    def share(p):
        return "fewer than 1" if p < 0.01 else f"about {round(100 * p)}"
    return (f"Distance to the nearest symbol {result.best.distance:.2f}; this set calls a sketch new beyond "
            f"{result.threshold:.2f}. Of 100 symbols this set does not hold, {share(result.new_acceptance)} would "
            f"come this close; of 100 drawings of a symbol it holds, {share(result.known_rejection)} would land "
            f"this far.")

class EmptySketchError(GalleryError):
    """A sketch with nothing to register; the message says why (for the user)."""


@dataclass(frozen=True)
class Registered:
    """Outcome of :func:`register_sketch`: the stored (cleaned) name and the model input stored
    (``(28, 28) float32``, 8-bit as stored)."""
    name: str
    model_input: np.ndarray


def register_sketch(image, gallery: Gallery, set_name: str, name: str, matcher: Matcher, new_symbol: bool = True,
                    background: float | None = None, *, actor: Actor, owner: int | None = None,
                    symbol_id: int | None = None) -> Registered:
    """Store a sketch as a new symbol (``new_symbol``) or as another example of an existing one,
    with its thumbnail and its embedding, in one transaction.

    Arguments:
        image: as for :func:`match_sketch` (canvas rules apply).
        name: the symbol's name (see :func:`siamese.gallery.names.clean_name`).
        actor, owner: who registers, and whose existing symbol gets another example (see
            :meth:`siamese.gallery.gallery.Gallery.add_example`).
        symbol_id: with ``new_symbol=False``, the symbol the page showed as ``name``: the example
            goes to it, or nowhere (StaleChoice) if it was renamed or deleted since.

    Returns:
        :class:`Registered`.

    Raises:
        EmptySketchError: nothing to register (no ink, a dot, a canvas inked all over).
        PermissionDenied: the actor may not (see :mod:`siamese.classroom`).
        GalleryError: bad or duplicate name, unknown symbol or set; StaleChoice (a GalleryError):
            the chosen symbol changed since the page showed it.
    """
    prepared = prepare(image, background=background)
    if prepared.input is None:
        raise EmptySketchError(prepared.reason)
    model_id, vectors = embed_for_storage(matcher, prepared.input[None])
    stored = gallery.add_example(set_name, name, prepared.input, thumbnail_png(to_dark_on_light(image, background)),
                                 (model_id, vectors[0]), new_symbol=new_symbol, actor=actor, owner=owner,
                                 symbol_id=symbol_id)
    return Registered(stored, stored_input(prepared.input))
