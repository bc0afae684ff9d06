"""Compare two sketches: the distance between their embeddings, the verdict, where the distance
falls among same-symbol and different-symbol pairs, and what the lecture's three pair models say."""
import streamlit as st

from ui import canvas, compare, nav, resources
from siamese.compare import compare_sketches, pen_pairs_measured, pen_pairs_sentences


st.title("Compare two sketches")
st.markdown(
    "Draw a symbol on each canvas. The model turns each drawing into a list of numbers (its **embedding**) and "
    "measures the **distance** between the two: two drawings of one symbol land **close**, two different "
    "symbols **far** apart. Try the same digit twice, then two different ones.")
matcher = resources.require_matcher()
measured_here, measured_three = pen_pairs_sentences(pen_pairs_measured(), matcher.model_id)  # benchmarks/pen_pairs.py
if measured_here:
    st.caption(measured_here)

# One row that wraps: at 1280 px both canvases and the verdict sit side by side, with the chart
# below on the same screen; narrower, the verdict and then canvas B move down, never clipped.
CANVASES = {"compare_a": "Sketch A", "compare_b": "Sketch B"}
pen_width = compare.compare_pen_ui(tuple(CANVASES))
row = st.container(horizontal=True, wrap=True, gap="medium")
images = []
for key, name in CANVASES.items():
    with row.container(width=compare.COMPARE_CANVAS_PX + 10):
        st.markdown(f"**{name}**")
        images.append(canvas.canvas_ui(key, height=compare.COMPARE_CANVAS_PX, pen_width=pen_width))
pair = compare_sketches(*images, matcher, background=canvas.CANVAS_BACKGROUND)
with row.container(width="stretch"):
    compare.pair_verdict_ui(pair)
compare.distance_chart_ui(pair, matcher)

st.subheader("What the lecture's three models say about these two sketches")
st.markdown(
    "The Train page trains three pair models on the same pairs. The two **concatenating** models put the two "
    "drawings' features side by side and must learn from pixels how to compare them; the **Siamese** model sees "
    "only the distance between the two embeddings, so close drawings get a high probability of *same*.")
if measured_three:
    st.caption(measured_three)
compare.pair_models_ui(pair, nav.TRAIN)
