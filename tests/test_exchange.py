"""siamese.gallery.exchange: export / import of reference sets, and hostile archives.

Work and limits are measured where they happen (:class:`Reads`: members opened, bytes unpacked,
images decoded), never by wall-clock time or process memory."""
import io
import json
import re
import zipfile
from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageFile

from siamese.gallery import exchange
from siamese.classroom import SOLO
from siamese.gallery.exchange import MAX_THUMB_PIXELS, SetImportError, export_set, import_set, read_set
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery
from siamese.gallery.errors import GalleryError
from siamese.data.codec import thumbnail_png
from siamese.search.index import ReferenceIndex
from helpers import FakeMatcher, image
from helpers import emb


@pytest.fixture
def gallery(tmp_path):
    g = Gallery(tmp_path / "g.sqlite3")
    m = FakeMatcher()
    for i, name in enumerate(["star", "moon", "🌟 <b>"]):
        g.add_example(CLASS_SYMBOLS, name, image(i), png(8 + i), emb(m, image(i)), actor=SOLO)
    g.add_example(CLASS_SYMBOLS, "star", image(9), png(20), emb(m, image(9)), new_symbol=False, actor=SOLO)
    return g


def png(size, mode="L"):
    buf = io.BytesIO()
    Image.new(mode, (size, size), 255).save(buf, format="PNG")
    return buf.getvalue()


def noise_png(width, height, seed=0):
    """A grey PNG of random pixels: it barely compresses, so its size is about ``width * height``."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def archive(members: dict, manifest=None, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        if manifest is not None:
            zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def valid_manifest(name="class set"):
    return {"format": "siamese-reference-set", "version": 1, "name": name,
            "symbols": [{"name": "a", "examples": [{"input": "inputs/0.png", "thumbnail": "thumbnails/0.png"}]}]}


def manifest_of(examples, name="class set"):
    """A manifest with one symbol per ``(symbol, input member, thumbnail member)``."""
    return {"format": "siamese-reference-set", "version": 1, "name": name,
            "symbols": [{"name": s, "examples": [{"input": i, "thumbnail": t}]} for s, i, t in examples]}


def distinct_set(n, thumb_side=20):
    """A valid archive of ``n`` examples, each with its own input and thumbnail member."""
    members = {}
    for i in range(n):
        members[f"inputs/{i}.png"] = png(28)
        members[f"thumbnails/{i}.png"] = png(thumb_side + i)
    return archive(members, manifest_of([(f"s{i}", f"inputs/{i}.png", f"thumbnails/{i}.png") for i in range(n)]))


class _Counting:
    """A zip member open for reading that counts the bytes it hands out. Reading methods it does not
    count are missing on purpose: a reader using them fails the test instead of reading uncounted."""

    def __init__(self, f, member, counter):
        self._f, self._member, self._counter = f, member, counter

    def read(self, n=-1):
        data = self._f.read(n)
        self._counter[self._member] += len(data)
        return data

    def read1(self, n=-1):
        data = self._f.read1(n)
        self._counter[self._member] += len(data)
        return data

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Reads:
    """What an import takes out of a zip, counted at the source: ``opens`` and ``bytes`` (unpacked
    bytes returned) per member name, and ``decoded``, the (width, height) of every image whose pixels
    Pillow decodes. Install it after building the archives (writing a zip opens members too)."""

    def __init__(self, monkeypatch):
        self.opens, self.bytes, self.decoded = Counter(), Counter(), []
        real_open, real_load = zipfile.ZipFile.open, ImageFile.ImageFile.load

        def open_(zf, name, mode="r", *args, **kwargs):
            f = real_open(zf, name, mode, *args, **kwargs)
            if mode != "r":
                return f
            member = getattr(name, "filename", name)
            self.opens[member] += 1
            return _Counting(f, member, self.bytes)

        def load(img):
            if img.tile:  # pixels still to be decoded (empty once loaded)
                self.decoded.append(img.size)
            return real_load(img)

        monkeypatch.setattr(zipfile.ZipFile, "open", open_)
        monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def content(gallery):
    """Everything import could change: the sets and every stored example."""
    with gallery._connect() as con:
        return gallery.sets(), con.execute("SELECT symbol_id, model_input, thumbnail FROM examples").fetchall()


def refused(gallery, data, message):
    """Import ``data``; assert a SetImportError matching ``message`` and an unchanged gallery."""
    before = content(gallery)
    with pytest.raises(SetImportError, match=message):
        import_set(gallery, data, FakeMatcher(), actor=SOLO)
    assert content(gallery) == before


def stored_thumbnails(gallery, set_name):
    with gallery._connect() as con:
        return [r[0] for r in con.execute(
            "SELECT e.thumbnail FROM examples e JOIN symbols s ON s.id = e.symbol_id "
            "JOIN ref_sets r ON r.id = s.set_id WHERE r.name = ?", (set_name,))]


# ---- damaging a zip by hand (offsets from the zip specification, APPNOTE.TXT 4.3.7 and 4.3.12) ----
FIELDS = {"flags": (6, 8, 2), "method": (8, 10, 2), "crc": (14, 16, 4), "file_size": (22, 24, 4)}
"""field: (offset in the local header, offset in the central directory entry, width in bytes)."""


def patched(data, member, field, value):
    """``data`` with one field of ``member`` set to ``value`` in both its local header and its
    central directory entry."""
    local, central, width = FIELDS[field]
    out = bytearray(data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    at = zf.getinfo(member).header_offset + local
    out[at:at + width] = value.to_bytes(width, "little")
    pos = zf.start_dir
    while out[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = (int.from_bytes(out[pos + i:pos + i + 2], "little") for i in (28, 30, 32))
        if out[pos + 46:pos + 46 + n].decode() == member:
            out[pos + central:pos + central + width] = value.to_bytes(width, "little")
        pos += 46 + n + m + k
    return bytes(out)


def compressed_span(data, member):
    """(start, stop) of ``member``'s compressed bytes in ``data``."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    o = info.header_offset
    start = o + 30 + int.from_bytes(data[o + 26:o + 28], "little") + int.from_bytes(data[o + 28:o + 30], "little")
    return start, start + info.compress_size


