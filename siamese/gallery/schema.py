"""The gallery's schema version and the names of the sets every gallery has: imported by
:mod:`siamese.gallery.gallery` and by the databases in :mod:`siamese.gallery.stores` (no cycle)."""
from __future__ import annotations

CLASS_SYMBOLS = "Class symbols"
"""The set everyone registers into: each symbol belongs to its owner (a student, or the teacher)."""
OLD_CLASS_SYMBOLS = "My symbols"
"""Its name up to schema version 2; renamed by the migration."""
DIGITS = "Digits"
OMNIGLOT_PREFIX = "Omniglot: "
SCHEMA_VERSION = 4
"""1: the first release; 2: ids never reused (``AUTOINCREMENT``), so a cache or a page keyed by
an id can never be served another row's data after a delete; 3: owners (the classroom): every
symbol has an owner, names are unique per owner within a set, "My symbols" is "Class symbols";
4: the class experiment's rounds and answers (:mod:`siamese.experiment`), each answer owned by
the student who gave it.
The tables of each database: :mod:`siamese.gallery.stores.sqlite` (with the migrations from 1, 2 and 3),
:mod:`siamese.gallery.stores.postgres`."""
