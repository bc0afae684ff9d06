"""Helpers for browser tests: start the app on a free port, drive headless Chromium, draw with
the mouse on the drawing canvas."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from helpers import SHAPES

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(env_overrides: dict, port: int | None = None, timeout: float = 90.0, launcher=("-m", "streamlit")):
    """Run ``streamlit run app.py`` and yield its base URL; stop it afterwards.

    ``launcher``: the Python arguments that stand for ``streamlit`` (a benchmark passes its own
    script, which instruments the server and then runs Streamlit's command line)."""
    port = port or free_port()
    env = {**os.environ, **env_overrides}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"server-{port}.log", "a")
    proc = subprocess.Popen([sys.executable, *launcher, "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the app did not start; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MB, from Linux's /proc (default: this process)."""
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1]) / 1024


def server_pid(url: str) -> str:
    """Process id of the app server that :func:`app_server` started at ``url`` (found by its port)."""
    return subprocess.run(["pgrep", "-f", f"server.port {url.rsplit(':', 1)[1]}"], capture_output=True,
                          text=True).stdout.split()[0]


def server_rss_mb(url: str) -> float:
    """RSS in MB of the app server that :func:`app_server` started at ``url``."""
    return rss_mb(server_pid(url))


def cpu_seconds(pid: int | str) -> float:
    """CPU time a process has used so far, all its threads, user plus system, in seconds (fields 14
    and 15 of Linux's /proc/<pid>/stat, in clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after "(command name)", which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


INK_JS = """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 128) n++; return n; }"""


def _ink(page, canvas_index):
    return page.locator("canvas.dc-canvas.lower-canvas").nth(canvas_index).evaluate(INK_JS)


def draw(page, strokes, canvas_index: int = 0, attempts: int = 5, wait_s: float = 60):
    """Draw polylines (in canvas fractions) with the mouse on the drawing canvas, once it is
    visible (``wait_s`` seconds at most).

    The canvas element appears before its drawing handlers are attached, so the strokes are
    retried until ink shows up in the canvas's own pixels."""
    canvas = page.locator("canvas.upper-canvas").nth(canvas_index)
    canvas.wait_for(timeout=wait_s * 1000)
    before = _ink(page, canvas_index)
    for _ in range(attempts):
        box = canvas.bounding_box()
        for stroke in strokes:
            x, y = stroke[0]
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=15)
            page.mouse.up()
            time.sleep(0.3)
        if _ink(page, canvas_index) > before:
            return
        time.sleep(2)
    raise AssertionError("the canvas did not take the strokes")


def clear_canvas(page):
    """Press the canvas toolbar's reset (bin) button."""
    page.locator("canvas.upper-canvas").first.hover()
    buttons = page.locator("button[title*='eset' i], button[aria-label*='eset' i], button[title*='lear' i]")
    buttons.first.click()


def wait_for_text(page, text: str, timeout: float = 60.0) -> str:
    """Wait until the app's visible text contains ``text`` and the app is idle; return the text."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = page.inner_text("[data-testid='stApp']")
        running = page.locator("[data-testid='stStatusWidget']").count()
        if text in body and not running:
            page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
            return body
        time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / f"failed-wait-{int(time.time())}.png"), full_page=True)
    raise AssertionError(f"{text!r} did not appear; page text:\n{page.inner_text('[data-testid=stApp]')}")


def wait_default_sets_ready(page, timeout: float = 300.0) -> str:
    """On a fresh server the default sets (Digits, the alphabets) are built in the background and
    the page says so until it reruns with them: wait until that note is gone and the app is idle.
    Return the page text."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = page.inner_text("[data-testid='stApp']")
        running = page.locator("[data-testid='stStatusWidget']").count()
        if "being prepared" not in body and not running:
            return body
        time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / f"failed-wait-{int(time.time())}.png"), full_page=True)
    raise AssertionError(f"the default sets were still being prepared after {timeout:.0f} s")


def ranked_names(body: str) -> list[str]:
    """Symbol names of the match list, nearest first (each is shown as 'name' then 'd = x.xx')."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    return [lines[i - 1] for i, line in enumerate(lines) if line.startswith("d = ") and i > 0]


def wait_enabled(locator, timeout: float = 30.0) -> None:
    """Wait until the element ``locator`` finds is enabled, looking it up again at every poll
    (Playwright's ``expect``). A rerun may replace an element with a new one: a wait on the old
    element's handle (``wait_for_function(..., arg=locator.element_handle())``) then watches a
    detached node that never changes, and fails whenever the machine is slow enough for the rerun
    to come after the handle was taken."""
    from playwright.sync_api import expect

    expect(locator).to_be_enabled(timeout=timeout * 1000)


def delete_symbol(page, gone: str, kept: str) -> str:
    """On the Register page's open "Rename or delete" panel: tick the confirmation, press Delete,
    wait until the list no longer shows ``gone`` and still shows ``kept``; return the page text."""
    page.get_by_text("Yes, delete it and all its sketches").click()
    delete = page.get_by_role("button", name="Delete", exact=True)
    wait_enabled(delete)
    delete.click()
    deadline = time.time() + 30
    while gone in page.inner_text("[data-testid='stApp']") and time.time() < deadline:
        time.sleep(0.5)
    body = wait_for_text(page, kept)
    assert gone not in body
    return body


async def settle(page, quiet_s: float = 0.5, timeout: float | None = None) -> None:
    """Until the app has shown no "running" status for ``quiet_s`` seconds (every rerun done), or
    ``timeout`` seconds have passed (None: no limit). For Playwright's async API (the benchmarks)."""
    import asyncio

    deadline = None if timeout is None else time.perf_counter() + timeout
    quiet_since = None
    while deadline is None or time.perf_counter() < deadline:
        running = await page.locator("[data-testid='stStatusWidget']").count()
        now = time.perf_counter()
        quiet_since = None if running else (quiet_since or now)
        if quiet_since and now - quiet_since >= quiet_s:
            return
        await asyncio.sleep(0.05)


SHIFTED_STAR = [[(x * 0.9 + 0.07, y * 0.9 + 0.04) for x, y in SHAPES["star"][0]]]


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    return page, errors


def choose_set(page, label_start):
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option").filter(has_text=label_start).first.click()
    time.sleep(1)


def register(page, name, strokes, double_click=False):
    page.get_by_label("Name", exact=True).fill(name)
    page.keyboard.press("Tab")
    draw(page, strokes)
    time.sleep(1.5)
    button = page.get_by_role("button", name="Register")
    button.dblclick() if double_click else button.click()
    return wait_for_text(page, f"Name: {name}")


OVERFLOW_JS = """() => { const m = document.querySelector('[data-testid=stMain]');
    return document.documentElement.scrollWidth <= innerWidth && m.scrollWidth <= m.clientWidth; }"""
"""True when neither the page nor Streamlit's main block scrolls sideways (a phone's check)."""


@contextmanager
def classroom_server(data_dir, home, passcode: str):
    """An app server in classroom mode (teacher passcode ``passcode``) on the real data in
    ``data_dir``, its gallery under ``home``; yields its URL."""
    with app_server({"SIAMESE_HOME": str(home), "SIAMESE_DATA_DIR": str(data_dir),
                     "SIAMESE_TEACHER_PASSCODE": passcode}) as u:
        yield u


def join(page, url, name):
    """Open the app and join the class under ``name``; returns the identity token from the URL."""
    page.goto(url)
    wait_for_text(page, "Join the class", 90)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    wait_for_text(page, f"You are {name}")
    return re.search(r"student=([\w-]+)", page.url).group(1)
