"""One-shot evaluation on Omniglot alphabets the model has never seen."""
import numpy as np
import pandas as pd
import streamlit as st

from ui import evaluation, resources
from siamese.fewshot.episodes import PROTOCOLS
from siamese.fewshot.evaluation import confused_pairs, evaluate
from siamese.data.datasets import alphabet_name, character_name
from siamese.data.preprocess import to_display

st.title("One-shot on never-seen alphabets")
st.markdown(
    "Each **episode** shows the model *N* characters it has never seen, *K* drawings each (the "
    "**support set**), and one new drawing of each by another person (the **queries**). A query is "
    "assigned to the nearest support (or the mean of the K supports) by Euclidean distance. "
    "**Within-alphabet** episodes take all N characters from one alphabet (Lake et al. 2015's "
    "task: Koch et al.'s Siamese network 92.0%, people 95.5% at 20-way 1-shot); **random** episodes "
    "mix alphabets, which is easier.")
matcher = resources.require_matcher()
ev, problem = evaluation.evaluation_set()
if ev is None:
    st.error("The Omniglot evaluation alphabets are not available, so there is nothing to evaluate on.")
    st.text(problem)
    st.stop()

c1, c2, c3, c4 = st.columns(4)
protocol = c1.radio("Protocol", PROTOCOLS)
way = c2.select_slider("N (way)", [2, 5, 10, 20], 20)
shot = c3.select_slider("K (shot)", [1, 2, 5], 1)
episodes = c4.number_input("Episodes", 10, 500, max(40, -(-400 // way)), help="At least 400 queries "
                           "give a 95% interval of about ±3 points.")

if st.button("Run", type="primary"):
    emb = evaluation.evaluation_embeddings(matcher.model_id, matcher)
    bar = st.progress(0.0, text="episodes")
    res = evaluate(emb, ev.labels, ev.alphabet_of_image, ev.drawers, way, shot, protocol, episodes=int(episodes),
                   seed=0, progress=lambda d, t: bar.progress(d / t, text=f"episode {d} of {t}"))
    st.session_state["evaluation"] = (matcher.model_id, res)

if "evaluation" in st.session_state and st.session_state["evaluation"][0] == matcher.model_id:
    res = st.session_state["evaluation"][1]
    st.metric(f"{res.way}-way {res.shot}-shot, {res.protocol}", f"{100 * res.accuracy:.1f}%",
              help=f"95% Wilson interval {100 * res.ci_low:.1f}–{100 * res.ci_high:.1f}% over "
                   f"{res.n_queries} queries")
    st.caption(f"95% interval {100 * res.ci_low:.1f}–{100 * res.ci_high:.1f}% over {res.n_queries} queries; "
               f"chance is {100 / res.way:.0f}%.")

    def img(i):
        return to_display(ev.images[i], scale=2)

    st.subheader("A few episodes")
    st.caption("First row: the support set, one drawing per character, numbered. Second row: the queries, "
               "a new drawing of each character in the same order, marked ✓ when the nearest support is its "
               "own character, or ✗ → n when it was taken for support number n.")
    for n, ep in enumerate(res.episodes[:3]):
        st.text(f"Episode {n + 1} ({alphabet_name(ev.alphabets[ev.alphabet_of_image[ep.queries[0]]])}): "
                f"{int(ep.correct.sum())} of {len(ep.queries)} queries right.")
        st.image([img(i) for i in ep.support[:, 0]], width=48, caption=[str(k + 1) for k in range(len(ep.support))])
        st.image([img(i) for i in ep.queries], width=48,
                 caption=["✓" if ok else f"✗ → {p + 1}" for ok, p in zip(ep.correct, ep.predicted)])

    st.subheader("Most confused characters")
    pairs = confused_pairs(res, ev.labels)
    if not pairs:
        st.write("No mistakes.")
    for true, pred, count in pairs:
        a = np.flatnonzero(ev.labels == true)[0]
        b = np.flatnonzero(ev.labels == pred)[0]
        cols = st.columns([1, 1, 4])
        cols[0].image(img(a), width=56)
        cols[1].image(img(b), width=56)
        cols[2].text(f"{character_name(ev.characters[true])}\ntaken for {character_name(ev.characters[pred])}, "
                     + ("once" if count == 1 else f"{count} times"))

st.subheader("Embedding map of one alphabet")
alphabet = st.selectbox("Alphabet", list(ev.alphabets), format_func=alphabet_name)
if st.button("Draw the map"):
    import altair as alt
    from sklearn.decomposition import PCA

    emb = evaluation.evaluation_embeddings(matcher.model_id, matcher)
    a = int(np.flatnonzero(ev.alphabets == alphabet)[0])
    idx = np.flatnonzero(ev.alphabet_of_image == a)
    xy = PCA(n_components=2, random_state=0).fit_transform(emb[idx])
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "character": [ev.characters[c].split("/")[1] for c in ev.labels[idx]],
                       "drawer": ev.drawers[idx]})
    chart = alt.Chart(df).mark_circle(size=60).encode(
        x=alt.X("x", title="PC 1"), y=alt.Y("y", title="PC 2"),
        color=alt.Color("character:N", legend=None, scale=alt.Scale(scheme="category20")),
        tooltip=["character", "drawer"])
    st.altair_chart(chart, width="stretch")
    st.caption(f"{len(idx)} drawings (20 per character) projected on the first two principal components; "
               "one colour per character. Tight same-colour clusters are what one-shot matching needs.")
