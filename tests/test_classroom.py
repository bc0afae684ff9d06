"""siamese.classroom, and the gallery and use cases enforcing it: every cell of the issue's table
"who may do what", allowed and refused, through the core calls (not the pages); identities; the
teacher passcode; the join address and its QR code."""
import sqlite3
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from helpers import SHAPES, sketch
from siamese import classroom
from siamese.classroom import (SOLO, TEACHER, TEACHER_OWNER, Action, IdentityError, PasscodeGate, PasscodeRefused,
                               PermissionDenied, Role, configured_passcode, join_url, may, new_token, qr_png,
                               token_hash)
from siamese.lecture.job import JobStatus, TrainingJob
from siamese.lecture.settings import PRESETS
from siamese.gallery.exchange import export_set, import_set
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.gallery import Gallery
from siamese.gallery.errors import GalleryError
from siamese.data.codec import thumbnail_png
from siamese.search.index import ReferenceIndex
from siamese.matching import match_sketch, register_sketch
from helpers import FakeMatcher, image


@pytest.fixture
def gallery(tmp_path):
    return Gallery(tmp_path / "g.sqlite3")


@pytest.fixture
def klass(gallery):
    """Ana owns "star" (two examples) in Class symbols; Ben, another student, owns his own "star";
    the teacher owns "moon"; an imported set "Class 2B" exists."""
    _, ana = gallery.join_class("Ana")
    _, ben = gallery.join_class("Ben")
    m = FakeMatcher()
    register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "star", m, actor=ana)
    register_sketch(sketch(SHAPES["zero"]), gallery, CLASS_SYMBOLS, "star", m, new_symbol=False, actor=ana)
    register_sketch(sketch(SHAPES["cross"]), gallery, CLASS_SYMBOLS, "star", m, actor=ben)
    register_sketch(sketch(SHAPES["one"]), gallery, CLASS_SYMBOLS, "moon", m, actor=TEACHER)
    gallery.add_set_bulk("Class 2B", "user", [("a", image(1), thumbnail_png(np.zeros((8, 8), np.uint8)))])
    return {"owner": ana, "another student": ben, "teacher": TEACHER}


def everything(gallery):
    """Every row of every table: a write that was refused must leave this unchanged."""
    con = sqlite3.connect(gallery.path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("owners", "ref_sets", "symbols", "examples", "embeddings")}
    finally:
        con.close()


def ana_symbols(gallery, ana):
    return [(s["name"], s["examples"]) for s in gallery.symbols(CLASS_SYMBOLS, owner=ana.owner)]


# Each action done by ``actor`` on Ana's things (or on the class, for the teacher's rows); returns a
# check that its effect is there.
def match_any_set(g, actor, ana):
    res = match_sketch(sketch(SHAPES["star"]), ReferenceIndex(g), CLASS_SYMBOLS, FakeMatcher())
    assert {(m.symbol, m.owner_name) for m in res.matches} == {("star", "Ana"), ("star", "Ben"), ("moon", "Teacher")}
    assert may(actor, Action.MATCH, ana.owner)
    return lambda: True


def register(g, actor, ana):
    register_sketch(sketch(SHAPES["zigzag"]), g, CLASS_SYMBOLS, "zig", FakeMatcher(), actor=actor)
    return lambda: ("zig", actor.owner) in {(s["name"], s["owner"]) for s in g.symbols(CLASS_SYMBOLS)}


def add_example(g, actor, ana):
    register_sketch(sketch(SHAPES["seven"]), g, CLASS_SYMBOLS, "star", FakeMatcher(), new_symbol=False,
                    actor=actor, owner=ana.owner)
    return lambda: ana_symbols(g, ana) == [("star", 3)]


def rename(g, actor, ana):
    g.rename_symbol(CLASS_SYMBOLS, "star", "comet", actor=actor, owner=ana.owner)
    return lambda: ana_symbols(g, ana) == [("comet", 2)]


def delete_symbol(g, actor, ana):
    g.delete_symbol(CLASS_SYMBOLS, "star", actor=actor, owner=ana.owner)
    return lambda: ana_symbols(g, ana) == []


