"""The Class experiment's projector view: the current round's live results, read from the database
once a second (several servers sharing one PostgreSQL show the same)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from siamese.data.datasets import alphabet_name
from siamese.experiment import (LAKE_PEOPLE_ACCURACY, Experiment, RoundKind, RoundState, rescore_k_shot,
                                score_drawings, score_recognition)
from ui import resources, widgets
from ui.experiment import shared

PROJECTOR_EVERY_S = 1
"""The projector reruns at most once a second, reading the database (so several servers sharing one
PostgreSQL show the same results)."""


def accuracy_chart(score):
    import altair as alt
    import pandas as pd

    rows = [{"who": "Class", "accuracy": score.accuracy or 0.0, "low": score.ci[0], "high": score.ci[1]},
            {"who": "Model", "accuracy": score.model_accuracy, "low": score.model_ci[0], "high": score.model_ci[1]}]
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(y=alt.Y("who:N", title=None, axis=alt.Axis(labelFontSize=22)))
    bars = base.mark_bar(height=36).encode(x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]),
                                                     axis=alt.Axis(format="%", labelFontSize=18), title=None),
                                            color=alt.Color("who:N", legend=None))
    errors = base.mark_errorbar(thickness=3, color="black").encode(x="low:Q", x2="high:Q")
    lake = alt.Chart(pd.DataFrame({"x": [LAKE_PEOPLE_ACCURACY]})).mark_rule(strokeDash=[6, 4], size=3,
                                                                             color="#444").encode(x="x:Q")
    label = alt.Chart(pd.DataFrame({"x": [LAKE_PEOPLE_ACCURACY], "t": ["People, Lake et al. 2015: 95.5%"]})).mark_text(
        align="right", dx=-6, dy=-70, fontSize=16).encode(x="x:Q", text="t:N")
    return (bars + errors + lake + label).properties(height=180)


def per_trial_chart(score):
    import altair as alt
    import pandas as pd

    df = pd.DataFrame([{"trial": t.trial + 1, "class": t.accuracy if t.accuracy is not None else 0.0,
                        "model": "model right" if t.model_correct else "model wrong"} for t in score.per_trial])
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("trial:O", axis=alt.Axis(labelFontSize=16, labelAngle=0)),
        y=alt.Y("class:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", labelFontSize=16),
                title="class right"),
        color=alt.Color("model:N", scale=alt.Scale(domain=["model right", "model wrong"], range=["#4c78a8", "#e45756"]),
                        legend=alt.Legend(labelFontSize=16, title=None, orient="top"))).properties(height=240)


def _trial_strip(r, t: int) -> None:
    trial = r.trials[t]
    cols = st.columns(3)
    cols[0].image(shared.png(trial.query), caption=f"trial {t + 1}: query", width=110)
    cols[1].image(shared.png(trial.candidates[trial.answer]), caption="the same character", width=110)
    cols[2].image(shared.png(trial.candidates[trial.model]), caption="the model's choice", width=110)


def recognition_results(r, answers, students: int) -> None:
    score = score_recognition(r.trials, answers)
    c1, c2, c3 = st.columns(3)
    c1.metric("Answers in", f"{score.answers} / {students * r.size}" if students else str(score.answers))
    c2.metric("Class", "–" if score.accuracy is None else f"{100 * score.accuracy:.0f}%",
              help=f"95% interval {100 * score.ci[0]:.0f}–{100 * score.ci[1]:.0f}%")
    c3.metric("Model", f"{100 * score.model_accuracy:.0f}%",
              help=f"95% interval {100 * score.model_ci[0]:.0f}–{100 * score.model_ci[1]:.0f}%")
    st.caption(f"{r.size} trials, {r.way}-way, {alphabet_name(r.alphabet)}. Class 95% interval "
               f"{100 * score.ci[0]:.0f}–{100 * score.ci[1]:.0f}%, model {100 * score.model_ci[0]:.0f}–"
               f"{100 * score.model_ci[1]:.0f}% (Wilson). Dashed line: people on the official runs, 95.5%.")
    st.altair_chart(accuracy_chart(score), width="stretch")
    st.altair_chart(per_trial_chart(score), width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown(f"### People right, model wrong ({len(score.people_not_model)})")
        for t in score.people_not_model[:4]:
            _trial_strip(r, t)
    with right:
        st.markdown(f"### Model right, people wrong ({len(score.model_not_people)})")
        for t in score.model_not_people[:4]:
            _trial_strip(r, t)


@st.cache_data(max_entries=16, show_spinner=False)
def _drawing_embeddings(round_id: int, answer_ids: tuple, model_id: str, _exp, _matcher):
    ids, inputs = _exp.drawing_inputs(round_id)
    return dict(zip(ids, _matcher.embed_inputs(inputs)))


def drawing_results(r, answers, exp: Experiment) -> None:
    import altair as alt
    import pandas as pd

    prompts = [p.symbol for p in r.prompts]
    drawn = [a for a in answers if a.guess is not None or a.verdict is not None]
    score = score_drawings([prompts[a.trial] for a in drawn], [a.guess for a in drawn], symbols=prompts)
    c1, c2 = st.columns(2)
    c1.metric("Drawings in", str(score.total))
    c2.metric("Recognised", "–" if score.rate is None else f"{100 * score.rate:.0f}%")
    df = pd.DataFrame([{"symbol": s, "rate": (v[0] / v[1]) if v[1] else 0.0, "drawings": v[1]}
                       for s, v in score.per_symbol.items()])
    st.altair_chart(alt.Chart(df).mark_bar().encode(
        x=alt.X("symbol:N", sort=prompts, axis=alt.Axis(labelFontSize=18, labelAngle=0), title=None),
        y=alt.Y("rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", labelFontSize=16),
                title="recognised"), tooltip=["symbol", "drawings"]).properties(height=220), width="stretch")
    if score.confusions:
        st.dataframe([{"drawn": p, "taken for": g or "(nothing)", "times": c} for p, g, c in score.confusions[:10]],
                     hide_index=True)
    for i, p in enumerate(r.prompts):
        mine = [a for a in drawn if a.trial == i]
        st.markdown(f"### {widgets.literal(p.symbol)} ({len(mine)})")
        if mine:
            cols = st.columns(min(10, len(mine)))
            for k, a in enumerate(mine[:20]):
                cols[k % len(cols)].image(widgets.png_data_url(exp.drawing_thumbnail(a.id)), width=64,
                                          caption="✓" if a.guess == p.symbol else f"✗ {a.guess or ''}")
    matcher, _ = resources.get_matcher()
    if matcher is None or not drawn:
        return
    embs = _drawing_embeddings(r.id, tuple(a.id for a in drawn), matcher.model_id, exp, matcher)
    refs = [e for e in resources.gallery_store().examples(r.set_name) if e.id in {p.example_id for p in r.prompts}]
    from siamese.data.codec import bytes_to_input
    from siamese.search.embedding_map import fit_map

    ref_embs = matcher.embed_inputs(np.stack([bytes_to_input(e.model_input) for e in refs])) if refs else None
    if ref_embs is None:
        return
    have = [a for a in drawn if a.id in embs]
    d = np.stack([embs[a.id] for a in have])
    m = fit_map(np.concatenate([ref_embs, d]))
    pts = m.project(np.concatenate([ref_embs, d]))
    rows = [{"x": float(x), "y": float(y), "symbol": e.symbol, "kind": "stored example"}
            for (x, y), e in zip(pts[:len(refs)], refs)]
    rows += [{"x": float(x), "y": float(y), "symbol": prompts[a.trial], "kind": "class drawing"}
             for (x, y), a in zip(pts[len(refs):], have)]
    st.markdown("### The drawings on the set's embedding map")
    st.altair_chart(alt.Chart(pd.DataFrame(rows)).mark_point(filled=True).encode(
        x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None), color=alt.Color("symbol:N", sort=prompts),
        shape="kind:N", size=alt.condition("datum.kind == 'stored example'", alt.value(400), alt.value(90))
    ).properties(height=360), width="stretch")
    if r.taught:
        one, k = rescore_k_shot(d, [prompts[a.trial] for a in have], ref_embs, [e.symbol for e in refs])
        truth = [prompts[a.trial] for a in have]
        s1, sk = score_drawings(truth, one, prompts), score_drawings(truth, k, prompts)
        st.markdown("### One-shot against K-shot (each drawing left out of its own references)")
        c1, c2 = st.columns(2)
        c1.metric("One stored drawing per symbol", f"{100 * (s1.rate or 0):.0f}%")
        c2.metric("Plus the class's other drawings", f"{100 * (sk.rate or 0):.0f}%")


def projector_view() -> None:
    _projector_live()


@st.fragment(run_every=PROJECTOR_EVERY_S)
def _projector_live() -> None:
    exp = shared.experiment()
    with st.container(key="exp_projector"):
        r = exp.current()
        if r is None:
            st.markdown("## No round yet")
            return
        answers = exp.answers(r.id)
        state = "open" if r.state is RoundState.OPEN else "ended"
        st.markdown(f"## Round {r.id} · {state}")
        if r.kind is RoundKind.RECOGNISE:
            recognition_results(r, answers, len(exp.joined()))
        else:
            drawing_results(r, answers, exp)
