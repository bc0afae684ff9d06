"""Views of the Class experiment page (:mod:`siamese.experiment`): the teacher's controls, the
student's task (phone first) and the projector's live results."""
from __future__ import annotations

import random
import time

import numpy as np
import streamlit as st

from siamese.classroom import PermissionDenied, Role
from siamese.experiment import (LAKE_PEOPLE_ACCURACY, Experiment, RoundKind, RoundState,
                                rescore_k_shot, score_drawings, score_recognition)
from siamese.gallery.errors import GalleryError
from ui import canvas, classroom, resources, widgets

STUDENT, TEACHER, PROJECTOR = "Student", "Teacher", "Projector"
VIEW_PARAM = "view"
"""Query parameter choosing the view (``?view=projector``): a second tab or screen opens straight on it."""
PROJECTOR_EVERY_S = 1
"""The projector reruns at most once a second, reading the database (so several servers sharing one
PostgreSQL show the same results)."""
STUDENT_POLL_S = 2
"""How often a waiting student's page looks for a new round."""
GRID_COLUMNS = {5: 5, 20: 4}
"""Candidates per row on a phone: 20-way trials as 5 rows of 4 (about 80 px each at 390 px wide)."""
CSS = """<style>
.st-key-exp_grid [data-testid="stHorizontalBlock"] {flex-wrap: nowrap !important; gap: 0.4rem !important;}
.st-key-exp_grid [data-testid="stColumn"] {min-width: 0 !important; flex: 1 1 0 !important; width: auto !important;}
.st-key-exp_grid button {min-height: 44px; width: 100%;}
.st-key-exp_grid img {max-width: 100%; height: auto;}
.st-key-exp_projector {font-size: 1.5rem;}
.st-key-exp_projector [data-testid="stMetricValue"] {font-size: 3.2rem;}
.st-key-exp_projector [data-testid="stMetricLabel"] p {font-size: 1.4rem;}
.st-key-exp_projector h2, .st-key-exp_projector h3 {font-size: 2.2rem;}
</style>"""


def experiment() -> Experiment:
    return Experiment(resources.gallery_store())


def views_for(actor) -> list[str]:
    """The views a user may open: the solo user all three, the teacher the teacher's and the
    projector, a student the student's."""
    if actor is None:
        return []
    if actor.role is Role.SOLO:
        return [TEACHER, STUDENT, PROJECTOR]
    return [TEACHER, PROJECTOR] if actor.role is Role.TEACHER else [STUDENT]


def view_picker(actor) -> str | None:
    views = views_for(actor)
    if not views:
        return None
    wanted = str(st.query_params.get(VIEW_PARAM, "")).capitalize()
    if len(views) == 1:
        return views[0]
    default = wanted if wanted in views else views[0]
    view = st.segmented_control("View", views, default=default, key="exp_view") or default
    return view


# ---- shared ----
@st.cache_resource(show_spinner="Finding the official runs' drawings, left out of every trial…")
def _official(data: str):
    from siamese.experiment.trials import official_images
    from ui.evaluation import evaluation_set

    ev, error = evaluation_set()
    if ev is None:
        raise RuntimeError(error)
    return official_images(ev)


def _png(index: int) -> str:
    from siamese.experiment.images import evaluation_png

    return widgets.png_data_url(evaluation_png(index))


def _message(key: str) -> None:
    kind, text = st.session_state.pop(key, (None, None))
    if kind:
        getattr(st, kind)(text)


# ---- the teacher ----
def _start_recognition(alphabet: str, way: int, n: int, seed: int) -> None:
    from siamese.experiment.trials import make_trials, model_answers
    from siamese.paths import data_dir
    from ui.evaluation import evaluation_set

    ev, error = evaluation_set()
    if ev is None:
        st.session_state["exp_teacher_msg"] = ("error", f"The Omniglot evaluation alphabets are missing: {error}")
        return
    matcher, error = resources.get_matcher()
    if matcher is None:
        st.session_state["exp_teacher_msg"] = ("error", f"The model could not be loaded: {error}")
        return
    try:
        trials = make_trials(ev.labels, ev.drawers, ev.char_alphabet, ev.alphabets, _official(str(data_dir())),
                             n=n, way=way, alphabet=alphabet, seed=seed)
        r = experiment().start_recognition(model_answers(matcher.embed_inputs, ev.images, trials),
                                           alphabet=alphabet, way=way, seed=seed, actor=classroom.actor())
    except (ValueError, PermissionDenied, GalleryError) as exc:
        st.session_state["exp_teacher_msg"] = ("error", str(exc))
        return
    st.session_state["exp_teacher_msg"] = ("success", f"Round {r.id} started: {n} trials, {way}-way.")
    st.session_state.pop("exp_seed", None)


