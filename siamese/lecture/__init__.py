"""The lecture's three pair models (separate towers, shared tower, Siamese distance), their pairs,
their training, the saved run and the background training job of the Train page."""
