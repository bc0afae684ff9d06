"""The classroom in the app (see :mod:`siamese.classroom`): who this session is, joining, the teacher's
unlock, the sidebar and the home page's join QR code."""
from __future__ import annotations

import streamlit as st

from ui.resources import gallery_store
from ui.widgets import count, error_ui

STUDENT_PARAM = "student"
"""Query parameter holding a student's identity token: a reload or a bookmark keeps the identity."""


def teacher_passcode() -> str | None:
    """The passcode set by whoever started the server: ``teacher_passcode`` in
    ``.streamlit/secrets.toml``, else the environment variable ``SIAMESE_TEACHER_PASSCODE``; None:
    solo mode. Read on every run, so it is never kept in a session."""
    from siamese.classroom import PASSCODE_SECRET, configured_passcode

    secret = st.secrets.get(PASSCODE_SECRET) if st.secrets.load_if_toml_exists() else None
    return configured_passcode(secret)


def session_actor():
    """Who this session is, worked out once per run by the entry script (``app.py``) before the
    page runs; pages read it with :func:`actor`.

    Solo mode (no passcode): the solo user. A session unlocked with the passcode: the teacher. A
    student: from the identity token in the URL (or this session, which puts it back in the URL
    after Streamlit clears it on a page change). A token that cannot be used is dropped, with its
    message at the top of the page. Returns the actor, or None for a visitor who has not joined.
    """
    from siamese.classroom import SOLO, TEACHER, IdentityError

    from siamese.classroom import passcode_fingerprint

    state = st.session_state
    before, passcode = state.get("actor"), teacher_passcode()
    if passcode is None:
        state["actor"] = SOLO
    elif state.get("teacher_unlocked") == passcode_fingerprint(passcode):
        state["actor"] = TEACHER
        if st.query_params.get(TEACHER_PARAM) != "unlocked":  # put back after a page change
            st.query_params[TEACHER_PARAM] = "unlocked"
    else:
        state["actor"] = None
        if state.pop("teacher_unlocked", None):  # unlocked with a passcode that is no longer the one
            state["teacher_notice"] = PASSCODE_CHANGED
        elif st.query_params.get(TEACHER_PARAM):  # this tab was unlocked, in a session the server no longer has
            state["teacher_notice"] = SERVER_RESTARTED
        st.query_params.pop(TEACHER_PARAM, None)
        token = st.query_params.get(STUDENT_PARAM) or state.get("student_token")
        if token:
            try:
                state["actor"] = gallery_store().student(token)
            except IdentityError as exc:
                state["identity_problem"] = str(exc)  # shown with the form to join again (join_ui)
                state.pop("student_token", None)
                st.query_params.pop(STUDENT_PARAM, None)
            else:
                state["student_token"] = token
                if st.query_params.get(STUDENT_PARAM) != token:
                    st.query_params[STUDENT_PARAM] = token
    if before is not None and state["actor"] != before:
        _forget_carry_over()  # a sketch or a banner of the person before is not the next one's
    return state["actor"]


TEACHER_PARAM = "teacher"
"""Query parameter set while a tab is unlocked: it grants nothing (the passcode does), but after a
server restart, which forgets every session, it lets the tab say why it is locked again."""
SERVER_RESTARTED = ("The server was restarted (or this tab's session ended), so teacher mode is locked: unlock it "
                    "again with the passcode.")
PASSCODE_CHANGED = "The teacher passcode was changed, so teacher mode is locked: unlock it again with the new passcode."
PERSONAL_CARRY_OVER = ("sketch_to_register", "register_outcome", "register_last")
"""What a session carries from one page to another for the person using it: dropped when that
person changes (Not you?, a lock, a class reset)."""


def note_page(url_path: str) -> None:
    """Called by ``app.py`` on every run of a page: remembers which page ran before this one, for
    :func:`just_arrived`."""
    state = st.session_state
    state["page_before"], state["page_now"] = state.get("page_now"), url_path
    state["page_run"] = state.get("page_run", 0) + 1


def just_arrived() -> bool:
    """Whether this run of the page is the first since the person came from another page (or
    opened the app): what a page still shows from an earlier visit has had its moment."""
    state = st.session_state
    return state.get("page_before") != state.get("page_now")


def rejoin_ui() -> None:
    """For pages without a join form of their own: when this session's student identity stopped
    working (a class reset, a damaged or foreign link), say so and offer the form to join again."""
    if "identity_problem" in st.session_state:
        join_ui()


def actor():
    """This session's actor (see :func:`session_actor`): None for a visitor who has not joined."""
    return st.session_state.get("actor")


def in_class() -> bool:
    """Whether the server runs a class (a teacher passcode is set), so owners are shown."""
    from siamese.classroom import Role

    a = actor()
    return a is None or a.role is not Role.SOLO


def symbol_label(name: str, owner_name: str, set_name: str) -> str:
    """How a symbol is shown: "star · Ana" in a class's Class symbols, else its name
    (:func:`siamese.gallery.names.symbol_label`, which keeps the owner part truthful)."""
    from siamese.gallery.names import symbol_label as label
    from siamese.gallery.schema import CLASS_SYMBOLS

    return label(name, owner_name, in_class() and set_name == CLASS_SYMBOLS)


def _join() -> None:
    """Join button callback: a new student identity, its token in the URL."""
    from siamese.gallery.errors import GalleryError

    state = st.session_state
    try:
        token, student = gallery_store().join_class(state.get("join_name", ""))
    except GalleryError as exc:
        state["join_error"] = str(exc)
        return
    state["student_token"], state["actor"] = token, student
    state["join_name"] = ""
    st.query_params[STUDENT_PARAM] = token