def inverted(data, member, lo, hi):
    """``data`` with bytes ``lo`` to ``hi`` of ``member``'s compressed data inverted."""
    start, stop = compressed_span(data, member)
    out = bytearray(data)
    for i in range(start + lo, min(start + hi, stop)):
        out[i] ^= 0xFF
    return bytes(out)


def cut(data, member, k):
    """``data`` with the last ``k`` bytes of ``member``'s data lost; ``member`` must be the last one
    before the central directory, which is kept (and found: its offset in the end record is fixed)."""
    _, stop = compressed_span(data, member)
    out = bytearray(data[:stop - k] + data[stop:])
    end = out.rfind(b"PK\x05\x06")
    offset = int.from_bytes(out[end + 16:end + 20], "little")
    out[end + 16:end + 20] = (offset - k).to_bytes(4, "little")
    return bytes(out)


def test_round_trip(gallery, tmp_path):
    data = export_set(gallery, CLASS_SYMBOLS)
    other = Gallery(tmp_path / "other.sqlite3")
    m = FakeMatcher()
    assert import_set(other, data, m, name="From home", actor=SOLO) == ("From home", 4)
    assert [(s["name"], s["examples"]) for s in other.symbols("From home")] == \
        [(s["name"], s["examples"]) for s in gallery.symbols(CLASS_SYMBOLS)]
    calls = m.calls
    imported = ReferenceIndex(other).references("From home", m)
    assert m.calls == calls  # embedded and stored by the import
    np.testing.assert_allclose(imported.embeddings,
                               ReferenceIndex(gallery).references(CLASS_SYMBOLS, m).embeddings[[1, 0, 3, 2]], atol=1e-5)


def test_importing_twice_under_one_name_is_refused(gallery):
    data = export_set(gallery, CLASS_SYMBOLS)
    import_set(gallery, data, name="Copy", actor=SOLO)
    with pytest.raises(SetImportError, match="already exists"):
        import_set(gallery, data, name="Copy", actor=SOLO)


