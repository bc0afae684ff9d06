"""The class experiment's core (siamese/experiment): trials, scoring on hand-made data whose scores
are known, rounds and answers on both databases (SQLite and PostgreSQL in turn), permissions, the
migration from schema version 3, and 40 students answering the same trial at once."""
from __future__ import annotations

import csv
import io
import threading

import numpy as np
import pytest

from siamese.classroom import SOLO, TEACHER, Actor, IdentityError, PermissionDenied, Role
from siamese.experiment import (LAKE_PEOPLE_ACCURACY, Answer, Experiment, ExperimentError, RoundKind, RoundState,
                                Trial, rescore_k_shot, score_drawings, score_recognition)
from siamese.experiment.trials import MIXED, make_trials, model_answers
from siamese.fewshot.evaluation import wilson_interval
from siamese.gallery.gallery import Gallery
from siamese.gallery.schema import CLASS_SYMBOLS


@pytest.fixture(params=["sqlite", "postgresql"])
def gallery(request, tmp_path):
    if request.param == "sqlite":
        return Gallery(tmp_path / "g.sqlite3")
    return Gallery(request.getfixturevalue("postgres_url"))


def image(seed):
    x = np.zeros((28, 28), np.float32)
    x[seed % 20:seed % 20 + 6, 3:20] = 1.0
    x[4:24, seed % 17 + 2] = 1.0
    return x


def trial(answer, model, way=5):
    return {"alphabet": "A", "query": 100 + answer, "candidates": list(range(way)), "answer": answer,
            "model": model, "distances": [1.0] * way}


def answer(t, choice, owner=2):
    return Answer(0, 1, owner, "x", t, choice, None, None, None, None, "")


# ---- scoring (hand-made, scores known) ----
def test_round_one_scores_are_those_counted_by_hand():
    trials = [Trial("A", 0, (1, 2, 3), 0, 0, ()), Trial("A", 0, (1, 2, 3), 1, 2, ()),
              Trial("A", 0, (1, 2, 3), 2, 2, ()), Trial("A", 0, (1, 2, 3), 0, 1, ())]
    # trial 0: 3/3 right, model right; trial 1: 2/3, model wrong; trial 2: 0/2, model right; trial 3: nobody
    answers = [answer(0, 0, 2), answer(0, 0, 3), answer(0, 0, 4), answer(1, 1, 2), answer(1, 1, 3), answer(1, 0, 4),
               answer(2, 0, 2), answer(2, 1, 3)]
    s = score_recognition(trials, answers)
    assert (s.answers, s.correct, s.trials, s.model_correct) == (8, 5, 4, 2)
    assert s.accuracy == 5 / 8 and s.model_accuracy == 0.5
    assert s.ci == wilson_interval(5, 8) and s.model_ci == wilson_interval(2, 4)
    assert 0.30 < s.ci[0] < 0.32 and 0.86 < s.ci[1] < 0.87  # Wilson 1927 for 5/8: 0.306-0.863
    assert [(t.answers, t.correct, t.model_correct) for t in s.per_trial] == \
        [(3, 3, True), (3, 2, False), (2, 0, True), (0, 0, False)]
    assert s.per_trial[1].accuracy == 2 / 3 and s.per_trial[3].accuracy is None
    assert s.people_not_model == (1,) and s.model_not_people == (2,)  # trial 3: answered by nobody, in neither
    assert LAKE_PEOPLE_ACCURACY == 0.955


def test_no_answers_score_as_unknown_not_zero():
    s = score_recognition([Trial("A", 0, (1, 2), 0, 1, ())], [])
    assert s.accuracy is None and s.ci == (0.0, 1.0) and s.model_correct == 0


def test_round_two_rates_and_confusions_are_those_counted_by_hand():
    s = score_drawings(["a", "a", "a", "b", "b", "c"], ["a", "b", "a", "a", "a", None], symbols=["a", "b", "c", "d"])
    assert (s.right, s.total, s.rate) == (2, 6, 2 / 6)
    assert s.per_symbol == {"a": (2, 3), "b": (0, 2), "c": (0, 1), "d": (0, 0)}
    assert s.confusions == (("b", "a", 2), ("a", "b", 1), ("c", None, 1))


