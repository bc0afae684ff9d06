"""The gallery's errors, shared by :mod:`siamese.gallery.gallery` and the databases in
:mod:`siamese.gallery.stores`."""
from __future__ import annotations


class GalleryError(ValueError):
    """A request the gallery refuses: bad or duplicate name, unknown set or symbol. The message is
    meant for the user."""


class GalleryUnavailable(GalleryError):
    """The gallery's database cannot serve the request now: it cannot be reached, refuses the
    credentials, was lost in the middle of a call, has a URL this release cannot open, or holds
    another schema version. The message names the database (its URL without the password), says
    whether a write was saved, and what to do."""
