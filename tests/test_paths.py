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
    with pytest.raises(TypeError, match="not JSON"):  # failing before any byte is written: that error, as it was
        paths.atomic_write(target, lambda tmp: (_ for _ in ()).throw(TypeError("not JSON")))
    assert target.read_text() == "old"


def test_two_writers_never_share_a_temporary_file(tmp_path):
    names = []
    paths.atomic_write(tmp_path / "a.txt", lambda tmp: names.append(tmp) or tmp.write_text("1"))
    paths.atomic_write(tmp_path / "a.txt", lambda tmp: names.append(tmp) or tmp.write_text("2"))
    assert names[0] != names[1] and (tmp_path / "a.txt").read_text() == "2"
    assert paths.atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert paths.atomic_write_text(tmp_path / "c.txt", "é").read_text(encoding="utf-8") == "é"


def test_each_directory_is_its_variable_or_its_default_under_home_and_only_data_is_never_created(tmp_path,
                                                                                                monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    for var in ("SIAMESE_DATA_DIR", "SIAMESE_CACHE_DIR", "SIAMESE_HOME"):
        monkeypatch.setenv(var, "")  # blank: the default
    home = tmp_path / "me"
    assert paths.data_dir() == home / ".keras" / "datasets" / "siamese" and not paths.data_dir().exists()
    assert paths.cache_dir() == home / ".cache" / "siamese" and paths.cache_dir().is_dir()
    assert paths.home_dir() == home / ".local" / "share" / "siamese" and paths.home_dir().is_dir()
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SIAMESE_CACHE_DIR", str(tmp_path / "c" / "deep"))
    monkeypatch.setenv("SIAMESE_HOME", "~/h")
    assert paths.data_dir() == tmp_path / "d" and not (tmp_path / "d").exists()
    assert paths.cache_dir() == tmp_path / "c" / "deep" and paths.cache_dir().is_dir()  # parents made too
    assert paths.home_dir() == home / "h" and paths.home_dir().is_dir()


def test_the_database_url_is_the_variable_or_none_when_blank(monkeypatch):
    monkeypatch.delenv("SIAMESE_DATABASE_URL", raising=False)
    assert paths.database_url() is None
    monkeypatch.setenv("SIAMESE_DATABASE_URL", "  ")
    assert paths.database_url() is None
    monkeypatch.setenv("SIAMESE_DATABASE_URL", " postgresql://u@h/db ")
    assert paths.database_url() == "postgresql://u@h/db"