def test_k_shot_rescoring_never_counts_a_drawing_against_itself():
    refs, ref_labels = np.array([[0.0, 0.0], [10.0, 0.0]]), ["a", "b"]
    # both "a" drawings lie nearer b's one example than a's, but near each other
    drawings = np.array([[7.0, 0.0], [7.5, 0.0], [10.2, 0.0]])
    one, k = rescore_k_shot(drawings, ["a", "a", "b"], refs, ref_labels)
    assert one == ["b", "b", "b"]  # one-shot: the nearest stored example
    assert k == ["a", "a", "b"]  # K-shot: the other "a" drawing is nearer; never the drawing itself
    lone_one, lone_k = rescore_k_shot(drawings[:1], ["a"], refs, ref_labels)
    assert lone_one == lone_k == ["b"]  # a drawing alone has only itself: left out, so unchanged
    assert rescore_k_shot(np.zeros((0, 2)), [], refs, ref_labels) == ([], [])


# ---- trials ----
@pytest.fixture
def omniglot_like(synthetic):
    labels, groups, drawers = synthetic
    char_alphabet = np.arange(100) // 25
    excluded = np.zeros(len(labels), bool)
    excluded[(labels % 25 < 20) & (drawers <= 2)] = True  # "official" images: never used
    return labels, drawers, char_alphabet, ["Ab", "Cd", "Ef", "Gh"], excluded


@pytest.mark.parametrize("way", [5, 20])
def test_trials_hold_one_drawing_per_character_of_one_alphabet_by_others_than_the_querys(omniglot_like, way):
    labels, drawers, char_alphabet, alphabets, excluded = omniglot_like
    trials = make_trials(labels, drawers, char_alphabet, alphabets, excluded, n=12, way=way, seed=7)
    assert len(trials) == 12
    for t in trials:
        chars = labels[t["candidates"]]
        assert len(t["candidates"]) == way and len(set(chars)) == way
        assert set(char_alphabet[chars]) == {alphabets.index(t["alphabet"])}
        assert labels[t["query"]] == chars[t["answer"]]
        assert drawers[t["query"]] not in drawers[t["candidates"]].tolist()
        assert not excluded[[t["query"]] + t["candidates"]].any()
    assert make_trials(labels, drawers, char_alphabet, alphabets, excluded, n=12, way=way, seed=7) == trials
    assert make_trials(labels, drawers, char_alphabet, alphabets, excluded, n=12, way=way, seed=8) != trials
    assert len({t["alphabet"] for t in trials}) > 1  # mixed by default


def test_trials_of_one_alphabet_and_refused_requests(omniglot_like):
    labels, drawers, char_alphabet, alphabets, excluded = omniglot_like
    one = make_trials(labels, drawers, char_alphabet, alphabets, excluded, n=5, way=5, alphabet="Cd", seed=1)
    assert {t["alphabet"] for t in one} == {"Cd"}
    with pytest.raises(ValueError, match="5 or 20-way, not 10-way"):
        make_trials(labels, drawers, char_alphabet, alphabets, excluded, way=10)
    with pytest.raises(ValueError, match="no evaluation alphabet called 'Zz'"):
        make_trials(labels, drawers, char_alphabet, alphabets, excluded, alphabet="Zz")
    with pytest.raises(ValueError, match="1 to 40 trials"):
        make_trials(labels, drawers, char_alphabet, alphabets, excluded, n=0)
    small = char_alphabet.copy()
    small[small == 1] = 0  # "Cd" keeps no character
    with pytest.raises(ValueError, match="Cd has 0 characters: too few for a 20-way trial"):
        make_trials(labels, drawers, small, alphabets, excluded, alphabet="Cd")


def test_the_model_answers_with_the_nearest_candidate():
    images = np.stack([image(i) for i in range(6)])
    images[5] = images[3]  # the query is candidate 3's image
    t = model_answers(lambda x: x.reshape(len(x), -1), images, [{"query": 5, "candidates": [0, 1, 2, 3, 4],
                                                                  "answer": 3, "alphabet": "A"}])[0]
    assert t["model"] == 3 and t["distances"][3] == 0.0 and min(t["distances"][:3]) > 0