def import_a_set(g, actor, ana):
    import_set(g, export_set(g, "Class 2B"), name="Class 2C", actor=actor)
    return lambda: g.has_set("Class 2C")


def delete_a_set(g, actor, ana):
    g.delete_set("Class 2B", actor=actor)
    return lambda: not g.has_set("Class 2B")


def reset_the_class(g, actor, ana):
    g.reset_class(actor)
    return lambda: [s["owner_name"] for s in g.symbols(CLASS_SYMBOLS)] == ["Teacher"] and g.students() == []


def start_training(g, actor, ana, job):
    assert job.start(replace(PRESETS["classroom"], epochs=1), actor=actor) is True
    return lambda: job.snapshot().status is not JobStatus.IDLE


def stop_training(g, actor, ana, job):
    job.stop(actor=actor)
    return lambda: job._stop.is_set()


TABLE = {  # the issue's table, verbatim: (the owner, another student, the teacher); None: "–"
    match_any_set: (True, True, True),
    register: (True, None, True),
    add_example: (True, False, True),
    rename: (True, False, True),
    delete_symbol: (True, False, True),
    import_a_set: (False, False, True),
    delete_a_set: (False, False, True),
    reset_the_class: (False, False, True),
    start_training: (False, False, True),
    stop_training: (False, False, True),
}
CELLS = [(action, who, allowed) for action, row in TABLE.items()
         for who, allowed in zip(("owner", "another student", "teacher"), row) if allowed is not None]


@pytest.mark.parametrize("action, who, allowed", CELLS, ids=[f"{a.__name__}-{w}" for a, w, _ in CELLS])
def test_every_cell_of_the_table(klass, gallery, action, who, allowed, monkeypatch):
    """Allowed: the action happens. Refused: PermissionDenied with a sentence saying who may, and
    not one row of the database changes."""
    import siamese.lecture.job as job

    monkeypatch.setattr(job, "pairs_for", lambda settings: time.sleep(0.5) or 1 / 0)  # never trains
    actor, ana = klass[who], klass["owner"]
    args = (gallery, actor, ana) + ((TrainingJob(),) if action in (start_training, stop_training) else ())
    before = everything(gallery)
    if allowed:
        assert action(*args)()
    else:
        with pytest.raises(PermissionDenied, match=r"^Only (its owner or )?the teacher can "):
            action(*args)
        assert everything(gallery) == before


@pytest.mark.parametrize("action", [a for a in TABLE if a not in (match_any_set,)])
def test_the_solo_user_may_do_everything(gallery, action, monkeypatch):
    """No passcode configured: one user who may do everything, on the symbols that are theirs."""
    import siamese.lecture.job as job

    monkeypatch.setattr(job, "pairs_for", lambda settings: 1 / 0)
    register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "star", FakeMatcher(), actor=SOLO)
    register_sketch(sketch(SHAPES["zero"]), gallery, CLASS_SYMBOLS, "star", FakeMatcher(), new_symbol=False, actor=SOLO)
    gallery.add_set_bulk("Class 2B", "user", [("a", image(1), thumbnail_png(np.zeros((8, 8), np.uint8)))])
    args = (gallery, SOLO, SOLO) + ((TrainingJob(),) if action in (start_training, stop_training) else ())
    if action is reset_the_class:
        gallery.reset_class(SOLO)
        assert [s["name"] for s in gallery.symbols(CLASS_SYMBOLS)] == ["star"]  # the solo user's own stay
    else:
        assert action(*args)()


def test_the_permission_table_as_code_is_the_issue_table():
    expected = {Role.STUDENT: {Action.MATCH: "anyone's", Action.REGISTER: "own only", Action.ADD_EXAMPLE: "own only",
                               Action.RENAME: "own only", Action.DELETE_SYMBOL: "own only",
                               Action.ANSWER: "own only"}}
    student = classroom.PERMISSIONS[Role.STUDENT]
    assert {a: str(student[a]) for a in expected[Role.STUDENT]} == expected[Role.STUDENT]
    assert {a for a, scope in student.items() if scope == "nobody's"} == \
        {Action.IMPORT_SET, Action.DELETE_SET, Action.RESET_CLASS, Action.TRAIN, Action.RUN_ROUND, Action.TEACH}
    for role in (Role.TEACHER, Role.SOLO):
        assert set(classroom.PERMISSIONS[role].values()) == {"anyone's"}
        assert len(classroom.PERMISSIONS[role]) == len(Action)


