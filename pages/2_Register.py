"""Register: teach the app a new symbol from ONE sketch."""
import streamlit as st

import ui
from siamese.gallery import MY_SYMBOLS, GalleryError, thumbnail_png
from siamese.preprocess import to_dark_on_light, to_model_input, why_empty

st.title("Register a new symbol")
st.write("One sketch is enough: the Siamese network compares new drawings with it by distance, "
         "no retraining needed.")
matcher = ui.require_matcher()
gallery, _ = ui.get_gallery()
existing = [s["name"] for s in gallery.symbols(MY_SYMBOLS)]

left, right = st.columns([1, 1])
with left:
    image = ui.canvas_ui("register")
    carried = st.session_state.get("sketch_to_register")
    if to_model_input(image) is None and carried is not None:
        st.caption("The sketch from Draw & match (draw on the canvas to use another one):")
        st.image(to_dark_on_light(carried), width=120)
        image = carried
with right:
    flash = st.session_state.pop("registered", None)
    if flash:
        st.success(f"Registered in {MY_SYMBOLS}. Draw it on the Draw & match page: it should come out on top.")
        st.text(f"Name: {flash}")
    mode = st.radio("This sketch is", ["a new symbol", "another example of a symbol I registered"],
                    disabled=not existing, horizontal=True)
    if mode == "a new symbol" or not existing:
        name = st.text_input("Name", placeholder="e.g. star (40 characters at most)")
    else:
        name = st.selectbox("Symbol", existing)
    if st.button("Register", type="primary"):
        x = to_model_input(image)
        if x is None:
            st.error(why_empty(image))
        else:
            try:
                stored = gallery.add_example(MY_SYMBOLS, name, x, thumbnail_png(to_dark_on_light(image)),
                                             matcher, new_symbol=(mode == "a new symbol" or not existing))
            except (GalleryError, ValueError) as exc:
                ui.error_ui("Not registered.", str(exc))
            else:
                st.session_state["registered"] = stored
                st.session_state.pop("sketch_to_register", None)
                st.rerun()  # redraw the choices and the list with the new symbol

st.subheader(MY_SYMBOLS)
symbols = gallery.symbols(MY_SYMBOLS)
if not symbols:
    st.info("No symbols registered yet.")
else:
    cols = st.columns(6)
    for i, s in enumerate(symbols):
        with cols[i % 6]:
            st.image(gallery.thumbnail(s["example_id"]), width=80)
            st.text(f"{s['name']} ({s['examples']})")
    with st.expander("Rename or delete"):
        target = st.selectbox("Symbol to change", [s["name"] for s in symbols], key="target")
        new = st.text_input("New name", key="new_name")
        c1, c2 = st.columns(2)
        sure = c2.checkbox("Yes, delete it and all its sketches", key="sure_delete")
        try:
            if c1.button("Rename"):
                gallery.rename_symbol(MY_SYMBOLS, target, new)
                st.rerun()
            if c2.button("Delete", type="secondary", disabled=not sure):
                gallery.delete_symbol(MY_SYMBOLS, target)
                st.rerun()
        except GalleryError as exc:
            ui.error_ui("Not changed.", str(exc))

with st.expander("Share a reference set (export / import)"):
    from siamese.exchange import export_set, import_set

    user_sets = [s["name"] for s in gallery.sets() if s["kind"] == "user"]
    to_export = st.selectbox("Set to export", user_sets, key="export_set")
    st.download_button("Export as zip", data=lambda: export_set(gallery, to_export), mime="application/zip",  # built on click
                       file_name=ui.file_slug(to_export) + ".zip", disabled=not to_export)
    upload = st.file_uploader("Import a zip exported by this app", type=["zip"], key="import_zip")
    new_name = st.text_input("Name of the imported set", key="import_name",
                             placeholder="default: the name stored in the zip")
    if upload is not None and st.button("Import"):
        try:
            name, n = import_set(gallery, upload.getvalue(), matcher, name=new_name or None)
        except GalleryError as exc:
            ui.error_ui("Nothing was imported.", str(exc))
        else:
            st.success(f"Imported {n} references as a new set; choose it on the Draw & match page.")
            st.text(f"Set: {name}")

    imported = [n for n in user_sets if n != MY_SYMBOLS]
    if imported:
        st.divider()
        doomed = st.selectbox("Imported set to delete", imported, key="doomed_set")
        sure_set = st.checkbox("Yes, delete this whole set", key="sure_delete_set")
        if st.button("Delete set", disabled=not sure_set):
            try:
                gallery.delete_set(doomed)
            except GalleryError as exc:
                ui.error_ui("Not deleted.", str(exc))
            else:
                st.rerun()
