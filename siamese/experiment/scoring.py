"""Scores of a round: the class against the model (round 1), drawings one-shot and K-shot (round 2).

Pure functions of stored rounds and answers (no database, no model): the projector computes them
on every rerun.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from siamese.distance import distances
from siamese.fewshot.evaluation import wilson_interval

LAKE_PEOPLE_ACCURACY = 0.955
"""People on the 20 official 20-way 1-shot runs: 95.5% (Lake, Salakhutdinov and Tenenbaum,
Science 2015, "Human-level concept learning through probabilistic program induction")."""


@dataclass(frozen=True)
class TrialScore:
    """One trial: ``answers`` given, ``correct`` of them; ``model_correct`` the model's answer."""
    trial: int
    answers: int
    correct: int
    model_correct: bool

    @property
    def accuracy(self) -> float | None:
        """The class's accuracy on this trial; None before anyone answered."""
        return self.correct / self.answers if self.answers else None

    @property
    def people_right(self) -> bool:
        """More than half the answers to this trial were right."""
        return self.answers > 0 and 2 * self.correct > self.answers


@dataclass(frozen=True)
class RoundScore:
    """Round 1's results.

    Attributes:
        answers, correct: over all answers of the class; ci: 95% Wilson interval of
        ``correct / answers`` (:func:`siamese.fewshot.evaluation.wilson_interval`); model_correct of
        ``trials`` (the model answers every trial once), model_ci its interval; per_trial;
        people_not_model: trials most of the class got right and the model wrong;
        model_not_people: the reverse (trials nobody answered are in neither).
    """
    answers: int
    correct: int
    ci: tuple
    trials: int
    model_correct: int
    model_ci: tuple
    per_trial: tuple
    people_not_model: tuple
    model_not_people: tuple

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None

    @property
    def model_accuracy(self) -> float:
        return self.model_correct / self.trials if self.trials else 0.0


def score_recognition(trials, answers) -> RoundScore:
    """Score round 1.

    Arguments:
        trials: the round's :class:`~siamese.experiment.rounds.Trial` (``answer``, ``model``);
        answers: its :class:`~siamese.experiment.rounds.Answer` (``trial``, ``choice``), one per
            student and trial as stored.
    """
    n = len(trials)
    given, right = [0] * n, [0] * n
    for a in answers:
        if a.choice is None or not 0 <= a.trial < n:
            continue
        given[a.trial] += 1
        right[a.trial] += int(a.choice == trials[a.trial].answer)
    per = tuple(TrialScore(i, given[i], right[i], trials[i].model == trials[i].answer) for i in range(n))
    total, correct = sum(given), sum(right)
    model = sum(t.model_correct for t in per)
    return RoundScore(total, correct, wilson_interval(correct, total), n, model, wilson_interval(model, n), per,
                      tuple(t.trial for t in per if t.people_right and not t.model_correct),
                      tuple(t.trial for t in per if t.answers and not t.people_right and t.model_correct))


@dataclass(frozen=True)
class DrawingScore:
    """Round 2's results: ``per_symbol`` ``{symbol: (right, drawings)}``; ``confusions``
    ``[(prompted, guessed, count)]`` most frequent first (wrong guesses only); ``right``/``total``."""
    right: int
    total: int
    per_symbol: dict
    confusions: tuple

    @property
    def rate(self) -> float | None:
        return self.right / self.total if self.total else None


def score_drawings(prompted, guessed, symbols=None) -> DrawingScore:
    """Recognition rate per prompted symbol and the confusions among them.

    Arguments:
        prompted: ``(n,)`` the symbol each drawing was drawn for; guessed: ``(n,)`` the model's
            guess (None: no guess); symbols: every prompted symbol, in order (those drawn by
            nobody get ``(0, 0)``); default: the prompted ones in order of appearance.
    """
    symbols = list(dict.fromkeys(prompted)) if symbols is None else list(symbols)
    per = {s: [0, 0] for s in symbols}
    wrong = Counter()
    for p, g in zip(prompted, guessed):
        per.setdefault(p, [0, 0])
        per[p][1] += 1
        if g == p:
            per[p][0] += 1
        else:
            wrong[(p, g)] += 1
    right = sum(v[0] for v in per.values())
    return DrawingScore(right, len(prompted), {s: tuple(v) for s, v in per.items()},
                        tuple((p, g, c) for (p, g), c in sorted(wrong.items(), key=lambda kv: (-kv[1], str(kv[0])))))


def rescore_k_shot(drawings: np.ndarray, labels, references: np.ndarray, ref_labels) -> tuple[list, list]:
    """Every drawing's guess against the one stored example of each symbol (one-shot), and against
    those plus the class's other drawings (K-shot), never counting a drawing against itself
    (leave-one-out). A guess is the symbol of the nearest example (Euclidean distance between
    embeddings, as Draw & match ranks symbols).

    Arguments:
        drawings: ``(n, d) float32`` embeddings of the class's drawings; labels: ``(n,)`` the
            symbol each was drawn for; references: ``(m, d) float32`` the symbols' stored
            examples; ref_labels: ``(m,)`` their symbols.

    Returns:
        ``(one-shot guesses, K-shot guesses)``, two lists of ``n`` symbols.
    """
    if not len(labels):
        return [], []
    drawings = np.asarray(drawings, np.float32).reshape(len(labels), -1)
    references = np.asarray(references, np.float32).reshape(len(ref_labels), -1)
    to_refs = distances(drawings, references)
    one = [ref_labels[i] for i in np.argmin(to_refs, axis=1)]
    to_drawings = distances(drawings, drawings)
    np.fill_diagonal(to_drawings, np.inf)  # a drawing is never its own example
    both = np.concatenate([to_refs, to_drawings], axis=1)
    pool = list(ref_labels) + list(labels)
    k = [pool[i] for i in np.argmin(both, axis=1)]
    return one, k
