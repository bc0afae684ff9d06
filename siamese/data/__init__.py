"""Datasets (MNIST, Omniglot, pen digits), preprocessing of a drawing into a model input, and the
8-bit codec the gallery stores inputs in."""
