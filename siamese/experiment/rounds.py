"""Rounds and answers of the class experiment, kept in the gallery database.

One round is open at a time (starting one ends the one before). A student answers each trial of
an open round once: the first answer stored counts, a second tap is refused with a message saying
so and changes nothing; nothing is stored after the round has ended. Answers belong to the student
who gave them; a class reset (:meth:`siamese.gallery.gallery.Gallery.reset_class`) deletes them and ends
the open round. Only the teacher (or the solo user) starts, ends, clears and exports a round, and
adds the class's drawings as examples (:data:`siamese.classroom.PERMISSIONS`).
"""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from siamese.classroom import Action, Actor, require
from siamese.data.codec import bytes_to_input, input_to_bytes
from siamese.gallery.errors import GalleryError
from siamese.gallery.gallery import Gallery

MAX_PROMPTS = 10
MAX_ANSWER_MS = 3_600_000
"""Longest time to answer kept, milliseconds (an hour); a longer or negative time is stored as unknown."""


class RoundKind(StrEnum):
    RECOGNISE = "recognise"
    """Round 1: tap the candidate that shows the query's character."""
    DRAW = "draw"
    """Round 2: draw the prompted symbol for the model."""


class RoundState(StrEnum):
    OPEN = "open"
    ENDED = "ended"


class ExperimentError(GalleryError):
    """A request about a round the experiment refuses (unknown or ended round, trial out of range,
    candidate not in the trial, empty drawing); the message is meant for the user."""


def _require_round(con, round_id: int) -> None:
    """Raise :class:`ExperimentError` unless round ``round_id`` exists (inside a write)."""
    if con.execute("SELECT 1 FROM rounds WHERE id = ?", (int(round_id),)).fetchone() is None:
        raise ExperimentError(f"There is no round {round_id}.")


@dataclass(frozen=True)
class Trial:
    """One recognition trial: ``query`` and ``candidates`` are image indices into the Omniglot
    evaluation split (``siamese.data.datasets.load_omniglot("evaluation")``); ``answer`` and ``model`` are
    positions in ``candidates`` (the right one, the model's); ``distances`` the model's (K,)."""
    alphabet: str
    query: int
    candidates: tuple
    answer: int
    model: int
    distances: tuple


@dataclass(frozen=True)
class Prompt:
    """One symbol to draw in round 2: its name, the gallery symbol id and the example shown."""
    symbol: str
    symbol_id: int
    example_id: int


@dataclass(frozen=True)
class Round:
    """A round as stored: ``trials`` for a recognition round, ``prompts`` (and ``set_name``) for a
    drawing round; ``taught``: the drawings were added as examples (round 2)."""
    id: int
    kind: RoundKind
    state: RoundState
    created: str
    ended: str | None
    trials: tuple = ()
    prompts: tuple = ()
    set_name: str = ""
    alphabet: str = ""
    way: int = 0
    seed: int = 0
    taught: bool = False

    @property
    def size(self) -> int:
        """Trials (round 1) or prompts (round 2)."""
        return len(self.trials) if self.kind is RoundKind.RECOGNISE else len(self.prompts)


@dataclass(frozen=True)
class Answer:
    """One stored answer: ``choice`` a candidate position (round 1); ``guess``/``distance``/
    ``verdict`` the model's on the student's drawing (round 2); ``ms`` the time to answer (None
    when unknown)."""
    id: int
    round_id: int
    owner: int
    name: str
    trial: int
    choice: int | None
    ms: int | None
    guess: str | None
    distance: float | None
    verdict: str | None
    created: str


@dataclass(frozen=True)
class Stored:
    """What an answer call did: ``answer`` is the answer that counts; ``new`` is False when the
    student had already answered this trial (then ``message`` says the first answer counts)."""
    answer: Answer
    new: bool
    message: str


_ANSWER_COLUMNS = ("a.id, a.round_id, a.owner_id, o.name, a.trial, a.choice, a.ms, a.guess, a.distance, a.verdict, "
                   "a.created")