def test_nobody_registers_for_someone_else_and_students_register_only_in_class_symbols(klass, gallery):
    ana, ben = klass["owner"], klass["another student"]
    before = everything(gallery)
    for actor in (ben, TEACHER):
        with pytest.raises(PermissionDenied, match="belongs to whoever registers it"):
            gallery.add_example(CLASS_SYMBOLS, "gift", image(3), b"p", actor=actor, owner=ana.owner)
    with pytest.raises(PermissionDenied, match="Students register their symbols in Class symbols"):
        gallery.add_example("Class 2B", "b", image(3), b"p", actor=ana)
    with pytest.raises(PermissionDenied):  # another student's example, with the owner named by id
        gallery.add_example(CLASS_SYMBOLS, "star", image(3), b"p", new_symbol=False, actor=ben, owner=ana.owner)
    assert everything(gallery) == before


def test_names_are_unique_per_owner_not_globally(klass, gallery):
    ana, ben = klass["owner"], klass["another student"]
    stars = [(s["name"], s["owner_name"]) for s in gallery.symbols(CLASS_SYMBOLS) if s["name"] == "star"]
    assert stars == [("star", "Ana"), ("star", "Ben")]
    with pytest.raises(GalleryError, match="^You already have a symbol called “star” in Class symbols"):
        gallery.add_example(CLASS_SYMBOLS, "star", image(4), b"p", actor=ana)
    gallery.add_example(CLASS_SYMBOLS, "moon", image(5), b"p", actor=ana)  # the teacher's "moon" is not hers
    with pytest.raises(GalleryError, match="^Ana already has a symbol called “star” in Class symbols"):
        gallery.rename_symbol(CLASS_SYMBOLS, "moon", "star", actor=TEACHER, owner=ana.owner)
    with pytest.raises(GalleryError, match="^Ben has no symbol called “comet” in Class symbols"):
        gallery.delete_symbol(CLASS_SYMBOLS, "comet", actor=TEACHER, owner=ben.owner)


def test_only_mine_matches_against_the_students_own_symbols(klass, gallery):
    ana = klass["owner"]
    index, m = ReferenceIndex(gallery), FakeMatcher()
    everyone = match_sketch(sketch(SHAPES["one"]), index, CLASS_SYMBOLS, m)
    assert everyone.best.symbol == "moon" and everyone.best.owner_name == "Teacher"
    mine = match_sketch(sketch(SHAPES["one"]), index, CLASS_SYMBOLS, m, owner=ana.owner)
    assert [(x.symbol, x.owner_name) for x in mine.matches] == [("star", "Ana")]
    nobody = match_sketch(sketch(SHAPES["one"]), index, CLASS_SYMBOLS, m, owner=999)
    assert nobody.verdict == "no references"


# ---- identities ----
def test_tokens_are_random_url_safe_and_stored_only_as_a_hash(gallery):
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and all(len(t) == 32 and t.isascii() for t in tokens)  # 6 bits a character: 192
    token, ana = gallery.join_class("Ana")
    assert gallery.student(token) == ana and ana.role is Role.STUDENT and ana.owner != TEACHER_OWNER
    raw = gallery.path.read_bytes() + (gallery.path.with_name(gallery.path.name + "-wal").read_bytes()
                                       if gallery.path.with_name(gallery.path.name + "-wal").exists() else b"")
    assert token.encode() not in raw and token_hash(token).encode() in raw


