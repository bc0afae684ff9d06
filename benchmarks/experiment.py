"""The class experiment's server cost (prints numbers, asserts nothing):

    SIAMESE_DATA_DIR=... python -m benchmarks.experiment [--postgres]

- CPU per answer in the core: 40 students x 10 answers, 40 threads at once, through
  ``Experiment.answer`` (one write transaction each) on SQLite (and PostgreSQL with --postgres,
  on a throw-away cluster from tests/pgcluster.py); process CPU seconds / answers, and wall time.
- CPU per student tap on the page: a student's tap is one rerun of the Class experiment page
  (Streamlit's AppTest, in this process), the answer stored and the next trial drawn.
- The projector's rerun cost with those 400 answers: one rerun of its fragment's work (reading
  the round and its answers, scoring, three Altair charts), CPU and wall time, median of 20.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent

STUDENTS, ANSWERS = 40, 10


def fill(gallery):
    """A round of 10 20-way trials and 40 students answering every trial, 40 threads at once."""
    from siamese.classroom import TEACHER
    from siamese.experiment import Experiment

    exp = Experiment(gallery)
    trials = [{"alphabet": "A", "query": 0, "candidates": list(range(1, 21)), "answer": t % 20, "model": 0,
               "distances": [1.0] * 20} for t in range(ANSWERS)]
    r = exp.start_recognition(trials, alphabet="A", way=20, seed=0, actor=TEACHER)
    students = [gallery.join_class(f"s{i}")[1] for i in range(STUDENTS)]
    barrier = threading.Barrier(STUDENTS)

    def answer_all(s):
        barrier.wait()
        for t in range(ANSWERS):
            exp.answer(r.id, t, (s.owner + t) % 20, 1000, actor=s)

    threads = [threading.Thread(target=answer_all, args=(s,)) for s in students]
    cpu, wall = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stored = len(exp.answers(r.id))
    n = STUDENTS * ANSWERS
    print(f"  core: {stored}/{n} answers stored; CPU {1000 * cpu / n:.2f} ms per answer, "
          f"wall {wall:.2f} s for all ({n / wall:.0f} answers/s)")
    return exp, r


def projector_cost(exp, r):
    """The projector fragment's work, without Streamlit's drawing: what one rerun computes."""
    from siamese.experiment import score_recognition
    from ui.experiment.projector import accuracy_chart, per_trial_chart

    cpu_s, wall_s = [], []
    for _ in range(20):
        c, w = time.process_time(), time.perf_counter()
        rr = exp.current()
        answers = exp.answers(rr.id)
        exp.joined()
        score = score_recognition(rr.trials, answers)
        accuracy_chart(score).to_dict()
        per_trial_chart(score).to_dict()
        cpu_s.append(time.process_time() - c)
        wall_s.append(time.perf_counter() - w)
    print(f"  projector rerun (read + score + charts, {len(answers)} answers): CPU "
          f"{1000 * statistics.median(cpu_s):.1f} ms, wall {1000 * statistics.median(wall_s):.1f} ms (median of 20)")


def page_costs(home: Path):
    """A student's tap and a projector rerun as whole page runs under AppTest."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from siamese.gallery.gallery import Gallery
    from ui import nav

    def app(query):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.secrets["teacher_passcode"] = "bench"
        at.query_params.update(query)
        at.run()
        at.switch_page(nav.EXPERIMENT).run()
        return at

    st.cache_data.clear()
    g = Gallery()
    exp, r = fill(g)
    token, s = g.join_class("tapper")
    at = app({"student": token})
    taps = []
    for t in range(ANSWERS):
        button = next(b for b in at.button if (b.key or "").startswith(f"exp_pick_{r.id}_{t}_"))
        c = time.process_time()
        button.click().run()
        taps.append(time.process_time() - c)
    print(f"  page: a student's tap (one page rerun, answer stored, next trial drawn): CPU "
          f"{1000 * statistics.median(taps):.0f} ms (median of {len(taps)})")
    at = app({})
    at.session_state["teacher_unlocked"] = True
    at.query_params["view"] = "projector"
    at.run()
    runs = []
    for _ in range(10):
        c = time.process_time()
        at.run()
        runs.append(time.process_time() - c)
    shown = {m.label: m.value for m in at.metric}
    print(f"  page: the projector page rerun with {len(exp.answers(r.id))} answers (it shows answers in "
          f"{shown.get('Answers in')}): CPU {1000 * statistics.median(runs):.0f} ms (median of 10; its fragment "
          "reruns once a second)")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SIAMESE_HOME"] = tmp
        os.environ["SIAMESE_CACHE_DIR"] = os.environ.get("SIAMESE_CACHE_DIR", str(Path(tmp) / "cache"))
        from siamese.gallery.gallery import Gallery

        print(f"SQLite, {STUDENTS} students x {ANSWERS} answers:")
        exp, r = fill(Gallery(Path(tmp) / "bench.sqlite3"))
        projector_cost(exp, r)
        if "--postgres" in sys.argv:
            from pgcluster import Cluster
            cluster = Cluster().start()
            try:
                print(f"PostgreSQL, {STUDENTS} students x {ANSWERS} answers:")
                exp, r = fill(Gallery(cluster.create_database("bench")))
                projector_cost(exp, r)
            finally:
                cluster.remove()
        print("The page (SQLite):")
        page_costs(Path(tmp))


if __name__ == "__main__":
    main()
