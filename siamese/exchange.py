"""Export and import a reference set as a zip: PNGs plus a JSON manifest.

Layout of the zip::

    manifest.json       {"format": "siamese-reference-set", "version": 1, "name": ...,
                         "symbols": [{"name": ..., "examples": [{"input": "inputs/0.png",
                                                                  "thumbnail": "thumbnails/0.png"}]}]}
    inputs/<n>.png      the 28x28 model input (grey, ink = white)
    thumbnails/<n>.png  the sketch as shown in the app (dark on light)

Import validates everything (zip structure, sizes, names, every PNG) before writing anything, then
writes the whole set in one transaction.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from .gallery import Gallery, GalleryError, bytes_to_input, clean_name

FORMAT = "siamese-reference-set"
MAX_ZIP_BYTES = 20 * 1024 * 1024
"""Largest accepted upload, bytes."""
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
"""Largest total uncompressed size (zip bombs stop here), bytes."""
MAX_MEMBERS = 20_000
MAX_EXAMPLES = 5_000
"""Most examples in one imported set."""
MAX_MEMBER_BYTES = 8 * 1024 * 1024
"""Largest single member once unpacked, bytes; read with a bound, whatever the zip claims."""
MAX_THUMB_PIXELS = 1024 * 1024
"""Largest thumbnail, pixels (a 50-megapixel "thumbnail" is refused before decoding)."""


class SetImportError(GalleryError):
    """An import refused; the message says why. Nothing was written."""


def export_set(gallery: Gallery, set_name: str) -> bytes:
    """The zip bytes of one reference set (see the module docstring)."""
    with gallery._connect() as con:
        rows = con.execute(
            "SELECT s.name, e.model_input, e.thumbnail FROM examples e JOIN symbols s ON s.id = e.symbol_id "
            "JOIN ref_sets r ON r.id = s.set_id WHERE r.name = ? ORDER BY s.name, e.id", (set_name,)).fetchall()
    symbols: dict = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, model_input, thumb) in enumerate(rows):
            png = io.BytesIO()
            Image.fromarray(np.frombuffer(model_input, np.uint8).reshape(28, 28)).save(png, format="PNG")
            zf.writestr(f"inputs/{i}.png", png.getvalue())
            zf.writestr(f"thumbnails/{i}.png", thumb)
            symbols.setdefault(name, []).append({"input": f"inputs/{i}.png", "thumbnail": f"thumbnails/{i}.png"})
        manifest = {"format": FORMAT, "version": 1, "name": set_name,
                    "symbols": [{"name": n, "examples": ex} for n, ex in symbols.items()]}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return buf.getvalue()


def _read(zf: zipfile.ZipFile, member: str) -> bytes:
    """A member's bytes, reading at most ``MAX_MEMBER_BYTES`` (a zip can lie about sizes)."""
    with zf.open(member) as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise SetImportError(f"{member} unpacks to more than {MAX_MEMBER_BYTES // 2**20} MB (a zip bomb?); refused.")
    return data


def _png(zf: zipfile.ZipFile, member: str, size=None, max_pixels=MAX_THUMB_PIXELS) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(_read(zf, member)))
        if img.format != "PNG":
            raise SetImportError(f"{member} is not a PNG image.")
        if img.size[0] * img.size[1] > max_pixels:
            raise SetImportError(f"{member} is {img.size[0]}×{img.size[1]} pixels; the limit is {max_pixels:,} pixels.")
        img.load()
    except SetImportError:
        raise
    except Exception as exc:
        raise SetImportError(f"{member} is not a readable PNG image ({type(exc).__name__}).") from None
    if size and img.size != size:
        raise SetImportError(f"{member} is {img.size[0]}×{img.size[1]}; model inputs must be {size[0]}×{size[1]}.")
    return img


def read_set(data: bytes) -> tuple[str, list]:
    """Validate an exported zip completely, without writing anything.

    Returns:
        ``(set name, [(symbol name, model input (28, 28) float32, thumbnail PNG bytes)])``.

    Raises:
        SetImportError: not a zip, too big, a zip bomb, unsafe member paths, missing or malformed
            manifest, bad names, or a member that is not a valid PNG of the right size.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise SetImportError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_ZIP_BYTES / 1e6:.0f} MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SetImportError("That file is not a zip archive exported by this app.") from None
    if len(infos) > MAX_MEMBERS:
        raise SetImportError(f"The archive has {len(infos):,} files; the limit is {MAX_MEMBERS:,}.")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise SetImportError("The archive unpacks to more than 100 MB (a zip bomb?); refused.")
    names = {i.filename for i in infos}
    for name in names:
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
            raise SetImportError(f"The archive contains an unsafe path ({name!r}); refused.")
    if "manifest.json" not in names:
        raise SetImportError("The archive has no manifest.json: it was not exported by this app.")
    try:
        manifest = json.loads(_read(zf, "manifest.json").decode("utf-8"))
        version = manifest.get("version")
        if manifest.get("format") != FORMAT or type(version) is not int or version != 1:  # True == 1
            raise ValueError("format")
        set_name = clean_name(manifest["name"])
        items, seen = [], set()
        for sym in manifest["symbols"]:
            name = clean_name(sym["name"])
            if name in seen:
                raise SetImportError(f"The manifest lists the symbol “{name}” twice.")
            seen.add(name)
            for ex in sym["examples"]:
                if len(items) >= MAX_EXAMPLES:
                    raise SetImportError(f"The set has more than {MAX_EXAMPLES:,} examples; the limit is {MAX_EXAMPLES:,}.")
                for key in ("input", "thumbnail"):
                    if ex[key] not in names:
                        raise SetImportError(f"The manifest points to {ex[key]!r}, which is not in the archive.")
                x = np.asarray(_png(zf, ex["input"], size=(28, 28)).convert("L"), np.uint8)
                thumb = _png(zf, ex["thumbnail"])
                buf = io.BytesIO()
                thumb.convert("L").save(buf, format="PNG")
                items.append((name, bytes_to_input(x.tobytes()), buf.getvalue()))
    except GalleryError:
        raise
    except zipfile.BadZipFile:
        raise SetImportError("The zip archive is damaged (a member fails its checksum or is truncated).") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError, RecursionError):
        raise SetImportError("manifest.json is malformed: it was not exported by this app (or was edited).") from None
    if not items:
        raise SetImportError("The reference set in that archive is empty.")
    return set_name, items


def import_set(gallery: Gallery, data: bytes, matcher=None, name: str | None = None) -> tuple[str, int]:
    """Import an exported zip as a new reference set, all or nothing.

    Arguments:
        name: the new set's name (default: the name in the manifest).

    Returns:
        ``(set name, number of examples)``.

    Raises:
        SetImportError: see :func:`read_set`, or a set of that name already exists.
    """
    set_name, items = read_set(data)
    set_name = clean_name(name) if name else set_name
    if not gallery.add_set_bulk(set_name, "user", items, matcher):
        raise SetImportError(f"A reference set called “{set_name}” already exists; import it under another name.")
    return set_name, len(items)
