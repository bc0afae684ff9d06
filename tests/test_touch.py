"""Every pixel of the drawing canvas takes strokes, from a finger on a phone and from the mouse on a
desktop, and a finger drawing never scrolls the page (the canvas's floating toolbar, invisible
until hovered, used to lie over the canvas's top-right band and eat those strokes).

Screenshots go to artifacts/ (kept by CI)."""
import math
import time

import pytest

from browser import ARTIFACTS, INK_JS, app_server, ranked_names, wait_for_text

pytestmark = pytest.mark.browser

SIDE = 280  # ui.canvas.CANVAS_PX: the canvas's CSS size on both viewports (checked below)
# Where strokes start, in canvas pixels: every band of the canvas, the toolbar's old one first.
STARTS = {
    "top-right band x=260 y=4": (260, 4),
    "top-right band x=200 y=15": (200, 15),
    "top-right band x=150 y=26": (150, 26),
    "top-right corner": (277, 3),
    "top-left corner": (3, 3),
    "top edge": (140, 3),
    "left edge": (3, 140),
    "right edge": (277, 140),
    "bottom-left corner": (3, 277),
    "bottom-right corner": (277, 277),
    "bottom edge": (140, 277),
}


@pytest.fixture(scope="module")
def url(real_data_dir, tmp_path_factory):
    with app_server({"SIAMESE_HOME": str(tmp_path_factory.mktemp("home")),
                     "SIAMESE_DATA_DIR": str(real_data_dir)}) as u:
        yield u


# How far the page is scrolled: Streamlit scrolls its main area, not the window (window.scrollY stays 0).
SCROLL_JS = "() => window.scrollY + (document.querySelector('[data-testid=stMain]')?.scrollTop ?? 0)"
SCROLL_TO_JS = "(y) => { window.scrollTo(0, 0); document.querySelector('[data-testid=stMain]').scrollTop = y; }"


def stroke_points(box, start, length=36, n=10):
    """Page coordinates of a straight stroke from ``start`` (canvas pixels) towards the centre."""
    (sx, sy), c = start, SIDE / 2
    d = math.hypot(c - sx, c - sy) or 1.0
    return [(box["x"] + sx + (c - sx) / d * length * i / n, box["y"] + sy + (c - sy) / d * length * i / n)
            for i in range(n + 1)]


def open_draw_page(page, url):
    page.goto(url)  # the home page first (a deep link into a fresh server: streamlit#9992)
    wait_for_text(page, "Reference sets")
    page.goto(url + "/draw")
    wait_for_text(page, "Empty sketch")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    time.sleep(2)  # the canvas element shows before its drawing handlers are attached
    return canvas


def ink(page):
    return page.locator("canvas.dc-canvas.lower-canvas").first.evaluate(INK_JS)


def draw_from_every_band(page, canvas, stroke):
    """Draw one stroke from each of STARTS with ``stroke(points)``; return ``{start: (new ink, page
    scroll in px)}``."""
    out = {}
    for name, start in STARTS.items():
        box = canvas.bounding_box()
        assert round(box["width"]) == SIDE and round(box["height"]) == SIDE
        before, y0 = ink(page), page.evaluate(SCROLL_JS)
        stroke(stroke_points(box, start))
        time.sleep(0.6)
        out[name] = (ink(page) - before, round(page.evaluate(SCROLL_JS) - y0))
        if out[name][1]:
            page.evaluate(SCROLL_TO_JS, y0)
    return out


def check(result, what):
    lost = {name: n for name, (n, _) in result.items() if n < 100}
    scrolled = {name: dy for name, (_, dy) in result.items() if dy}
    assert not lost and not scrolled, (f"{what}: strokes not drawn (new ink pixels) {lost}; "
                                       f"strokes that scrolled the page (px) {scrolled}; all: {result}")


def test_finger_strokes_start_anywhere_on_a_phone_and_never_scroll(browser, url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  device_scale_factor=3)
    page = context.new_page()
    canvas = open_draw_page(page, url)
    assert page.evaluate("""() => { const m = document.querySelector('[data-testid=stMain]');
        return document.documentElement.scrollWidth <= innerWidth && m.scrollWidth <= m.clientWidth; }"""), \
        "the page overflows sideways on a 390 px wide phone"
    cdp = context.new_cdp_session(page)

    def touch(points):
        for i, (x, y) in enumerate(points):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart" if i == 0 else "touchMove",
                                                  "touchPoints": [{"x": x, "y": y}]})
            time.sleep(0.01)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    touch(stroke_points(canvas.bounding_box(), (140, 60), length=150))  # a first stroke lengthens the
    wait_for_text(page, "d = ")                                        # page (the match list)...
    page.evaluate(SCROLL_TO_JS, 120)                                   # ...so that it can scroll
    time.sleep(0.5)
    assert page.evaluate(SCROLL_JS) > 0
    result = draw_from_every_band(page, canvas, touch)
    body = wait_for_text(page, "d = ")
    page.screenshot(path=str(ARTIFACTS / "touch-phone.png"), full_page=True)
    check(result, "finger on a phone")
    assert len(ranked_names(body)) == 5

    # Undo, redo and clear stay at hand: shown above the canvas (a finger never hovers), tappable.
    undo = page.locator("button[title=Undo]").first
    assert undo.evaluate("b => getComputedStyle(b.closest('.dc-toolbar')).opacity") == "1"
    assert undo.bounding_box()["y"] + undo.bounding_box()["height"] <= canvas.bounding_box()["y"]
    before = ink(page)
    undo.tap()
    time.sleep(1)
    assert 0 < ink(page) < before
    context.close()


def test_mouse_strokes_start_anywhere_on_a_desktop(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    canvas = open_draw_page(page, url)

    def mouse(points):  # pressed as soon as the pointer arrives: no time for hover effects
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
        page.mouse.move(5, 5)  # off the canvas again before the next stroke

    result = draw_from_every_band(page, canvas, mouse)
    body = wait_for_text(page, "d = ")
    page.screenshot(path=str(ARTIFACTS / "touch-desktop.png"), full_page=True)
    page.close()
    check(result, "mouse on a desktop")
    assert len(ranked_names(body)) == 5
