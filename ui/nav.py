"""The app's pages, declared once: each page's file (the path that ``st.page_link`` and
``st.switch_page`` take, relative to the app's root) and its ``st.Page``."""
from __future__ import annotations

import streamlit as st

DRAW = "pages/1_Draw_and_match.py"
REGISTER = "pages/2_Register.py"
TRAIN = "pages/3_Train_three_variants.py"
EVALUATE = "pages/4_Evaluate.py"
COMPARE = "pages/5_Compare_two_sketches.py"
EXPERIMENT = "pages/6_Class_experiment.py"

PAGES = {
    DRAW: ("Draw & match", "✏️", "draw"),
    REGISTER: ("Register", "➕", "register"),
    TRAIN: ("Train the three variants", "📈", "train"),
    EVALUATE: ("One-shot evaluation", "🎯", "evaluate"),
    COMPARE: ("Compare two sketches", "↔️", "compare"),
    EXPERIMENT: ("Class experiment", "🧪", "experiment"),
}
"""page file -> (title, icon, URL path), in the navigation's order."""


def navigation(home):
    """The app's navigation: ``home`` (a function, the default page) then every page of :data:`PAGES`.

    Returns:
        the ``st.navigation`` object; the caller runs it (``.run()``).
    """
    pages = [st.Page(home, title="Home", icon="🏠", default=True)]
    pages += [st.Page(path, title=title, icon=icon, url_path=url) for path, (title, icon, url) in PAGES.items()]
    return st.navigation(pages)
