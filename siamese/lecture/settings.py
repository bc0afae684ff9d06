"""What a pair-training run of the lecture's three pair models trains on and how
(:class:`PairTrainingSettings`, checked when built), the named presets, and the pairs they ask for."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Dataset = Literal["mnist", "omniglot"]
DATASETS: tuple[str, ...] = get_args(Dataset)


def _whole_number(what: str, value, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{what} must be a whole number of at least {least}, not {value!r}")


@dataclass(frozen=True)
class PairTrainingSettings:
    """What a pair-training run trains on and how; checked when it is built.

    Attributes:
        epochs, batch_size: as in ``Model.fit``; whole numbers ≥ 1.
        n_pairs: training pairs (≥ 2), or None for the full set (120,000 pairs on MNIST: one
            positive and one negative per training image, :func:`siamese.lecture.pairs.mnist_pairs`).
        dataset: ``"mnist"`` (digits) or ``"omniglot"`` (background alphabets).
        seed: whole number ≥ 0; the same pairs and the same starting weights for all variants.
        lecture_init: True builds the Siamese head with Keras's random initial kernel (the
            lecture's exact model); False uses the "close means same" prior.

    Raises:
        ValueError: one line naming the refused value.
    """
    epochs: int
    batch_size: int
    n_pairs: int | None
    dataset: Dataset = "mnist"
    seed: int = 0
    lecture_init: bool = False

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {self.dataset!r}")
        _whole_number("epochs", self.epochs, 1)
        _whole_number("batch size", self.batch_size, 1)
        if self.n_pairs is not None:
            _whole_number("training pairs", self.n_pairs, 2)
        _whole_number("seed", self.seed, 0)
        if not isinstance(self.lecture_init, bool):
            raise ValueError(f"lecture_init must be True or False, not {self.lecture_init!r}")


PRESETS: dict[str, PairTrainingSettings] = {
    # Sized so all three variants finish in about a minute on a 2-core laptop CPU.
    "classroom": PairTrainingSettings(epochs=5, batch_size=64, n_pairs=50_000),
    # The lecture's settings: batch 16, 10 epochs, the full 60k-image pair set (120,000 pairs).
    "lecture": PairTrainingSettings(epochs=10, batch_size=16, n_pairs=None),
}
"""The named settings (Train page and ``python -m siamese compare --preset``); change the dataset,
seed or initialisation with :func:`dataclasses.replace`."""


def pairs_for(settings: PairTrainingSettings):
    """The :class:`siamese.lecture.pairs.PairData` the settings ask for (raises DatasetError without data)."""
    from siamese.lecture import pairs

    build = pairs.mnist_pairs if settings.dataset == "mnist" else pairs.omniglot_pairs
    return build(settings.n_pairs, seed=settings.seed)
