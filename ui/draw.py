"""Views of the Draw & match page: the guess after each stroke and the embedding map."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import streamlit as st

from siamese.gallery.gallery import Gallery
from siamese.search.index import ReferenceIndex
from ui.classroom import in_class
from ui.widgets import count, png_data_url

@dataclass(frozen=True)
class Guess:
    """The best match after a stroke: ``strokes`` on the canvas, the symbol as shown, its distance."""
    strokes: int
    label: str
    distance: float


def stroke_history(history: list[Guess], strokes: int, best: Guess | None) -> list[Guess]:
    """The guesses of the drawing now on the canvas, one per stroke count, after a canvas update.

    Arguments:
        history: the guesses so far, by increasing ``strokes``.
        strokes: strokes on the canvas now (0: cleared; one fewer after an undo).
        best: the best match now, or None (no verdict: nothing to match, or no references).

    Returns:
        the guesses for fewer strokes than now, then ``best`` (if any): an undo drops the last
        guess, a clear drops them all, and a rerun with the same strokes replaces the last one.
    """
    kept = [g for g in history if g.strokes < strokes]
    return kept + [best] if best is not None and strokes > 0 else kept


def remember_guess(key: str, scope, strokes: int, guess: Guess | None) -> list[Guess]:
    """:func:`stroke_history` kept in this session under ``key + "_history"``; another ``scope``
    (another reference set, or "only mine") starts a new history.

    Returns:
        the guesses of the drawing now on the canvas.
    """
    kept = st.session_state.get(f"{key}_history")
    history = stroke_history(kept[1] if kept and kept[0] == scope else [], strokes, guess)
    st.session_state[f"{key}_history"] = (scope, history)
    return history


def stroke_history_text(history: list[Guess], shown: int = 6) -> str:
    """``"After stroke 1: 7 at 3.10; stroke 2: 1 at 1.40"``: the last ``shown`` guesses ("" for none)."""
    parts = [f"stroke {g.strokes}: {g.label} at {g.distance:.2f}" for g in history[-shown:]]
    return ("After " + "; ".join(parts)) if parts else ""


MAP_HEIGHT = 360
"""The embedding map's height in pixels (it takes the page's width)."""


MAP_KEY = "embedding_map"
MAP_CSS = (f"<style>#vg-tooltip-element img {{ width: 84px; image-rendering: pixelated; }}"
           f".st-key-{MAP_KEY} {{ position: relative; }}"
           f".st-key-{MAP_KEY} > div:nth-child(2) {{ position: absolute; top: 0; left: 0; width: 100%;"
           f" pointer-events: none; }}</style>")
"""The map's tooltip shows a reference's 28x28 input three times enlarged, pixels kept sharp; the
map is two charts in the container with key :data:`MAP_KEY`, the sketch's (second) laid exactly over
the references' (first), letting the pointer through to the references' tooltips."""


@functools.lru_cache(maxsize=20_000)
def _tooltip_png(stored: bytes) -> str:
    """A stored model input (784 bytes, :func:`siamese.data.codec.input_to_bytes`) as a data URL of a
    4-grey PNG, about 250 bytes (a set's images travel with every stroke's map), dark ink on white.
    Cached by content: a new revision of a set encodes only its new examples."""
    from PIL import Image

    from siamese.data.codec import bytes_to_input

    grey = Image.fromarray(np.round(255 * (1 - bytes_to_input(stored))).astype(np.uint8)).quantize(4)
    return png_data_url(_png_bytes(grey))


def _png_bytes(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _set_map(refs, set_name: str, gallery: Gallery, labels_by_owner: bool):
    """The embedding map of one version of a set (:func:`siamese.search.embedding_map.fit_map`) with its
    chart data, computed once per :class:`siamese.search.index.References` object and kept on it
    (:meth:`~siamese.search.index.References.derived`); the index keeps one per (set id, revision,
    model id, owner): every session and rerun draws the same points, no rerun converts them again,
    and asking costs no database query. An old revision's map goes with its references.

    Returns:
        ``(EmbeddingMap, {example id: row}, datasets, spec)``: ``datasets`` maps "refs" (one row
        per reference: x, y, symbol, image, its 28x28 input as a data URL) and "labels" (one row
        per symbol, at its reference nearest the symbol's centre on the map) to Arrow IPC bytes, as
        ``st.vega_lite_chart`` sends them; ``spec`` is :func:`embedding_map_spec`'s pair.
    """
    return refs.derived(("map", labels_by_owner), lambda: _make_set_map(refs, set_name, gallery, labels_by_owner))


def _make_set_map(refs, set_name: str, gallery: Gallery, labels_by_owner: bool):
    import pandas as pd
    from streamlit import dataframe_util

    from siamese.search.embedding_map import fit_map

    emap = fit_map(refs.embeddings)
    inputs = {e.id: e.model_input for e in gallery.examples(set_name)}
    from siamese.gallery.names import symbol_label as label

    names = [label(str(n), str(o), labels_by_owner) for n, o in zip(refs.symbols, refs.owner_names)]
    rows = pd.DataFrame({"x": emap.points[:, 0], "y": emap.points[:, 1], "symbol": names,
                         "image": [_tooltip_png(inputs[i]) if i in inputs else ""
                                   for i in refs.example_ids.tolist()]})
    centre = rows.groupby("symbol", sort=False)[["x", "y"]].transform("mean")
    off = (rows["x"] - centre["x"]) ** 2 + (rows["y"] - centre["y"]) ** 2
    labels = rows.loc[off.groupby(rows["symbol"], sort=False).idxmin(), ["x", "y", "symbol"]]
    datasets = {name: dataframe_util.convert_anything_to_arrow_bytes(df) for name, df in
                (("refs", rows), ("labels", labels.reset_index(drop=True)))}
    spec = embedding_map_spec(emap.points, len(set(refs.symbol_ids.tolist())))
    return emap, {int(i): r for r, i in enumerate(refs.example_ids.tolist())}, datasets, spec


MAP_PAD = 0.15
"""Room around the references on the map, as a share of their extent on each axis: a sketch
beyond it is drawn on the map's edge."""


def embedding_map_spec(points: np.ndarray, symbols: int) -> tuple[dict, dict]:
    """The Draw page's map as two Vega-Lite specs of the same size and axes, drawn one over the
    other: the set's, over the datasets "refs" and "labels" (of :func:`_set_map`): references as
    points coloured by symbol, each symbol labelled once, hovering a point shows its image; and the
    sketch's, over "sketch" and "links" (of :func:`_sketch_rows`): the sketch as a black diamond
    with dashed rules to the references the match list shows, on a transparent background.

    Two charts, so that a stroke changes only the small one. Streamlit sends an element of 10 kB or
    more that the browser already holds as a reference to it (its message cache,
    ``global.minCachedMessageSize``): the set's chart (the Digits set's 500 references, each with a
    4-grey PNG for the tooltip: 160 kB) then costs a stroke about 0.1 kB instead of travelling
    again (``benchmarks/stroke_bytes.py``). Both specs depend on the set only: the browser updates
    the sketch's chart's data in place instead of building it anew (Streamlit re-embeds a Vega chart
    whose spec changed; with the sketch in the spec, 20 students' browsers on 2 cores took 0.4 s
    more per stroke, ``benchmarks/latency.py``). Every mark is clipped to the plot area, so both
    charts' plot areas are the same rectangle whatever lies near the edges. Written as dicts, not
    with Altair: building and validating an Altair chart of 1,000 points took 30-50 ms of every
    rerun.

    Arguments:
        points: ``(n, 2)`` the references' map points: the axes span them, plus :data:`MAP_PAD`.
        symbols: how many symbols the set holds (beyond 20, points are paler).

    Returns:
        ``(the set's spec, the sketch's spec)``, :data:`MAP_HEIGHT` pixels high, as wide as their
        container.
    """
    low, high = map_domain(points)

    def axis(i, field):
        return {"field": field, "type": "quantitative", "title": None,
                "scale": {"domain": [float(low[i]), float(high[i])], "nice": False, "zero": False},
                "axis": {"labels": False, "ticks": False, "grid": False, "domain": False}}
    xy = {"x": axis(0, "x"), "y": axis(1, "y")}
    frame = {"height": MAP_HEIGHT, "width": "container",
             "autosize": {"type": "fit-x", "contains": "padding"}}
    refs = {**frame, "layer": [
        {"data": {"name": "refs"}, "mark": {"type": "circle", "size": 36, "opacity": 0.45 if symbols > 20 else 0.7,
                                            "clip": True},
         "encoding": {**xy, "color": {"field": "symbol", "type": "nominal", "legend": None,
                                      "scale": {"scheme": "category20"}},
                      "tooltip": [{"field": "symbol", "type": "nominal"}, {"field": "image", "type": "nominal"}]}},
        {"data": {"name": "labels"}, "mark": {"type": "text", "fontSize": 12, "fontWeight": "bold", "dy": -9,
                                              "limit": 90, "clip": True},
         "encoding": {**xy, "text": {"field": "symbol", "type": "nominal"}}},
    ]}
    sketch = {**frame, "background": "transparent", "config": {"view": {"stroke": None}}, "layer": [
        {"data": {"name": "links"}, "mark": {"type": "rule", "color": "#000000", "strokeDash": [4, 3], "opacity": 0.6,
                                             "clip": True},
         "encoding": {**xy, "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
        {"data": {"name": "sketch"}, "mark": {"type": "point", "shape": "diamond", "size": 260, "filled": True,
                                              "color": "#000000", "stroke": "#ffffff", "strokeWidth": 1.5,
                                              "clip": True},
         "encoding": xy},
        {"data": {"name": "sketch"}, "mark": {"type": "text", "align": "left", "dx": 10, "dy": 12, "fontSize": 12,
                                              "fontWeight": "bold", "clip": True},
         "encoding": {**xy, "text": {"field": "what", "type": "nominal"}}},
    ]}
    return refs, sketch


def map_domain(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(low (2,), high (2,))``: the map's axes, the references' extent plus :data:`MAP_PAD`."""
    low, high = (points.min(axis=0), points.max(axis=0)) if len(points) else (np.zeros(2), np.zeros(2))
    pad = MAP_PAD * np.maximum(high - low, 1e-3)
    return low - pad, high + pad


def _sketch_rows(sketch, nearest, domain):
    """The "sketch" and "links" datasets of :func:`embedding_map_spec`: ``sketch`` (``(2,)`` map
    point or None) kept within ``domain`` (:func:`map_domain`), and a rule from it to each of the
    ``nearest`` ``(k, 2)`` points."""
    import pandas as pd

    if sketch is None:
        return (pd.DataFrame({"x": [], "y": [], "what": []}),
                pd.DataFrame({"x": [], "y": [], "x2": [], "y2": []}))
    x, y = np.clip(np.asarray(sketch, np.float64), *domain)
    return (pd.DataFrame({"x": [x], "y": [y], "what": ["your sketch"]}),
            pd.DataFrame({"x": x, "y": y, "x2": nearest[:, 0].astype(np.float64),
                          "y2": nearest[:, 1].astype(np.float64)}))


def embedding_map_ui(set_name: str, gallery: Gallery, index: ReferenceIndex, matcher, owner: int | None,
                     result) -> None:
    """The embedding map of the chosen set, with the sketch where it lands (:mod:`siamese.search.embedding_map`).

    Arguments:
        set_name, owner: the set matched against, and its "only mine" owner (None: all of it);
        gallery, index, matcher: its database, search index and the model.
        result: the sketch's :class:`siamese.matching.MatchResult`.
    """
    import copy

    from siamese.gallery.schema import CLASS_SYMBOLS

    refs = result.references if result.references is not None else index.references(set_name, matcher, owner)
    if len(refs.example_ids) == 0:
        return
    by_owner = in_class() and set_name == CLASS_SYMBOLS  # as symbol_label shows them
    emap, row_of, datasets, spec = _set_map(refs, set_name, gallery, by_owner)
    sketch = nearest = None
    if result.embedding is not None:
        sketch = emap.project(result.embedding)
        nearest = emap.points[[row_of[m.example_id] for m in result.matches if m.example_id in row_of]]
    here, links = _sketch_rows(sketch, nearest, map_domain(emap.points))
    set_spec, sketch_spec = spec
    st.html(MAP_CSS)
    with st.container(key=MAP_KEY):  # Streamlit takes the datasets out of the spec it is given: copies
        st.vega_lite_chart(spec={**copy.deepcopy(set_spec), "datasets": datasets}, width="stretch")
        st.vega_lite_chart(spec={**copy.deepcopy(sketch_spec), "datasets": {"sketch": here, "links": links}},
                           width="stretch")
    shown = 100 * float(emap.explained.sum())
    st.caption(f"Embedding map of {count(len(row_of), 'reference')}: the set's first two principal components, "
               f"{shown:.0f}% of its variance (hover a point to see it). Close on the map is not always close in "
               "the full embedding: the match list's distances are the answer.")
