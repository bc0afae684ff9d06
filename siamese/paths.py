"""Where the project reads datasets, writes derived caches and keeps user data.

Three directories, each overridable by an environment variable:

- ``SIAMESE_DATA_DIR``: the dataset cache (``mnist/mnist.npz``, ``omniglot/images_*.zip``), laid
  out as ``keras.utils.get_file(..., cache_dir=DATA_DIR, cache_subdir=...)`` writes it. It may be
  read-only (CI points it at ``../shared/data``). Default ``~/.keras/datasets/siamese``.
- ``SIAMESE_CACHE_DIR``: derived, re-creatable files (preprocessed arrays). Always writable.
  Default ``~/.cache/siamese``.
- ``SIAMESE_HOME``: user data (the reference-set database, models trained in the app).
  Default ``~/.local/share/siamese``.

``SIAMESE_DATABASE_URL`` (e.g. ``postgresql://user@host:5432/siamese``) puts the reference-set
database in PostgreSQL, shared by several app servers; unset, it is the SQLite file under
``SIAMESE_HOME`` (:func:`database_url`).

The shipped model, ``assets/embedding.keras``, lives with the code (:data:`SHIPPED_MODEL`).

Every file the project writes whole (a model, its card, a cache, the last training run) is written
with :func:`atomic_write` (or ``atomic_write_bytes``/``atomic_write_text``): readers see the old
file or the new one, never half of one. Datasets are fetched by :func:`siamese.data.datasets.fetch_file`.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
SHIPPED_MODEL = ASSETS_DIR / "embedding.keras"


def _dir(var: str, default: Path, create: bool) -> Path:
    path = Path(os.environ.get(var) or default).expanduser()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Dataset cache directory (``SIAMESE_DATA_DIR``); not created, may be read-only."""
    return _dir("SIAMESE_DATA_DIR", Path.home() / ".keras" / "datasets" / "siamese", create=False)


def cache_dir() -> Path:
    """Writable directory for derived arrays (``SIAMESE_CACHE_DIR``); created on demand."""
    return _dir("SIAMESE_CACHE_DIR", Path.home() / ".cache" / "siamese", create=True)


def home_dir() -> Path:
    """Writable user-data directory (``SIAMESE_HOME``): gallery database, user models."""
    return _dir("SIAMESE_HOME", Path.home() / ".local" / "share" / "siamese", create=True)


def database_url() -> str | None:
    """``SIAMESE_DATABASE_URL`` (the gallery database, e.g. ``postgresql://user@host:5432/siamese``),
    or None when unset or blank: the SQLite file under :func:`home_dir`. Read on every call."""
    return os.environ.get("SIAMESE_DATABASE_URL", "").strip() or None


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """Write a file whole or not at all: ``write(tmp)`` writes a temporary file next to ``path``
    (same directory, so the rename stays on one file system), which then replaces ``path`` with
    ``os.replace`` (atomic on POSIX and Windows). The temporary name is unique
    (``.<stem>.<8 hex>.tmp<suffix>``: two writers never share one; the suffix is kept for writers that
    go by it, such as Keras's ``model.save`` and ``np.savez``).

    Arguments:
        path: the file to write; its directory must exist.
        write: called once with the temporary path.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        whatever ``write`` or the rename raises (OSError: no such directory, disk full); the old
        file, if any, is then left as it was and the temporary file is removed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path, text: str) -> Path:
    """:func:`atomic_write` of ``text`` as UTF-8."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