@pytest.mark.realdata
def test_real_trials_never_use_an_image_of_the_official_runs(real_data_dir):
    from siamese.data.datasets import load_omniglot
    from siamese.experiment.trials import official_images
    data = load_omniglot("evaluation")
    official = official_images(data)
    # every image of the 20 runs (20 training + 20 test each) is found: 800, and the copy of one of them
    # that the split holds (its 13,180 images hold 13,177 distinct ones)
    assert 800 <= official.sum() <= 803
    trials = make_trials(data.labels, data.drawers, data.char_alphabet, data.alphabets, official, n=40, way=20,
                         alphabet=MIXED, seed=3)
    used = np.array([i for t in trials for i in [t["query"]] + t["candidates"]])
    assert not official[used].any()


# ---- rounds and answers (both databases) ----
def students(gallery, n):
    return [gallery.join_class(f"s{i}")[1] for i in range(n)]


def start(exp, n=3, way=5, actor=TEACHER, models=None):
    trials = [trial(i % way, (models or [0] * n)[i], way) for i in range(n)]
    return exp.start_recognition(trials, alphabet="A", way=way, seed=1, actor=actor)


def test_a_round_is_answered_once_per_trial_and_the_first_tap_counts(gallery):
    exp = Experiment(gallery)
    ana, ben = students(gallery, 2)
    r = start(exp)
    assert r.kind is RoundKind.RECOGNISE and r.state is RoundState.OPEN and r.size == 3
    first = exp.answer(r.id, 0, 0, ms=1234, actor=ana)
    assert first.new and first.answer.choice == 0 and first.answer.ms == 1234 and first.answer.owner == ana.owner
    again = exp.answer(r.id, 0, 4, ms=10, actor=ana)
    assert not again.new and again.answer == first.answer and "first answer counts" in again.message
    exp.answer(r.id, 0, 1, ms=-5, actor=ben)
    exp.answer(r.id, 1, 1, actor=ben)
    got = exp.answers(r.id)
    assert [(a.owner, a.trial, a.choice, a.ms) for a in got] == \
        [(ana.owner, 0, 0, 1234), (ben.owner, 0, 1, None), (ben.owner, 1, 1, None)]
    assert [a.trial for a in exp.answers(r.id, owner=ben.owner)] == [0, 1]
    s = score_recognition(exp.round(r.id).trials, got)
    assert (s.answers, s.correct) == (3, 2)


def test_bad_answers_are_refused_with_a_message_and_store_nothing(gallery):
    exp = Experiment(gallery)
    (ana,) = students(gallery, 1)
    r = start(exp, n=2)
    for t, c, message in [(2, 0, "has 2 trials; there is no number 2"), (-1, 0, "no number -1"),
                          ("0", 0, "no number '0'"), (0, 5, "5 candidates; 5 is not one of them"),
                          (0, True, "True is not one of them"), (0, None, "None is not one")]:
        with pytest.raises(ExperimentError, match=message):
            exp.answer(r.id, t, c, actor=ana)
    with pytest.raises(ExperimentError, match="cleared"):
        exp.answer(r.id + 99, 0, 0, actor=ana)
    with pytest.raises(ExperimentError, match="drawings, not taps|taps, not drawings"):
        exp.submit_drawing(r.id, 0, image(1), b"p", "a", 0.5, "match", actor=ana)
    assert exp.answers(r.id) == []
    exp.end(r.id, actor=TEACHER)
    with pytest.raises(ExperimentError, match="has ended: your answer was not stored"):
        exp.answer(r.id, 0, 0, actor=ana)
    assert exp.answers(r.id) == [] and exp.round(r.id).state is RoundState.ENDED and exp.round(r.id).ended


def test_only_the_teacher_runs_a_round_and_a_student_answers_for_themselves(gallery):
    exp = Experiment(gallery)
    ana, ben = students(gallery, 2)
    with pytest.raises(PermissionDenied, match="Only the teacher can start, end, clear or export"):
        start(exp, actor=ana)
    r = start(exp)
    for call in (lambda: exp.end(r.id, actor=ana), lambda: exp.clear(r.id, actor=ana),
                 lambda: exp.export_csv(r.id, actor=ana), lambda: exp.teach(r.id, actor=ana)):
        with pytest.raises(PermissionDenied):
            call()
    forged = Actor(Role.STUDENT, ben.owner + 1000, "nobody")  # an owner that is not in the class
    with pytest.raises(IdentityError):
        exp.answer(r.id, 0, 0, actor=forged)
    exp.answer(r.id, 0, 1, actor=ana)
    assert [a.owner for a in exp.answers(r.id)] == [ana.owner]  # stored as the actor's own, nobody else's
    assert exp.round(r.id).state is RoundState.OPEN
    solo = start(exp, actor=SOLO)  # the solo user does everything, and answers too
    assert exp.round(r.id).state is RoundState.ENDED  # starting a round ends the one before
    assert exp.answer(solo.id, 0, 0, actor=SOLO).new and exp.current().id == solo.id


