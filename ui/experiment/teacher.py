"""The Class experiment's teacher view: start round 1 (recognise from one example) or round 2 (draw
for the model), and the current round's panel (who answered; End, Clear, Export, Teach it)."""
from __future__ import annotations

import random

import streamlit as st

from siamese.classroom import PermissionDenied
from siamese.data.datasets import alphabet_name
from siamese.experiment import RoundKind, RoundState
from siamese.gallery.errors import GalleryError
from ui import classroom, resources, widgets
from ui.experiment import shared


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
        trials = make_trials(ev.labels, ev.drawers, ev.char_alphabet, ev.alphabets, shared.official(str(data_dir())),
                             n=n, way=way, alphabet=alphabet, seed=seed)
        r = shared.experiment().start_recognition(model_answers(matcher.embed_inputs, ev.images, trials),
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

    exp, me = shared.experiment(), classroom.actor()
    shared.message("exp_teacher_msg")
    one, two = st.tabs(["Round 1: recognise from one example", "Round 2: draw for the model"])
    with one:
        ev, error = evaluation_set()
        if ev is None:
            st.error(f"Round 1 needs the Omniglot evaluation alphabets: {error}")
        else:
            with st.form("exp_round1"):
                alphabet = st.selectbox("Alphabet", [MIXED] + [str(a) for a in ev.alphabets],
                                        format_func=alphabet_name,
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
    exp, me = shared.experiment(), classroom.actor()
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
