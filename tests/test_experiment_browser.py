"""The class experiment in headless Chromium: the teacher, the projector and three students (one on
a touch phone, 390x844) through one round of each kind. Screenshots of the projector at 1280 px
and of the phone go to artifacts/ (README, "Running the class experiment")."""
import re
import time

import pytest
from browser import ARTIFACTS, OVERFLOW_JS, classroom_server, draw, join, wait_for_text
from helpers import SHAPES
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.realdata]
PASSCODE = "owl-42 experiment"
PICKS = ".st-key-exp_grid [class*='st-key-exp_pick_'] button"
"""The candidates' answer buttons (not the images' own full-screen buttons)."""


@pytest.fixture(scope="module")
def url(real_data_dir, tmp_path_factory):
    with classroom_server(real_data_dir, tmp_path_factory.mktemp("home"), PASSCODE) as u:
        yield u


def unlock(page, url, view=""):
    page.goto(f"{url}/experiment" + (f"?view={view}" if view else ""))
    wait_for_text(page, "Join the class", 90)
    page.get_by_text("Teacher? Unlock").click()
    page.get_by_label("Teacher passcode").fill(PASSCODE)
    page.get_by_role("button", name="Unlock").click()
    wait_for_text(page, "Teacher: you may do everything.")


def trial_key(page, trial):
    """``<round>_<trial>`` of the grid's buttons (their keys are ``exp_pick_<round>_<trial>_<candidate>``)."""
    cls = page.locator("[class*='st-key-exp_pick_']").first.get_attribute("class")
    round_id = re.search(r"st-key-exp_pick_(\d+)_", cls).group(1)
    return f"{round_id}_{trial}_"


def finger_draw(ctx, page, strokes):
    """Draw with one finger (touch events only) on the first canvas."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    time.sleep(2)  # the canvas shows before its drawing handlers are attached
    box, cdp = canvas.bounding_box(), ctx.new_cdp_session(page)
    for stroke in strokes:
        points = []
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            points += [(x0 + (x1 - x0) * t / 12, y0 + (y1 - y0) * t / 12) for t in range(12)]
        points.append(stroke[-1])
        for i, (x, y) in enumerate(points):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart" if i == 0 else "touchMove", "touchPoints": [
                {"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"]}]})
            time.sleep(0.01)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_class_runs_both_rounds_with_the_projector_live(browser, url):
    desk = {"viewport": {"width": 1280, "height": 900}}
    t_ctx, p_ctx, a_ctx, b_ctx = (browser.new_context(**desk) for _ in range(4))
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                    device_scale_factor=2)
    teacher, projector, ana, ben, zoe = (c.new_page() for c in (t_ctx, p_ctx, a_ctx, b_ctx, phone_ctx))
    errors = []
    for page in (teacher, projector, ana, ben, zoe):
        page.on("pageerror", lambda e: errors.append(str(e)))
    students = {}
    for page, name in ((ana, "Ana"), (ben, "Ben"), (zoe, "Zoë")):
        token = join(page, url, name)
        page.goto(f"{url}/experiment?student={token}")
        wait_for_text(page, "No round is running")
        students[name] = page
    unlock(teacher, url)
    unlock(projector, url, "projector")
    wait_for_text(projector, "No round yet")

    # round 1: 3 trials, 20-way
    wait_for_text(teacher, "Start round 1")
    teacher.get_by_label("Trials", exact=True).fill("3")
    teacher.keyboard.press("Tab")
    teacher.get_by_role("button", name="Start round 1").click()
    wait_for_text(teacher, "Round 1 started: 3 trials, 20-way.", 120)
    for name, page in students.items():
        wait_for_text(page, "1 of 3", 30)  # the waiting page finds the round by itself
    grid = zoe.locator(".st-key-exp_grid")
    images, buttons = grid.locator("img"), zoe.locator(PICKS)
    expect(images).to_have_count(20, timeout=60_000)  # "1 of 3" shows before the grid's images under load
    expect(buttons).to_have_count(20, timeout=60_000)
    for i in range(20):
        box, button = images.nth(i).bounding_box(), buttons.nth(i).bounding_box()
        assert box["width"] >= 44 and button["height"] >= 44 and button["width"] >= 44, (box, button)
        assert 0 <= box["x"] and box["x"] + box["width"] <= 390
    assert zoe.evaluate(OVERFLOW_JS), "the 20-way trial overflows sideways on a 390 px wide phone"
    zoe.screenshot(path=str(ARTIFACTS / "experiment-phone-trial.png"), full_page=True)
    for trial in range(3):
        for name, page in students.items():
            wait_for_text(page, f"{trial + 1} of 3")
            time.sleep(0.5)  # the grid's buttons are this trial's once the rerun has settled
            choice = page.locator(f"[class*='st-key-exp_pick_{trial_key(page, trial)}'] button").nth(
                (trial + len(name)) % 20)
            choice.tap() if name == "Zoë" else choice.click()
            wait_for_text(page, f"{trial + 2} of 3" if trial < 2 else "You answered all 3")
    body = wait_for_text(projector, "9 / 9", 30)  # the projector updates by itself
    assert "Class" in body and "Model" in body and "People right, model wrong" in body
    projector.wait_for_function("document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
                                "[data-testid=stVegaLiteChart] svg').length >= 2", timeout=30_000)
    time.sleep(1)
    projector.screenshot(path=str(ARTIFACTS / "experiment-projector-round1.png"), full_page=True)
    csv_button = teacher.get_by_role("button", name="Export CSV")
    with teacher.expect_download() as download:
        csv_button.click()
    lines = open(download.value.path(), encoding="utf-8").read().strip().splitlines()
    assert len(lines) == 10 and lines[0].startswith("round,kind,trial,student")

    # round 2: draw digits; the phone draws with a finger
    teacher.get_by_role("tab", name="Round 2: draw for the model").click()
    wait_for_text(teacher, "Symbols to draw")
    teacher.get_by_role("button", name="Start round 2").click()
    wait_for_text(teacher, "started.", 60)
    for name, page in students.items():
        wait_for_text(page, "Send drawing", 60)
        page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
        finger_draw(phone_ctx, page, SHAPES["zero"]) if name == "Zoë" else draw(page, SHAPES["zero"])
        wait_for_text(page, "Send drawing", 60)
        time.sleep(1.5)
        page.get_by_role("button", name="Send drawing").click()
        wait_for_text(page, "Drawing sent.", 60)
    assert zoe.evaluate(OVERFLOW_JS), "the drawing task overflows sideways on a 390 px wide phone"
    zoe.screenshot(path=str(ARTIFACTS / "experiment-phone-draw.png"), full_page=True)
    body = wait_for_text(projector, "Drawings in", 30)
    wait_for_text(projector, "embedding map", 60)
    teacher.get_by_role("button", name="Teach it").click()
    wait_for_text(teacher, "3 drawings added as examples.", 60)
    wait_for_text(projector, "One-shot against K-shot", 60)
    time.sleep(1)
    projector.screenshot(path=str(ARTIFACTS / "experiment-projector-round2.png"), full_page=True)
    assert re.search(r"Drawings in\s*3", projector.inner_text("[data-testid='stApp']"))
    assert errors == []
    for ctx in (t_ctx, p_ctx, a_ctx, b_ctx, phone_ctx):
        ctx.close()
