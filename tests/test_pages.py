"""Every page under Streamlit's AppTest (the canvas reports no image there: image_data is None)."""
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import ROOT, SHAPES, sketch
from siamese.gallery import MY_SYMBOLS, Gallery, thumbnail_png
from siamese.preprocess import to_dark_on_light, to_model_input


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No dataset anywhere and no network: the app must still start."""
    import keras
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))


def app(page=None):
    st.cache_resource.clear()  # each test gets its own SIAMESE_HOME
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def texts(at):
    return "\n".join([t.value for t in at.text] + [m.value for m in at.markdown] + [e.value for e in at.info]
                     + [e.value for e in at.warning] + [e.value for e in at.error] + [e.value for e in at.success])


def add_symbol(name, strokes):
    from siamese import load_matcher
    img = sketch(strokes)
    Gallery().add_example(MY_SYMBOLS, name, to_model_input(img), thumbnail_png(to_dark_on_light(img)),
                          load_matcher())


def test_home_without_data_says_so_and_shows_the_model(offline):
    at = app()
    body = texts(at)
    assert "One-shot learning" in body
    assert "MNIST digits are not available" in body and "Omniglot is not available" in body
    assert "My symbols: 0 symbols" in body
    labels = {m.label: m.value for m in at.metric}
    assert labels["Unseen Omniglot alphabets, 20-way 1-shot"].endswith("%")


def test_draw_page_with_no_sketch_yet(offline):
    at = app("pages/1_Draw_and_match.py")
    assert at.selectbox[0].options == [f"{MY_SYMBOLS} (0 symbols)"]  # plural for 0, singular for 1
    assert "Empty sketch" in texts(at)


def test_register_with_empty_canvas_is_refused_and_changes_nothing(offline):
    at = app("pages/2_Register.py")
    at.text_input[0].input("star").run()
    at.button[0].click().run()
    assert "Empty sketch" in texts(at)
    assert Gallery().symbols(MY_SYMBOLS) == []


def test_register_page_lists_renames_and_deletes(offline):
    add_symbol("**bold** <i>x</i>", SHAPES["star"])
    add_symbol("ring", SHAPES["zero"])
    at = app("pages/2_Register.py")
    assert "**bold** <i>x</i> (1)" in [t.value for t in at.text]  # plain text, not rendered
    at.selectbox(key="target").select("ring").run()
    at.text_input(key="new_name").input("**bold** <i>x</i>").run()
    next(b for b in at.button if b.label == "Rename").click().run()
    assert "already has a symbol" in texts(at)
    at.text_input(key="new_name").input("circle").run()
    next(b for b in at.button if b.label == "Rename").click().run()
    assert sorted(s["name"] for s in Gallery().symbols(MY_SYMBOLS)) == ["**bold** <i>x</i>", "circle"]
    at.selectbox(key="target").select("circle").run()
    delete = next(b for b in at.button if b.label == "Delete")
    assert delete.disabled  # nothing is deleted without the confirmation box
    at.checkbox(key="sure_delete").check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert [s["name"] for s in Gallery().symbols(MY_SYMBOLS)] == ["**bold** <i>x</i>"]


def test_draw_page_with_a_broken_model_says_so(offline, monkeypatch, tmp_path):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"\x00" * 100)
    monkeypatch.setenv("SIAMESE_MODEL", str(bad))
    at = app("pages/1_Draw_and_match.py")
    assert "could not be loaded" in texts(at) and "not a loadable Keras model" in texts(at)


def run_until(at, text, timeout=240):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if text in texts(at):
            return at
        time.sleep(1)
    raise AssertionError(f"{text!r} never appeared:\n{texts(at)}")


def test_train_page_without_data_reports_the_failure_and_stays_usable(offline):
    at = app("pages/3_Train_three_variants.py")
    body = texts(at)
    assert "MNIST is not available" in body and "Press Train" in body
    assert [m for m in at.markdown if "201,217 parameters" in m.value]
    next(b for b in at.button if b.label == "Train").click().run()
    run_until(at, "Training failed")
    assert "Could not fetch mnist.npz" in texts(at)


@pytest.mark.realdata
def test_train_page_tiny_run_and_use_for_matching(real_data_dir, monkeypatch):
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    at = app("pages/3_Train_three_variants.py")
    at.radio[1].set_value("manual").run()
    at.slider[0].set_value(1).run()
    at.select_slider[1].set_value(2_000).run()
    next(b for b in at.button if b.label == "Train").click().run()
    run_until(at, "What this run measured")
    assert "after epoch 1" in texts(at)
    next(b for b in at.button if b.label == "Use this Siamese model for matching").click().run()
    assert "saved next to the shipped one" in texts(at)
    at.run()
    assert not [b for b in at.button if b.label == "Use this Siamese model for matching"]  # saved once
    from siamese.user_models import available_models
    models = available_models()
    assert len(models) == 2 and models[1][1].suffix == ".keras"
    from siamese import load_matcher
    m = load_matcher(models[1][1])
    assert m.dim == 128 and m.threshold > 0 and m.card["description"] == "MNIST Siamese tower, 1 epoch"


@pytest.mark.realdata
def test_evaluate_page_runs_an_evaluation_and_a_map(real_data_dir, monkeypatch):
    monkeypatch.setenv("SIAMESE_DATA_DIR", str(real_data_dir))
    at = app("pages/4_Evaluate.py")
    at.number_input[0].set_value(10).run()
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    metric = at.metric[0]
    assert metric.label == "20-way 1-shot, within-alphabet" and float(metric.value.rstrip("%")) > 50
    assert "over 200 queries" in "\n".join(c.value for c in at.caption)
    next(b for b in at.button if b.label == "Draw the map").click().run()
    assert not at.exception, at.exception


def test_evaluate_page_without_data(offline):
    at = app("pages/4_Evaluate.py")
    assert "not available" in texts(at)


def test_user_text_is_never_rendered_as_markdown(offline):
    """Names that look like Markdown, HTML or links reach the page only as plain text."""
    for name in ("**bold**", "www.evil.com", "<img src=x onerror=alert(1)>"):
        add_symbol(name, SHAPES["star"] if name.startswith("*") else SHAPES["zero"] if name.startswith("w")
                   else SHAPES["zigzag"])
    at = app("pages/2_Register.py")
    at.text_input[0].input("www.evil.com").run()
    rendered = [m.value for m in at.markdown] + [e.value for e in at.error] + [s.value for s in at.success]
    assert not any(n in r for r in rendered for n in ("**bold**", "www.evil.com", "<img"))
    assert {"**bold** (1)", "www.evil.com (1)", "<img src=x onerror=alert(1)> (1)"} <= {t.value for t in at.text}
