"""Searching a reference set: the per-revision embedding index, the open-set ("looks new") rule and
the embedding map."""