def _teacher_call(fn, done: str) -> None:
    try:
        out = fn()
    except (PermissionDenied, GalleryError) as exc:
        st.session_state["exp_teacher_msg"] = ("error", str(exc))
    else:
        st.session_state["exp_teacher_msg"] = ("success", done.format(out=out))


def teacher_view() -> None:
    from siamese.experiment.trials import MIXED, WAYS
    from ui.evaluation import evaluation_set

    exp, me = experiment(), classroom.actor()
    _message("exp_teacher_msg")
    one, two = st.tabs(["Round 1: recognise from one example", "Round 2: draw for the model"])
    with one:
        ev, error = evaluation_set()
        if ev is None:
            st.error(f"Round 1 needs the Omniglot evaluation alphabets: {error}")
        else:
            with st.form("exp_round1"):
                alphabet = st.selectbox("Alphabet", [MIXED] + [str(a) for a in ev.alphabets],
                                        help="Mixed: every trial from its own evaluation alphabet.")
                way = st.radio("Candidates per trial (K-way)", list(WAYS), index=1, horizontal=True)
                n = st.number_input("Trials", 1, 40, 10)
                seed = st.number_input("Seed (the same seed, the same trials)", 0, 10**6,
                                       st.session_state.setdefault("exp_seed", random.randrange(10**4)))
                if st.form_submit_button("Start round 1", type="primary"):
                    with st.spinner("The model answers every trial…"):
                        _start_recognition(alphabet, int(way), int(n), int(seed))
                    st.rerun()
            st.caption("Candidates are drawings of K characters of one alphabet the model never trained on, by "
                       "other people than the query's; no drawing of the official runs (a test set) is ever used.")
    with two:
        gallery = resources.gallery_store()
        sets = [s["name"] for s in gallery.sets() if s["symbols"]]
        if not sets:
            st.info("No set has symbols yet: register some on the Register page.")
        else:
            set_name = st.selectbox("Set", sets, key="exp_set")
            names = list(dict.fromkeys(s["name"] for s in gallery.symbols(set_name)))
            chosen = st.multiselect("Symbols to draw (up to 10)", names, default=names[:10], max_selections=10,
                                    key="exp_symbols")
            if st.button("Start round 2", type="primary", disabled=not chosen):
                _teacher_call(lambda: exp.start_drawing(set_name, chosen, actor=me).id, "Round {out} started.")
                st.rerun()

    _round_panel()


TEACHER_EVERY_S = 2
"""How often the teacher's round panel (who has answered) reads the database again."""


