"""Entry point: ``streamlit run app.py``. Home page (what one-shot learning is, model and data
status) and the navigation to the other pages."""
import streamlit as st

from ui import nav, runtime


def home():
    from ui import classroom, resources, widgets  # TensorFlow loads here, after the navigation is known
    from siamese.gallery.defaults import DIGITS_SET
    from siamese.embedding.card import learned_from, model_summary, never_trained_on

    st.title("One-shot learning with Siamese networks")
    st.markdown(
        "A classifier normally needs many examples of every class. **One-shot learning** recognises a "
        "new class from a single example. A **Siamese network** makes that possible by learning an "
        "*embedding* in which drawings of the same symbol land close together and different symbols "
        "far apart, so a sketch is recognised by its distance to one stored reference per symbol, and "
        "a new symbol needs one drawing and no retraining.")
    classroom.classroom_home_ui()

    matcher, error = resources.get_matcher()
    st.subheader("Model")
    if matcher is None:
        st.error("The model could not be loaded.")
        st.text(error)
    elif "results" in matcher.card:
        card = matcher.card
        rows = card["results"].get("omniglot_evaluation", [])
        within = next((r for r in rows if (r["protocol"], r["way"], r["shot"]) == ("within-alphabet", 20, 1)), None)
        mnist = card["results"].get("mnist_test")
        runs = card.get("official_runs")
        widgets.metric_labels_wrap_ui("model_metrics")
        c1, c2, c3 = st.container(key="model_metrics").columns(3)
        # Labels that fit a third of a 1280 px page on one line (narrower, they wrap): what each
        # number counts, in full, is its help and the captions below.
        c1.metric("Unseen alphabets, 20-way 1-shot", f"{100 * within['accuracy']:.1f}%" if within else "n/a",
                  help="Share of queries right in random within-alphabet episodes on the 20 Omniglot evaluation "
                       "alphabets, never used in training.")
        c2.metric("Official runs, 20-way 1-shot", f"{100 * runs['accuracy']:.1f}%" if runs else "n/a",
                  help="Share of the 400 queries right in the 20 official one-shot runs of Lake et al. 2015.")
        digits = card.get("digits_set")
        if digits:
            c3.metric("Digits set, MNIST test (top-1)", f"{100 * digits['top1']:.1f}%",
                      help="Share of the 10,000 MNIST test digits whose nearest reference in the Digits set is "
                           "their digit.")
        else:
            c3.metric("MNIST, 10-way 1-shot" + ("" if card.get("trained_on_digits") else ", never trained on"),
                      f"{100 * mnist['accuracy']:.1f}%" if mnist else "n/a",
                      help="Share of queries right in 10-way 1-shot episodes of MNIST test digits.")
        if within and runs:
            st.caption(f"Both on alphabets never used in training, 95% intervals: random within-alphabet episodes "
                       f"{100 * within['accuracy']:.1f}% ({100 * within['ci95'][0]:.1f}–{100 * within['ci95'][1]:.1f}, "
                       f"{within['queries']:,} queries); the official runs {runs['correct']}/{runs['trials']} = "
                       f"{100 * runs['accuracy']:.1f}% ({100 * runs['ci95'][0]:.1f}–{100 * runs['ci95'][1]:.1f}), the "
                       "protocol of the published 92.0% (Koch et al. 2015), 95.5% (people) and 96.7% (Bayesian "
                       "Program Learning).")
        if digits:
            st.caption(f"The Digits set ({digits['per_digit']} references per digit) names the nearest reference's "
                       f"digit right for {digits['correct']:,} of the {digits['queries']:,} MNIST test digits "
                       f"({100 * digits['ci95'][0]:.1f}–{100 * digits['ci95'][1]:.1f}); the model never saw them.")
        never = never_trained_on(card)
        st.caption(f"Model {matcher.model_id}: {card.get('architecture', '')}, trained on {learned_from(card)}"
                   f"{'; ' + never if never else ''}. “Looks new” "
                   "is decided per reference set: a sketch matches when a symbol the set does not hold would rarely "
                   "come as close. Details in assets/model_card.json.")
    else:
        st.text(f"Model {matcher.model_id}: {model_summary(matcher.card)}; "
                f"“looks new” beyond distance {matcher.threshold:.2f}.")

    gallery, problems = resources.get_gallery()
    st.subheader("Reference sets")
    for p in problems:
        st.warning(p)
    resources.default_sets_progress_ui()
    st.text("\n".join(f"{s['name']}: {widgets.count(s['symbols'], 'symbol')}, {widgets.count(s['examples'], 'reference')}"
                      for s in gallery.sets()))
    st.caption(DIGITS_SET)

    st.subheader("Try it")
    for target, label in ((nav.DRAW, "Draw & match: sketch a digit or a character"),
                          (nav.REGISTER, "Register: teach the app a new symbol from one sketch"),
                          (nav.TRAIN, "Train the three variants: why a Siamese network works"),
                          (nav.EVALUATE, "One-shot evaluation on alphabets the model has never seen"),
                          (nav.COMPARE, "Compare two sketches: see the distance between two drawings")):
        st.page_link(target, label=label, icon=nav.icon(target))


st.set_page_config(page_title="One-shot learning with Siamese networks", page_icon=nav.icon(nav.DRAW), layout="wide")
runtime.setup()
page = nav.navigation(home)
nav.page_found_ui(page)  # first: it closes a false "Page not found" dialog
nav.sidebar_closes_after_a_choice_ui()
from ui import classroom  # noqa: E402 - light: TensorFlow loads with the model

classroom.session_actor()  # who this session is (teacher, student, solo), for every page
classroom.classroom_sidebar_ui()
classroom.note_page(page.url_path)
if page.url_path not in ("", nav.PAGES[nav.REGISTER][2]):  # Home and Register have the join form of their own
    classroom.rejoin_ui()
page.run()
