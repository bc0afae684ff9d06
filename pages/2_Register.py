"""Register: teach the app a new symbol from ONE sketch. In a class, each student's symbols are
their own: they rename and delete those only; the teacher may change any (siamese.classroom)."""
import hashlib

import numpy as np
import streamlit as st

from ui import canvas, classroom, resources, widgets
from siamese.classroom import Action, IdentityError, PermissionDenied, Role, may
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.errors import GalleryError, StaleChoice
from siamese.gallery.gallery import SetKind
from siamese.matching import register_sketch
from siamese.data.preprocess import to_dark_on_light, to_model_input

REFUSED = (GalleryError, PermissionDenied, IdentityError)  # what the core refuses, with a message for the user
BG = canvas.CANVAS_BACKGROUND
state = st.session_state
if state.pop("register_reset", False):  # after a success: an empty name field (before the widget exists)
    state["register_name"] = ""
if classroom.just_arrived():  # came from another page: the banners of an earlier visit have had their moment
    for key in ("register_outcome", "register_last", "change_outcome"):
        state.pop(key, None)

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


def pick(label: str, key: str, **kwargs) -> dict | None:
    """A picker of the symbols this person may change, nothing chosen until they choose. When the
    symbol it showed chosen on the last run was renamed or deleted since (another tab, its owner,
    the teacher), it says so and nothing is chosen: never another symbol in its place."""
    seen = state.get(key + "_seen")
    if seen and (reason := gallery.stale_reason(*seen)):
        state[key] = None
        st.warning(reason)
    elif state.get(key) not in changeable:
        state.pop(key, None)
    chosen = changeable.get(st.selectbox(label, list(changeable), key=key, format_func=labels.get, index=None,
                                         placeholder="Choose a symbol", **kwargs))
    state[key + "_seen"] = (chosen["id"], chosen["name"]) if chosen else None
    return chosen


left, right = st.columns([1, 1])
with left:
    image = canvas.canvas_ui(f"register-{state.get('register_canvas', 0)}")  # a new key: a cleared canvas
    carried = state.get("sketch_to_register")  # Draw & match drops it when its canvas no longer shows it
    drawn = to_model_input(image, background=BG) is not None
    if drawn and state.get("register_outcome", ("",))[0] == "ok":
        state.pop("register_outcome")  # the next sketch is under way: "the canvas is clear" no longer holds
    if not drawn and carried is not None:
        st.caption("The sketch from Draw & match (draw on the canvas to use another one):")
        st.image(to_dark_on_light(carried, BG), width=120)
        image = carried


def register(image, name: str, new_symbol: bool, owner: int | None, symbol_id: int | None = None) -> None:
    """One click, one outcome: store the sketch, or say why not, in ``register_outcome``.

    A click that repeats the registration that just succeeded (a double click: the same sketch
    and name, or an empty form once the page has been cleared for the next sketch) changes
    nothing and keeps its message; the same sketch under a new name is refused, not stored twice.
    """
    last = state.get("register_last")  # (fingerprint of the registered sketch, stored name)
    fingerprint = None if image is None else hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    if last and (fingerprint == last[0] and name.strip() == last[1] or image is None and not name.strip()):
        state["register_outcome"] = ("ok", last[1])  # the second click of a double click: its message stays
        return
    if last and fingerprint == last[0]:
        state["register_outcome"] = ("error", "Not registered: this is the sketch you just registered.",
                                     f"It is stored as “{last[1]}”. Clear the canvas and draw the next symbol.")
        return
    try:
        done = register_sketch(image, gallery, CLASS_SYMBOLS, name, matcher, new_symbol, background=BG, actor=me,
                               owner=owner, symbol_id=symbol_id)
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
    owner = shown = None
    if new_symbol:
        name = st.text_input("Name", placeholder="e.g. star (40 characters at most)", key="register_name")
    else:
        chosen = pick("Symbol", "example_of")
        name, owner = (chosen["name"], chosen["owner"]) if chosen else ("", None)
        shown = (chosen["id"], chosen["name"], chosen["owner"]) if chosen else None
    # The symbol shown when the button was pressed travels with the press (a callback's arguments are
    # those of the run that drew the button): a list changed meanwhile never moves the sketch elsewhere.
    if st.button("Register", type="primary", on_click=lambda s=shown: state.update(register_shown=s)):
        pressed_for = state.pop("register_shown", None)
        if pressed_for is not None and not new_symbol:
            symbol_id, name, owner = pressed_for
            register(image, name, False, owner, symbol_id)
        elif not new_symbol:
            state["register_outcome"] = ("error", "Not registered.", "Choose the symbol this sketch is an example of.")
        else:
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


