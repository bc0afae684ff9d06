"""Train the lecture's three pair models side by side and watch why the Siamese network wins."""
from dataclasses import replace

import pandas as pd
import streamlit as st

from ui import classroom, nav, train
from siamese.classroom import Action, may
from siamese.lecture.job import JobSnapshot, JobStatus
from siamese.lecture.settings import DATASETS, PRESETS, PairTrainingSettings
from siamese.lecture.models import VARIANTS

st.title("Train the three variants")
st.markdown(
    "Three networks learn to answer *are these two images the same digit?* from the same pairs "
    "(half same, half different): **(1)** two towers with separate weights whose outputs are "
    "concatenated, **(2)** one shared tower, concatenated, **(3)** one shared tower followed by the "
    "**Euclidean distance** between the two embeddings: the Siamese network. Each tower is "
    "Flatten + Dense(128, relu); each model ends in Dense(1, sigmoid) and is trained with binary "
    "cross-entropy and Adam. Pair accuracy counts a prediction as *same* when its probability ≥ 0.5.")

job = train.training_job()
me = classroom.actor()
may_train = me is not None and may(me, Action.TRAIN)
running = job.snapshot().running
locked = running or not may_train  # the controls wait while a training runs; students watch
if not may_train:
    st.info("The teacher starts and stops the training; everyone watches it live here.")

with st.expander("What the lecture claims, and what we measured on this CPU"):
    st.markdown(
        "The lecture claims: (1) separate towers barely beat chance, creeping up about 0.5% per "
        "epoch; (2) a shared tower does a bit better; (3) the Siamese network is above 70% in its "
        "first epoch. Measured with seed 0 on MNIST pairs (validation pairs from the test digits):\n\n"
        "| run | (1) separate | (2) shared | (3) Siamese |\n|---|---|---|---|\n"
        "| Lecture settings, epoch 1 → 10 | 50.2% → 50.1% (train 49.7% → 52.6%) | 50.1% → 50.2% "
        "(train 49.9% → 50.6%) | 90.4% → 91.5% |\n\n"
        "So (1) holds for *training* accuracy only: the model memorises its pairs and stays at chance "
        "on new ones. (2) does not hold here: sharing the tower halves the parameters but the "
        "concatenation still has no notion of comparison. (3) holds, but only because our Siamese "
        "head starts with weight −1 (\"close means same\"). With the lecture's random start it "
        "depends on luck: seed 0 learns, seeds 1 and 2 stay at exactly 50% (tick the box below and "
        "set the seed to see it).")

with st.expander("Peek at the pairs", expanded=False):
    peek = train.peek_pairs()
    if peek is None:
        st.info("MNIST is not available, so there are no pairs to show.")
    else:
        cols = st.columns(8)
        for col, (a, b, same) in zip(cols, peek):
            with col:
                st.image([a, b], width=56)
                st.caption("same (1)" if same else "different (0)")

with st.expander("The three models (Keras summaries)"):
    for key, (name, params, summary) in train.variant_summaries().items():
        st.markdown(f"**{name}**: {params:,} parameters")
        st.code(summary, language=None)

c1, c2, c3 = st.columns(3)
dataset = c1.radio("Data", list(DATASETS), format_func={"mnist": "MNIST digits",
                   "omniglot": "Omniglot background alphabets"}.get, disabled=locked)
preset = c2.radio("Preset", [*PRESETS, "manual"], disabled=locked,
                  format_func={"classroom": "Classroom (about a minute)",
                               "lecture": "Lecture settings (batch 16, 10 epochs, all 120,000 pairs)",
                               "manual": "Manual"}.get)
if preset == "manual":
    settings = PairTrainingSettings(
        epochs=c3.slider("Epochs", 1, 20, 3, disabled=locked),
        batch_size=c3.select_slider("Batch size", [16, 32, 64, 128, 256], 64, disabled=locked),
        n_pairs=c3.select_slider("Training pairs", [2_000, 10_000, 30_000, 60_000, 120_000], 30_000,
                                 disabled=locked))