def now() -> str:
    """The time as the gallery stores it: UTC, ``YYYY-MM-DD HH:MM:SS`` (SQLite's ``CURRENT_TIMESTAMP``)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def _answer(row) -> Answer:
    return Answer(int(row[0]), int(row[1]), int(row[2]), row[3], int(row[4]), None if row[5] is None else int(row[5]),
                  None if row[6] is None else int(row[6]), row[7], None if row[8] is None else float(row[8]),
                  row[9], row[10])


def _round(row) -> Round:
    rid, kind, spec, state, created, ended = row
    s = json.loads(spec)
    kind = RoundKind(kind)
    common = dict(id=int(rid), kind=kind, state=RoundState(state), created=created, ended=ended)
    if kind is RoundKind.RECOGNISE:
        trials = tuple(Trial(t["alphabet"], t["query"], tuple(t["candidates"]), t["answer"], t["model"],
                             tuple(t["distances"])) for t in s["trials"])
        return Round(**common, trials=trials, alphabet=s["alphabet"], way=s["way"], seed=s["seed"])
    prompts = tuple(Prompt(p["symbol"], p["symbol_id"], p["example_id"]) for p in s["prompts"])
    return Round(**common, prompts=prompts, set_name=s["set_name"], taught=bool(s.get("taught")))


class Experiment:
    """The experiment's use cases over one gallery database (several servers may share it).

    Every write takes the :class:`~siamese.classroom.Actor` asking, checks
    :func:`siamese.classroom.require` first, and runs in one write transaction of the gallery
    (serialised with every other write to the database), so "already answered?" and "still open?"
    hold until the answer is committed: 40 students answering at once store 40 answers, once each.
    """

    def __init__(self, gallery: Gallery):
        self.gallery = gallery

    # ---- the teacher ----
    def start_recognition(self, trials: list[dict], *, alphabet: str, way: int, seed: int, actor: Actor) -> Round:
        """Open a round 1 with ``trials`` from :func:`siamese.experiment.trials.model_answers`
        (each with the model's answer); ends the round that was open.

        Raises:
            PermissionDenied: not the teacher (or the solo user).
            ExperimentError: no trials.
        """
        require(actor, Action.RUN_ROUND)
        if not trials:
            raise ExperimentError("A round needs at least one trial.")
        spec = {"alphabet": alphabet, "way": int(way), "seed": int(seed),
                "trials": [{k: t[k] for k in ("alphabet", "query", "candidates", "answer", "model", "distances")}
                           for t in trials]}
        return self._start(RoundKind.RECOGNISE, spec)

    def start_drawing(self, set_name: str, symbols: list[str] | None = None, *, actor: Actor) -> Round:
        """Open a round 2 prompting up to :data:`MAX_PROMPTS` symbols of ``set_name`` (``symbols``:
        their names; None: the first ten), each shown with its first stored example.

        Raises:
            PermissionDenied: not the teacher.
            ExperimentError: unknown set, no symbols, more than ten, a name not in the set.
        """
        require(actor, Action.RUN_ROUND)
        if not self.gallery.has_set(set_name):
            raise ExperimentError(f"There is no reference set called {set_name!r}.")
        listed = self.gallery.symbols(set_name)
        by_name = {}
        for s in listed:
            by_name.setdefault(s["name"], s)
        names = list(by_name)[:MAX_PROMPTS] if symbols is None else list(dict.fromkeys(symbols))
        if not names:
            raise ExperimentError(f"{set_name} has no symbols to draw.")
        if len(names) > MAX_PROMPTS:
            raise ExperimentError(f"A round prompts at most {MAX_PROMPTS} symbols, not {len(names)}.")
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ExperimentError(f"{set_name} has no symbol called {', '.join(map(repr, missing))}.")
        spec = {"set_name": set_name, "prompts": [{"symbol": n, "symbol_id": by_name[n]["id"],
                                                   "example_id": by_name[n]["example_id"]} for n in names]}
        return self._start(RoundKind.DRAW, spec)

    def _start(self, kind: RoundKind, spec: dict) -> Round:
        with self.gallery._write() as con:
            con.execute("UPDATE rounds SET state = 'ended', ended = ? WHERE state = 'open'", (now(),))
            rid = con.insert("INSERT INTO rounds (kind, spec) VALUES (?, ?)", (kind.value, json.dumps(spec)))
        return self.round(rid)

    def end(self, round_id: int, *, actor: Actor) -> Round:
        """End a round: no answer is stored after this. Ending an ended round changes nothing.

        Raises:
            PermissionDenied: not the teacher; ExperimentError: unknown round.
        """
        require(actor, Action.RUN_ROUND)
        with self.gallery._write() as con:
            _require_round(con, round_id)
            con.execute("UPDATE rounds SET state = 'ended', ended = ? WHERE id = ? AND state = 'open'",
                        (now(), int(round_id)))
        return self.round(round_id)

    def clear(self, round_id: int, *, actor: Actor) -> int:
        """Delete a round with all its answers (its id is never handed out again).

        Returns:
            the number of answers deleted.

        Raises:
            PermissionDenied: not the teacher; ExperimentError: unknown round.
        """
        require(actor, Action.RUN_ROUND)
        with self.gallery._write() as con:
            _require_round(con, round_id)
            n = con.execute("DELETE FROM answers WHERE round_id = ?", (int(round_id),)).rowcount
            con.execute("DELETE FROM rounds WHERE id = ?", (int(round_id),))
        return n

    def export_csv(self, round_id: int, *, actor: Actor) -> str:
        """The round's answers as CSV (one row per answer, with whether it was right and, in round
        1, the model's answer on the same trial).

        Columns: ``round, kind, trial, student, student_name, choice, right_answer, correct,
        model_choice, model_correct, guess, distance, verdict, ms, created``.

        Raises:
            PermissionDenied: not the teacher; ExperimentError: unknown round.
        """
        require(actor, Action.RUN_ROUND)
        r = self.round(round_id)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["round", "kind", "trial", "student", "student_name", "choice", "right_answer", "correct",
                    "model_choice", "model_correct", "guess", "distance", "verdict", "ms", "created"])
        for a in self.answers(round_id):
            if r.kind is RoundKind.RECOGNISE:
                t = r.trials[a.trial]
                row = [a.choice, t.answer, int(a.choice == t.answer), t.model, int(t.model == t.answer), "", "", ""]
            else:
                p = r.prompts[a.trial]
                row = ["", p.symbol, int(a.guess == p.symbol), "", "", a.guess, a.distance, a.verdict]
            w.writerow([r.id, r.kind.value, a.trial + 1, a.owner, a.name, *row, a.ms, a.created])
        return buf.getvalue()

    # ---- reading ----
    def round(self, round_id: int) -> Round:
        """Raises: ExperimentError: unknown round (never started, or cleared)."""
        with self.gallery._connect() as con:
            row = con.execute("SELECT id, kind, spec, state, created, ended FROM rounds WHERE id = ?",
                              (int(round_id),)).fetchone()
        if row is None:
            raise ExperimentError("This round is over and was cleared by the teacher." if int(round_id) > 0
                                  else f"There is no round {round_id}.")
        return _round(row)

    def current(self) -> Round | None:
        """The latest round (open or ended, not cleared), or None."""
        with self.gallery._connect() as con:
            row = con.execute("SELECT id, kind, spec, state, created, ended FROM rounds ORDER BY id DESC LIMIT 1"
                              ).fetchone()
        return None if row is None else _round(row)

    def answers(self, round_id: int, owner: int | None = None) -> list[Answer]:
        """The round's answers (of ``owner`` only, if given), by trial then in the order stored."""
        sql = (f"SELECT {_ANSWER_COLUMNS} FROM answers a JOIN owners o ON o.id = a.owner_id WHERE a.round_id = ?"
               + (" AND a.owner_id = ?" if owner is not None else "") + " ORDER BY a.trial, a.id")
        with self.gallery._connect() as con:
            rows = con.execute(sql, (int(round_id),) + ((int(owner),) if owner is not None else ())).fetchall()
        return [_answer(r) for r in rows]

    def drawing_inputs(self, round_id: int) -> tuple[list[int], np.ndarray]:
        """The round's drawings as model inputs: ``(answer ids, (n, 28, 28) float32)``."""
        with self.gallery._connect() as con:
            rows = con.execute("SELECT id, model_input FROM answers WHERE round_id = ? AND model_input IS NOT NULL "
                               "ORDER BY trial, id", (int(round_id),)).fetchall()
        return [int(r[0]) for r in rows], (np.stack([bytes_to_input(bytes(r[1])) for r in rows]) if rows
                                          else np.zeros((0, 28, 28), np.float32))

    def drawing_thumbnail(self, answer_id: int) -> bytes:
        with self.gallery._connect() as con:
            row = con.execute("SELECT thumbnail FROM answers WHERE id = ?", (int(answer_id),)).fetchone()
        return b"" if row is None or row[0] is None else bytes(row[0])

    def joined(self) -> list[dict]:
        """The students in the class (see :meth:`siamese.gallery.Gallery.students`)."""
        return self.gallery.students()

    # ---- the students ----
    def _open_trial(self, con, actor: Actor, round_id: int, trial) -> Round:
        self.gallery._check_current(con, actor)
        row = con.execute("SELECT id, kind, spec, state, created, ended FROM rounds WHERE id = ?",
                          (int(round_id),)).fetchone()
        if row is None:
            raise ExperimentError("This round is over and was cleared by the teacher: wait for the next one.")
        r = _round(row)
        if r.state is not RoundState.OPEN:
            raise ExperimentError("This round has ended: your answer was not stored. Wait for the next round.")
        if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)) or not 0 <= int(trial) < r.size:
            raise ExperimentError(f"This round has {r.size} {'trials' if r.kind is RoundKind.RECOGNISE else 'symbols'}"
                                  f"; there is no number {trial!r}.")
        return r

    def _store(self, con, actor, round_id, trial, values: dict) -> Stored:
        found = con.execute(f"SELECT {_ANSWER_COLUMNS} FROM answers a JOIN owners o ON o.id = a.owner_id "
                            "WHERE a.round_id = ? AND a.owner_id = ? AND a.trial = ?",
                            (int(round_id), actor.owner, int(trial))).fetchone()
        if found is not None:
            return Stored(_answer(found), False, "You had already answered this one: your first answer counts.")
        cols = ["round_id", "owner_id", "trial", *values]
        aid = con.insert(f"INSERT INTO answers ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                         (int(round_id), actor.owner, int(trial), *values.values()))
        row = con.execute(f"SELECT {_ANSWER_COLUMNS} FROM answers a JOIN owners o ON o.id = a.owner_id WHERE a.id = ?",
                          (aid,)).fetchone()
        return Stored(_answer(row), True, "Answer stored.")

    @staticmethod
    def _ms(ms) -> int | None:
        try:
            ms = int(ms)
        except (TypeError, ValueError):
            return None
        return ms if 0 <= ms <= MAX_ANSWER_MS else None

    def answer(self, round_id: int, trial: int, choice: int, ms: int | None = None, *, actor: Actor) -> Stored:
        """A student's tap on candidate ``choice`` (a position, 0-based) of ``trial`` (0-based).

        The first answer to a trial counts: a second one changes nothing (``Stored.new`` False).

        Arguments:
            ms: time from the trial shown to the tap, milliseconds (kept if 0..``MAX_ANSWER_MS``).

        Raises:
            PermissionDenied: the actor may not answer (the teacher answers only in solo mode).
            IdentityError: a student retired by a class reset.
            ExperimentError: unknown, cleared or ended round; not a recognition round; trial out of
                range; a candidate that is not in the trial.
        """
        require(actor, Action.ANSWER, actor.owner)
        with self.gallery._write() as con:
            r = self._open_trial(con, actor, round_id, trial)
            if r.kind is not RoundKind.RECOGNISE:
                raise ExperimentError("This round asks for drawings, not taps.")
            way = len(r.trials[int(trial)].candidates)
            if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) or not 0 <= int(choice) < way:
                raise ExperimentError(f"This trial has {way} candidates; {choice!r} is not one of them.")
            return self._store(con, actor, round_id, trial, {"choice": int(choice), "ms": self._ms(ms)})

    def submit_drawing(self, round_id: int, prompt: int, model_input, thumbnail: bytes, guess: str | None,
                       distance: float | None, verdict: str | None, ms: int | None = None, *,
                       actor: Actor) -> Stored:
        """A student's final drawing of ``prompt`` with the model's answer on it.

        Arguments:
            model_input: ``(28, 28) float32`` in [0, 1] from :func:`siamese.data.preprocess.to_model_input`
                (None: the canvas was empty); thumbnail: PNG bytes; guess: the nearest prompted
                symbol's name; distance: its Euclidean distance; verdict: the verdict in words.

        Raises:
            ExperimentError: an empty drawing; see :meth:`answer` for the rest.
        """
        require(actor, Action.ANSWER, actor.owner)
        if model_input is None or not np.any(np.asarray(model_input) > 0):
            raise ExperimentError("The canvas is empty: draw the symbol, then send it.")
        stored = input_to_bytes(np.asarray(model_input, np.float32))
        with self.gallery._write() as con:
            r = self._open_trial(con, actor, round_id, prompt)
            if r.kind is not RoundKind.DRAW:
                raise ExperimentError("This round asks for taps, not drawings.")
            return self._store(con, actor, round_id, prompt, {
                "model_input": stored, "thumbnail": bytes(thumbnail), "guess": guess,
                "distance": None if distance is None else float(distance), "verdict": verdict, "ms": self._ms(ms)})

    # ---- teach it ----
    def teach(self, round_id: int, *, actor: Actor) -> int:
        """Add every drawing of a round 2 as a further example of the symbol it was drawn for (a
        symbol then learns from its K drawings instead of one); once per round.

        Returns:
            the number of examples added.

        Raises:
            PermissionDenied: not the teacher; ExperimentError: not a drawing round, or taught already.
        """
        require(actor, Action.TEACH)
        with self.gallery._write() as con:  # marked first, in the write lock: a second click adds nothing
            row = con.execute("SELECT kind, spec FROM rounds WHERE id = ?", (int(round_id),)).fetchone()
            if row is None:
                raise ExperimentError(f"There is no round {round_id}.")
            spec = json.loads(row[1])
            if row[0] != RoundKind.DRAW.value:
                raise ExperimentError("Only a drawing round's drawings can teach the model.")
            if spec.get("taught"):
                raise ExperimentError("This round's drawings were already added as examples.")
            spec["taught"] = True
            con.execute("UPDATE rounds SET spec = ? WHERE id = ?", (json.dumps(spec), int(round_id)))
            rows = con.execute("SELECT trial, model_input, thumbnail FROM answers WHERE round_id = ? "
                               "AND model_input IS NOT NULL ORDER BY trial, id", (int(round_id),)).fetchall()
        r = _round((round_id, RoundKind.DRAW.value, json.dumps(spec), "ended", "", None))
        added = 0
        for trial, blob, thumb in rows:
            p = r.prompts[int(trial)]
            symbol = self.gallery.symbol(p.symbol_id)
            if symbol is None:
                continue  # the symbol was deleted since the round started
            self.gallery.add_example(symbol["set"], symbol["name"], bytes_to_input(bytes(blob)), bytes(thumb or b""),
                                     new_symbol=False, actor=actor, owner=int(symbol["owner"]))
            added += 1
        return added