@pytest.mark.parametrize("data, message", [
    (b"hello, not a zip", "not a zip"),
    (png(10), "not a zip"),
    (archive({"x.txt": b"1"}), "no manifest"),
    (archive({"../evil.png": png(28)}, valid_manifest()), "unsafe path"),
    (archive({"/etc/passwd": b"x"}, valid_manifest()), "unsafe path"),
    (archive({"inputs/0.png": b"\x89PNG not really", "thumbnails/0.png": png(20)}, valid_manifest()), "not a readable PNG"),
    (archive({"inputs/0.png": png(30), "thumbnails/0.png": png(20)}, valid_manifest()), "must be 28×28"),
    (archive({"inputs/0.png": png(28)}, valid_manifest()), "not in the archive"),
    (archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, {"format": "other"}), "malformed"),
    (archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, valid_manifest(name="  ")), "type a name"),
])
def test_hostile_or_broken_archives_change_nothing(gallery, data, message):
    before = gallery.sets()
    with pytest.raises(GalleryError, match=message):  # SetImportError is a GalleryError
        import_set(gallery, data, actor=SOLO)
    assert gallery.sets() == before


def test_50_megapixel_thumbnail_is_refused_without_decoding(gallery, monkeypatch):
    side = int((50e6) ** 0.5)
    img = Image.new("1", (side, side), 1)  # 1-bit: a small file for 50 MP
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": buf.getvalue()}, valid_manifest())
    reads = Reads(monkeypatch)
    with pytest.raises(SetImportError, match=f"limit is {MAX_THUMB_PIXELS:,} pixels"):
        read_set(data)
    assert (side, side) not in reads.decoded


