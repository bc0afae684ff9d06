"""Views of the Compare two sketches page (pages/5_Compare_two_sketches.py): verdict, distance chart, the
three pair models on the same two sketches."""
from __future__ import annotations

import threading

import streamlit as st

from ui import nav
from ui.canvas import canvas_toolbar_above, canvas_controls_ui
from ui.train import training_job
from ui.widgets import model_input_ui

SAME_COLOUR, DIFFERENT_COLOUR = "#1f77b4", "#ff7f0e"
"""Blue for "same", orange for "different" in the Compare page's charts (told apart with colour
blindness too)."""


COMPARE_CANVAS_PX = 240
"""Side of each of the Compare page's two canvases, pixels: both canvases and the verdict fit side by
side beside the sidebar at 1280 px (narrower, the row wraps; the preprocessing does not depend on
the canvas's size)."""


def compare_pen_ui(keys: tuple[str, ...]) -> int:
    """One pen-width slider for the Compare page's canvases (not one per canvas), and each canvas's
    toolbar script (:func:`canvas_toolbar_above`).

    Returns:
        the pen width in canvas pixels, for :func:`canvas_ui` of each key.
    """
    width = canvas_controls_ui(keys[0])
    for key in keys[1:]:
        canvas_toolbar_above(key)
    return width


def distance_chart(histogram, distance: float | None, threshold: float):
    """Where one pair's distance falls among same-symbol and different-symbol pairs.

    Arguments:
        histogram: a :class:`siamese.measure.histograms.PairHistogram`.
        distance: the pair's Euclidean distance (a solid black rule), or None (no rule).
        threshold: the model's pair threshold (a dashed grey rule).

    Returns:
        an Altair layer chart: each kind's share of pairs per distance bin (each kind sums to 1),
        overlapping bars in :data:`SAME_COLOUR` and :data:`DIFFERENT_COLOUR`, and the rules,
        labelled with their distances.
    """
    import altair as alt
    import pandas as pd

    from siamese.measure.histograms import DIFFERENT, SAME

    top = max(float(histogram.edges[-1]), threshold, distance or 0.0) * 1.02
    x_scale = alt.Scale(domain=[0, top], nice=False)
    bars = alt.Chart(pd.DataFrame(histogram.rows())).mark_bar(opacity=0.6, binSpacing=0).encode(
        x=alt.X("start:Q", bin="binned", scale=x_scale, title="Euclidean distance between the two embeddings"),
        x2="end:Q",
        y=alt.Y("share:Q", stack=None, title="share of pairs", axis=alt.Axis(format="%")),
        color=alt.Color("pairs:N", title=None, scale=alt.Scale(domain=[SAME, DIFFERENT],
                        range=[SAME_COLOUR, DIFFERENT_COLOUR]), legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("pairs:N"), alt.Tooltip("start:Q", format=".2f", title="from"),
                 alt.Tooltip("end:Q", format=".2f", title="to"), alt.Tooltip("share:Q", format=".1%")])
    marks = [(threshold, f"threshold {threshold:.2f}", "#666666", [6, 4], 14)]
    if distance is not None:
        marks.append((distance, f"your sketches {distance:.2f}", "#000000", [], 32))
    layers = [bars]
    for at, label, colour, dash, y in marks:
        rule = pd.DataFrame({"at": [at], "label": [label]})
        layers.append(alt.Chart(rule).mark_rule(color=colour, strokeDash=dash, size=3).encode(x="at:Q"))
        right = at > 0.7 * top  # a label near the right edge goes to the rule's left
        layers.append(alt.Chart(rule).mark_text(align="right" if right else "left", dx=-5 if right else 5,
                                                fontSize=14, fontWeight="bold", color=colour)
                      .encode(x="at:Q", y=alt.value(y), text="label:N"))
    return alt.layer(*layers).properties(height=220)


