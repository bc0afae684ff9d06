"""Export and import a reference set as a zip: PNGs plus a JSON manifest.

Layout of the zip::

    manifest.json       {"format": "siamese-reference-set", "version": 1, "name": ...,
                         "symbols": [{"name": ..., "examples": [{"input": "inputs/0.png",
                                                                  "thumbnail": "thumbnails/0.png"}]}]}
    inputs/<n>.png      the 28x28 model input (grey, ink = white)
    thumbnails/<n>.png  the sketch as shown in the app (dark on light)

Import validates everything (zip structure, sizes, names, every PNG) before writing anything, then
writes the whole set in one transaction. An uploaded zip is hostile until proven otherwise, so the
work of an import is bounded by what the archive really holds: each member is unpacked and decoded
at most once however often the manifest names it, the pixels decoded in all are capped, and
thumbnails are stored at display size (:func:`siamese.data.codec.thumbnail_png`), not as uploaded.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from siamese.classroom import Action, Actor, require
from siamese.gallery.gallery import Gallery, SetKind
from siamese.gallery.names import MAX_NAME, OWNER_SEPARATOR, clean_name
from siamese.gallery.errors import GalleryError
from siamese.data.codec import bytes_to_input, thumbnail_png
from siamese.search.index import embed_for_storage

FORMAT = "siamese-reference-set"
MAX_ZIP_BYTES = 20 * 1024 * 1024
"""Largest accepted upload, bytes."""
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
"""Largest total uncompressed size (zip bombs stop here), bytes, as the archive declares it. The zip
reader never returns more than a member's declared size (it stops there and fails the checksum),
and each member is read at most once, so this bounds what an import unpacks."""
MAX_MEMBERS = 20_000
"""Most files in one archive."""
MAX_EXAMPLES = 5_000
"""Most examples in one imported set."""
MAX_MEMBER_BYTES = 8 * 1024 * 1024
"""Largest single member once unpacked, bytes; read with a bound, whatever the zip claims."""
MAX_THUMB_PIXELS = 1024 * 1024
"""Largest thumbnail, pixels (a 50-megapixel "thumbnail" is refused before decoding)."""
MAX_DECODED_PIXELS = 64 * 1024 * 1024
"""Most pixels decoded in one import, all distinct images together (a full exported set of
``MAX_EXAMPLES`` examples, with 96x96 thumbnails and 28x28 inputs, decodes about 50 million)."""
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
"""Compression methods read. The others Python knows (bzip2, LZMA) unpack a whole chunk at once,
with no bound on its output: a few hundred bytes of bzip2 become gigabytes."""


class SetImportError(GalleryError):
    """An import refused; the message says why. Nothing was written."""


def export_set(gallery: Gallery, set_name: str) -> bytes:
    """The zip bytes of one reference set (see the module docstring).

    Raises:
        GalleryError: unknown set.
    """
    rows = gallery.examples(set_name, thumbnails=True, by_symbol=True)
    labels = _export_names(rows)
    symbols: dict = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, r in enumerate(rows):
            png = io.BytesIO()
            Image.fromarray(np.frombuffer(r.model_input, np.uint8).reshape(28, 28)).save(png, format="PNG")
            zf.writestr(f"inputs/{i}.png", png.getvalue())
            zf.writestr(f"thumbnails/{i}.png", r.thumbnail)
            symbols.setdefault(labels[r.symbol_id], []).append({"input": f"inputs/{i}.png",
                                                               "thumbnail": f"thumbnails/{i}.png"})
        manifest = {"format": FORMAT, "version": 1, "name": set_name,
                    "symbols": [{"name": n, "examples": ex} for n, ex in symbols.items()]}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return buf.getvalue()


def _without_separator(name):
    """A name from a zip exported before names lost the owner separator: "star · Ana" is
    "star (Ana)", as exports write it now; anything else as it is."""
    if isinstance(name, str) and OWNER_SEPARATOR in name:
        head, _, owner = name.rpartition(OWNER_SEPARATOR)
        return f"{head} ({owner})"
    return name


def _export_names(rows) -> dict:
    """``{symbol id: name in the zip}``: a symbol's own name, or, where owners share a name (two
    students' "star"), "star (Ana)", cut to ``MAX_NAME`` characters and numbered if still shared,
    so that no symbol merges into another on import (not "star · Ana": no symbol name holds the
    owner separator, :func:`siamese.gallery.clean_name`)."""
    import regex  # grapheme clusters, as clean_name counts them

    owners_of: dict = {}
    for r in rows:
        owners_of.setdefault(r.symbol, {})[r.symbol_id] = r.owner_name
    labels, taken = {}, set()
    for name, owners in owners_of.items():
        for symbol_id, owner_name in owners.items():
            label = name if len(owners) == 1 else "".join(regex.findall(r"\X", f"{name} ({owner_name})")[:MAX_NAME])
            base, n = label, 1
            while label in taken:
                n += 1
                label = "".join(regex.findall(r"\X", base)[:MAX_NAME - len(str(n)) - 1]) + f" {n}"
            taken.add(label)
            labels[symbol_id] = label
    return labels


def _size(n: int) -> str:
    """A byte count for a message, in the binary units of the limits: "20 MB", "1.5 kB", "12 bytes"."""
    for unit, scale in (("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{round(n / scale, 1):g} {unit}"
    return f"{n} bytes"


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive with its directory checked: size limits, safe paths, and only members this
    module can unpack with a bound (not encrypted, stored or deflated). Nothing is unpacked.

    Raises:
        SetImportError: too big, not a zip, damaged directory, too many files, a zip bomb,
            unsafe paths, an encrypted member or an unsupported compression method.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise SetImportError(f"The file is {_size(len(data))}; the limit is {_size(MAX_ZIP_BYTES)}.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # any parse failure of the directory (BadZipFile, OSError, ValueError, struct.error...)
        if data.startswith(b"PK\x03\x04"):  # starts like a zip: one that was cut short or damaged
            raise SetImportError("The zip archive is damaged or incomplete (was the download cut short?); "
                                 "export the set again.") from None
        raise SetImportError("That file is not a zip archive exported by this app.") from None
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SetImportError(f"The archive has {len(infos):,} files; the limit is {MAX_MEMBERS:,}.")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise SetImportError(f"The archive unpacks to more than {_size(MAX_UNPACKED_BYTES)} (a zip bomb?); refused.")
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
            raise SetImportError(f"The archive contains an unsafe path ({name!r}); refused.")
        if info.flag_bits & 0x1:  # bit 0: encrypted (bit 6, strong encryption, comes with it)
            raise SetImportError(f"{name} is password-protected in the archive; export the set again without a password.")
        if info.compress_type not in METHODS or info.flag_bits & 0x20:  # bit 5: "compressed patched data"
            raise SetImportError(f"{name} is compressed with a method this app cannot read; "
                                 "use the zip exactly as the app exported it.")
    return zf


def _read(zf: zipfile.ZipFile, member: str) -> bytes:
    """A member's bytes, reading at most ``MAX_MEMBER_BYTES`` (a zip can lie about sizes).

    Raises:
        SetImportError: the member unpacks to more than ``MAX_MEMBER_BYTES``, or it cannot be
            unpacked (damaged data, failed checksum, truncated archive).
    """
    try:
        with zf.open(member) as f:
            data = f.read(MAX_MEMBER_BYTES + 1)
    except Exception:  # the decoders raise many types for damaged data (zlib.error, BadZipFile for a
        # bad CRC or header, EOFError when truncated, OSError, NotImplementedError...), all one thing
        raise SetImportError(f"{member} is damaged in the archive; export the set again.") from None
    if len(data) > MAX_MEMBER_BYTES:
        raise SetImportError(f"{member} unpacks to more than {_size(MAX_MEMBER_BYTES)} (a zip bomb?); refused.")
    return data


def _manifest(zf: zipfile.ZipFile, names: set) -> tuple[str, list]:
    """Validate manifest.json without decoding any image.

    Returns:
        ``(set name, [(symbol name, input member, thumbnail member)])``, one entry per example.

    Raises:
        SetImportError: missing or malformed manifest, bad or repeated names, more than
            ``MAX_EXAMPLES`` examples, or a member that is not in the archive.
    """
    if "manifest.json" not in names:
        raise SetImportError("The archive has no manifest.json: it was not exported by this app.")
    raw = _read(zf, "manifest.json")
    try:
        manifest = json.loads(raw.decode("utf-8"))
        version = manifest.get("version")
        if manifest.get("format") != FORMAT or type(version) is not int or version != 1:  # True == 1
            raise ValueError("format")
        set_name = clean_name(manifest["name"], separator_ok=True)
        plan, seen = [], set()
        for sym in manifest["symbols"]:
            name = clean_name(_without_separator(sym["name"]))
            if name in seen:
                raise SetImportError(f"The manifest lists the symbol “{name}” twice.")
            seen.add(name)
            for ex in sym["examples"]:
                if len(plan) >= MAX_EXAMPLES:
                    raise SetImportError(f"The set has more than {MAX_EXAMPLES:,} examples; the limit is {MAX_EXAMPLES:,}.")
                for key in ("input", "thumbnail"):
                    if ex[key] not in names:
                        raise SetImportError(f"The manifest points to {ex[key]!r}, which is not in the archive.")
                plan.append((name, ex["input"], ex["thumbnail"]))
    except GalleryError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise SetImportError("manifest.json is malformed: it was not exported by this app (or was edited).") from None
    return set_name, plan


def _decode(zf: zipfile.ZipFile, member: str, budget: list, size=None) -> np.ndarray:
    """A PNG member as a grey ``(H, W) uint8`` array, its size checked before any pixel is decoded.

    Arguments:
        budget: ``[pixels still allowed]`` for this import; decoding spends from it.
        size: ``(width, height)`` the image must have (model inputs), or None (thumbnails: at most
            ``MAX_THUMB_PIXELS``).

    Raises:
        SetImportError: not a readable PNG, the wrong size, too many pixels, or the import's
            ``MAX_DECODED_PIXELS`` spent.
    """
    data = _read(zf, member)
    try:
        img = Image.open(io.BytesIO(data), formats=["PNG"])  # reads the header only
        w, h = img.size
        if size and img.size != size:
            raise SetImportError(f"{member} is {w}×{h}; model inputs must be {size[0]}×{size[1]}.")
        if not size and w * h > MAX_THUMB_PIXELS:
            raise SetImportError(f"{member} is {w}×{h} pixels; the limit is {MAX_THUMB_PIXELS:,} pixels.")
        if w * h > budget[0]:
            raise SetImportError(f"{member} takes the images in the archive past {MAX_DECODED_PIXELS:,} pixels "
                                 f"in all; split the set into smaller ones.")
        budget[0] -= w * h
        grey = np.asarray(img.convert("L"), np.uint8)
    except SetImportError:
        raise
    except Image.DecompressionBombError:  # Pillow's own cap, hit in Image.open for huge headers
        raise SetImportError(f"{member} has too many pixels; the limit is {MAX_THUMB_PIXELS:,} pixels.") from None
    except Exception as exc:
        raise SetImportError(f"{member} is not a readable PNG image ({type(exc).__name__}).") from None
    return grey


def read_set(data: bytes) -> tuple[str, list]:
    """Validate an exported zip completely, without writing anything.

    The manifest is checked first, without decoding an image; then each distinct member it names
    is unpacked and decoded once, however many examples share it. Thumbnails are re-encoded at
    display size (at most 96 pixels a side, as the app makes them).

    Returns:
        ``(set name, [(symbol name, model input (28, 28) float32, thumbnail PNG bytes)])``. Examples
        naming one member share its (read-only) model input array and thumbnail bytes.

    Raises:
        SetImportError: not a zip, too big, a zip bomb, unsafe member paths, a damaged, encrypted or
            unsupported member, missing or malformed manifest, bad names, too many examples or
            pixels, or a member that is not a valid PNG of the right size.
    """
    zf = _open_zip(data)
    set_name, plan = _manifest(zf, {i.filename for i in zf.infolist()})
    if not plan:
        raise SetImportError("The reference set in that archive is empty.")
    roles: dict = {}  # member -> the uses the manifest makes of it: {"input", "thumbnail"}
    for _, inp, thumb in plan:
        roles.setdefault(inp, set()).add("input")
        roles.setdefault(thumb, set()).add("thumbnail")
    budget, made = [MAX_DECODED_PIXELS], {}
    for member, uses in roles.items():
        grey = _decode(zf, member, budget, size=(28, 28) if "input" in uses else None)
        if "input" in uses:
            x = bytes_to_input(grey.tobytes())
            x.flags.writeable = False  # shared by every example naming this member
            made[member, "input"] = x
        if "thumbnail" in uses:
            made[member, "thumbnail"] = thumbnail_png(grey)
    return set_name, [(name, made[inp, "input"], made[thumb, "thumbnail"]) for name, inp, thumb in plan]


def import_set(gallery: Gallery, data: bytes, matcher=None, name: str | None = None, *,
               actor: Actor) -> tuple[str, int]:
    """Import an exported zip as a new reference set, all or nothing.

    Arguments:
        actor: who imports (the teacher; checked before the archive is read).
        matcher: if given, the examples are embedded by it and stored with their embeddings
            (else they are embedded on the first search).
        name: the new set's name (default: the name in the manifest).

    Returns:
        ``(set name, number of examples)``.

    Raises:
        PermissionDenied: not the teacher.
        SetImportError: see :func:`read_set`, or a set of that name already exists.
    """
    require(actor, Action.IMPORT_SET)
    set_name, items = read_set(data)
    set_name = clean_name(name, separator_ok=True) if name else set_name
    embeddings = embed_for_storage(matcher, [x for _, x, _ in items]) if matcher is not None else None
    if not gallery.add_set_bulk(set_name, SetKind.USER, items, embeddings):
        raise SetImportError(f"A reference set called “{set_name}” already exists; import it under another name.")
    return set_name, len(items)
