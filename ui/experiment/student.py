"""The Class experiment's student view (phone first): the next trial of the open round, a grid of
candidates (round 1) or a canvas to draw the prompted symbol (round 2)."""
from __future__ import annotations

import time

import streamlit as st

from siamese.classroom import PermissionDenied
from siamese.experiment import RoundKind, RoundState
from siamese.gallery.errors import GalleryError
from ui import canvas, classroom, resources, widgets
from ui.experiment import shared

STUDENT_POLL_S = 2
"""How often a waiting student's page looks for a new round."""
GRID_COLUMNS = {5: 5, 20: 4}
"""Candidates per row on a phone: 20-way trials as 5 rows of 4 (about 80 px each at 390 px wide)."""


def _pick(round_id: int, trial: int, choice: int) -> None:
    shown = st.session_state.get(f"exp_shown_{round_id}_{trial}")
    ms = None if shown is None else round(1000 * (time.monotonic() - shown))
    try:
        stored = shared.experiment().answer(round_id, trial, choice, ms, actor=classroom.actor())
    except (PermissionDenied, GalleryError) as exc:
        st.session_state["exp_student_msg"] = ("error", str(exc))
        return
    st.session_state["exp_student_msg"] = ("info" if stored.new else "warning",
                                           "Stored." if stored.new else stored.message)


@st.fragment(run_every=STUDENT_POLL_S)
def _wait_for_round(seen: int | None) -> None:
    r = shared.experiment().current()
    now = None if r is None or r.state is not RoundState.OPEN else r.id
    if now != seen:
        st.rerun()


def student_view() -> None:
    exp, me = shared.experiment(), classroom.actor()
    r = exp.current()
    shared.message("exp_student_msg")
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
    st.image(shared.png(trial.query), width=120)
    cols = GRID_COLUMNS.get(len(trial.candidates), 4)
    with st.container(key="exp_grid"):
        for start in range(0, len(trial.candidates), cols):
            row = st.columns(cols)
            for j, col in zip(range(start, min(start + cols, len(trial.candidates))), row):
                with col:
                    st.image(shared.png(trial.candidates[j]), width="stretch")
                    st.button(str(j + 1), key=f"exp_pick_{r.id}_{t}_{j}", on_click=_pick, args=(r.id, t, j),
                              width="stretch")


def _send_drawing(round_id: int, t: int, payload) -> None:
    model_input, thumbnail, guess, distance, verdict = payload
    shown = st.session_state.get(f"exp_shown_{round_id}_{t}")
    ms = None if shown is None else round(1000 * (time.monotonic() - shown))
    try:
        stored = shared.experiment().submit_drawing(round_id, t, model_input, thumbnail, guess, distance, verdict, ms,
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