def pair_verdict_ui(pair) -> None:
    """The distance between the two sketches, the verdict, and the two model inputs (or which
    sketch is missing, and why).

    Arguments:
        pair: a :class:`siamese.compare.SketchPair`.
    """
    from siamese.compare import NAMES, PairVerdict

    if pair.verdict is PairVerdict.INCOMPLETE:
        st.info(pair.missing())
    else:
        d, t = pair.distance, pair.threshold
        st.metric("Distance between A and B", f"{d:.2f}",
                  help="Euclidean distance between the two embeddings: the Siamese distance. The same number "
                       "Draw & match shows if you register sketch B and draw sketch A.")
        if pair.verdict is PairVerdict.SAME:
            st.success(f"**Same symbol**: the distance {d:.2f} is within the threshold {t:.2f}.")
        else:
            st.warning(f"**Different symbols**: the distance {d:.2f} is beyond the threshold {t:.2f}.")
    shown = [(x, name.split(" (")[0]) for x, name in zip(pair.inputs, NAMES) if x is not None]
    if shown:
        with st.container(horizontal=True, gap="medium"):  # side by side, at their size, on a phone too
            for x, name in shown:
                model_input_ui(x, caption=name)
        st.caption("What the model sees: each sketch cropped, centred and shrunk to 28×28 pixels.")


def distance_chart_ui(pair, matcher) -> None:
    """The chart that places the pair's distance among the model card's same- and
    different-symbol pairs, with a data-set choice and the chart in one sentence; for a model
    whose card has no histograms, how to add them.

    Arguments:
        pair: a :class:`siamese.compare.SketchPair`; matcher: the model that measured it.
    """
    from siamese.measure.histograms import COMMAND, DistanceHistograms

    try:
        histograms = DistanceHistograms.from_card(matcher.card, matcher.model_id)
    except ValueError as exc:
        histograms, problem = None, str(exc)
    else:
        problem = ""
    if histograms is None:
        st.info("This model's card has no distance histograms, so the chart of same- and different-symbol "
                f"distances is not shown. `{COMMAND}` adds them (for another model: `--model PATH`)."
                + (f" ({problem})" if problem else ""))
        return
    sets = histograms.sets
    key = next(iter(sets))
    if len(sets) > 1:
        key = st.radio("Compare with pairs of", list(sets), format_func=lambda k: f"pairs of {sets[k].title}",
                       horizontal=True, key="compare_pairs_of", label_visibility="collapsed")
    histogram = sets[key]
    st.altair_chart(distance_chart(histogram, pair.distance, pair.threshold), width="stretch")
    if pair.distance is not None:
        def per_100(p):
            return "fewer than 1" if p < 0.005 else f"about {round(100 * p)}"
        st.markdown(f"Of 100 pairs of **one** symbol drawn twice, {per_100(histogram.same_farther(pair.distance))} "
                    f"land farther apart than your two sketches; of 100 pairs of **two different** symbols, "
                    f"{per_100(histogram.different_closer(pair.distance))} land this close or closer.")
    st.caption(f"{histogram.source}. The threshold comes from the model card"
               + (f": {method}." if (method := matcher.card.get('threshold_calibration', {}).get('method')) else ".")
               + f" The pairs' distances were measured once by `{COMMAND}`.")


@st.cache_resource(max_entries=1, show_spinner="Loading the three trained models…")
def _pair_run_resource(path: str, mtime_ns: int, size: int):
    """The saved run and its Keras models, once per file version (shared by all sessions), with a
    lock that serialises calls of the models."""
    from siamese.lecture.saved_run import load_run

    run = load_run(path)
    return run, run.models(), threading.Lock()


def last_pair_run():
    """The last pair-training run kept on this server (:func:`siamese.lecture.saved_run.save_run`).

    Returns:
        ``(run, models, lock, None)``, ``(None, None, None, None)`` when there is no run yet, or
        ``(None, None, None, message)`` when the file cannot be read.
    """
    from siamese.lecture.saved_run import last_run_path

    path = last_run_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None, None, None, None
    try:
        run, models, lock = _pair_run_resource(str(path), stat.st_mtime_ns, stat.st_size)
    except ValueError as exc:
        return None, None, None, str(exc)
    return run, models, lock, None


