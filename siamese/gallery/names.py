"""Names people type and read: symbols, sets and display names, judged by what a person sees
(:func:`clean_name`), the keys that tell two names apart as a reader would (:func:`name_key`,
:func:`person_key`) and a symbol's label with its owner (:func:`symbol_label`). No database here:
:class:`siamese.gallery.gallery.Gallery` applies these rules inside its writes."""
from __future__ import annotations

import unicodedata

from siamese.gallery.errors import GalleryError

MAX_NAME = 40
"""Longest symbol name (or display name), characters."""

MAX_MARKS = 16
"""Most code points in one user-perceived character (an emoji family is 7, a flag of a region
7, a kiss with two skin tones 10); beyond it, stacked marks ("Zalgo" text) overflow their line."""
_JOINERS = {"\u200c", "\u200d"}  # zero-width non-joiner (the Persian half-space) and joiner
_JOINING_SCRIPTS = ("ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "MANDAIC", "PHAGS-PA", "MANICHAEAN",
                    "PSALTER PAHLAVI", "HANIFI ROHINGYA", "SOGDIAN", "ADLAM")
"""Scripts whose letters join, where a non-joiner changes what a word looks like (Unicode
Standard, chapter 9; RFC 5892 appendix A.1 states the same rule by joining type)."""


def _neighbour(name: str, i: int, step: int) -> str:
    """The nearest character to ``name[i]`` in direction ``step`` that is not a combining mark
    or a variation selector ("" at either end)."""
    i += step
    while 0 <= i < len(name) and unicodedata.category(name[i]) in ("Mn", "Me"):
        i += step
    return name[i] if 0 <= i < len(name) else ""


def _visible_format_char(name: str, i: int) -> bool:
    """Whether the invisible format character ``name[i]`` (category Cf) does visible work here.

    Allowed, as in the contexts of RFC 5892 appendix A and Unicode's emoji sequences (UTS #51):
    a joiner after a virama (Indic conjuncts); a non-joiner between two letters of a joining
    script (Persian ``می‌خواهم``); a joiner between two emoji (``👩‍💻``); tag characters
    after a black flag (the flags of Scotland or Wales). Anything else (bidirectional overrides
    and isolates, zero-width spaces, a joiner at either end or between Latin letters) makes no
    visible difference or disguises the name, and is refused.
    """
    c = name[i]
    before, after = _neighbour(name, i, -1), _neighbour(name, i, +1)
    if c in _JOINERS and i > 0 and unicodedata.combining(name[i - 1]) == 9:
        return True  # after a virama
    if c == "\u200c":
        return all(x and unicodedata.category(x).startswith("L")
                   and unicodedata.name(x, "").startswith(_JOINING_SCRIPTS) for x in (before, after))
    if c == "\u200d":
        return bool(before and after) and unicodedata.category(before) in ("So", "Sk") and unicodedata.category(after) == "So"
    if "\U000e0020" <= c <= "\U000e007f":
        return i > 0 and (name[i - 1] == "\U0001f3f4" or "\U000e0020" <= name[i - 1] <= "\U000e007e")
    return False


OWNER_SEPARATOR = " · "
"""Between a symbol's name and its owner's in a class's labels ("star · Ana", :func:`symbol_label`)."""
TEACHER_NAME = "Teacher"
"""The teacher's display name (owner 1 in every database): no student may take it, or one like it."""
_DOTS = {"\u00b7", "\u0387", "\u2022", "\u2027", "\u2219", "\u22c5", "\u30fb", "\uff65", "\u2e31", "\u1427",
         "\u00b8", "\u2981", "\u25cf", "\u25e6", "\u2024", "\u2e33", "\U00010101"}
"""The owner separator's dot and the characters that look like it (middle dots, bullets, dot
operators, the katakana and word-separator middle dots)."""


