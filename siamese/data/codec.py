"""The 8-bit codec of model inputs as the gallery stores them, and the PNG thumbnails it shows."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def input_to_bytes(x: np.ndarray) -> bytes:
    """A model input ``(28, 28) float32`` in [0, 1] stored as 784 ``uint8`` bytes.

    Raises:
        ValueError: not a finite (28, 28) array (it would break the whole set later).
    """
    x = np.asarray(x, np.float32)
    if x.shape != (28, 28) or not np.isfinite(x).all():
        raise ValueError(f"a model input must be a finite (28, 28) array, not {x.shape}")
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8).tobytes()


def bytes_to_input(b: bytes) -> np.ndarray:
    """Inverse of :func:`input_to_bytes` (to within 1/255): ``(28, 28) float32``."""
    return np.frombuffer(b, np.uint8).reshape(28, 28).astype(np.float32) / 255.0


def stored_input(x: np.ndarray) -> np.ndarray:
    """A model input ``(28, 28) float32`` as it will read back after storing (8-bit): embed this,
    not ``x``, so a vector recomputed later from the database is the same vector.

    Raises:
        ValueError: see :func:`input_to_bytes`.
    """
    return bytes_to_input(input_to_bytes(x))


def thumbnail_png(image: np.ndarray, size: int = 96) -> bytes:
    """A dark-on-light PNG thumbnail, at most ``size`` pixels a side, of a grey ``(H, W) uint8``
    image (dark ink on light)."""
    img = Image.fromarray(np.asarray(image, np.uint8))
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