def same_probability_chart(probabilities: dict):
    """Each variant's probability of "same" for the two sketches, as horizontal bars.

    Arguments:
        probabilities: ``{variant key: (p(a, b), p(b, a))}`` (:func:`siamese.lecture.saved_run.same_probabilities`).

    Returns:
        an Altair layer chart: one bar per variant in [0, 1], coloured by what it says at 0.5
        ("same" at or above, as the pair accuracy counts it), labelled, and a dashed rule at 0.5.
    """
    import altair as alt
    import pandas as pd

    from siamese.lecture.models import VARIANTS

    rows = pd.DataFrame([{"variant": VARIANTS[k][0], "p": p, "says": "same" if p >= 0.5 else "different",
                          "label": f"{100 * p:.0f}%"} for k, (p, _) in probabilities.items()])
    y = alt.Y("variant:N", sort=None, title=None, axis=alt.Axis(labelLimit=260, labelFontSize=13))
    x = alt.X("p:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title='probability of "same"')
    bars = alt.Chart(rows).mark_bar().encode(
        x=x, y=y, color=alt.Color("says:N", title="the model says", scale=alt.Scale(domain=["same", "different"],
                                  range=[SAME_COLOUR, DIFFERENT_COLOUR]), legend=alt.Legend(orient="top")))
    text = alt.Chart(rows).mark_text(align="left", dx=4, fontSize=13, fontWeight="bold").encode(
        x=x, y=y, text="label:N")
    half = alt.Chart(pd.DataFrame({"p": [0.5]})).mark_rule(strokeDash=[6, 4], color="#666666", size=2).encode(x="p:Q")
    return alt.layer(bars, half, text).properties(height=alt.Step(44))


def pair_models_ui(pair, train_page: str) -> None:
    """What the lecture's three pair models of the last run say about the two sketches, or how to
    get such a run.

    Arguments:
        pair: a :class:`siamese.compare.SketchPair`; its model inputs go to the pair models.
        train_page: the Train page's script path, for the link.
    """
    from siamese.lecture.saved_run import same_probabilities
    from siamese.lecture.models import VARIANTS
    from siamese.compare import PairVerdict

    running = training_job().snapshot().running
    run, models, lock, problem = last_pair_run()
    if problem:
        st.error("The last training run could not be read.")
        st.text(problem)
    if run is None:
        st.info("No run of the three variants yet. " + ("A training is running on the Train page: come back when "
                "it ends." if running else "Train them on the Train page (the Classroom preset takes about a "
                "minute), then come back: the same two sketches go to each model."))
        st.page_link(train_page, label="Train the three variants", icon=nav.icon(nav.TRAIN))
        return
    if pair.verdict is PairVerdict.INCOMPLETE:
        st.info("Draw on both canvases to ask the three models.")
        return
    with lock:
        probabilities = same_probabilities(models, *pair.inputs)
    st.altair_chart(same_probability_chart(probabilities), width="stretch")
    swapped = "; ".join(f"{VARIANTS[k][0]} {100 * q:.0f}%" for k, (_, q) in probabilities.items())
    st.markdown(f"With A and B swapped: {swapped}. A concatenating model may answer differently when the two "
                "drawings change sides; the distance between two embeddings cannot.")
    s = run.settings
    data = {"mnist": "MNIST digit pairs", "omniglot": "Omniglot character pairs"}[s.dataset]
    accuracy = ", ".join(f"{VARIANTS[k][0]} {100 * a:.1f}%" for k, a in run.val_pair_accuracy.items())
    missing = [VARIANTS[k][0] for k in VARIANTS if k not in run.weights]
    when = run.finished[:16].replace("T", " ")
    st.caption(f"The models of the last run on the Train page ({data}, {s.epochs} epochs of batch {s.batch_size}, "
               f"seed {s.seed}{', stopped early' if run.stopped else ''}; ended {when}). Validation pair accuracy: "
               f"{accuracy}." + (f" Not trained in that run: {', '.join(missing)}." if missing else "")
               + (" A new training is running: its models replace these when it ends." if running else ""))