def symbol_label(name: str, owner_name: str, by_owner: bool) -> str:
    """How a symbol is shown: "star · Ana" where owners are shown (a class's Class symbols), else
    its name. Truthful whatever anyone typed: no name holds the separator or a look-alike
    (:func:`clean_name`), no student is called like the teacher or like another student of the
    class (:meth:`siamese.gallery.roster.Roster.join_class`), so the part after the one " · " is the owner."""
    return f"{name}{OWNER_SEPARATOR}{owner_name}" if by_owner else name


def name_key(name: str) -> str:
    """What two symbol names look like to a reader of the match list: NFKC (full-width and other
    compatibility forms folded), case folded, runs of spaces as one. One owner's symbols in a set
    have different keys: "alpha", "Alpha" and "ALPHA" are one name (#24: three symbols that look
    alike in the match list and on a projector are a trap, not three symbols)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def person_key(name: str) -> str:
    """What a display name reads as: :func:`name_key` with punctuation, spaces and invisible
    characters dropped, letters, digits, marks and symbols (emoji) kept ("Teacher!", "T-eacher"
    and "TEACHER" are all "teacher")."""
    return "".join(c for c in name_key(name) if unicodedata.category(c)[0] in "LNMS")


def _separator_like(name: str) -> bool:
    """Whether ``name`` holds the owner separator's dot or a look-alike. A middle dot between two
    letters (the Catalan "l·l", as Unicode recommends writing it) reads as part of a word and
    is kept."""
    for i, c in enumerate(name):
        if c in _DOTS:
            between_letters = (c == "\u00b7" and 0 < i < len(name) - 1 and name[i - 1].isalpha()
                               and name[i + 1].isalpha())
            if not between_letters:
                return True
    return False


def clean_name(name: str, what: str = "a name for the symbol", separator_ok: bool = False) -> str:
    """Validate and normalise a symbol, set or display name, judged by what a person sees.

    Names are plain text: any script, emoji, HTML or markdown characters are kept as typed and
    always displayed as text, never rendered. Unicode NFC normalisation, surrounding whitespace
    stripped. Invisible format characters pass only where they change what the name looks like
    (see :func:`_visible_format_char`). Length counts user-perceived characters (extended
    grapheme clusters, Unicode UAX #29, via the ``regex`` package), so an emoji family is one.

    Arguments:
        what: what to ask for when the name is empty ("Please type <what>.").
        separator_ok: True for a name that is never part of a symbol's label (a set's name).

    Raises:
        GalleryError: not text; empty or whitespace only; more than ``MAX_NAME`` characters;
            one character stacking more than ``MAX_MARKS`` code points; control characters
            (newlines, tabs, NUL), line or paragraph separators, or invisible characters that can
            disguise a name (bidirectional overrides and isolates, zero-width spaces, stray
            joiners); the owner separator's dot or a look-alike (:data:`OWNER_SEPARATOR`;
            a middle dot between two letters, the Catalan "l·l", is kept), so a label's owner
            part is always the owner's.
    """
    import regex  # third-party: Python's re has no grapheme clusters (\X)

    if not isinstance(name, str):
        raise GalleryError("The name must be text.")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise GalleryError(f"Please type {what}.")
    if len(name) > 20 * MAX_NAME:  # before the grapheme scan: bounded work for any input
        raise GalleryError(f"That name is far too long; please keep it to {MAX_NAME} characters.")
    bad = [i for i, c in enumerate(name) if unicodedata.category(c) in ("Cc", "Zl", "Zp")
           or (unicodedata.category(c) == "Cf" and not _visible_format_char(name, i))]
    if bad:
        raise GalleryError("The name contains invisible control characters; please retype it.")
    clusters = regex.findall(r"\X", name)
    if len(clusters) > MAX_NAME:
        raise GalleryError(f"That name is {len(clusters)} characters long; please keep it to {MAX_NAME}.")
    if max(len(c) for c in clusters) > MAX_MARKS:
        raise GalleryError("One character of the name carries too many accents or marks; please retype it.")
    if not separator_ok and _separator_like(name):
        raise GalleryError(f"The name may not contain “·” or a dot like it: the app writes it between a symbol and its "
                           f"owner (“star{OWNER_SEPARATOR}Ana”). Please use another character.")
    return name
