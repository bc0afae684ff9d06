"""The canvas in a real browser: every control on it does what its look says, and a stroke costs
little on the WebSocket (30 students share a classroom's Wi-Fi). One app server for the module.

Screenshots go to artifacts/ (kept by CI)."""
import time

import pytest

from browser import ARTIFACTS, INK_JS, app_server, draw, wait_for_text

pytestmark = pytest.mark.browser

TOOLBAR = ["Undo", "Redo", "Reset canvas & history"]
"""The canvas toolbar's buttons a student sees, by title: the component's upload arrow ("Update the
app with this drawing") and its pencil ("Edit", which moves strokes instead of drawing) are gone."""
STROKE_BUDGET = 30_000
"""Bytes one stroke may cost on the WebSocket, both directions (issue #24: 160 kB before)."""


@pytest.fixture(scope="module")
def url(real_data_dir, tmp_path_factory):
    with app_server({"SIAMESE_HOME": str(tmp_path_factory.mktemp("home")),
                     "SIAMESE_DATA_DIR": str(real_data_dir)}) as u:
        yield u


def open_page(browser, url, path, text):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)  # the home page first (a deep link into a fresh server: streamlit#9992)
    wait_for_text(page, "Reference sets", timeout=120)
    page.goto(url + path)
    wait_for_text(page, text, timeout=120)
    page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
    time.sleep(2)  # the canvas element shows before its drawing handlers are attached
    return page


def visible_buttons(page, canvas_index=0):
    """Titles of the toolbar buttons shown above canvas ``canvas_index``."""
    toolbar = page.locator(".dc-toolbar").nth(canvas_index)
    return toolbar.locator("button").evaluate_all(
        "bs => bs.filter(b => b.getClientRects().length && getComputedStyle(b).visibility !== 'hidden')"
        ".map(b => b.title)")


def ink(page, canvas_index=0):
    return page.locator("canvas.dc-canvas.lower-canvas").nth(canvas_index).evaluate(INK_JS)


def test_canvas_toolbar_has_only_controls_that_do_what_they_show(browser, url):
    """Draw & match and both canvases of Compare show undo, redo and clear, nothing else; on Draw &
    match, undo takes the last stroke off, redo puts it back, clear empties the canvas and the match
    list; a stroke drawn over an earlier one adds ink (it draws, never drags)."""
    page = open_page(browser, url, "/draw", "Empty sketch")
    assert visible_buttons(page) == TOOLBAR
    assert not page.get_by_text("Deploy", exact=True).is_visible()  # .streamlit/config.toml: viewer toolbar
    draw(page, [[(0.5, 0.15), (0.5, 0.85)]])  # a 1
    wait_for_text(page, "d = ")
    one = ink(page)
    draw(page, [[(0.5, 0.5), (0.9, 0.5)]])  # starts on the 1: draws, does not move it
    two = wait_for_text(page, "stroke 2: ")
    assert ink(page) > one and "d = " in two
    page.screenshot(path=str(ARTIFACTS / "toolbar-draw.png"), full_page=True)
    def press(title):
        page.locator(f".dc-toolbar button[title='{title}']").first.click()
        time.sleep(1)
        return ink(page)

    both = ink(page)
    assert 0 < press("Undo") < both
    assert press("Redo") == both
    assert press("Reset canvas & history") == 0
    assert "d = " not in wait_for_text(page, "Empty sketch")
    page.close()

    page = open_page(browser, url, "/compare", "Compare two sketches")
    assert page.locator(".dc-toolbar").count() == 2
    assert [visible_buttons(page, i) for i in range(2)] == [TOOLBAR, TOOLBAR]
    page.close()


def test_a_stroke_on_draw_and_match_costs_under_30_kB(browser, url):
    """The bytes of the second and third strokes on Draw & match (Digits, 500 references on the
    map), browser to server plus server to browser, each under :data:`STROKE_BUDGET`
    (``benchmarks/stroke_bytes.py`` prints where they go)."""
    frames = []
    page = browser.new_page(viewport={"width": 1280, "height": 1000})

    def on_websocket(ws):
        ws.on("framesent", lambda f: frames.append(f))
        ws.on("framereceived", lambda f: frames.append(f))
    page.on("websocket", on_websocket)
    page.goto(url)
    wait_for_text(page, "Reference sets", timeout=120)
    page.goto(url + "/draw")
    wait_for_text(page, "Empty sketch", timeout=120)
    time.sleep(2)
    costs = []
    for i, stroke in enumerate(([(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)], [(0.3, 0.5), (0.7, 0.5)],
                                [(0.5, 0.15), (0.5, 0.85)])):
        time.sleep(1)
        frames.clear()
        draw(page, [stroke])
        wait_for_text(page, f"stroke {i + 1}: ")
        time.sleep(1)  # frames still on their way
        costs.append(sum(len(f) if isinstance(f, bytes) else len(f.encode()) for f in frames))
    page.close()
    assert all(c < STROKE_BUDGET for c in costs[1:]), f"bytes per stroke: {costs}"
