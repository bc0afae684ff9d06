"""The app's two use cases, without Streamlit: match a sketch against a reference set, and
register a sketch as a new symbol (or another example of one). Pages, benchmarks and tests call
these instead of assembling preprocessing, embedding, storage and search themselves."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from .gallery import Gallery, GalleryError, stored_input, thumbnail_png
from .index import ReferenceIndex, embed_for_storage, top_symbols
from .matcher import Matcher
from .preprocess import prepare, to_dark_on_light


class Verdict(StrEnum):
    """What a match says: no ink (nothing computed), an empty reference set, a match (nearest
    distance at most the threshold) or "looks new" (beyond it: register it?)."""
    EMPTY = "empty"
    NO_REFERENCES = "no references"
    MATCH = "match"
    NEW = "new"


@dataclass
class Match:
    """One candidate symbol: its name, the Euclidean distance from the sketch's embedding to its
    nearest example, and that example's id (for the thumbnail)."""
    symbol: str
    distance: float
    example_id: int


@dataclass
class MatchResult:
    """Outcome of :func:`match_sketch`.

    Attributes:
        verdict: see :class:`Verdict`.
        model_input: ``(28, 28) float32`` the model saw, or None when empty.
        matches: up to k :class:`Match`, nearest first, one per symbol.
        threshold: the model's "looks new" distance.
        reason: for an empty sketch, why, in a sentence for the user; else "".
    """
    verdict: Verdict
    model_input: np.ndarray | None = None
    matches: list = field(default_factory=list)
    threshold: float = 0.0
    reason: str = ""

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


def match_sketch(image, index: ReferenceIndex, set_name: str, matcher: Matcher, k: int = 5,
                 background: float | None = None) -> MatchResult:
    """Preprocess a sketch, embed it and rank a reference set's symbols by distance.

    Arguments:
        image: canvas RGBA ``(H, W, 4) uint8``, any accepted image, or None (canvas not ready).
            Canvas rules apply (a click or stray specks are not a symbol; see
            :func:`siamese.preprocess.prepare`).
        background: the canvas's grey level in [0, 255] when the page knows it (see
            :func:`siamese.preprocess.ink_map`).

    Returns:
        :class:`MatchResult`; an empty sketch never reaches the model.

    Raises:
        GalleryError: unknown set.
    """
    prepared = prepare(image, background=background)
    x = prepared.input
    if x is None:
        return MatchResult(Verdict.EMPTY, threshold=matcher.threshold, reason=prepared.reason)
    refs = index.references(set_name, matcher)
    if len(refs.embeddings) == 0:
        return MatchResult(Verdict.NO_REFERENCES, x, threshold=matcher.threshold)
    query = matcher.embed_inputs(x[None])[0]
    ranked = top_symbols(query, refs.embeddings, refs.symbols, k, refs.sq_norms)
    matches = [Match(str(refs.symbols[i]), d, int(refs.example_ids[i])) for i, d in ranked]
    verdict = Verdict.MATCH if matches[0].distance <= matcher.threshold else Verdict.NEW
    return MatchResult(verdict, x, matches, matcher.threshold)


class EmptySketchError(GalleryError):
    """A sketch with nothing to register; the message says why (for the user)."""


@dataclass(frozen=True)
class Registered:
    """Outcome of :func:`register_sketch`: the stored (cleaned) name and the model input stored
    (``(28, 28) float32``, 8-bit as stored)."""
    name: str
    model_input: np.ndarray


def register_sketch(image, gallery: Gallery, set_name: str, name: str, matcher: Matcher, new_symbol: bool = True,
                    background: float | None = None) -> Registered:
    """Store a sketch as a new symbol (``new_symbol``) or as another example of an existing one,
    with its thumbnail and its embedding, in one transaction.

    Arguments:
        image: as for :func:`match_sketch` (canvas rules apply).
        name: the symbol's name (see :func:`siamese.gallery.clean_name`).

    Returns:
        :class:`Registered`.

    Raises:
        EmptySketchError: nothing to register (no ink, a dot, a canvas inked all over).
        GalleryError: bad or duplicate name, unknown symbol or set.
    """
    prepared = prepare(image, background=background)
    if prepared.input is None:
        raise EmptySketchError(prepared.reason)
    model_id, vectors = embed_for_storage(matcher, prepared.input[None])
    stored = gallery.add_example(set_name, name, prepared.input, thumbnail_png(to_dark_on_light(image, background)),
                                 (model_id, vectors[0]), new_symbol=new_symbol)
    return Registered(stored, stored_input(prepared.input))
