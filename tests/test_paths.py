"""siamese.paths: the directories, and writing a file whole or not at all (atomic_write)."""
import pytest

from siamese import paths


def test_atomic_write_replaces_the_file_whole_and_keeps_the_suffix_for_the_writer(tmp_path):
    target = tmp_path / "run.npz"
    target.write_bytes(b"old")
    seen = []

    def write(tmp):
        seen.append(tmp)
        assert target.read_bytes() == b"old"  # readers still see the old file while it is written
        tmp.write_bytes(b"new")

    assert paths.atomic_write(target, write) == target
    assert target.read_bytes() == b"new"
    assert seen[0].parent == tmp_path and seen[0].suffix == ".npz" and seen[0].name.startswith(".run.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "card.json"
    target.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        paths.atomic_write(target, broken)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]
    with pytest.raises(OSError):
        paths.atomic_write_text(tmp_path / "no such directory" / "x.json", "{}")


def test_two_writers_never_share_a_temporary_file(tmp_path):
    names = []
    paths.atomic_write(tmp_path / "a.txt", lambda tmp: names.append(tmp) or tmp.write_text("1"))
    paths.atomic_write(tmp_path / "a.txt", lambda tmp: names.append(tmp) or tmp.write_text("2"))
    assert names[0] != names[1] and (tmp_path / "a.txt").read_text() == "2"
    assert paths.atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert paths.atomic_write_text(tmp_path / "c.txt", "é").read_text(encoding="utf-8") == "é"