def test_a_second_student_cannot_take_a_name_of_the_class_or_the_teachers(gallery):
    """#24 item 4: a student joined as "Teacher" and the match list showed "star · Teacher" twice;
    a second "Ana" passed for the first. A display name is unique in the class, as it reads
    (case, spaces and punctuation aside), and no student reads as the teacher; after a reset the
    names are free again. The separator " · " (or a dot like it) is in no name."""
    from siamese.gallery.names import person_key
    t1, a1 = gallery.join_class("Ana")
    for twin in (" Ana ", "ANA", "ana.", "A-na", "Ａｎａ"):  # the last in full-width letters
        with pytest.raises(GalleryError, match="already called “Ana”"):
            gallery.join_class(twin)
    for teacher in ("Teacher", "teacher", "TEACHER!", "T e a c h e r", "..."):
        with pytest.raises(GalleryError, match="teacher's name"):
            gallery.join_class(teacher)
    for dotted in ("Ben · Ana", "Ben•", "x ⋅ y", "Ana・B", "·"):
        with pytest.raises(GalleryError, match="may not contain “·”"):
            gallery.join_class(dotted)
    assert [s["name"] for s in gallery.students()] == ["Ana"]
    _, ben = gallery.join_class("Anaïs")  # a different name that merely starts alike
    assert person_key(ben.name) != person_key(a1.name)
    register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "star", FakeMatcher(), actor=a1)
    with pytest.raises(PermissionDenied):
        gallery.delete_symbol(CLASS_SYMBOLS, "star", actor=ben, owner=a1.owner)
    gallery.reset_class(TEACHER)
    _, again = gallery.join_class("Ana")  # a new class: the name is free
    assert again.owner != a1.owner


def test_symbol_names_cannot_hold_the_owner_separator_and_labels_say_whose(gallery):
    """ "star · Ben" registered by Ana read "star · Ben · Ana". A symbol name holds no separator
    or look-alike dot (a middle dot inside a word, the Catalan "l·l", stays); every label of a
    class's symbol then ends with its owner's name after the one separator."""
    from siamese.gallery.names import OWNER_SEPARATOR, symbol_label
    _, ana = gallery.join_class("Ana")
    for name in ("star · Ben", "star ·Ben", "star • Ben", "star ∙ Ben", "star‧Ben", "·star"):
        with pytest.raises(GalleryError, match="may not contain “·”"):
            register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, name, FakeMatcher(), actor=ana)
    register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "col·lecció", FakeMatcher(), actor=ana)
    register_sketch(sketch(SHAPES["zero"]), gallery, CLASS_SYMBOLS, "moon", FakeMatcher(), actor=TEACHER)
    with pytest.raises(GalleryError, match="may not contain “·”"):
        gallery.rename_symbol(CLASS_SYMBOLS, "moon", "moon · Ana", actor=TEACHER)
    labels = [symbol_label(s["name"], s["owner_name"], True) for s in gallery.symbols(CLASS_SYMBOLS)]
    assert labels == ["col·lecció · Ana", "moon · Teacher"]
    assert all(label.count(OWNER_SEPARATOR) == 1 for label in labels)
    assert symbol_label("moon", "Teacher", False) == "moon"  # solo mode and the other sets: no owner


@pytest.mark.parametrize("name, message", [
    ("", "Please type your name"), ("   \t ", "Please type your name"), ("x" * 10_000, "keep it to"),
    ("Ana\u202e", "control characters"), ("A\nB", "control characters"),
])
def test_bad_display_names_are_refused_with_a_clear_message(gallery, name, message):
    with pytest.raises(GalleryError, match=message):
        gallery.join_class(name)
    assert gallery.students() == []


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "**Ana** [x](y)", "🦊 Zoë", "👩\u200d💻",
                                  "שלום"])
def test_odd_display_names_are_kept_verbatim(gallery, name):
    _, student = gallery.join_class(name)
    assert student.name == name and gallery.students()[0]["name"] == name


@pytest.mark.parametrize("token, message", [
    (None, "damaged"), ("", "damaged"), ("abc", "damaged"), ("x" * 10_000, "damaged"), ("<script>" * 4, "damaged"),
    ("A" * 32, "does not know the student"),  # well formed, never issued
])
def test_bad_tokens_get_a_clear_message_that_never_repeats_them(gallery, token, message):
    with pytest.raises(IdentityError, match=message) as caught:
        gallery.student(token)
    assert not token or token not in str(caught.value)


