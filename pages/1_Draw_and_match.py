"""Draw & match: sketch something, see the nearest references and how far each is, the guess after
each stroke, and where the sketch lands on a map of the set."""
import streamlit as st

from ui import canvas, classroom, draw, nav, resources, widgets
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import SetKind
from siamese.matching import Verdict, match_sketch, verdict_details, verdict_sentence

st.title("Draw & match")
resources.model_picker_ui()
gallery, problems = resources.get_gallery()
with st.container():  # one slot: notes that come and go above the canvas never move it (a moved canvas is
    for p in problems:  # made anew, and the drawing on it lost)
        st.warning(p)
    resources.default_sets_progress_ui()
    sets = gallery.sets()
    labels = {s["name"]: f"{s['name']} ({widgets.count(s['symbols'], 'symbol')})" for s in sets}
    default = next((i for i, s in enumerate(sets) if s["kind"] == SetKind.DIGITS), 0)
    set_name = st.selectbox("Reference set", list(labels), index=default, format_func=labels.get)
    me, owner = classroom.actor(), None
    if set_name == CLASS_SYMBOLS and me is not None and classroom.in_class():
        scope = st.radio("Match against", ["the whole class", "only my symbols"], horizontal=True, key="match_scope")
        owner = me.owner if scope == "only my symbols" else None
pen_width = canvas.canvas_controls_ui("draw")


@st.fragment
def sketch_and_matches(set_name: str, owner: int | None, pen_width: int) -> None:
    """A stroke reruns only this (the canvas is inside): the match, the guesses so far and the map.
    The sidebar, the set list and the rest of the page stay as they are. The canvas comes first:
    on a server's first page it is there to draw on while the model loads."""
    left, right = st.columns([1, 1])  # the 280 px canvas fits even at 1024 px with the sidebar open
    with left:
        sketch = canvas.sketch_ui("draw", pen_width=pen_width)
        st.caption("Draw one symbol. The toolbar above the canvas undoes, redoes and clears.")
    matcher = resources.require_matcher(picker=False)
    image, index = sketch.image, resources.get_index()
    result = match_sketch(image, index, set_name, matcher, background=canvas.CANVAS_BACKGROUND, owner=owner)

    def label(m):
        return classroom.symbol_label(m.symbol, m.owner_name, set_name)

    best = result.best if result.verdict in (Verdict.MATCH, Verdict.NEW) else None
    guess = draw.Guess(sketch.strokes, label(best), best.distance) if best else None
    history = draw.remember_guess("draw", (set_name, owner, matcher.model_id), sketch.strokes, guess)
    if result.verdict != Verdict.NEW:  # cleared, matched or changed: the offer to register it goes
        st.session_state.pop("sketch_to_register", None)
    with right:
        if result.verdict == Verdict.EMPTY:
            st.info(result.reason)
        elif result.verdict == Verdict.NO_REFERENCES:
            st.info("This reference set is empty. Register a symbol on the Register page first.")
        else:
            sentence = verdict_sentence(result, lambda m: widgets.literal(label(m)))
            if result.verdict == Verdict.MATCH:
                st.success(sentence)
                st.metric("Best match", label(best))
            else:
                st.warning(sentence)
                st.session_state["sketch_to_register"] = image  # the Register page offers it
                st.page_link(nav.REGISTER, label="Register this symbol", icon=nav.icon(nav.REGISTER))
            cols = st.columns(len(result.matches))
            for col, m in zip(cols, result.matches):
                with col:
                    st.image(widgets.thumbnail_url(gallery, m.example_id), width=96)
                    st.text(f"{label(m)}\nd = {m.distance:.2f}")
            if text := draw.stroke_history_text(history):
                st.text(text)
            if details := verdict_details(result):
                st.caption(details)
        if result.model_input is not None:
            widgets.model_input_ui(result.model_input)
    draw.embedding_map_ui(set_name, gallery, index, matcher, owner, result)


sketch_and_matches(set_name, owner, pen_width)
st.caption("Distance = Euclidean distance between the embeddings of your sketch and of a reference: "
           "the Siamese distance. Small means similar.")
