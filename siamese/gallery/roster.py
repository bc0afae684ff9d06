"""The class roster: students joining under a display name unique in the class, finding a
student by their identity token, listing the class and resetting it (:mod:`siamese.classroom` has
the roles and permissions). A part of :class:`siamese.gallery.gallery.Gallery`."""
from __future__ import annotations

import time

from siamese.classroom import TEACHER_OWNER, Action, Actor, IdentityError, Role, new_token, require, token_hash
from siamese.gallery.errors import GalleryError
from siamese.gallery.names import TEACHER_NAME, clean_name, person_key

_RESET = ("Your teacher has started a new class since you joined, so your old name and symbols are gone. "
          "Pick your name to join again.")


class Roster:
    """Who is in the class. Needs ``_connect()`` and ``_write()`` (:class:`~siamese.gallery.gallery.Gallery`)."""

    def join_class(self, display_name: str) -> tuple[str, Actor]:
        """Add a student under the display name they chose, unique in the class (#24: a label must
        say truthfully whose a symbol is; two "Sam"s could not be told apart, and a second "Ana"
        would pass for the first).

        Returns:
            ``(identity token, the student)``. The token is returned here only; the database
            keeps its hash (:func:`siamese.classroom.token_hash`).

        Raises:
            GalleryError: a name :func:`clean_name` refuses (empty, blank, too long, invisible
                control characters, the owner separator); the teacher's name or one reading like
                it ("teacher!"); the name of a student of this class, or one reading like it
                (:func:`person_key`; checked in the write, so two joining at once cannot both
                take it). Labels then always say whose a symbol is (:func:`symbol_label`).
        """
        name = clean_name(display_name, "your name")
        if person_key(name) == person_key(TEACHER_NAME) or not person_key(name):
            raise GalleryError(f"“{name}” would read as the teacher's name (or as no name) next to your symbols; "
                               "please type your own name.")
        token = new_token()
        with self._write() as con:
            taken = [n for (n,) in con.execute("SELECT name FROM owners WHERE id != ? AND retired = 0",
                                               (TEACHER_OWNER,)) if person_key(n) == person_key(name)]
            if taken:
                raise GalleryError(f"Someone in this class is already called “{taken[0]}”, so your symbols would look like "
                                   "theirs. Add an initial or a nickname (e.g. “Ana B.”).")
            owner = con.insert("INSERT INTO owners (name, token_hash) VALUES (?, ?)", (name, token_hash(token)))
        return token, Actor(Role.STUDENT, owner, name)

    def student(self, token) -> Actor:
        """The student an identity token belongs to.

        Raises:
            IdentityError: a malformed token, one this server never issued, or one from before the
                teacher reset the class.
        """
        digest = token_hash(token)
        with self._connect() as con:
            row = con.execute("SELECT id, name, retired FROM owners WHERE token_hash = ?", (digest,)).fetchone()
        if row is None:
            raise IdentityError("This server does not know the student in this address (was it made for another "
                                "server?). Pick your name to join the class.")
        if row[2]:
            raise IdentityError(_RESET)
        return Actor(Role.STUDENT, row[0], row[1])

    def students(self) -> list[dict]:
        """The class: ``[{"owner", "name", "symbols"}]`` of every student who joined since the last
        reset, in joining order."""
        with self._connect() as con:
            rows = con.execute("SELECT o.id, o.name, COUNT(s.id) FROM owners o "
                               "LEFT JOIN symbols s ON s.owner_id = o.id "
                               "WHERE o.id != ? AND o.retired = 0 GROUP BY o.id ORDER BY o.id",
                               (TEACHER_OWNER,)).fetchall()
        return [{"owner": o, "name": n, "symbols": c} for o, n, c in rows]

    def reset_class(self, actor: Actor) -> tuple[int, int]:
        """Start a new class: every student's symbols and experiment answers are deleted, every
        experiment round still open is ended, and every student identity is retired (their links
        then say so). The teacher's symbols and all sets stay.

        Returns:
            ``(students retired, symbols deleted)``.

        Raises:
            PermissionDenied: not the teacher.
        """
        require(actor, Action.RESET_CLASS)
        with self._write() as con:
            touched = [r[0] for r in con.execute("SELECT DISTINCT set_id FROM symbols WHERE owner_id != ?",
                                                 (TEACHER_OWNER,))]
            deleted = con.execute("DELETE FROM symbols WHERE owner_id != ?", (TEACHER_OWNER,)).rowcount
            con.execute("DELETE FROM answers WHERE owner_id != ?", (TEACHER_OWNER,))
            con.execute("UPDATE rounds SET state = 'ended', ended = ? WHERE state = 'open'",
                        (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),))
            con.executemany("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", [(i,) for i in touched])
            retired = con.execute("UPDATE owners SET retired = 1 WHERE id != ? AND retired = 0",
                                  (TEACHER_OWNER,)).rowcount
        return retired, deleted

    @staticmethod
    def _check_current(con, actor: Actor) -> None:
        """Inside a write: a student retired by a reset since their page loaded writes nothing."""
        if actor.role is Role.STUDENT:
            row = con.execute("SELECT retired FROM owners WHERE id = ?", (actor.owner,)).fetchone()
            if row is None or row[0]:
                raise IdentityError(_RESET)
