"""Views of the Class experiment page (:mod:`siamese.experiment`): the teacher's controls
(:mod:`~ui.experiment.teacher`), the student's task, phone first (:mod:`~ui.experiment.student`) and the
projector's live results (:mod:`~ui.experiment.projector`); :func:`page` shows the one this user may open."""
from __future__ import annotations

import streamlit as st

from siamese.classroom import Role
from ui import classroom
from ui.experiment.projector import projector_view
from ui.experiment.student import student_view
from ui.experiment.teacher import teacher_view

STUDENT, TEACHER, PROJECTOR = "Student", "Teacher", "Projector"
VIEW_PARAM = "view"
"""Query parameter choosing the view (``?view=projector``): a second tab or screen opens straight on it."""
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
