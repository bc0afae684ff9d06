"""siamese.exchange: export / import of reference sets, and hostile archives."""
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from siamese.exchange import MAX_THUMB_PIXELS, SetImportError, export_set, import_set, read_set
from siamese.gallery import MY_SYMBOLS, Gallery, GalleryError
from test_gallery import FakeMatcher, image


@pytest.fixture
def gallery(tmp_path):
    g = Gallery(tmp_path / "g.sqlite3")
    m = FakeMatcher()
    for i, name in enumerate(["star", "moon", "🌟 <b>"]):
        g.add_example(MY_SYMBOLS, name, image(i), png(8 + i), m)
    g.add_example(MY_SYMBOLS, "star", image(9), png(20), m, new_symbol=False)
    return g


def png(size, mode="L"):
    buf = io.BytesIO()
    Image.new(mode, (size, size), 255).save(buf, format="PNG")
    return buf.getvalue()


def archive(members: dict, manifest=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if manifest is not None:
            zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def valid_manifest(name="class set"):
    return {"format": "siamese-reference-set", "version": 1, "name": name,
            "symbols": [{"name": "a", "examples": [{"input": "inputs/0.png", "thumbnail": "thumbnails/0.png"}]}]}


def test_round_trip(gallery, tmp_path):
    data = export_set(gallery, MY_SYMBOLS)
    other = Gallery(tmp_path / "other.sqlite3")
    m = FakeMatcher()
    assert import_set(other, data, m, name="From home") == ("From home", 4)
    assert [(s["name"], s["examples"]) for s in other.symbols("From home")] == \
        [(s["name"], s["examples"]) for s in gallery.symbols(MY_SYMBOLS)]
    np.testing.assert_allclose(other.references("From home", m).embeddings,
                               gallery.references(MY_SYMBOLS, m).embeddings[[1, 0, 3, 2]], atol=1e-5)


def test_importing_twice_under_one_name_is_refused(gallery):
    data = export_set(gallery, MY_SYMBOLS)
    import_set(gallery, data, name="Copy")
    with pytest.raises(SetImportError, match="already exists"):
        import_set(gallery, data, name="Copy")


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
        import_set(gallery, data)
    assert gallery.sets() == before


def test_zip_bomb_is_refused_before_unpacking(gallery):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(valid_manifest()))
        zf.writestr("inputs/0.png", b"\0" * (120 * 1024 * 1024))  # 120 MB of zeros: ~120 kB zipped
    assert len(buf.getvalue()) < 1_000_000
    with pytest.raises(SetImportError, match="zip bomb"):
        read_set(buf.getvalue())


def test_50_megapixel_thumbnail_is_refused_without_decoding(gallery):
    side = int((50e6) ** 0.5)
    img = Image.new("1", (side, side), 1)  # 1-bit: a small file for 50 MP
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    data = archive({"inputs/0.png": png(28), "thumbnails/0.png": buf.getvalue()}, valid_manifest())
    with pytest.raises(SetImportError, match=f"limit is {MAX_THUMB_PIXELS:,} pixels"):
        read_set(data)


def test_zip_lying_about_its_sizes_is_read_with_a_bound():
    """A member whose header claims 10 bytes but inflates to 200 MB must not be unpacked whole."""
    import resource
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"\0" * (200 * 1024 * 1024))
    data = bytearray(buf.getvalue())
    # Patch the declared uncompressed size (local header offset 22, central directory entry + 24).
    data[22:26] = (10).to_bytes(4, "little")
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(GalleryError):
        read_set(bytes(data))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB: under 100 MB


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