else:
    settings = PRESETS[preset]
    n = "all" if settings.n_pairs is None else f"{settings.n_pairs:,}"
    c3.markdown(f"{settings.epochs} epochs, batch {settings.batch_size}, {n} training pairs")
s1, s2 = st.columns([1, 3])
seed = s1.number_input("Seed", 0, 99, 0, disabled=locked,
                       help="Same seed, same pairs and same starting weights for all three models.")
lecture_init = s2.checkbox(
    "Siamese head with the lecture's random initialisation", disabled=locked,
    help="By default the last Dense of the Siamese model starts with weight -1 and bias +1: a prior "
         "that a small distance means 'same'. With a random start, a positive weight says 'far apart "
         "means same'; training then shrinks every distance to zero instead of flipping the sign and "
         "the model sticks at 50% (about 3 runs in 4 on MNIST). Tick it to see that happen.")

b1, b2 = st.columns([1, 5])
if b1.button("Train", type="primary", disabled=locked):
    if not job.start(replace(settings, dataset=dataset, seed=int(seed), lecture_init=lecture_init), me):
        st.warning("A training is already running on this server: watch it below.")
    st.rerun()
if b2.button("Stop", disabled=not running or not may_train):
    job.stop(me)


@st.fragment(run_every=2.0)
def live(controls_locked: bool):
    """Redrawn every 2 s: progress, charts, and at the end the results (not more often: on 2
    cores the redraws slow the training)."""
    snap = job.snapshot()
    history = snap.history
    if snap.status is JobStatus.IDLE:
        st.info("Press Train. Everyone on this server sees the same training: one at a time.")
        return
    if snap.running:
        current = VARIANTS[history.current][0] if history.current else "…"
        st.progress(snap.progress, text=f"{snap.status}: {current}")
    elif snap.error:
        st.error("Training failed; the app is still usable.")
        st.text(snap.error)
    if snap.pairs_description is not None:
        st.caption(snap.pairs_description)
    if batches := history.batch_rows():
        train.history_charts(pd.DataFrame(history.epoch_rows()), pd.DataFrame(batches))
    if snap.status is JobStatus.STOPPED and not history.epochs_done:
        st.info("Stopped before the first epoch ended, so there are no epoch results; the within-epoch "
                "curve above is kept.")
    elif not snap.running and history.summaries:
        finished_ui(snap)
        if controls_locked:
            st.rerun(scope="app")  # re-enable the controls


def finished_ui(snap: JobSnapshot):
    st.subheader("Results" + (" (stopped early)" if snap.status is JobStatus.STOPPED else ""))
    st.dataframe(pd.DataFrame(snap.history.results_table()), hide_index=True,
                 column_config={"train pair accuracy": st.column_config.NumberColumn(format="%.3f"),
                                "validation pair accuracy": st.column_config.NumberColumn(format="%.3f")})
    st.markdown("**What this run measured.** " + snap.history.story())
    st.markdown(
        "**Why.** The two concatenating models must learn, from raw pixels, a rule that compares *any* "
        "two images; one Dense unit on two concatenated 128-vectors has no built-in notion of "
        "comparison, so they stay near chance. The Siamese model is given the comparison for free: one "
        "tower maps both images into the same space and the distance between them is all the last "
        "layer sees, so it only has to learn an embedding in which images of the same class are close.")
    st.page_link(nav.COMPARE, icon=nav.icon(nav.COMPARE),
                 label="Draw two sketches and see what each of these three models says about them")
    if not snap.siamese_trained or not may_train:
        return
    saved = snap.saved_path
    if saved is None and st.button("Use this Siamese model for matching"):
        try:
            saved = job.save_siamese(me)
            st.session_state["model_path"] = str(saved)
        except ValueError as exc:
            st.error(str(exc))
    if saved is not None:
        st.success("This Siamese model is saved next to the shipped one. Choose it in the sidebar's "
                   "Model list on Draw & match (it is already selected if you saved it).")

live(running)
