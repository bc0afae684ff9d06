"""Draw & match: sketch something, see the nearest references and how far each is."""
import streamlit as st

import ui
from siamese.gallery import CLASS_SYMBOLS, SetKind
from siamese.matching import Verdict, match_sketch, verdict_details, verdict_sentence

st.title("Draw & match")
matcher = ui.require_matcher()
gallery, problems = ui.get_gallery()
for p in problems:
    st.warning(p)

sets = gallery.sets()
labels = {s["name"]: f"{s['name']} ({ui.count(s['symbols'], 'symbol')})" for s in sets}
default = next((i for i, s in enumerate(sets) if s["kind"] == SetKind.DIGITS), 0)
set_name = st.selectbox("Reference set", list(labels), index=default, format_func=labels.get)
me, owner = ui.actor(), None
if set_name == CLASS_SYMBOLS and me is not None and ui.in_class():
    scope = st.radio("Match against", ["the whole class", "only my symbols"], horizontal=True, key="match_scope")
    owner = me.owner if scope == "only my symbols" else None

left, right = st.columns([1, 1])  # the 280 px canvas fits even at 1024 px with the sidebar open
with left:
    image = ui.canvas_ui("draw")
    st.caption("Draw one symbol. The toolbar above the canvas undoes, redoes and clears.")
result = match_sketch(image, ui.get_index(), set_name, matcher, background=ui.CANVAS_BACKGROUND, owner=owner)

with right:
    if result.verdict == Verdict.EMPTY:
        st.info(result.reason)
    elif result.verdict == Verdict.NO_REFERENCES:
        st.info("This reference set is empty. Register a symbol on the Register page first.")
    else:
        best = result.best
        sentence = verdict_sentence(result, lambda m: ui.literal(ui.symbol_label(m.symbol, m.owner_name, set_name)))
        if result.verdict == Verdict.MATCH:
            st.success(sentence)
            st.metric("Best match", ui.symbol_label(best.symbol, best.owner_name, set_name))
        else:
            st.warning(sentence)
            st.session_state["sketch_to_register"] = image  # the Register page offers it
            st.page_link("pages/2_Register.py", label="Register this symbol", icon="➕")
        cols = st.columns(len(result.matches))
        for col, m in zip(cols, result.matches):
            with col:
                st.image(gallery.thumbnail(m.example_id), width=96)
                st.text(f"{ui.symbol_label(m.symbol, m.owner_name, set_name)}\nd = {m.distance:.2f}")
        if details := verdict_details(result):
            st.caption(details)
    if result.model_input is not None:
        ui.model_input_ui(result.model_input)
st.caption("Distance = Euclidean distance between the embeddings of your sketch and of a reference: "
           "the Siamese distance. Small means similar.")