def test_a_token_from_before_the_reset_is_refused_and_its_open_session_writes_nothing(klass, gallery):
    ana = klass["owner"]
    token, cleo = gallery.join_class("Cleo")
    gallery.add_set_bulk("Untouched", "user", [("a", image(1), b"png")])
    before_reset = gallery.revision(CLASS_SYMBOLS), gallery.revision("Untouched")
    assert gallery.reset_class(TEACHER) == (3, 2)  # Ana, Ben and Cleo; Ana's and Ben's stars
    assert gallery.revision(CLASS_SYMBOLS) != before_reset[0]  # every cache of the set sees the reset
    assert gallery.revision("Untouched") == before_reset[1]  # no student's symbol there: the same version
    with pytest.raises(IdentityError, match="started a new class"):
        gallery.student(token)
    before = everything(gallery)
    with pytest.raises(IdentityError, match="started a new class"):  # a page loaded before the reset
        register_sketch(sketch(SHAPES["star"]), gallery, CLASS_SYMBOLS, "again", FakeMatcher(), actor=cleo)
    with pytest.raises(IdentityError, match="started a new class"):
        gallery.rename_symbol(CLASS_SYMBOLS, "star", "x", actor=ana)
    assert everything(gallery) == before
    assert [(s["name"], s["owner_name"]) for s in gallery.symbols(CLASS_SYMBOLS)] == [("moon", "Teacher")]
    token2, cleo2 = gallery.join_class("Cleo")  # joining again: a new owner
    assert cleo2.owner > cleo.owner and gallery.student(token2) == cleo2


