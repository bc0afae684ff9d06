"""The verdict in words (siamese.matching.verdict_sentence, verdict_details) and on the Draw page."""
import pytest

from helpers import SHAPES, sketch
from siamese.matching import Match, MatchResult, Verdict, verdict_details, verdict_sentence
from siamese.search.openset import Confidence
from helpers import app
from ui import nav

SEVEN, ONE = Match("7", 1.0, 1), Match("1", 1.05, 2)


def result(verdict, confidence, new_acceptance=0.0, known_rejection=0.3):
    return MatchResult(verdict, None, [SEVEN, ONE], 2.5, confidence=confidence, new_acceptance=new_acceptance,
                       known_rejection=known_rejection)


@pytest.mark.parametrize("verdict, confidence, sentence", [
    (Verdict.MATCH, Confidence.SURE, "It is 7: a symbol this set does not hold would rarely come this close."),
    (Verdict.MATCH, Confidence.LIKELY, "Probably 7: few symbols this set does not hold come this close."),
    (Verdict.MATCH, Confidence.AMBIGUOUS, "Probably 7, but not sure: 1 is almost as close."),
    (Verdict.MATCH, Confidence.UNSURE, "Close to 7, but not sure: it may be new."),
    (Verdict.NEW, Confidence.UNSURE, "Looks new, but not sure: it is fairly close to 7. If you meant 7, draw it again; "
                                     "if not, register it."),
    (Verdict.NEW, Confidence.SURE, "Looks new: nothing in this set is close (the nearest is 7). Register it?"),
    (Verdict.NEW, Confidence.LIKELY, "Looks new: probably not a symbol of this set (the nearest is 7). Register it?"),
    (Verdict.MATCH, None, "Probably 7: it is closer than the distance at which this model calls a sketch new."),
    (Verdict.NEW, None, "Looks new: nothing in this set is close enough for this model (the nearest is 7). Register it?"),
])
def test_each_verdict_says_how_sure_it_is(verdict, confidence, sentence):
    assert verdict_sentence(result(verdict, confidence)) == sentence


def test_names_go_through_the_label():
    """The page passes a label that keeps user names literal; every name in the sentence uses it."""
    text = verdict_sentence(result(Verdict.MATCH, Confidence.AMBIGUOUS), label=lambda m: f"<{m.symbol}>")
    assert text == "Probably <7>, but not sure: <1> is almost as close."


def test_details_give_the_two_estimates_in_words():
    """0.004 is below 1 in 100; 0.3 is about 30 in 100. An uncalibrated model gets no details."""
    assert verdict_details(result(Verdict.MATCH, Confidence.SURE, 0.004, 0.3)) == (
        "Distance to the nearest symbol 1.00; this set calls a sketch new beyond 2.50. Of 100 symbols this set does "
        "not hold, fewer than 1 would come this close; of 100 drawings of a symbol it holds, about 30 would land "
        "this far.")


@pytest.mark.parametrize("verdict", [Verdict.MATCH, Verdict.NEW])
def test_a_model_without_calibration_speaks_as_the_calibrated_one_does(verdict):
    """#24 item 13: one verdict style. A model trained in the app (one threshold, no open-set
    calibration) said "Match: 7, at distance 0.30 (threshold 2.34)" where the shipped one says
    "Probably 7: ...": its sentence now opens as a calibrated one of the same verdict does, holds no
    number, and its numbers are in the details, as the calibrated one's are."""
    calibrated = {verdict_sentence(result(verdict, c)).split(":")[0].split(",")[0] for c in Confidence
                  if c != Confidence.AMBIGUOUS or verdict == Verdict.MATCH}
    plain = verdict_sentence(result(verdict, None))
    assert plain.split(":")[0] in calibrated and not any(ch.isdigit() for ch in plain.replace("7", ""))
    assert verdict_details(result(verdict, None)) == (
        "Distance to the nearest symbol 1.00; this model calls a sketch new beyond 2.50 (its own decision boundary; "
        "it has no calibration that says how sure).")


def test_literal_keeps_markdown_and_backticks_inert():
    from ui import canvas, widgets
    assert widgets.literal("**bold**") == "` **bold** `"
    assert widgets.literal("a``b") == "``` a``b ```"  # a fence longer than any run inside


def test_draw_page_shows_the_calibrated_verdict(offline):
    """Two symbols registered (one named like Markdown), a redrawn star on the canvas: the page
    shows exactly the core's sentence for that result, with the name as a code span, and the
    numbers behind it. The canvas reports nothing under AppTest, so the sketch is put where the
    page reads it (``canvas.sketch_ui``)."""
    from ui import canvas, widgets
    from siamese import load_matcher
    from siamese.classroom import SOLO
    from siamese.gallery.schema import CLASS_SYMBOLS
    from siamese.gallery.gallery import Gallery
    from siamese.search.index import ReferenceIndex
    from siamese.matching import match_sketch, register_sketch

    matcher = load_matcher()
    assert matcher.card.get("open_set"), "the shipped card must carry the open-set calibration"
    for name, shape in (("**star**", "star"), ("ring", "zero")):
        register_sketch(sketch(SHAPES[shape]), Gallery(), CLASS_SYMBOLS, name, matcher, actor=SOLO)
    drawn = sketch([[(0.5 + (x - 0.5) * 0.85 + 0.03, 0.5 + (y - 0.5) * 0.85) for x, y in s] for s in SHAPES["star"]],
                   width=12)
    at = app(nav.DRAW)
    at.session_state["draw_sketch"], at.session_state["draw_strokes"] = drawn, 2  # where the page reads the canvas
    at.run()
    expected = match_sketch(drawn, ReferenceIndex(Gallery()), CLASS_SYMBOLS, matcher, background=canvas.CANVAS_BACKGROUND)
    assert expected.verdict == Verdict.MATCH and expected.best.symbol == "**star**" and expected.confidence
    shown = [e.value for e in at.success]  # the warnings say the datasets are missing (offline)
    assert shown == [verdict_sentence(expected, lambda m: widgets.literal(m.symbol))]
    assert "` **star** `" in shown[0] and "**star**" not in shown[0].replace("` **star** `", "")
    assert verdict_details(expected) in [c.value for c in at.caption]