def test_export_clear_and_ids_never_reused(gallery):
    exp = Experiment(gallery)
    ana, ben = students(gallery, 2)
    r = start(exp, n=2, models=[0, 3])
    exp.answer(r.id, 0, 0, ms=900, actor=ana)
    exp.answer(r.id, 1, 2, actor=ana)
    exp.answer(r.id, 1, 1, ms=1500, actor=ben)
    rows = list(csv.DictReader(io.StringIO(exp.export_csv(r.id, actor=TEACHER))))
    assert [(row["trial"], row["student_name"], row["choice"], row["right_answer"], row["correct"],
             row["model_choice"], row["model_correct"], row["ms"]) for row in rows] == \
        [("1", "s0", "0", "0", "1", "0", "1", "900"), ("2", "s0", "2", "1", "0", "3", "0", ""),
         ("2", "s1", "1", "1", "1", "3", "0", "1500")]
    last_answer = max(a.id for a in exp.answers(r.id))
    assert exp.clear(r.id, actor=TEACHER) == 3
    with pytest.raises(ExperimentError, match="cleared by the teacher"):
        exp.round(r.id)
    assert exp.current() is None
    r2 = start(exp)
    assert r2.id > r.id and exp.answer(r2.id, 0, 0, actor=ana).answer.id > last_answer


def test_a_class_reset_deletes_the_students_answers_and_ends_the_round(gallery):
    exp = Experiment(gallery)
    ana, ben = students(gallery, 2)
    r = start(exp)
    exp.answer(r.id, 0, 0, actor=ana)
    exp.answer(r.id, 0, 0, actor=SOLO)
    exp.answer(r.id, 1, 0, actor=ben)
    gallery.reset_class(TEACHER)
    assert [a.owner for a in exp.answers(r.id)] == [SOLO.owner] and exp.round(r.id).state is RoundState.ENDED
    r2 = start(exp)
    with pytest.raises(IdentityError, match="new class"):
        exp.answer(r2.id, 0, 0, actor=ana)  # a retired student's page stores nothing


def test_forty_students_answering_the_same_trial_at_once_store_forty_answers(gallery):
    exp = Experiment(gallery)
    class_ = students(gallery, 40)
    r = start(exp, n=1)
    barrier, errors, results = threading.Barrier(40), [], []

    def tap(s):
        try:
            barrier.wait()
            results.append(exp.answer(r.id, 0, s.owner % 5, ms=s.owner, actor=s))
            results.append(exp.answer(r.id, 0, (s.owner + 1) % 5, actor=s))  # a double tap
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tap, args=(s,)) for s in class_]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = exp.answers(r.id)
    assert len(got) == 40 and sorted(a.owner for a in got) == sorted(s.owner for s in class_)
    assert all(a.choice == a.owner % 5 and a.ms == a.owner for a in got)  # the first tap of each, no other
    assert sum(x.new for x in results) == 40 and len({a.id for a in got}) == 40


