"""Writes tests/data/gallery-v2.sqlite3 with the Gallery of the release before the classroom
(commit 663703c, schema version 2), for the migration test. Run from the repository root:

    mkdir -p /tmp/v2/siamese && touch /tmp/v2/siamese/__init__.py
    for f in gallery paths; do git show 663703c:siamese/$f.py > /tmp/v2/siamese/$f.py; done
    PYTHONPATH=/tmp/v2 python tests/data/make_gallery_v2.py

Contents: "My symbols" with star (2 examples), moon and "<b>bold</b>"; an imported set "Class 2B"
(2 symbols); a "Digits" set (kind digits, 2 symbols); embeddings by the tests' FakeMatcher
("fake-1") for every example but the last; a symbol "gone" registered last, then deleted (so the
largest symbol and example ids are unused); the meta key default_sets_v1."""
import sqlite3
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from siamese import gallery as old  # the release's module, from PYTHONPATH

OUT = Path(__file__).with_name("gallery-v2.sqlite3")


def image(seed):
    return np.random.default_rng(seed).random((28, 28)).astype(np.float32)


def embed(x):  # tests/test_gallery.py's FakeMatcher: row and column ink sums, 56-d
    x = np.asarray(x, np.float32).reshape(28, 28)
    return np.concatenate([x.sum(0), x.sum(1)]).astype(np.float32)


def thumb(seed):
    img = Image.new("L", (96, 96), 255)
    ImageDraw.Draw(img).line([(10, 10 + seed), (80, 85 - seed)], fill=0, width=6)
    return old.thumbnail_png(np.asarray(img))


assert old.SCHEMA_VERSION == 2 and old.MY_SYMBOLS == "My symbols"
OUT.unlink(missing_ok=True)
g = old.Gallery(OUT)
for seed, (name, new) in enumerate((("star", True), ("moon", True), ("star", False), ("<b>bold</b>", True))):
    x = old.stored_input(image(seed))
    g.add_example(old.MY_SYMBOLS, name, image(seed), thumb(seed), ("fake-1", embed(x)) if seed < 3 else None,
                  new_symbol=new)
g.add_set_bulk("Class 2B", old.SetKind.USER, [("a", image(10), thumb(10)), ("b", image(11), thumb(11))])
g.add_set_bulk("Digits", old.SetKind.DIGITS, [("0", image(20), thumb(20)), ("1", image(21), thumb(21))])
g.add_example(old.MY_SYMBOLS, "gone", image(30), thumb(30))
g.delete_symbol(old.MY_SYMBOLS, "gone")  # the largest ids are deleted ones: they must stay unused
g.set_meta("default_sets_v1", "done")
con = sqlite3.connect(OUT)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.execute("VACUUM")
con.close()
print(OUT, OUT.stat().st_size, "bytes")
