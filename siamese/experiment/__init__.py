"""The class experiment (issue #25): the whole class and the model on the same one-shot trials.

Round 1 (:class:`RoundKind.RECOGNISE`): N trials, each a query drawing and K candidates (K-way,
5 or 20), one per character of one Omniglot evaluation alphabet, drawn by other people than the
query, never an image of the official runs (:mod:`siamese.experiment.trials`); every student gets
the same trials, and the model's answer (nearest candidate with the shipped embedding) is computed
when the round starts. Round 2 (:class:`RoundKind.DRAW`): students draw up to 10 symbols of a set
for the model; "teach it" adds their drawings as further examples and re-scores every drawing
K-shot against one-shot (:mod:`siamese.experiment.scoring`).

Rounds and answers are rows of the gallery database (schema version 4), written through
:class:`siamese.experiment.rounds.Experiment`, which checks :func:`siamese.classroom.require`
before every write.
"""
from siamese.experiment.rounds import (  # noqa: F401
    Answer, Experiment, ExperimentError, Prompt, Round, RoundKind, RoundState, Stored, Trial)
from siamese.experiment.scoring import (  # noqa: F401
    LAKE_PEOPLE_ACCURACY, DrawingScore, RoundScore, TrialScore, rescore_k_shot, score_drawings, score_recognition)
