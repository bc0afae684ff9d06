"""The Class experiment page under Streamlit's AppTest: the teacher's, the student's and the
projector's views, who may open which, and a round of each kind through them (real Omniglot
evaluation alphabets: round 1 draws its trials from them)."""
import json

import pyarrow as pa
import pytest

from helpers import SHAPES, sketch
from siamese.classroom import TEACHER
from siamese.experiment import Experiment, RoundState
from siamese.gallery.gallery import Gallery
from siamese.gallery.schema import CLASS_SYMBOLS
from helpers import class_app, click, everything_shown, join, texts, unlock
from ui import nav

pytestmark = pytest.mark.realdata


@pytest.fixture(autouse=True)
def data(real_data_dir, monkeypatch):
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))


def page(query=None, passcode=None):
    return class_app(nav.EXPERIMENT, query=query, passcode=passcode)


def start_round_one(at, n=3, way=5):
    at.number_input[0].set_value(n)
    at.radio[0].set_value(way)
    return click(at, "Start round 1")


def test_solo_opens_all_three_views_and_runs_round_one_through_them():
    teacher = page()
    assert [b for b in teacher.button_group][0].options  # Teacher / Student / Projector
    start_round_one(teacher)
    assert not teacher.exception, teacher.exception
    assert "Round 1 started: 3 trials, 5-way." in texts(teacher)
    r = Experiment(Gallery()).current()
    assert r.state is RoundState.OPEN and r.size == 3 and all(0 <= t.model < 5 for t in r.trials)

    student = page({"view": "student"})
    assert "1 of 3" in everything_shown(student)
    picks = [b for b in student.button if (b.key or "").startswith(f"exp_pick_{r.id}_0_")]
    assert [b.label for b in picks] == ["1", "2", "3", "4", "5"]
    right = r.trials[0].answer
    picks[right].click().run()
    assert "Stored." in texts(student) and "2 of 3" in everything_shown(student)

    projector = page({"view": "projector"})
    shown = everything_shown(projector)
    assert f"Round {r.id} · open" in shown
    metrics = {m.label: m.value for m in projector.metric}
    assert metrics["Answers in"] == "1" and metrics["Class"] == "100%"
    assert metrics["Model"] == f"{round(100 * sum(t.model == t.answer for t in r.trials) / 3)}%"
    charts = projector.get("vega_lite_chart")
    assert len(charts) == 2  # the class against the model, and per trial
    layers = json.loads(charts[0].proto.spec)["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["bar", "errorbar", "rule", "text"]
    data = [pa.ipc.open_stream(d.data.data).read_all().to_pylist() for d in charts[0].proto.datasets]
    assert {"x": 0.955, "t": "People, Lake et al. 2015: 95.5%"} in [row for rows in data for row in rows]

    teacher = page()
    click(teacher, "End round")
    assert "Round ended" in texts(teacher)
    student = page({"view": "student"})
    assert "No round is running" in texts(student)
    assert [a.choice for a in Experiment(Gallery()).answers(r.id)] == [right]


def test_in_a_class_a_student_sees_only_their_view_and_the_teacher_runs_the_round():
    visitor = page(passcode="owl")
    assert "Join the class" in texts(visitor)
    join(visitor, "Ana")
    assert "No round is running" in texts(visitor)
    assert not visitor.button_group and not [b for b in visitor.button if b.label == "Start round 1"]
    teacher = page(passcode="owl")
    unlock(teacher, "owl")
    start_round_one(teacher, n=2, way=20)
    r = Experiment(Gallery()).current()
    token = visitor.query_params["student"]
    student = page({"student": token, "view": "teacher"}, passcode="owl")  # asking for another view: still their own
    assert not [b for b in student.button if b.label == "Start round 1"]
    picks = [b for b in student.button if (b.key or "").startswith(f"exp_pick_{r.id}_0_")]
    assert len(picks) == 20
    picks[3].click().run()
    ana = Gallery().students()[0]["owner"]
    assert [(a.owner, a.trial, a.choice) for a in Experiment(Gallery()).answers(r.id)] == [(ana, 0, 3)]


def test_round_two_draw_send_and_teach():
    from siamese import load_matcher
    from siamese.matching import register_sketch

    g = Gallery()
    for name in ("star", "zero"):
        register_sketch(sketch(SHAPES[name]), g, CLASS_SYMBOLS, name, load_matcher(), actor=TEACHER)
    teacher = page()
    teacher.selectbox(key="exp_set").set_value(CLASS_SYMBOLS).run()
    teacher.multiselect(key="exp_symbols").set_value(["star", "zero"]).run()
    click(teacher, "Start round 2")
    r = Experiment(g).current()
    assert [p.symbol for p in r.prompts] == ["star", "zero"]
    student = page({"view": "student"})
    click(student, "Send drawing")
    assert "canvas is empty" in texts(student)
    student.session_state[f"exp_draw_{r.id}_0_sketch"] = sketch(SHAPES["star"])
    student.run()
    click(student, "Send drawing")
    assert "Drawing sent." in texts(student)
    a = Experiment(g).answers(r.id)[0]
    assert a.trial == 0 and a.guess == "star" and a.distance is not None and a.verdict
    projector = page({"view": "projector"})
    assert {m.label: m.value for m in projector.metric}["Drawings in"] == "1"
    teacher = page()
    click(teacher, "Teach it")
    assert "1 drawings added as examples." in texts(teacher)
    assert {s["name"]: s["examples"] for s in g.symbols(CLASS_SYMBOLS)}["star"] == 2
