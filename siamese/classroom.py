"""The classroom: who may do what when a teacher and a class share one server.

Three roles. The **teacher** unlocks with a passcode set by whoever starts the server; every
other visitor is a **student**, known by a random identity token their browser keeps in its URL;
with no passcode configured, the app has one **solo** user who may do everything (one person on
their own laptop). :data:`PERMISSIONS` is the table of who may do what, as code; the gallery and
the use cases call :func:`require` before every write, so a refused action is refused in the core
whatever the page shows.

Also here: identity tokens (made with :mod:`secrets`, stored only as a hash), the passcode check
(constant-time compare, a back-off after repeated wrong tries), the address students join at, and
its QR code.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import math
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass
from enum import StrEnum

TEACHER_OWNER = 1
"""Owner id of the teacher and of the solo user: every symbol from before the classroom existed,
and every symbol of an imported or default set, belongs to this owner."""


class Role(StrEnum):
    """Who is using a session."""
    SOLO = "solo"
    """No teacher passcode is configured: one user, who may do everything."""
    TEACHER = "teacher"
    STUDENT = "student"


class Action(StrEnum):
    """What a user may ask for; the values complete "Only ... can <action>"."""
    MATCH = "draw and match"
    REGISTER = "register a symbol"
    ADD_EXAMPLE = "add an example to a symbol"
    RENAME = "rename a symbol"
    DELETE_SYMBOL = "delete a symbol"
    IMPORT_SET = "import a set"
    DELETE_SET = "delete a set"
    RESET_CLASS = "reset the class"
    TRAIN = "start or stop a training"
    RUN_ROUND = "start, end, clear or export an experiment round"
    ANSWER = "answer in an experiment round"
    TEACH = "add the class's drawings as examples"


class Scope(StrEnum):
    """On whose things a role may do an action."""
    ANY = "anyone's"
    OWN = "own only"
    NONE = "nobody's"


_STUDENT = {Action.MATCH: Scope.ANY, Action.REGISTER: Scope.OWN, Action.ADD_EXAMPLE: Scope.OWN,
            Action.RENAME: Scope.OWN, Action.DELETE_SYMBOL: Scope.OWN, Action.IMPORT_SET: Scope.NONE,
            Action.DELETE_SET: Scope.NONE, Action.RESET_CLASS: Scope.NONE, Action.TRAIN: Scope.NONE,
            Action.RUN_ROUND: Scope.NONE, Action.ANSWER: Scope.OWN, Action.TEACH: Scope.NONE}
PERMISSIONS: dict[Role, dict[Action, Scope]] = {
    Role.STUDENT: _STUDENT,
    Role.TEACHER: {action: Scope.ANY for action in Action},
    Role.SOLO: {action: Scope.ANY for action in Action},
}
"""Who may do what (README, "In the classroom"). A student registers symbols that are then their
own, renames, deletes and adds examples to those only, watches trainings and may draw and match
against every set; in the class experiment a student answers for themselves only, and only the
teacher runs the rounds and teaches the model the class's drawings; the teacher (and the solo
user) may do everything."""


@dataclass(frozen=True)
class Actor:
    """The user behind a request.

    Attributes:
        role: see :class:`Role`; owner: the owner id their new symbols get (``TEACHER_OWNER`` for
        the teacher and the solo user); name: their display name.
    """
    role: Role
    owner: int
    name: str


SOLO = Actor(Role.SOLO, TEACHER_OWNER, "You")
TEACHER = Actor(Role.TEACHER, TEACHER_OWNER, "Teacher")


class PermissionDenied(PermissionError):
    """An action the actor's role does not allow; the message is meant for the user."""


def may(actor: Actor, action: Action, owner: int | None = None) -> bool:
    """Whether ``actor`` may do ``action`` on something of ``owner``'s.

    Arguments:
        owner: the owner id of the symbol acted on; None for an action that creates something
            the actor will own (registering) or concerns no one's symbol (importing a set).
    """
    scope = PERMISSIONS[actor.role][action]
    return scope is Scope.ANY or scope is Scope.OWN and owner in (None, actor.owner)


def require(actor: Actor, action: Action, owner: int | None = None) -> None:
    """Check :func:`may`.

    Raises:
        PermissionDenied: with a sentence for the user saying who may.
    """
    if not may(actor, action, owner):
        if PERMISSIONS[actor.role][action] is Scope.OWN:
            raise PermissionDenied(f"Only its owner or the teacher can {action}; this one is not yours.")
        raise PermissionDenied(f"Only the teacher can {action}.")