def test_thirty_students_registering_in_the_same_second_all_arrive_once(gallery):
    """30 students (threads, as 30 sessions) join, then all register a symbol called "star" at the
    same moment, then press Register again: 30 stored, none lost, none duplicated."""
    students = [gallery.join_class(f"Student {i}")[1] for i in range(30)]
    barrier, m = threading.Barrier(30), FakeMatcher()
    outcomes, moments = [], []

    def student(actor, i):
        barrier.wait()
        moments.append(time.monotonic())
        drawing = sketch(SHAPES["star"], width=10 + i % 8)
        for _ in range(2):  # the second press is refused: the name is taken by this student
            try:
                register_sketch(drawing, Gallery(gallery.path), CLASS_SYMBOLS, "star", m, actor=actor)
                outcomes.append("stored")
            except GalleryError as exc:
                outcomes.append(str(exc))

    threads = [threading.Thread(target=student, args=(s, i)) for i, s in enumerate(students)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert max(moments) - min(moments) < 1.0
    assert outcomes.count("stored") == 30
    assert outcomes.count("You already have a symbol called “star” in Class symbols. Choose another name, "
                          "or add this sketch as another example of it.") == 30
    rows = gallery.symbols(CLASS_SYMBOLS)
    assert sorted(s["owner"] for s in rows) == sorted(s.owner for s in students)  # one each: none lost or doubled
    assert all(s["examples"] == 1 for s in rows)


# ---- the teacher passcode ----
def test_the_passcode_comes_from_the_secrets_or_the_environment():
    assert configured_passcode("from-secrets", {"SIAMESE_TEACHER_PASSCODE": "from-env"}) == "from-secrets"
    assert configured_passcode(None, {"SIAMESE_TEACHER_PASSCODE": "from-env"}) == "from-env"
    assert configured_passcode(1234, {}) == "1234"  # a TOML number
    for nothing in (None, "", "   "):
        assert configured_passcode(nothing, {}) is None  # solo mode


def test_right_passcode_unlocks_and_compares_in_constant_time(monkeypatch):
    calls = []
    real = classroom.hmac.compare_digest
    monkeypatch.setattr(classroom.hmac, "compare_digest", lambda a, b: calls.append((len(a), len(b))) or real(a, b))
    PasscodeGate().unlock("owl-42", "owl-42")
    assert calls == [(32, 32)]  # digests: equal lengths whatever was typed


@pytest.mark.parametrize("typed, message, counted", [
    ("", "Type the teacher passcode.", False), ("   ", "Type the teacher passcode.", False),
    (None, "Type the teacher passcode.", False), ("owl-43", "That is not the teacher passcode.", True),
    ("x" * 2**20, "That is not the teacher passcode.", True),  # 1 MB
    ("owl-42" + "\x00", "That is not the teacher passcode.", True),
])
def test_bad_passcodes_get_a_clear_message_that_never_repeats_them(typed, message, counted):
    gate = PasscodeGate()
    t0 = time.perf_counter()
    with pytest.raises(PasscodeRefused) as caught:
        gate.unlock(typed, "owl-42", now=0.0)
    assert time.perf_counter() - t0 < 0.5
    assert str(caught.value) == message and "owl-42" not in str(caught.value)
    assert gate.failures == (1 if counted else 0)


def test_after_three_wrong_tries_in_a_row_the_session_waits_longer_each_time():
    gate = PasscodeGate()
    for now in (0.0, 1.0):
        with pytest.raises(PasscodeRefused, match="^That is not the teacher passcode.$"):
            gate.unlock("wrong", "owl-42", now=now)
    with pytest.raises(PasscodeRefused, match="After 3 wrong tries in a row, wait 10 s"):
        gate.unlock("wrong", "owl-42", now=2.0)
    with pytest.raises(PasscodeRefused, match="wait 5 s before trying again"):
        gate.unlock("owl-42", "owl-42", now=7.0)  # even the right one waits: not counted, not checked
    assert gate.failures == 3
    with pytest.raises(PasscodeRefused, match="After 4 wrong tries in a row, wait 20 s"):
        gate.unlock("wrong", "owl-42", now=12.0)
    gate.unlock("owl-42", "owl-42", now=32.0)
    assert gate.failures == 0 and gate.wait_s(32.0) == 0


# ---- joining ----
def test_join_url_and_qr_code():
    assert join_url("192.168.1.23", 8501) == "http://192.168.1.23:8501/"
    assert join_url("10.0.0.5", 80, "/siamese/") == "http://10.0.0.5:80/siamese/"
    assert join_url("fe80::1", 8501) == "http://[fe80::1]:8501/"
    import io

    import segno
    from PIL import Image

    url = "http://192.168.1.23:8501/"
    img = Image.open(io.BytesIO(qr_png(url)))
    qr = segno.make(url, error="m", micro=False)  # version 2: 25 modules, and a 4-module quiet zone
    side = 25 + 8
    assert qr.version == 2 and img.size[0] == img.size[1] == side * 15 >= 480  # 15 px a module
    px = np.asarray(img.convert("L"))
    centres = px[7::15, 7::15]  # the centre pixel of every module, quiet zone included
    expected = np.pad(np.array([list(row) for row in qr.matrix], bool), 4)
    np.testing.assert_array_equal(centres == 0, expected)  # dark exactly where the code of the URL is


def test_lan_address_is_an_ipv4_address():
    import ipaddress
    assert ipaddress.ip_address(classroom.lan_address()).version == 4


def test_exporting_class_symbols_keeps_two_owners_stars_apart(klass, gallery):
    """Names are unique per owner, not per set: the zip names shared ones "star (Ana)" (never
    "star · Ana": no name holds the owner separator), so an import makes one symbol of each, none
    merged."""
    import io
    import json
    import zipfile

    data = export_set(gallery, CLASS_SYMBOLS)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert sorted((s["name"], len(s["examples"])) for s in manifest["symbols"]) == \
        [("moon", 1), ("star (Ana)", 2), ("star (Ben)", 1)]
    import_set(gallery, data, name="Copy", actor=TEACHER)
    assert [(s["name"], s["examples"]) for s in gallery.symbols("Copy")] == [("moon", 1), ("star (Ana)", 2),
                                                                           ("star (Ben)", 1)]
    legacy = zipfile.ZipFile(io.BytesIO(data))  # a zip exported before: "star · Ana"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for item in legacy.infolist():
            body = legacy.read(item)
            zf.writestr(item, body.replace(b" (Ana)", " · Ana".encode()).replace(b" (Ben)", " · Ben".encode())
                        if item.filename == "manifest.json" else body)
    assert b"star \xc2\xb7 Ana" in zipfile.ZipFile(out).read("manifest.json")
    import_set(gallery, out.getvalue(), name="Old copy", actor=TEACHER)
    assert [s["name"] for s in gallery.symbols("Old copy")] == ["moon", "star (Ana)", "star (Ben)"]
