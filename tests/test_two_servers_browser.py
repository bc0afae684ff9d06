"""Two app servers on one PostgreSQL gallery, in headless Chromium, as a school runs them behind a
proxy: a symbol registered through server A is matched on server B at B's next rerun (B had the
set cached before: its cache is keyed by the revision stored in the database), and one registered
through B is listed on A. Each server has its own SIAMESE_HOME: they share nothing but the
database. Screenshots go to artifacts/."""
import time

import pytest

from browser import ARTIFACTS, app_server, clear_canvas, draw, ranked_names, wait_for_text
from helpers import SHAPES
from browser import SHIFTED_STAR, choose_set, open_page, register

pytestmark = pytest.mark.browser


def open_when_ready(browser, url, path, text):
    """Open Home, wait until the default sets are built (the first of two servers builds them, the
    other finds them; a set list that grows under the page would reset its choice of set), then
    open ``path`` and wait for ``text``."""
    page, errors = open_page(browser, url)
    deadline = time.time() + 300
    while "Digits: 10 symbols" not in wait_for_text(page, "Reference sets", 120):
        assert time.time() < deadline, "the default sets were never built"
        time.sleep(3)
        page.reload()
    page.goto(url + path)
    wait_for_text(page, text)
    return page, errors


def test_registered_on_server_a_matched_on_server_b(browser, real_data_dir, postgres, tmp_path):
    database = postgres.create_database("two_servers_browser")
    common = {"SIAMESE_DATABASE_URL": database, "SIAMESE_DATA_DIR": str(real_data_dir)}
    with app_server({**common, "SIAMESE_HOME": str(tmp_path / "a")}, timeout=180) as a, \
            app_server({**common, "SIAMESE_HOME": str(tmp_path / "b")}, timeout=180) as b:
        assert a != b
        on_b, errors_b = open_when_ready(browser, b, "/draw", "Reference set")
        choose_set(on_b, "Class symbols")
        draw(on_b, SHAPES["star"])
        wait_for_text(on_b, "This reference set is empty", 120)  # B has read (and cached) the empty set

        on_a, errors_a = open_when_ready(browser, a, "/register", "No symbols registered yet")
        register(on_a, "star", SHAPES["star"])
        on_a.screenshot(path=str(ARTIFACTS / "two-servers-a-registered.png"), full_page=True)

        clear_canvas(on_b)  # B's next reruns: clearing, then a new sketch
        wait_for_text(on_b, "Empty sketch")
        draw(on_b, SHIFTED_STAR)
        body = wait_for_text(on_b, "What the model saw", 120)
        on_b.screenshot(path=str(ARTIFACTS / "two-servers-b-matched.png"), full_page=True)
        assert ranked_names(body)[0] == "star", body

        on_b.goto(b + "/register")
        register(on_b, "ring", SHAPES["zero"])  # and the other way round
        on_a.goto(a + "/register")
        body = wait_for_text(on_a, "Rename or delete")
        assert {"star (1 example)", "ring (1 example)"} <= set(body.splitlines()), body
        assert errors_a == [] and errors_b == []
