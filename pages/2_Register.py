"""Register: teach the app a new symbol from ONE sketch. In a class, each student's symbols are
their own: they rename and delete those only; the teacher may change any (siamese.classroom)."""
import hashlib

import numpy as np
import streamlit as st

from ui import canvas, classroom, resources, widgets
from siamese.classroom import Action, IdentityError, PermissionDenied, Role, may
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.errors import GalleryError
from siamese.gallery.gallery import SetKind
from siamese.matching import register_sketch
from siamese.data.preprocess import to_dark_on_light, to_model_input

REFUSED = (GalleryError, PermissionDenied, IdentityError)  # what the core refuses, with a message for the user
BG = canvas.CANVAS_BACKGROUND
state = st.session_state
if state.pop("register_reset", False):  # after a success: an empty name field (before the widget exists)
    state["register_name"] = ""

st.title("Register a new symbol")
st.write("One sketch is enough: the Siamese network compares new drawings with it by distance, "
         "no retraining needed.")
matcher = resources.require_matcher()
gallery, _ = resources.get_gallery()
me = classroom.actor()
if me is None:  # a visitor: joining gives them an identity to own symbols
    classroom.join_ui()
    st.stop()
everyone = gallery.symbols(CLASS_SYMBOLS)
changeable = {s["id"]: s for s in everyone if may(me, Action.RENAME, s["owner"])}
# How each symbol is shown ("star · Ana" in a class), by id: two owners' symbols may share a name.
labels = {s["id"]: classroom.symbol_label(s["name"], s["owner_name"], CLASS_SYMBOLS) for s in everyone}


left, right = st.columns([1, 1])
with left:
    image = canvas.canvas_ui(f"register-{state.get('register_canvas', 0)}")  # a new key: a cleared canvas
    carried = state.get("sketch_to_register")
    if to_model_input(image, background=BG) is None and carried is not None:
        st.caption("The sketch from Draw & match (draw on the canvas to use another one):")
        st.image(to_dark_on_light(carried, BG), width=120)
        image = carried


def register(image, name: str, new_symbol: bool, owner: int | None) -> None:
    """One click, one outcome: store the sketch, or say why not, in ``register_outcome``.

    A click that repeats the registration that just succeeded (a double click: the same sketch
    and name, or an empty form once the page has been cleared for the next sketch) changes
    nothing and keeps its message; the same sketch under a new name is refused, not stored twice.
    """
    last = state.get("register_last")  # (fingerprint of the registered sketch, stored name)
    fingerprint = None if image is None else hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    if last and (fingerprint == last[0] and name.strip() == last[1] or image is None and not name.strip()):
        return  # the second click of a double click
    if last and fingerprint == last[0]:
        state["register_outcome"] = ("error", "Not registered: this is the sketch you just registered.",
                                     f"It is stored as “{last[1]}”. Clear the canvas and draw the next symbol.")
        return
    try:
        done = register_sketch(image, gallery, CLASS_SYMBOLS, name, matcher, new_symbol, background=BG, actor=me,
                               owner=owner)
    except REFUSED as exc:  # an empty sketch too (EmptySketchError)
        state["register_outcome"] = ("error", "Not registered.", str(exc))
        return
    # Recorded before any other Streamlit call: a rerun that interrupts this one finds it done.
    state["register_last"] = (fingerprint, done.name)
    state["register_outcome"] = ("ok", done.name)
    state["register_canvas"] = state.get("register_canvas", 0) + 1
    state["register_reset"] = True
    state.pop("sketch_to_register", None)
    st.rerun()  # redraw the choices, the list and a clear canvas


with right:
    other = "another example of one of my symbols" if me.role is Role.STUDENT else "another example of a symbol"
    mode = st.radio("This sketch is", ["a new symbol", other], disabled=not changeable, horizontal=True)
    new_symbol = mode == "a new symbol" or not changeable
    owner = None
    if new_symbol:
        name = st.text_input("Name", placeholder="e.g. star (40 characters at most)", key="register_name")
    else:
        chosen = changeable[st.selectbox("Symbol", list(changeable), format_func=labels.get)]
        name, owner = chosen["name"], chosen["owner"]
    if st.button("Register", type="primary"):
        register(image, name or "", new_symbol, owner)
    outcome = state.get("register_outcome")
    if outcome and outcome[0] == "ok":
        st.success(f"Registered in {CLASS_SYMBOLS}. Draw it on the Draw & match page: it should come out on top. "
                   "The canvas is clear for the next symbol.")
        st.text(f"Name: {outcome[1]}")
    elif outcome:
        widgets.error_ui(outcome[1], outcome[2])


def confirm(confirm_key: str, target_key: str) -> None:
    """Checkbox callback: a tick confirms the deletion of the target shown at that moment."""
    state[confirm_key + "_for"] = state[target_key] if state[confirm_key] else None


def unconfirm(confirm_key: str) -> None:
    """Selectbox callback: another target needs its own confirmation."""
    state[confirm_key] = False
    state[confirm_key + "_for"] = None


def confirmed_delete(confirm_key: str, target_key: str, delete, message_key: str) -> None:
    """Button callback for a destructive action: ``delete(target)`` runs only for the target that
    a tick confirmed, then the tick is spent (the box is unticked), so every deletion needs a fresh
    confirmation and a second click on the same tick deletes nothing."""
    target = state.get(confirm_key + "_for")
    unconfirm(confirm_key)
    if target is None or target != state.get(target_key):
        return
    try:
        delete(target)
    except REFUSED as exc:
        state[message_key] = str(exc)


