"""N-way K-shot episodes and their evaluation (accuracy with a Wilson interval, verification rates)."""
