"""Measurements written into the model card: the evaluation report, open-set calibration, distance
histograms, the 20 official Omniglot runs and the digits-unseen experiment."""
