"""One-shot learning with Siamese networks: the core of the app (no Streamlit in here).

Public API: :func:`load_matcher` (see :mod:`siamese.embedding.matcher`).
"""
from siamese.embedding.matcher import Matcher, ModelLoadError, load_matcher

__all__ = ["Matcher", "ModelLoadError", "load_matcher"]