# ---- round 2 ----
def test_round_two_keeps_drawings_and_teaching_adds_them_as_examples_once(gallery):
    exp = Experiment(gallery)
    ana, ben = students(gallery, 2)
    for name, seed in (("star", 1), ("moon", 2), ("sun", 3)):
        gallery.add_example(CLASS_SYMBOLS, name, image(seed), b"p", actor=TEACHER)
    with pytest.raises(ExperimentError, match="no symbol called 'comet'"):
        exp.start_drawing(CLASS_SYMBOLS, ["star", "comet"], actor=TEACHER)
    with pytest.raises(ExperimentError, match="at most 10 symbols"):
        exp.start_drawing(CLASS_SYMBOLS, [f"s{i}" for i in range(11)], actor=TEACHER)
    with pytest.raises(ExperimentError, match="no reference set called 'Nope'"):
        exp.start_drawing("Nope", actor=TEACHER)
    r = exp.start_drawing(CLASS_SYMBOLS, ["star", "moon"], actor=TEACHER)
    assert [p.symbol for p in r.prompts] == ["star", "moon"] and r.kind is RoundKind.DRAW
    with pytest.raises(ExperimentError, match="canvas is empty"):
        exp.submit_drawing(r.id, 0, np.zeros((28, 28), np.float32), b"t", None, None, None, actor=ana)
    with pytest.raises(ExperimentError, match="canvas is empty"):
        exp.submit_drawing(r.id, 0, None, b"t", None, None, None, actor=ana)
    with pytest.raises(ExperimentError, match="taps, not drawings|drawings, not taps"):
        exp.answer(r.id, 0, 0, actor=ana)
    first = exp.submit_drawing(r.id, 0, image(4), b"t4", "star", 0.25, "match", ms=3000, actor=ana)
    assert first.new and (first.answer.guess, first.answer.distance, first.answer.verdict) == ("star", 0.25, "match")
    assert not exp.submit_drawing(r.id, 0, image(5), b"t5", "moon", 0.9, "no match", actor=ana).new
    exp.submit_drawing(r.id, 1, image(6), b"t6", "star", 0.7, "match", actor=ana)
    exp.submit_drawing(r.id, 0, image(7), b"t7", "star", 0.3, "match", actor=ben)
    ids, inputs = exp.drawing_inputs(r.id)
    assert len(ids) == 3 and inputs.shape == (3, 28, 28) and exp.drawing_thumbnail(ids[0]) == b"t4"
    rows = list(csv.DictReader(io.StringIO(exp.export_csv(r.id, actor=TEACHER))))
    assert [(row["trial"], row["right_answer"], row["guess"], row["correct"]) for row in rows] == \
        [("1", "star", "star", "1"), ("1", "star", "star", "1"), ("2", "moon", "star", "0")]
    exp.end(r.id, actor=TEACHER)
    assert exp.teach(r.id, actor=TEACHER) == 3
    examples = {s["name"]: s["examples"] for s in gallery.symbols(CLASS_SYMBOLS)}
    assert examples == {"star": 3, "moon": 2, "sun": 1}
    assert exp.round(r.id).taught
    with pytest.raises(ExperimentError, match="already added"):
        exp.teach(r.id, actor=TEACHER)
    assert {s["name"]: s["examples"] for s in gallery.symbols(CLASS_SYMBOLS)} == examples


# ---- the migration from schema version 3 ----
def test_a_version_3_gallery_migrates_to_4_keeping_its_rows(gallery):
    gallery.add_example(CLASS_SYMBOLS, "star", image(1), b"p", actor=SOLO)
    with gallery._write() as con:  # version 3 is version 4 without the experiment's tables
        con.execute("DROP TABLE answers")
        con.execute("DROP TABLE rounds")
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    if gallery.path is None:
        from siamese.gallery.stores import postgres
        postgres._stores.pop(gallery.url).close()
    again = Gallery(gallery.url)
    assert again.get_meta("schema_version") == "4"
    assert [s["name"] for s in again.symbols(CLASS_SYMBOLS)] == ["star"]
    exp = Experiment(again)
    (ana,) = students(again, 1)
    r = start(exp)
    assert exp.answer(r.id, 0, 0, actor=ana).new
    Gallery(gallery.url)  # opening again changes nothing
    assert len(exp.answers(r.id)) == 1


@pytest.mark.realdata
def test_a_trials_display_image_is_the_drawing_the_model_sees(real_data_dir):
    from PIL import Image

    from siamese.data.datasets import load_omniglot
    from siamese.data.preprocess import batch_to_model_input
    from siamese.experiment.images import evaluation_png
    data = load_omniglot("evaluation")
    for i in (0, 6000, len(data.images) - 1):
        raw = np.asarray(Image.open(io.BytesIO(evaluation_png(i))).convert("L"))
        x, ok = batch_to_model_input([raw])
        assert raw.shape == (105, 105) and ok.all() and np.array_equal(x[0], data.images[i])
