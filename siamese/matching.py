"""Match one sketch against a reference set: the Draw page's whole job, without Streamlit."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .gallery import Gallery
from .matcher import Matcher
from .preprocess import to_model_input


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
        verdict: "empty" (no ink: nothing was computed), "no references" (the set is empty),
            "match" (nearest distance <= threshold) or "new" (nearest is beyond it: register it?).
        model_input: ``(28, 28) float32`` the model saw, or None when empty.
        matches: up to k :class:`Match`, nearest first, one per symbol.
        threshold: the model's "looks new" distance.
    """
    verdict: str
    model_input: np.ndarray | None = None
    matches: list = field(default_factory=list)
    threshold: float = 0.0

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


def top_symbols(query: np.ndarray, embeddings: np.ndarray, symbols: np.ndarray, k: int = 5,
                sq_norms: np.ndarray | None = None):
    """Indices of the nearest example of each of the ``k`` nearest symbols, with distances.

    Arguments:
        query: ``(d,) float32``; embeddings: ``(m, d) float32``; symbols: ``(m,)`` names;
        sq_norms: optional ``(m,) float32`` squared norms of ``embeddings`` (see
            :class:`siamese.gallery.References`).

    Returns:
        ``[(index, distance)]`` nearest first, one per distinct symbol, at most ``k``.
    """
    fetch = min(len(embeddings), 8 * k)
    while True:
        idx, dist = Matcher.rank(query, embeddings, fetch, sq_norms)
        seen, out = set(), []
        for i, d in zip(idx, dist):
            if symbols[i] not in seen:
                seen.add(symbols[i])
                out.append((int(i), float(d)))
        if len(out) >= k or fetch >= len(embeddings):
            return out[:k]
        fetch = min(len(embeddings), fetch * 4)


def match_sketch(image, gallery: Gallery, set_name: str, matcher: Matcher, k: int = 5,
                 background: float | None = None) -> MatchResult:
    """Preprocess a sketch, embed it and rank a reference set's symbols by distance.

    Arguments:
        image: canvas RGBA ``(H, W, 4) uint8``, any accepted image, or None (canvas not ready).
            Canvas rules apply (a click or stray specks are not a symbol; see
            :func:`siamese.preprocess.to_model_input`).
        background: the canvas's grey level in [0, 255] when the page knows it (see
            :func:`siamese.preprocess.ink_map`).

    Returns:
        :class:`MatchResult`; an empty sketch never reaches the model.

    Raises:
        GalleryError: unknown set.
    """
    x = to_model_input(image, background=background)
    if x is None:
        return MatchResult("empty", threshold=matcher.threshold)
    refs = gallery.references(set_name, matcher)
    if len(refs.embeddings) == 0:
        return MatchResult("no references", x, threshold=matcher.threshold)
    query = matcher.embed_inputs(x[None])[0]
    ranked = top_symbols(query, refs.embeddings, refs.symbols, k, refs.sq_norms)
    matches = [Match(str(refs.symbols[i]), d, int(refs.example_ids[i])) for i, d in ranked]
    verdict = "match" if matches[0].distance <= matcher.threshold else "new"
    return MatchResult(verdict, x, matches, matcher.threshold)