def confirmed_delete(confirm_key: str, target_key: str, delete, message_key: str, shown=None) -> None:
    """Button callback for a destructive action: ``delete(target, shown)`` runs only for the target
    that a tick confirmed and that the page showed when the button was pressed (``shown``: how it
    was shown, for the core to check it is still that), then the tick is spent (the box is
    unticked), so every deletion needs a fresh confirmation and a second click on the same tick
    deletes nothing."""
    target = state.get(confirm_key + "_for")
    unconfirm(confirm_key)
    if target is None or target != state.get(target_key):
        return
    try:
        delete(target, shown)
    except REFUSED as exc:
        state[message_key] = str(exc)


def rename_chosen(symbol_id: int | None, shown: str | None) -> None:
    """Rename button callback: the symbol the page showed (its id, as it was named there) gets the
    typed name, or the page says why not; a rename confirmed, the field is emptied."""
    if symbol_id is None:
        state["change_outcome"] = ("error", "Not renamed.", "Choose the symbol to rename first.")
        return
    try:
        new = gallery.rename_chosen(symbol_id, shown, state.get("new_name", ""), actor=me)
    except REFUSED as exc:
        if isinstance(exc, StaleChoice):
            state["target"], state["target_seen"] = None, None  # choose again: nothing is picked for you
        state["change_outcome"] = ("error", "Not renamed.", str(exc))
        return
    state["change_outcome"] = ("ok", f"Renamed “{shown}” to “{new}”.")
    state["new_name"], state["target"], state["target_seen"] = "", symbol_id, (symbol_id, new)  # still chosen


def delete_chosen(symbol_id: int, shown) -> None:
    """Delete the symbol with this id as the page showed it (ids are never reused: one renamed or
    deleted meanwhile is refused, never replaced by another); then nothing is chosen and the new
    name field is empty, so no rename waits for the next symbol that comes up."""
    name, examples = shown
    try:
        gallery.delete_chosen(symbol_id, name, actor=me)
    except StaleChoice:
        state["target"], state["target_seen"] = None, None  # choose again; said once, by the refusal
        raise
    state["target"], state["target_seen"], state["new_name"] = None, None, ""
    state["change_outcome"] = ("ok", f"Deleted “{name}” and its {widgets.count(examples, 'sketch')}.")


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
            st.text(f"{labels[s['id']]} ({widgets.count(s['examples'], 'example')})")
if changeable:
    with st.expander("Rename or delete"):  # never reopened or closed by a rerun: it stays as the person left it
        chosen = pick("Symbol to change", "target", on_change=unconfirm, args=("sure_delete",))
        target = chosen and chosen["id"]
        new = st.text_input("New name", key="new_name")
        c1, c2 = st.columns(2)
        sure = c2.checkbox("Yes, delete it and all its sketches", key="sure_delete", on_change=confirm,
                           args=("sure_delete", "target"), disabled=chosen is None)
        c1.button("Rename", on_click=rename_chosen, args=(target, chosen and chosen["name"]), disabled=chosen is None)
        c2.button("Delete", type="secondary", disabled=not sure or chosen is None, on_click=confirmed_delete,
                  args=("sure_delete", "target", delete_chosen, "delete_error",
                        chosen and (chosen["name"], chosen["examples"])))
        outcome = state.pop("change_outcome", None)
        if "delete_error" in state:
            widgets.error_ui("Not deleted.", state.pop("delete_error"))
        elif outcome and outcome[0] == "ok":
            st.success("Done.")
            st.text(outcome[1])  # plain text: a symbol's name is shown as typed
        elif outcome:
            widgets.error_ui(outcome[1], outcome[2])

with st.expander("Share a reference set (export / import)"):
    from siamese.gallery.exchange import export_set, import_set

    set_ids = {s["name"]: s["id"] for s in gallery.sets() if s["kind"] == SetKind.USER}  # the sets shown
    user_sets = list(set_ids)
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
            doomed = st.selectbox("Imported set to delete", imported, key="doomed_set", on_change=unconfirm,
                                  args=("sure_delete_set",))
            sure_set = st.checkbox("Yes, delete this whole set", key="sure_delete_set", on_change=confirm,
                                   args=("sure_delete_set", "doomed_set"))
            st.button("Delete set", disabled=not sure_set, on_click=confirmed_delete,
                      args=("sure_delete_set", "doomed_set",
                            lambda name, set_id: gallery.delete_set(name, actor=me, set_id=set_id),
                            "delete_set_error", set_ids.get(doomed)))
            if "delete_set_error" in state:
                widgets.error_ui("Not deleted.", state.pop("delete_set_error"))

if me.role is Role.TEACHER:
    with st.expander("Reset the class"):
        st.write("Starts a new class: every student's symbols are deleted and every student's link stops "
                 "working (they join again with a name). Your own symbols and all sets stay.")
        state["reset_target"] = "the class"

        def reset(_, __):
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