def delete_symbol(symbol_id: int) -> None:
    """Delete the symbol with this id (ids are never reused: a symbol renamed meanwhile is still
    the one confirmed, and one deleted meanwhile is not replaced by another)."""
    s = gallery.symbol(symbol_id)
    if s is None:
        raise GalleryError("That symbol was already deleted.")
    gallery.delete_symbol(s["set"], s["name"], actor=me, owner=s["owner"])


st.subheader(CLASS_SYMBOLS)
shown = everyone if me.role is not Role.STUDENT else [s for s in everyone if s["owner"] == me.owner]
if me.role is Role.STUDENT:
    students = len({s["owner"] for s in everyone})
    st.text(f"The class has {widgets.count(len(everyone), 'symbol')} from {widgets.count(students, 'owner')}; "
            f"{widgets.count(len(shown), 'symbol')} {'is' if len(shown) == 1 else 'are'} yours.")
if not shown:
    st.info("No symbols registered yet.")
else:
    cols = st.columns(6)
    for i, s in enumerate(shown):
        with cols[i % 6]:
            st.image(gallery.thumbnail(s["example_id"]), width=80)
            st.text(f"{labels[s['id']]} ({s['examples']})")
if changeable:
    with st.expander("Rename or delete"):
        target = st.selectbox("Symbol to change", list(changeable), key="target", format_func=labels.get,
                              on_change=unconfirm, args=("sure_delete",))
        new = st.text_input("New name", key="new_name")
        c1, c2 = st.columns(2)
        sure = c2.checkbox("Yes, delete it and all its sketches", key="sure_delete", on_change=confirm,
                           args=("sure_delete", "target"))
        if c1.button("Rename"):
            s = changeable[target]
            try:
                gallery.rename_symbol(CLASS_SYMBOLS, s["name"], new, actor=me, owner=s["owner"])
            except REFUSED as exc:
                widgets.error_ui("Not changed.", str(exc))
            else:
                st.rerun()
        c2.button("Delete", type="secondary", disabled=not sure, on_click=confirmed_delete,
                  args=("sure_delete", "target", delete_symbol, "delete_error"))
        if "delete_error" in state:
            widgets.error_ui("Not deleted.", state.pop("delete_error"))

with st.expander("Share a reference set (export / import)"):
    from siamese.gallery.exchange import export_set, import_set

    user_sets = [s["name"] for s in gallery.sets() if s["kind"] == SetKind.USER]
    to_export = st.selectbox("Set to export", user_sets, key="export_set")
    st.download_button("Export as zip", data=lambda: export_set(gallery, to_export), mime="application/zip",  # built on click
                       file_name=widgets.file_slug(to_export) + ".zip", disabled=not to_export)
    if not may(me, Action.IMPORT_SET):
        st.caption("Only the teacher imports and deletes sets.")
    else:
        upload = st.file_uploader("Import a zip exported by this app", type=["zip"], key="import_zip")
        new_name = st.text_input("Name of the imported set", key="import_name",
                                 placeholder="default: the name stored in the zip")
        if upload is not None and st.button("Import"):
            try:
                name, n = import_set(gallery, upload.getvalue(), matcher, name=new_name or None, actor=me)
            except REFUSED as exc:
                widgets.error_ui("Nothing was imported.", str(exc))
            else:
                st.success(f"Imported {n} references as a new set; choose it on the Draw & match page.")
                st.text(f"Set: {name}")

        imported = [n for n in user_sets if n != CLASS_SYMBOLS]
        if imported:
            st.divider()
            st.selectbox("Imported set to delete", imported, key="doomed_set", on_change=unconfirm,
                         args=("sure_delete_set",))
            sure_set = st.checkbox("Yes, delete this whole set", key="sure_delete_set", on_change=confirm,
                                   args=("sure_delete_set", "doomed_set"))
            st.button("Delete set", disabled=not sure_set, on_click=confirmed_delete,
                      args=("sure_delete_set", "doomed_set", lambda name: gallery.delete_set(name, actor=me),
                            "delete_set_error"))
            if "delete_set_error" in state:
                widgets.error_ui("Not deleted.", state.pop("delete_set_error"))

if me.role is Role.TEACHER:
    with st.expander("Reset the class"):
        st.write("Starts a new class: every student's symbols are deleted and every student's link stops "
                 "working (they join again with a name). Your own symbols and all sets stay.")
        state["reset_target"] = "the class"

        def reset(_):
            retired, deleted = gallery.reset_class(me)
            state["reset_done"] = f"{widgets.count(retired, 'student')} and {widgets.count(deleted, 'symbol')} removed."

        sure_reset = st.checkbox("Yes, reset the class", key="sure_reset", on_change=confirm,
                                 args=("sure_reset", "reset_target"))
        st.button("Reset the class", disabled=not sure_reset, on_click=confirmed_delete,
                  args=("sure_reset", "reset_target", reset, "reset_error"))
        if "reset_done" in state:
            st.success("The class was reset: " + state.pop("reset_done"))
        if "reset_error" in state:
            widgets.error_ui("Not reset.", state.pop("reset_error"))
