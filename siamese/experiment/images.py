"""Display images of the Omniglot evaluation split: a trial's drawings as the original 105x105
PNGs (what people see), read from ``images_evaluation.zip`` by the index the trials use."""
from __future__ import annotations

import functools
import zipfile


@functools.lru_cache(maxsize=2)
def _members(path: str) -> tuple[str, ...]:
    with zipfile.ZipFile(path) as zf:
        return tuple(sorted(n for n in zf.namelist() if n.endswith(".png")))


@functools.lru_cache(maxsize=4096)
def evaluation_png(index: int) -> bytes:
    """The PNG bytes of image ``index`` of ``load_omniglot("evaluation")`` (its images are the
    zip's PNG members in sorted order, :func:`siamese.data.datasets.load_omniglot`).

    Raises:
        siamese.data.datasets.DatasetError: the zip is missing; IndexError: no such image.
    """
    from siamese.data.datasets import omniglot_path

    path = str(omniglot_path("evaluation"))
    name = _members(path)[int(index)]
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)
