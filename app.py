"""Home: what one-shot learning is, and the state of the model and the data."""
import streamlit as st

import ui

st.set_page_config(page_title="One-shot learning with Siamese networks", layout="wide")
st.title("One-shot learning with Siamese networks")
st.markdown(
    "A classifier normally needs many examples of every class. **One-shot learning** recognises a new "
    "class from a single example: instead of learning the classes, a **Siamese network** learns an "
    "*embedding* in which drawings of the same symbol are close and different symbols are far apart. "
    "To recognise a sketch, it is embedded and compared by distance with one stored reference per "
    "symbol, so registering a new symbol needs one drawing and no retraining.")

matcher, error = ui.get_matcher()
st.subheader("Model")
if matcher is None:
    st.error("The model could not be loaded.")
    st.text(error)
else:
    card = matcher.card
    res = {(r["protocol"], r["way"], r["shot"]): r for r in card.get("results", {}).get("omniglot_evaluation", [])}
    within = res.get(("within-alphabet", 20, 1))
    mnist = card.get("results", {}).get("mnist_test")
    c1, c2, c3 = st.columns(3)
    c1.metric("Omniglot, unseen alphabets, 20-way 1-shot", f"{100 * within['accuracy']:.1f}%" if within else "n/a")
    c2.metric("MNIST digits, 10-way 1-shot (never trained on)", f"{100 * mnist['accuracy']:.1f}%" if mnist else "n/a")
    c3.metric("Threshold for “looks new”", f"{matcher.threshold:.2f}")
    st.caption(f"Model {matcher.model_id}: {card.get('architecture', '')}; {card.get('loss', '')}. "
               "See assets/model_card.json.")

gallery, problems = ui.get_gallery()
st.subheader("Reference sets")
for p in problems:
    st.warning(p)
sets = gallery.sets()
st.text("\n".join(f"{s['name']}: {s['symbols']} symbols, {s['examples']} references" for s in sets))

st.subheader("Try it")
st.page_link("pages/1_Draw_and_match.py", label="Draw & match: sketch a digit or a character", icon="✏️")
st.page_link("pages/2_Register.py", label="Register: teach it a new symbol from one sketch", icon="➕")