def join_ui() -> None:
    """The form a visitor joins the class with: a display name, no account; above it, why this
    session's student identity stopped working, if it just did (:func:`session_actor`). Drawn
    once per run: a page with a form of its own after :func:`rejoin_ui` drew one adds none."""
    state = st.session_state
    if state.get("join_drawn") is not None and state.get("join_drawn") == state.get("page_run"):
        return
    state["join_drawn"] = state.get("page_run")
    if problem := st.session_state.pop("identity_problem", None):
        st.warning(problem)
    st.info("Join the class to register your own symbols: type your name (no account, no e-mail).")
    with st.form("join", border=False):  # Enter joins, as the button does
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.text_input("Your name", key="join_name", max_chars=200, placeholder="e.g. Ana (40 characters at most)")
        c2.form_submit_button("Join", type="primary", on_click=_join)
    if "join_error" in st.session_state:
        error_ui("Not joined.", st.session_state.pop("join_error"))


def _unlock(passcode: str) -> None:
    """Unlock button callback: the typed passcode is checked, then cleared from the session."""
    from siamese.classroom import PasscodeGate, PasscodeRefused

    state = st.session_state
    gate = state.setdefault("passcode_gate", PasscodeGate())
    typed, state["passcode"] = state.get("passcode", ""), ""
    try:
        gate.unlock(typed, passcode)
    except PasscodeRefused as exc:
        state["passcode_error"] = str(exc)
        return
    from siamese.classroom import passcode_fingerprint

    state["teacher_unlocked"] = passcode_fingerprint(passcode)  # valid while the passcode is this one
    state.pop("teacher_notice", None)
    state.pop("student_token", None)  # the projected address carries no student's identity
    st.query_params.pop(STUDENT_PARAM, None)
    st.query_params[TEACHER_PARAM] = "unlocked"


def _lock() -> None:
    _forget_carry_over()
    st.session_state.pop("teacher_unlocked", None)
    st.query_params.pop(TEACHER_PARAM, None)


def _forget_carry_over() -> None:
    for key in PERSONAL_CARRY_OVER:
        st.session_state.pop(key, None)


def _leave() -> None:
    """"Not you?": forget this identity in this browser tab (the student and their symbols stay),
    and what this tab carried for them."""
    _forget_carry_over()
    st.session_state.pop("student_token", None)
    st.session_state["actor"] = None
    st.query_params.pop(STUDENT_PARAM, None)


def classroom_sidebar_ui() -> None:
    """The sidebar's line about who you are: solo mode, the teacher (with Lock), a student (with
    "Not you?"), or a visitor; and the teacher's unlock."""
    from siamese.classroom import Role

    bar, a, passcode = st.sidebar, actor(), teacher_passcode()
    if passcode is None:
        bar.caption("Single-user mode: no teacher passcode is set, so you may do everything here. "
                    "To run a class, see “In the classroom” in the README.")
        return
    if a is not None and a.role is Role.TEACHER:
        bar.success("Teacher: you may do everything.")
        bar.button("Lock teacher mode", on_click=_lock)
        return
    if a is not None:
        bar.text(f"You are {a.name} (student).")
        bar.button("Not you? Join as someone else", on_click=_leave)
    else:
        bar.caption("Not joined yet: join on the Home or Register page to register symbols.")
    notice = st.session_state.get("teacher_notice")  # until the next unlock
    if notice:
        bar.warning(notice)
    with bar.expander("Teacher? Unlock", expanded="passcode_error" in st.session_state or bool(notice)):
        with st.form("unlock", border=False):  # Enter unlocks, as the button does
            st.text_input("Teacher passcode", type="password", key="passcode", max_chars=1024)
            st.form_submit_button("Unlock", on_click=_unlock, args=(passcode,))
        if "passcode_error" in st.session_state:
            st.error(st.session_state.pop("passcode_error"))


def join_address() -> tuple[str, str | None]:
    """``(the URL students open, a warning or None)``: this server's address on the local network
    and Streamlit's port (``server.port``, ``server.baseUrlPath``)."""
    from siamese.classroom import join_url, lan_address

    bound = st.get_option("server.address") or ""
    host = bound if bound and bound not in ("0.0.0.0", "::") else lan_address()
    url = join_url(host, st.get_option("server.port"), st.get_option("server.baseUrlPath") or "")
    if host in ("127.0.0.1", "localhost", "::1"):
        return url, ("This server only listens on this computer, so students' devices cannot reach it. Start it "
                     "with `streamlit run app.py --server.address 0.0.0.0` on the classroom's network.")
    return url, None


def classroom_home_ui() -> None:
    """Home's classroom part: for the teacher, the address to join, as text and as a QR code big
    enough to project; for a visitor, the form to join; nothing in solo mode."""
    from siamese.classroom import Role, qr_png

    a = actor()
    if a is not None and a.role is Role.SOLO:
        return
    if a is None:
        join_ui()
        return
    if a.role is Role.STUDENT:
        st.text(f"You are {a.name}: your symbols are yours to rename and delete; everyone can match against them.")
        return
    url, warning = join_address()
    st.subheader("Join this class")
    st.markdown("On a phone, tablet or laptop on this network, scan the code or open:")
    st.code(url, language=None)
    if warning:
        st.warning(warning)
    st.image(qr_png(url), caption="Scan to join")  # about 500 px, never wider than the page
    students = gallery_store().students()
    st.text(f"{count(len(students), 'student')} joined" + (": " + ", ".join(s["name"] for s in students)
                                                             if students else "."))
