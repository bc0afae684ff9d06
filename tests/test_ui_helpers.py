"""The pure helpers of ui/ (no page runs): the Draw page's stroke history and map spec, the
Compare page's charts, the projector's charts, small widgets' text."""
from types import SimpleNamespace

import numpy as np
import pytest

from ui import compare, draw, widgets
from ui.experiment import projector


def g(strokes, label="7", distance=1.0):
    return draw.Guess(strokes, label, distance)


def test_stroke_history_keeps_one_guess_per_stroke_count_of_the_drawing_on_the_canvas():
    h = draw.stroke_history([], 1, g(1, "1"))
    h = draw.stroke_history(h, 2, g(2, "7"))
    assert [x.label for x in h] == ["1", "7"]
    assert [x.label for x in draw.stroke_history(h, 2, g(2, "4"))] == ["1", "4"]  # a rerun replaces the last
    assert [x.label for x in draw.stroke_history(h, 1, g(1, "i"))] == ["i"]  # an undo drops the last stroke's
    assert draw.stroke_history(h, 0, g(0)) == []  # cleared
    assert [x.label for x in draw.stroke_history(h, 3, None)] == ["1", "7"]  # no verdict now: nothing added


def test_stroke_history_text_shows_the_last_six_guesses():
    assert draw.stroke_history_text([]) == ""
    two = [g(1, "1", 3.104), g(2, "7", 1.4)]
    assert draw.stroke_history_text(two) == "After stroke 1: 1 at 3.10; stroke 2: 7 at 1.40"
    text = draw.stroke_history_text([g(i, str(i)) for i in range(1, 9)])
    assert text.startswith("After stroke 3: 3") and text.count("stroke") == 6


def test_the_map_domain_pads_the_references_extent():
    low, high = draw.map_domain(np.array([[0.0, 10.0], [2.0, 20.0]]))
    np.testing.assert_allclose(low, [-0.3, 8.5])
    np.testing.assert_allclose(high, [2.3, 21.5])
    low, high = draw.map_domain(np.zeros((0, 2)))  # an empty set still has axes
    assert (high > low).all()


def test_both_map_specs_share_axes_and_only_the_set_decides_them():
    points = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]])
    refs, sketch = draw.embedding_map_spec(points, symbols=3)
    low, high = draw.map_domain(points)
    for spec in (refs, sketch):
        assert spec["height"] == draw.MAP_HEIGHT and spec["width"] == "container"
        for layer in spec["layer"]:
            assert layer["mark"]["clip"] is True
            if "x" in layer["encoding"]:
                assert layer["encoding"]["x"]["scale"]["domain"] == [low[0], high[0]]
                assert layer["encoding"]["y"]["scale"]["domain"] == [low[1], high[1]]
    assert [layer["data"]["name"] for layer in refs["layer"]] == ["refs", "labels"]
    assert {layer["data"]["name"] for layer in sketch["layer"]} == {"links", "sketch"}
    assert refs["layer"][0]["mark"]["opacity"] == 0.7
    assert draw.embedding_map_spec(points, symbols=21)[0]["layer"][0]["mark"]["opacity"] == 0.45  # paler
    assert draw.embedding_map_spec(points, 3) == (refs, sketch)


def test_the_sketch_is_kept_on_the_map_and_linked_to_each_nearest_reference():
    domain = draw.map_domain(np.array([[0.0, 0.0], [1.0, 1.0]]))
    point, links = draw._sketch_rows(np.array([50.0, -50.0]), np.array([[0.0, 0.0], [1.0, 1.0]]), domain)
    assert (point["x"][0], point["y"][0]) == (domain[1][0], domain[0][1])  # on the edge, not off the map
    assert links[["x2", "y2"]].values.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    point, links = draw._sketch_rows(None, None, domain)
    assert len(point) == 0 and len(links) == 0


def datasets(chart):
    return list(chart.to_dict()["datasets"].values())


def test_the_distance_chart_draws_the_threshold_and_the_pair_where_they_are():
    from siamese.measure.histograms import DIFFERENT, SAME, PairHistogram

    h = PairHistogram("t", "s", np.linspace(0, 2, 5), np.array([5, 3, 1, 1]), np.array([0, 1, 4, 5]))
    chart = compare.distance_chart(h, 0.4, threshold=1.0)
    data = datasets(chart)
    bars = next(d for d in data if "share" in d[0])
    assert {r["pairs"] for r in bars} == {SAME, DIFFERENT}
    for kind in (SAME, DIFFERENT):
        assert sum(r["share"] for r in bars if r["pairs"] == kind) == pytest.approx(1.0)
    labels = sorted(d[0]["label"] for d in data if "label" in d[0])
    assert labels == ["threshold 1.00", "your sketches 0.40"]
    assert len(datasets(compare.distance_chart(h, None, threshold=1.0))) == 2  # no pair: no rule for it
    far = compare.distance_chart(h, 1.95, threshold=1.0).to_dict()
    texts = [layer for layer in far["layer"] if layer["mark"]["type"] == "text"]
    assert [t["mark"]["align"] for t in texts] == ["left", "right"]  # near the right edge: label to the left


def test_the_same_probability_chart_says_same_from_one_half():
    from siamese.lecture.models import VARIANTS

    chart = compare.same_probability_chart({"siamese": (0.5, 0.4), "shared": (0.49, 0.6)})
    rows = next(d for d in datasets(chart) if "says" in d[0])
    assert [(r["variant"], r["says"], r["label"]) for r in rows] == [
        (VARIANTS["siamese"][0], "same", "50%"), (VARIANTS["shared"][0], "different", "49%")]


def test_the_projector_charts_show_class_and_model_with_their_intervals():
    score = SimpleNamespace(accuracy=None, ci=(0.0, 0.2), model_accuracy=0.9, model_ci=(0.8, 0.95),
                            per_trial=[SimpleNamespace(trial=0, accuracy=0.5, model_correct=True),
                                       SimpleNamespace(trial=1, accuracy=None, model_correct=False)])
    data = datasets(projector.accuracy_chart(score))
    rows = next(d for d in data if "who" in d[0])
    assert rows == [{"who": "Class", "accuracy": 0.0, "low": 0.0, "high": 0.2},  # no answer yet: an empty bar
                    {"who": "Model", "accuracy": 0.9, "low": 0.8, "high": 0.95}]
    assert any(d[0].get("x") == pytest.approx(0.955) for d in data)  # people, Lake et al. 2015
    trials = datasets(projector.per_trial_chart(score))[0]
    assert trials == [{"trial": 1, "class": 0.5, "model": "model right"},
                      {"trial": 2, "class": 0.0, "model": "model wrong"}]


def test_small_widgets_text():
    assert widgets.count(1, "symbol") == "1 symbol" and widgets.count(0, "symbol") == "0 symbols"
    assert widgets.file_slug("Class 2B / ★ shapes") == "Class-2B-shapes"
    assert widgets.file_slug("★★") == "reference-set" and len(widgets.file_slug("a" * 99)) == 40
    assert widgets.literal("a `b` c") == "`` a `b` c ``"
