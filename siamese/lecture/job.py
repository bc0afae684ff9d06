"""The server-wide training job: one pair-training run at a time per server process, in a
background thread, read by every session through a :class:`JobSnapshot`; only who may train
(:data:`siamese.classroom.Action.TRAIN`) starts, stops or saves."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from siamese.classroom import Action, Actor, require
from siamese.lecture.models import VARIANTS
from siamese.lecture.saved_run import save_run
from siamese.lecture.settings import PairTrainingSettings, pairs_for
from siamese.lecture.training import Comparison, History, compare_variants


class JobStatus(StrEnum):
    """Where the server's training job is: IDLE until the first start, then BUILDING_PAIRS →
    TRAINING → FINISHED, STOPPED (Stop pressed) or FAILED (from either running state). A start is
    refused while running and accepted from any other status. The value is the progress bar's
    label on the Train page."""
    IDLE = "idle"
    BUILDING_PAIRS = "building pairs"
    TRAINING = "training"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def running(self) -> bool:
        return self in (JobStatus.BUILDING_PAIRS, JobStatus.TRAINING)


@dataclass(frozen=True)
class JobSnapshot:
    """The training job as one reader sees it at one moment (all fields taken under one lock).

    Attributes:
        settings: the run's settings; None before the first start.
        history: its :class:`History` so far.
        pairs_description: what the pairs were built from; None until they are built.
        error: ``"ExceptionType: message"`` when the status is FAILED.
        saved_path: where :meth:`TrainingJob.save_siamese` saved the Siamese tower, or None.
    """
    status: JobStatus = JobStatus.IDLE
    settings: PairTrainingSettings | None = None
    history: History = field(default_factory=History)
    pairs_description: str | None = None
    error: str | None = None
    saved_path: Path | None = None

    @property
    def running(self) -> bool:
        return self.status.running

    @property
    def progress(self) -> float:
        """Epochs finished over epochs planned, in [0, 1]."""
        if self.settings is None:
            return 0.0
        return min(self.history.epochs_done / (self.settings.epochs * len(VARIANTS)), 1.0)

    @property
    def siamese_trained(self) -> bool:
        """The run has a finished Siamese model (one that :meth:`TrainingJob.save_siamese` can save)."""
        s = self.history.summaries.get("siamese")
        return s is not None and s.seconds is not None


class TrainingJob:
    """One comparison at a time per server process, run in a background thread.

    Every session reads the same job, so a second user sees the running training and its live
    chart instead of starting another one; clicks elsewhere never lose the results so far.
    Readers take a :meth:`snapshot`.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._status = JobStatus.IDLE
        self._settings: PairTrainingSettings | None = None
        self._result: Comparison | None = None
        self._pairs_description: str | None = None
        self._error: str | None = None
        self._saved_path: Path | None = None

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(self._status, self._settings,
                               History() if self._result is None else self._result.snapshot(),
                               self._pairs_description, self._error, self._saved_path)

    def start(self, settings: PairTrainingSettings, actor: Actor) -> bool:
        """Start a comparison unless one is running.

        Returns:
            False if a training is already running (nothing is started).

        Raises:
            PermissionDenied: a student (students watch; the teacher starts and stops).
        """
        require(actor, Action.TRAIN)
        with self._lock:
            if self._status.running:
                return False
            self._stop, self._result = threading.Event(), Comparison()
            self._settings, self._status = settings, JobStatus.BUILDING_PAIRS
            self._pairs_description = self._error = self._saved_path = None
            threading.Thread(target=self._run, args=(settings, self._stop, self._result),
                             name="compare-variants", daemon=True).start()
            return True

    def stop(self, actor: Actor) -> None:
        """Ask the running training to stop within a batch.

        Raises:
            PermissionDenied: a student.
        """
        require(actor, Action.TRAIN)
        self._stop.set()

    def save_siamese(self, actor: Actor) -> Path:
        """Save the finished run's Siamese tower for matching, once (later calls return the same
        path): it is then offered to everyone on this server, so only who may train may save.

        Raises:
            PermissionDenied: a student.
            ValueError: there is no trained Siamese model, or it collapsed.
        """
        from siamese.embedding.user_models import save_siamese_tower

        require(actor, Action.TRAIN)
        with self._lock:
            if self._saved_path is None:
                if self._status.running or self._result is None or "siamese" not in self._result.models:
                    raise ValueError("There is no finished Siamese model to save.")
                epochs = len(self._result.epochs["siamese"])
                data = {"mnist": "MNIST", "omniglot": "Omniglot"}[self._settings.dataset]
                description = f"{data} Siamese tower, {epochs} epoch{'' if epochs == 1 else 's'}"
                self._saved_path = save_siamese_tower(self._result.models["siamese"], description)
            return self._saved_path

    def _run(self, settings: PairTrainingSettings, stop: threading.Event, result: Comparison):
        try:
            pairs = pairs_for(settings)
            with self._lock:
                self._pairs_description, self._status = pairs.description, JobStatus.TRAINING
            compare_variants(pairs, settings.epochs, settings.batch_size, seed=settings.seed,
                             lecture_init=settings.lecture_init, stop=stop, result=result)
            save_run(result, settings, stopped=stop.is_set())  # for the Compare page, across restarts
            with self._lock:
                self._status = JobStatus.STOPPED if stop.is_set() else JobStatus.FINISHED
        except Exception as exc:  # reported on the page; the app stays usable
            with self._lock:
                self._status, self._error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"
