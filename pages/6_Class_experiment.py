"""Class experiment: the class and the model on the same one-shot trials (round 1), and drawings the
model learns from at once (round 2). Teacher, student and projector views (ui/experiment/)."""
import streamlit as st

from ui import experiment

st.title("Class experiment")
experiment.page()
