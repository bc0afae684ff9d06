"""Benchmarks that print numbers (never timed assertions in tests). Run them from the repository
root as modules, ``python -m benchmarks.<name>`` (e.g. ``python -m benchmarks.run --help``): the root
is then on the import path, so the ``siamese`` and ``ui`` packages need no install.

They reuse the tests' harness (``tests/browser.py``, ``tests/helpers.py``, ``tests/pgcluster.py``),
whose modules import one another by their own names, as pytest's ``pythonpath = ["tests"]`` has
them; putting ``tests/`` on the path here, once, is the one reason a benchmark touches ``sys.path``.
"""
import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if TESTS not in sys.path:
    sys.path.append(TESTS)