def test_zip_lying_about_its_sizes_is_read_with_a_bound(monkeypatch):
    """A member whose header claims 10 bytes but inflates to 10 MB: no more than 10 bytes of it are
    unpacked (the reader stops at the declared size, and the checksum then fails)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"\0" * (10 * 1024 * 1024))
        zf.writestr("inputs/0.png", png(28))
        zf.writestr("thumbnails/0.png", png(20))
    data = patched(buf.getvalue(), "manifest.json", "file_size", 10)
    reads = Reads(monkeypatch)
    with pytest.raises(SetImportError, match="^manifest.json is damaged"):
        read_set(data)
    assert sum(reads.bytes.values()) <= 10


def test_deeply_nested_manifest_is_a_clear_error():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", "[" * 200_000 + "]" * 200_000)
    with pytest.raises(SetImportError, match="malformed"):
        read_set(buf.getvalue())


def test_too_many_examples_pointing_at_one_png():
    manifest = valid_manifest()
    manifest["symbols"] = [{"name": f"s{i}", "examples": [{"input": "inputs/0.png", "thumbnail": "thumbnails/0.png"}]}
                           for i in range(6000)]
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, manifest)
    with pytest.raises(SetImportError, match="more than 5,000 examples"):
        read_set(data)


# ---- 1. a damaged, protected or unsupported archive: one clear error naming the member, nothing written ----
def stored_set():
    """A valid archive stored (not compressed), its largest member last before the directory."""
    return archive({"inputs/0.png": png(28), "thumbnails/0.png": noise_png(40, 40)}, valid_manifest(),
                   compression=zipfile.ZIP_STORED)


DAMAGE = {  # case: (damage done to an export of the fixture (or None: to stored_set()), member, what zipfile raises)
    "manifest inflates to garbage": (lambda d: inverted(d, "manifest.json", 5, 40), "manifest.json", "error"),
    "thumbnail inflates to garbage": (lambda d: inverted(d, "thumbnails/0.png", 5, 40), "thumbnails/0.png", "error"),
    "input inflates to wrong bytes": (lambda d: inverted(d, "inputs/1.png", 5, 40), "inputs/1.png", "BadZipFile"),
    "input fails its checksum": (lambda d: patched(d, "inputs/0.png", "crc", 12345), "inputs/0.png", "BadZipFile"),
    "manifest fails its checksum": (lambda d: patched(d, "manifest.json", "crc", 12345), "manifest.json", "BadZipFile"),
    "thumbnail data cut short": (None, "thumbnails/0.png", "EOFError"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_member_is_one_clear_error_naming_it(gallery, case):
    damage, member, raw = DAMAGE[case]
    data = damage(export_set(gallery, CLASS_SYMBOLS)) if damage else cut(stored_set(), member, 1000)
    with pytest.raises(Exception) as what_zipfile_raises:  # the kind of fault this case stands for
        zipfile.ZipFile(io.BytesIO(data)).read(member)
    assert type(what_zipfile_raises.value).__name__ == raw
    refused(gallery, data, f"^{re.escape(member)} is damaged in the archive")


@pytest.mark.parametrize("member", ["manifest.json", "thumbnails/1.png"])
def test_encrypted_member_is_refused_naming_it(gallery, member):
    data = patched(export_set(gallery, CLASS_SYMBOLS), member, "flags", 0x1)
    with pytest.raises(RuntimeError, match="encrypted"):
        zipfile.ZipFile(io.BytesIO(data)).read(member)
    refused(gallery, data, f"^{re.escape(member)} is password-protected")


@pytest.mark.parametrize("member, method", [("manifest.json", 99), ("inputs/0.png", 99), ("thumbnails/0.png", 98)])
def test_unknown_compression_method_is_refused_naming_it(gallery, member, method):
    data = patched(export_set(gallery, CLASS_SYMBOLS), member, "method", method)
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(data)).read(member)
    refused(gallery, data, f"^{re.escape(member)} is compressed with a method this app cannot read")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_members_are_refused_before_unpacking(gallery, monkeypatch, method):
    """zipfile unpacks a whole bzip2 or LZMA chunk at once, with no bound on its output (79 bytes of
    bzip2 are 64 MB of zeros), so these valid archives are refused before anything is unpacked."""
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, valid_manifest(), compression=method)
    reads = Reads(monkeypatch)
    refused(gallery, data, "^manifest.json is compressed with a method this app cannot read")
    assert reads.opens == Counter()


@pytest.mark.parametrize("keep", [0.5, 0.9, -3])
def test_archive_cut_short_is_called_damaged_not_foreign(gallery, keep):
    data = export_set(gallery, CLASS_SYMBOLS)
    data = data[:int(len(data) * keep)] if keep > 0 else data[:keep]
    refused(gallery, data, "^The zip archive is damaged or incomplete")


# ---- 2. the work and storage of an import are bounded by the archive's real content ----
def test_one_member_named_many_times_is_unpacked_and_decoded_once(gallery, monkeypatch):
    """300 symbols pointing at one 1000×1000 thumbnail: 3 members read once each, 2 images decoded,
    300 display-size thumbnails stored (before: 300 decodes, 300 MB stored)."""
    big = noise_png(1000, 1000)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": big},
                   manifest_of([(f"s{i}", "inputs/0.png", "thumbnails/0.png") for i in range(300)]))
    reads = Reads(monkeypatch)
    assert import_set(gallery, data, FakeMatcher(), name="many", actor=SOLO) == ("many", 300)
    assert reads.opens == Counter({"manifest.json": 1, "inputs/0.png": 1, "thumbnails/0.png": 1})
    assert sorted(reads.decoded) == [(28, 28), (1000, 1000)]
    expected = thumbnail_png(np.asarray(Image.open(io.BytesIO(big)).convert("L")))
    assert stored_thumbnails(gallery, "many") == [expected] * 300
    assert 300 * len(expected) < 3 * len(big)


def test_member_used_as_input_and_thumbnail_is_decoded_once(gallery, monkeypatch):
    data = archive({"both.png": png(28)}, manifest_of([("a", "both.png", "both.png"), ("b", "both.png", "both.png")]))
    reads = Reads(monkeypatch)
    assert import_set(gallery, data, FakeMatcher(), name="both", actor=SOLO) == ("both", 2)
    assert reads.opens == Counter({"manifest.json": 1, "both.png": 1})
    assert reads.decoded == [(28, 28)]


@pytest.mark.parametrize("width, height", [(1000, 1000), (400, 60), (60, 400), (97, 97)])
def test_thumbnails_are_stored_at_display_size(gallery, width, height):
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": noise_png(width, height)}, valid_manifest())
    import_set(gallery, data, FakeMatcher(), name="big", actor=SOLO)
    [stored] = stored_thumbnails(gallery, "big")
    original = np.asarray(Image.open(io.BytesIO(noise_png(width, height))))
    assert stored == thumbnail_png(original)  # the app's own function and size
    assert max(Image.open(io.BytesIO(stored)).size) == 96


def test_manifest_is_checked_before_any_image_is_decoded(gallery, monkeypatch):
    """A manifest refused on its last example costs no decoding of the examples before it."""
    manifest = manifest_of([(f"s{i}", f"inputs/{i}.png", f"thumbnails/{i}.png") for i in range(4)])
    manifest["symbols"][-1]["examples"][0]["thumbnail"] = "thumbnails/missing.png"
    data = archive({**{f"inputs/{i}.png": png(28) for i in range(4)},
                    **{f"thumbnails/{i}.png": png(20) for i in range(4)}}, manifest)
    reads = Reads(monkeypatch)
    refused(gallery, data, "not in the archive")
    assert reads.opens == Counter({"manifest.json": 1}) and reads.decoded == []


# ---- 3. each archive limit on its own: a valid archive, refused only by that limit ----
@pytest.mark.parametrize("below", [1, None])
def test_limit_zip_bytes(gallery, monkeypatch, below):
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": noise_png(60, 60)}, valid_manifest())  # ~4 kB
    monkeypatch.setattr(exchange, "MAX_ZIP_BYTES", len(data))
    import_set(gallery, data, name="at the limit", actor=SOLO)
    limit = len(data) - below if below else 1024
    monkeypatch.setattr(exchange, "MAX_ZIP_BYTES", limit)
    reads = Reads(monkeypatch)
    refused(gallery, data, rf"^The file is {round(len(data) / 1024, 1):g} kB; the limit is {round(limit / 1024, 1):g} kB.$")
    assert reads.opens == Counter()


def test_limit_members(gallery, monkeypatch):
    data = distinct_set(2)  # 5 files
    monkeypatch.setattr(exchange, "MAX_MEMBERS", 5)
    import_set(gallery, data, name="at the limit", actor=SOLO)
    monkeypatch.setattr(exchange, "MAX_MEMBERS", 4)
    reads = Reads(monkeypatch)
    refused(gallery, data, "^The archive has 5 files; the limit is 4.$")
    assert reads.opens == Counter()


def test_limit_unpacked_bytes(gallery, monkeypatch):
    """The declared total is checked before anything is unpacked (a zip bomb is never started)."""
    data = distinct_set(2)
    total = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    monkeypatch.setattr(exchange, "MAX_UNPACKED_BYTES", total)
    import_set(gallery, data, name="at the limit", actor=SOLO)
    monkeypatch.setattr(exchange, "MAX_UNPACKED_BYTES", total - 1)
    reads = Reads(monkeypatch)
    refused(gallery, data, rf"^The archive unpacks to more than {total - 1} bytes \(a zip bomb\?\); refused.$")
    assert reads.opens == Counter()


@pytest.mark.parametrize("below", [1, 150_000])
def test_limit_member_bytes(gallery, monkeypatch, below):
    """A member over the limit is refused after unpacking at most the limit plus one byte of it."""
    thumb = noise_png(400, 400)  # ~160 kB; the other members are a few hundred bytes
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": thumb}, valid_manifest())
    monkeypatch.setattr(exchange, "MAX_MEMBER_BYTES", len(thumb))
    import_set(gallery, data, name="at the limit", actor=SOLO)
    limit = len(thumb) - below
    monkeypatch.setattr(exchange, "MAX_MEMBER_BYTES", limit)
    reads = Reads(monkeypatch)
    refused(gallery, data, rf"^thumbnails/0.png unpacks to more than {round(limit / 1024, 1):g} kB \(a zip bomb\?\)")
    assert reads.bytes["thumbnails/0.png"] <= limit + 1


def test_limit_thumb_pixels(gallery, monkeypatch):
    """A thumbnail over the limit is refused from its header: its pixels are never decoded."""
    monkeypatch.setattr(exchange, "MAX_THUMB_PIXELS", 21 * 20)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": noise_png(21, 20)}, valid_manifest())
    import_set(gallery, data, name="at the limit", actor=SOLO)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": noise_png(21, 21)}, valid_manifest())
    reads = Reads(monkeypatch)
    refused(gallery, data, "^thumbnails/0.png is 21×21 pixels; the limit is 420 pixels.$")
    assert (21, 21) not in reads.decoded


def test_limit_examples(gallery, monkeypatch):
    """Counted in the manifest: a set over the limit costs no decoding."""
    monkeypatch.setattr(exchange, "MAX_EXAMPLES", 3)
    import_set(gallery, distinct_set(3), name="at the limit", actor=SOLO)
    data = distinct_set(4)
    reads = Reads(monkeypatch)
    refused(gallery, data, "^The set has more than 3 examples; the limit is 3.$")
    assert reads.opens == Counter({"manifest.json": 1}) and reads.decoded == []


def test_limit_decoded_pixels(gallery, monkeypatch):
    """Distinct images add up; the one that would pass the limit is not decoded."""
    data = distinct_set(3)  # inputs 3 × 28×28, thumbnails 20×20, 21×21, 22×22
    total = 3 * 28 * 28 + 20 * 20 + 21 * 21 + 22 * 22
    monkeypatch.setattr(exchange, "MAX_DECODED_PIXELS", total)
    import_set(gallery, data, name="at the limit", actor=SOLO)
    monkeypatch.setattr(exchange, "MAX_DECODED_PIXELS", total - 1)
    reads = Reads(monkeypatch)
    refused(gallery, data, rf"^thumbnails/2.png takes the images in the archive past {total - 1:,} pixels")
    assert sum(w * h for w, h in reads.decoded) < total and (22, 22) not in reads.decoded


def test_shared_member_counts_once_against_the_pixel_limit(gallery, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_DECODED_PIXELS", 28 * 28 + 20 * 20)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)},
                   manifest_of([(f"s{i}", "inputs/0.png", "thumbnails/0.png") for i in range(300)]))
    assert import_set(gallery, data, name="shared", actor=SOLO) == ("shared", 300)


def test_pillow_decompression_bomb_cap_is_reported_as_too_many_pixels(gallery, monkeypatch):
    """Pillow refuses images over twice ``Image.MAX_IMAGE_PIXELS`` (about 179 MP) while reading the
    header; lowered here so that a small image reaches that cap first."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, valid_manifest())
    refused(gallery, data, f"^inputs/0.png has too many pixels; the limit is {MAX_THUMB_PIXELS:,} pixels.$")