@st.fragment(run_every=TEACHER_EVERY_S)
def _round_panel() -> None:
    """The current round: who has joined and answered, End, Clear, Export, Teach it; kept up to date."""
    exp, me = experiment(), classroom.actor()
    r = exp.current()
    if r is None:
        st.info("No round yet.")
        return
    answers = exp.answers(r.id)
    st.subheader(f"Round {r.id}: {'recognise' if r.kind is RoundKind.RECOGNISE else 'draw'} · "
                 f"{'open' if r.state is RoundState.OPEN else 'ended'}")
    joined = exp.joined()
    counts = {}
    for a in answers:
        counts[a.owner] = counts.get(a.owner, 0) + 1
    st.write(f"{widgets.count(len(joined), 'student')} joined, {len({a.owner for a in answers})} answered; "
             f"{widgets.count(len(answers), 'answer')} in.")
    if joined:
        st.dataframe([{"student": s["name"], "answered": f"{counts.get(s['owner'], 0)} / {r.size}"} for s in joined],
                     hide_index=True)
    c1, c2, c3, c4 = st.columns(4)
    if c1.button("End round", disabled=r.state is not RoundState.OPEN):
        _teacher_call(lambda: exp.end(r.id, actor=me), "Round ended: no more answers are stored.")
        st.rerun()
    sure = c2.checkbox("Yes, delete its answers", key=f"exp_clear_sure_{r.id}")
    if c2.button("Clear round", disabled=not sure):
        _teacher_call(lambda: exp.clear(r.id, actor=me), "Round cleared: {out} answers deleted.")
        st.rerun()
    try:
        exp.export_csv(r.id, actor=me)  # refused here, before a button is offered, if not allowed
        # The file is made when the button is pressed, so it holds every answer stored by then.
        c3.download_button("Export CSV", lambda: exp.export_csv(r.id, actor=me), f"round_{r.id}.csv", "text/csv")
    except PermissionDenied as exc:
        c3.caption(str(exc))
    if r.kind is RoundKind.DRAW:
        if c4.button("Teach it", disabled=r.taught,
                     help="Add the class's drawings as further examples of each symbol."):
            _teacher_call(lambda: exp.teach(r.id, actor=me), "{out} drawings added as examples.")
            st.rerun()


# ---- the student ----
def _pick(round_id: int, trial: int, choice: int) -> None:
    shown = st.session_state.get(f"exp_shown_{round_id}_{trial}")
    ms = None if shown is None else round(1000 * (time.monotonic() - shown))
    try:
        stored = experiment().answer(round_id, trial, choice, ms, actor=classroom.actor())
    except (PermissionDenied, GalleryError) as exc:
        st.session_state["exp_student_msg"] = ("error", str(exc))
        return
    st.session_state["exp_student_msg"] = ("info" if stored.new else "warning",
                                           "Stored." if stored.new else stored.message)


@st.fragment(run_every=STUDENT_POLL_S)
def _wait_for_round(seen: int | None) -> None:
    r = experiment().current()
    now = None if r is None or r.state is not RoundState.OPEN else r.id
    if now != seen:
        st.rerun()


def student_view() -> None:
    exp, me = experiment(), classroom.actor()
    r = exp.current()
    _message("exp_student_msg")
    if r is None or r.state is not RoundState.OPEN:
        st.info("No round is running: wait for your teacher to start one.")
        _wait_for_round(None)
        return
    mine = {a.trial for a in exp.answers(r.id, owner=me.owner)}
    todo = [t for t in range(r.size) if t not in mine]
    _wait_for_round(r.id)
    if not todo:
        st.success(f"You answered all {r.size}. Look at the projector!")
        return
    t = todo[0]
    st.caption(f"Round {r.id} · {t + 1} of {r.size}")
    if r.kind is RoundKind.RECOGNISE:
        recognition_trial_ui(r, t)
    else:
        drawing_prompt_ui(r, t)


def recognition_trial_ui(r, t: int) -> None:
    trial = r.trials[t]
    st.session_state.setdefault(f"exp_shown_{r.id}_{t}", time.monotonic())
    st.markdown("**Which one is the same character?**")
    st.image(_png(trial.query), width=120)
    cols = GRID_COLUMNS.get(len(trial.candidates), 4)
    with st.container(key="exp_grid"):
        for start in range(0, len(trial.candidates), cols):
            row = st.columns(cols)
            for j, col in zip(range(start, min(start + cols, len(trial.candidates))), row):
                with col:
                    st.image(_png(trial.candidates[j]), width="stretch")
                    st.button(str(j + 1), key=f"exp_pick_{r.id}_{t}_{j}", on_click=_pick, args=(r.id, t, j),
                              width="stretch")


