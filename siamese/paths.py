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
"""
import os
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