def _two_symbols(name_b="b"):
    return {"format": "siamese-reference-set", "version": 1, "name": "class set",
            "symbols": [{"name": "a", "examples": [{"input": "inputs/0.png", "thumbnail": "thumbnails/0.png"}]},
                        {"name": name_b, "examples": [{"input": "inputs/0.png", "thumbnail": "thumbnails/0.png"}]}]}


@pytest.mark.parametrize("manifest, message", [
    ({**valid_manifest(), "version": 2}, "malformed"),  # a newer format: not guessed at
    ({**valid_manifest(), "version": True}, "malformed"),  # True == 1 in Python: still refused
    ({**valid_manifest(), "format": "siamese-reference-set-x"}, "malformed"),
    (_two_symbols(name_b=" a "), "twice"),  # the same name after cleaning
    ({**valid_manifest(), "symbols": []}, "empty"),
    ({**valid_manifest(), "symbols": [{"name": "a", "examples": []}]}, "empty"),
])
def test_manifest_rules_each_refuse_on_their_own(gallery, manifest, message):
    """Each manifest rule refuses an archive that is valid in every other way (mutation survivors:
    the format/version check, the duplicate-symbol and empty-set refusals)."""
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, manifest)
    before = gallery.sets()
    with pytest.raises(SetImportError, match=message):
        import_set(gallery, data, actor=SOLO)
    assert gallery.sets() == before
    valid = archive({"inputs/0.png": png(28), "thumbnails/0.png": png(20)}, _two_symbols())
    assert read_set(valid)[0] == "class set"  # the same archive with the rule satisfied is read