def _send_drawing(round_id: int, t: int, payload) -> None:
    model_input, thumbnail, guess, distance, verdict = payload
    shown = st.session_state.get(f"exp_shown_{round_id}_{t}")
    ms = None if shown is None else round(1000 * (time.monotonic() - shown))
    try:
        stored = experiment().submit_drawing(round_id, t, model_input, thumbnail, guess, distance, verdict, ms,
                                             actor=classroom.actor())
    except (PermissionDenied, GalleryError) as exc:
        st.session_state["exp_student_msg"] = ("error", str(exc))
        return
    st.session_state["exp_student_msg"] = ("info" if stored.new else "warning",
                                           "Drawing sent." if stored.new else stored.message)


def drawing_prompt_ui(r, t: int) -> None:
    p = r.prompts[t]
    gallery = resources.gallery_store()
    st.session_state.setdefault(f"exp_shown_{r.id}_{t}", time.monotonic())
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    try:
        c1.image(widgets.thumbnail_url(gallery, p.example_id), width=72)
    except GalleryError:
        pass
    c2.markdown(f"Draw {widgets.literal(p.symbol)}")
    pen_width = canvas.canvas_controls_ui("exp_draw")
    _drawing_fragment(r, t, pen_width)


@st.fragment
def _drawing_fragment(r, t: int, pen_width: int) -> None:
    from siamese.data.codec import thumbnail_png
    from siamese.data.preprocess import to_dark_on_light
    from siamese.matching import Verdict, match_sketch, verdict_sentence

    sketch = canvas.sketch_ui(f"exp_draw_{r.id}_{t}", pen_width=pen_width)
    matcher = resources.require_matcher(picker=False)
    result = match_sketch(sketch.image, resources.get_index(), r.set_name, matcher,
                          background=canvas.CANVAS_BACKGROUND)
    payload = (None, b"", None, None, None)
    if result.verdict == Verdict.EMPTY:
        st.caption(result.reason)
    elif result.best is not None:
        st.write(verdict_sentence(result, lambda m: widgets.literal(m.symbol)))
        payload = (result.model_input, thumbnail_png(to_dark_on_light(sketch.image, canvas.CANVAS_BACKGROUND)),
                   result.best.symbol, float(result.best.distance), str(result.verdict))
    if st.button("Send drawing", type="primary", key=f"exp_send_{r.id}_{t}"):
        _send_drawing(r.id, t, payload)
        st.rerun()  # the whole page: the message above and the next symbol


# ---- the projector ----
def _accuracy_chart(score):
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


def _per_trial_chart(score):
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
    cols[0].image(_png(trial.query), caption=f"trial {t + 1}: query", width=110)
    cols[1].image(_png(trial.candidates[trial.answer]), caption="the same character", width=110)
    cols[2].image(_png(trial.candidates[trial.model]), caption="the model's choice", width=110)


def recognition_results(r, answers, students: int) -> None:
    score = score_recognition(r.trials, answers)
    c1, c2, c3 = st.columns(3)
    c1.metric("Answers in", f"{score.answers} / {students * r.size}" if students else str(score.answers))
    c2.metric("Class", "–" if score.accuracy is None else f"{100 * score.accuracy:.0f}%",
              help=f"95% interval {100 * score.ci[0]:.0f}–{100 * score.ci[1]:.0f}%")
    c3.metric("Model", f"{100 * score.model_accuracy:.0f}%",
              help=f"95% interval {100 * score.model_ci[0]:.0f}–{100 * score.model_ci[1]:.0f}%")
    st.caption(f"{r.size} trials, {r.way}-way, {r.alphabet}. Class 95% interval "
               f"{100 * score.ci[0]:.0f}–{100 * score.ci[1]:.0f}%, model {100 * score.model_ci[0]:.0f}–"
               f"{100 * score.model_ci[1]:.0f}% (Wilson). Dashed line: people on the official runs, 95.5%.")
    st.altair_chart(_accuracy_chart(score), width="stretch")
    st.altair_chart(_per_trial_chart(score), width="stretch")
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
    exp = experiment()
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


def page() -> None:
    """The whole page: the view this user may open (a visitor joins first)."""
    st.markdown(CSS, unsafe_allow_html=True)
    me = classroom.actor()
    if me is None:
        classroom.join_ui()
        return
    view = view_picker(me)
    if view == TEACHER:
        teacher_view()
    elif view == PROJECTOR:
        projector_view()
    else:
        student_view()
