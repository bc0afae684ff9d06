"""The gallery's errors, shared by :mod:`siamese.gallery.gallery` and the databases in
:mod:`siamese.gallery.stores`."""
from __future__ import annotations


class GalleryError(ValueError):
    """A request the gallery refuses: bad or duplicate name, unknown set or symbol. The message is
    meant for the user."""


class StaleChoice(GalleryError):
    """The symbol or set a page showed, and an action was asked for, changed or vanished since
    (another tab, its owner, the teacher): the action is refused, never redirected to another
    thing. The message says what happened and asks to choose again."""


class GalleryUnavailable(GalleryError):
    """The gallery's database cannot serve the request now: it cannot be reached, refuses the
    credentials, was lost in the middle of a call, has a URL this release cannot open, or holds
    another schema version. The message names the database (its URL without the password), says
    whether a write was saved, and what to do."""