# ---- identity tokens ----
TOKEN_BYTES = 24
"""Random bytes in a student's identity token (192 bits, from :mod:`secrets`): far too many to
guess, so a plain SHA-256 of it is enough to store (no slow key derivation is needed)."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(24): 32 URL-safe base64 characters


class IdentityError(ValueError):
    """A student identity that cannot be used (malformed, unknown, or from before the class was
    reset); the message is meant for the user and never repeats the token."""


def new_token() -> str:
    """A fresh identity token: 32 URL-safe characters, 192 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token) -> str:
    """The SHA-256 hex digest under which a token is stored (the token itself never is).

    Raises:
        IdentityError: not a token this app makes.
    """
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise IdentityError("The student link in this address is damaged, so it does not say who you are. "
                            "Pick your name again to join as a new student.")
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# ---- the teacher passcode ----
PASSCODE_SECRET = "teacher_passcode"
"""Key of the passcode in Streamlit's secrets (``.streamlit/secrets.toml``)."""
PASSCODE_ENV = "SIAMESE_TEACHER_PASSCODE"
"""Environment variable holding the passcode when the secrets do not."""
MAX_PASSCODE = 1024
"""Longest passcode compared, characters; longer input is a wrong try."""
FREE_TRIES = 3
"""Wrong tries in a row before a session must wait."""
BACKOFF_S = 10.0
"""The first wait, seconds; it doubles with every further wrong try, up to ``MAX_WAIT_S``."""
MAX_WAIT_S = 600.0


def configured_passcode(secret=None, environ=os.environ) -> str | None:
    """The teacher passcode: ``secret`` (from Streamlit's secrets) if given, else the environment
    variable ``PASSCODE_ENV``; None when neither holds one (blank counts as none): solo mode."""
    value = secret if secret is not None else environ.get(PASSCODE_ENV)
    if value is None or not str(value).strip():
        return None
    return str(value)


def passcode_fingerprint(passcode: str) -> str:
    """A SHA-256 hex digest of the configured passcode, kept by a session once unlocked (never the
    passcode itself): the unlock holds while the passcode is the same, and ends when whoever runs
    the server changes it."""
    return hashlib.sha256(str(passcode).encode("utf-8", "surrogatepass")).hexdigest()


class PasscodeRefused(ValueError):
    """A refused unlock; the message is meant for the user and never repeats the passcode."""


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass
class PasscodeGate:
    """One session's tries at the teacher passcode.

    After ``FREE_TRIES`` wrong tries in a row the session must wait ``BACKOFF_S`` before the
    next, twice as long after each further wrong one; a right passcode resets the count. The typed
    and the configured passcode are compared as SHA-256 digests with :func:`hmac.compare_digest`,
    so the time taken says nothing about how much of the passcode was right, nor how long it is.
    """
    failures: int = 0
    wait_until: float = 0.0

    def wait_s(self, now: float | None = None) -> float:
        """Seconds before the next try is accepted (0 when it is)."""
        now = time.monotonic() if now is None else now
        return max(0.0, self.wait_until - now)

    def unlock(self, typed, passcode: str, now: float | None = None) -> None:
        """Accept ``typed`` if it is ``passcode``.

        Raises:
            PasscodeRefused: empty (not counted as a try), waiting after wrong tries (not counted),
                or wrong (counted; after ``FREE_TRIES`` in a row, the message gives the wait).
        """
        now = time.monotonic() if now is None else now
        if self.wait_s(now) > 0:
            raise PasscodeRefused(f"Too many wrong tries: wait {math.ceil(self.wait_s(now))} s before trying again.")
        if not isinstance(typed, str) or not typed.strip():
            raise PasscodeRefused("Type the teacher passcode.")
        if len(typed) <= MAX_PASSCODE and hmac.compare_digest(_digest(typed), _digest(passcode)):
            self.failures, self.wait_until = 0, 0.0
            return
        self.failures += 1
        message = "That is not the teacher passcode."
        if self.failures >= FREE_TRIES:
            wait = min(BACKOFF_S * 2 ** (self.failures - FREE_TRIES), MAX_WAIT_S)
            self.wait_until = now + wait
            message += f" After {self.failures} wrong tries in a row, wait {wait:.0f} s before the next one."
        raise PasscodeRefused(message)


# ---- joining ----
def lan_address() -> str:
    """This machine's IPv4 address on its local network: the source address the system would use
    for its default route. Connecting a UDP socket only picks the route and sends no packet; the
    address is TEST-NET-1 (RFC 5737), never used by a real host. ``127.0.0.1`` without a network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def join_url(host: str, port: int, base_path: str = "") -> str:
    """The address a student's browser opens: ``http://host:port/base_path/``."""
    host = f"[{host}]" if ":" in host else host
    path = base_path.strip("/")
    return f"http://{host}:{int(port)}/" + (path + "/" if path else "")


def qr_png(text: str, min_px: int = 480) -> bytes:
    """A QR code of ``text`` as PNG bytes, at least ``min_px`` pixels a side (readable across a
    classroom when projected), with the standard 4-module quiet zone and error correction level M.
    Made with segno (pure Python, ISO/IEC 18004)."""
    import segno  # only the teacher's home page needs it

    qr = segno.make(text, error="m", micro=False)
    side = qr.symbol_size(scale=1, border=4)[0]
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=max(1, math.ceil(min_px / side)), border=4)
    return buf.getvalue()
