"""Latency of Draw & match as a person feels it: the pen lifts (mouse-up on the canvas) → the match
list has changed on screen. Prints numbers; asserts nothing (machines here are noisy).

    python -m benchmarks.latency                 # all below: 1, 5 and 20 users, start, map (about 8 minutes)
    python -m benchmarks.latency users 1         # one user alone, 40 timed strokes
    python -m benchmarks.latency users 5 --strokes 8
    python -m benchmarks.latency start           # cold start: `streamlit run` → canvas, first answer
    python -m benchmarks.latency map             # what the embedding map adds per rerun

``users N``: one app server on 127.0.0.1 (a fresh SIAMESE_HOME, the default sets built before timing)
and N headless-Chromium pages (one browser, one context each) on Draw & match, all drawing at once.
Every timed drawing is made on a cleared canvas; a drawing of several strokes is drawn up to its
last stroke untimed, and its last stroke is timed. The drawings cycle through hand-made shapes and
real pen digits (UNIPEN, ``$SIAMESE_DATA_DIR/unipen/pen_digits.json`` when present).

Measured in the page itself (``performance.now()``, so the script's polling adds nothing):

- mouse-up: the ``pointerup`` that ends the stroke;
- sent: the page's first WebSocket message after it (the canvas's value, a PNG: the rerun request);
- rendered: the first animation frame at which the match list (every "d = …" line) differs from
  the one before the stroke and every image of the page has loaded.

From the server (the script instruments Streamlit's ``AppSession`` in the server process and logs,
per session, the first rerun request carrying strokes → the run's successful end): the server-side
time of each stroke, queueing included; and the server's own CPU (``/proc/<pid>/stat``, all
threads) per interaction. The browsers share the server's 2 cores, so with 20 users the
browser-side numbers are mostly Chromium's own work; the server-side ones are what a class on its
own devices would see, plus the network.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# ---- Setup ----
STROKES_PER_USER = {1: 40, 5: 8, 20: 3}
"""Timed drawings per user: at least 30 strokes in all at every size."""
TIMEOUT_S = 60.0
"""A stroke whose match list has not changed after this long counts as lost (none were, so far)."""
SHAPES = {
    "one": [[(0.5, 0.15), (0.5, 0.85)]],
    "seven": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "zigzag": [[(0.2, 0.3), (0.4, 0.7), (0.6, 0.3), (0.8, 0.7)]],
    "cross": [[(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]],
    "star": [[(0.5, 0.15), (0.62, 0.85), (0.15, 0.4), (0.85, 0.4), (0.38, 0.85), (0.5, 0.15)]],
    "L": [[(0.3, 0.2), (0.3, 0.8), (0.75, 0.8)]],
}
PEN_DIGITS = 8
"""Real pen digits added to the shapes (the first of each label 0-7 in the UNIPEN file)."""

PROBE_JS = """(() => {
  const log = window.__latency = {ups: [], sends: [], recvs: [], changes: [], sig: null};
  document.addEventListener('pointerup', () => log.ups.push(performance.now()), true);
  const size = (d) => d.byteLength ?? d.size ?? d.length ?? 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) { log.sends.push([performance.now(), size(d)]); return send.call(this, d); };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => log.recvs.push([performance.now(), size(e.data)]));
    }
  };
  const signature = () => {
    const lines = Array.from(document.querySelectorAll('[data-testid=stText]'), (e) => e.innerText)
      .filter((t) => t.includes('d = '));
    const images = Array.from(document.querySelectorAll('[data-testid=stMain] img'));
    return images.every((i) => i.complete && i.naturalWidth > 0) ? lines.join('|') : null;
  };
  let queued = false;
  const check = () => {
    queued = false;
    const s = signature();
    if (s !== null && s !== log.sig) { log.sig = s; log.changes.push([performance.now(), s]); }
  };
  const schedule = () => { if (!queued) { queued = true; requestAnimationFrame(check); } };
  new MutationObserver(schedule).observe(document, {subtree: true, childList: true, characterData: true});
  document.addEventListener('load', schedule, true);  // an image finished loading
})();"""

STROKE_LOG = "SIAMESE_LATENCY_LOG"
"""Environment variable: the server-side log file of :func:`instrumented_streamlit`."""


def instrumented_streamlit(argv: list[str]) -> None:
    """Run Streamlit's command line (``argv``: ``run app.py ...``) in this process, logging per
    session and per rerun the time from the first rerun request that carries the canvas's strokes
    to the successful end of the run it caused (an interrupted run does not end the interval; a
    fragment's run ends it as a whole run does).

    Log lines, tab-separated: session id, number of fabric paths in the request, start and end
    (``time.perf_counter()`` seconds). Only a benchmark uses this: it patches Streamlit 1.67's
    ``AppSession.handle_backmsg`` and ``_handle_scriptrunner_event_on_event_loop``."""
    import threading

    from streamlit.runtime import app_session
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    out, lock, pending = open(os.environ[STROKE_LOG], "a", buffering=1), threading.Lock(), {}
    handle, on_event = app_session.AppSession.handle_backmsg, app_session.AppSession._handle_scriptrunner_event_on_event_loop

    def handle_backmsg(self, msg):
        if msg.WhichOneof("type") == "rerun_script":
            paths = msg.rerun_script.SerializeToString().count(b'"type":"Path"')
            with lock:
                pending.setdefault(self.id, (time.perf_counter(), paths))
        return handle(self, msg)

    def on_scriptrunner_event(self, sender, event, *args, **kwargs):
        on_event(self, sender, event, *args, **kwargs)
        if event in (ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS, ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS):
            with lock:
                started = pending.pop(self.id, None)
            if started:
                out.write(f"{self.id}\t{started[1]}\t{started[0]:.6f}\t{time.perf_counter():.6f}\n")

    app_session.AppSession.handle_backmsg = handle_backmsg
    app_session.AppSession._handle_scriptrunner_event_on_event_loop = on_scriptrunner_event
    from streamlit.web.cli import main
    sys.argv = ["streamlit", *argv]
    main()


# ---- Drawings ----
def drawings() -> list[tuple[str, list]]:
    """``[(name, strokes in canvas fractions)]``: the shapes, then real pen digits if available."""
    out = list(SHAPES.items())
    pen = Path(os.environ.get("SIAMESE_DATA_DIR", "")) / "unipen" / "pen_digits.json"
    if pen.is_file():
        from helpers import pen_strokes
        items, seen = json.loads(pen.read_text()), set()
        for item in items:
            if item["label"] not in seen and int(item["label"]) < PEN_DIGITS:
                seen.add(item["label"])
                out.append((f"pen {item['label']}", pen_strokes(item)))
    return out


async def stroke(page, box, points):
    x, y = points[0]
    await page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    await page.mouse.down()
    steps = 8 if len(points) < 10 else 1  # hand-made shapes need points in between; pen samples are dense
    for x, y in points[1:]:
        await page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=steps)
    await page.mouse.up()


async def idle(page):
    """Until the app has shown no "running" status for 0.3 s (or :data:`TIMEOUT_S` passed)."""
    from browser import settle
    await settle(page, 0.3, TIMEOUT_S)


async def changed_after(page, t_up: float, before: str, timeout=TIMEOUT_S):
    """The first list change after ``t_up`` (page clock, ms) to something else than ``before``
    (non-empty), as ``[t, signature]``; None after ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        hit = await page.evaluate("([t, before]) => window.__latency.changes.find(([c, s]) => c > t && s && s !== before) "
                                  "?? null", [t_up, before])
        if hit:
            return hit
        await asyncio.sleep(0.03)
    return None


async def clear(page) -> bool:
    """Press the canvas's reset button and wait for the empty page; False if it was clear."""
    if await page.evaluate("window.__latency.sig") in (None, ""):
        return False
    await page.locator("button[title*='eset' i], button[title*='lear' i]").first.click()
    deadline = time.perf_counter() + TIMEOUT_S
    while await page.evaluate("window.__latency.sig") not in ("",) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    await idle(page)
    return True


async def user(browser, url: str, n: int, offset: int, results: list, ready, go):
    """One person on Draw & match: ``n`` timed drawings, each on a cleared canvas."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    await context.add_init_script(PROBE_JS)
    page = await context.new_page()
    page.set_default_timeout(180_000)
    await page.goto(url)  # the home page first (a deep link into a fresh server: streamlit#9992)
    await page.get_by_text("Reference sets").first.wait_for()
    await page.goto(url + "/draw")
    await page.get_by_text("Empty sketch").first.wait_for()
    canvas = page.locator("canvas.upper-canvas").first
    await canvas.wait_for()
    await asyncio.sleep(2)  # the canvas shows before its drawing handlers are attached
    await idle(page)
    box = await canvas.bounding_box()
    ready.release()
    await go.wait()
    shapes = drawings()
    for i in range(n):
        name, strokes = shapes[(offset + i) % len(shapes)]
        cleared = await clear(page)
        for s in strokes[:-1]:  # untimed: the drawing up to its last stroke
            n_before = await page.evaluate("window.__latency.changes.length")
            await stroke(page, box, s)
            while await page.evaluate("window.__latency.changes.length") == n_before:
                await asyncio.sleep(0.05)
            await idle(page)
        before = await page.evaluate("window.__latency.sig")
        await stroke(page, box, strokes[-1])
        t_up = await page.evaluate("window.__latency.ups.at(-1)")
        hit = await changed_after(page, t_up, before)
        log = await page.evaluate("window.__latency")
        await idle(page)
        results.append({**timeline(name, t_up, hit, log), "cleared": cleared})
    await context.close()


def timeline(name, t_up, hit, log) -> dict:
    """One stroke's phases in ms from the page's log: mouse-up → sent → last message in → rendered."""
    row = {"shape": name, "lost": hit is None}
    if hit is None:
        return row
    t_change = hit[0]
    sent = next((t for t, size in log["sends"] if t >= t_up and size > 1000), None)  # the canvas's PNG
    recvs = [(t, size) for t, size in log["recvs"] if (sent or t_up) <= t <= t_change]
    row.update(total=t_change - t_up, bytes_in=sum(size for _, size in recvs))
    if sent is not None:
        row["component"] = sent - t_up
        if recvs:
            row["server"] = recvs[-1][0] - sent
            row["render"] = t_change - recvs[-1][0]
    return row


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def summary(values) -> str:
    return f"p50 {pct(values, 0.5):.0f}, p95 {pct(values, 0.95):.0f}, max {max(values, default=float('nan')):.0f}"


def server_strokes(path: Path, t0: float) -> list[float]:
    """Server-side ms of each interval started by a request that carried strokes, after ``t0``."""
    out = []
    for line in path.read_text().splitlines():
        _, paths, start, end = line.split("\t")
        if int(paths) > 0 and float(start) >= t0:
            out.append(1000 * (float(end) - float(start)))
    return out


async def run_users(url: str, pid: str, log_path: Path, n_users: int, strokes: int) -> None:
    from playwright.async_api import async_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS, cpu_seconds

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        results, ready, go = [], asyncio.Semaphore(0), asyncio.Event()
        tasks = [asyncio.create_task(user(browser, url, strokes, 3 * i, results, ready, go)) for i in range(n_users)]
        for _ in range(n_users):
            await ready.acquire()
        t0, c0 = time.perf_counter(), cpu_seconds(pid)  # perf_counter is CLOCK_MONOTONIC: the server's clock too
        go.set()
        await asyncio.gather(*tasks)
        cpu, wall = cpu_seconds(pid) - c0, time.perf_counter() - t0
        await browser.close()
    timed = [r for r in results if not r["lost"]]
    server = server_strokes(log_path, t0)
    clears = sum(r["cleared"] for r in results)
    canvas_updates = len(server) + clears
    col = lambda key: [r[key] for r in timed if key in r]  # noqa: E731
    print(f"\n{n_users} user(s), {len(results)} timed strokes ({len(results) - len(timed)} lost), {wall:.0f} s:")
    print(f"  mouse-up → matches rendered, ms: {summary(col('total'))}")
    print(f"    mouse-up → request sent (canvas component): {summary(col('component'))}")
    print(f"    request sent → last message in (server, network): {summary(col('server'))}")
    print(f"    last message in → rendered (browser): {summary(col('render'))}")
    print(f"    bytes in per stroke: p50 {pct(col('bytes_in'), 0.5):,.0f}")
    print(f"  server-side, request with strokes in → its run done, ms: {summary(server)} over {len(server)} runs")
    print(f"  server CPU: {cpu:.1f} s in all, {1000 * cpu / max(canvas_updates, 1):.0f} ms per canvas update "
          f"({len(server)} strokes, {clears} clears)")
    bimodal = [round(t) for t in sorted(col("total"))]
    print(f"  every stroke, sorted (ms): {bimodal}")


def bench_users(counts: list[int], strokes: int | None) -> None:
    from browser import app_server, server_pid

    with tempfile.TemporaryDirectory() as home:
        log_path = Path(home) / "strokes.log"
        env = {"SIAMESE_HOME": home, STROKE_LOG: str(log_path)}
        with app_server(env, timeout=180, launcher=("-m", "benchmarks.latency", "serve")) as url:
            pid = server_pid(url)
            warm_up(url)
            for n in counts:
                asyncio.run(run_users(url, pid, log_path, n, strokes or STROKES_PER_USER.get(n, 3)))


def warm_up(url: str) -> None:
    """Open the Draw page once, so the default sets are built and every cache is warm."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS, draw, wait_for_text
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        wait_for_text(page, "Reference sets", timeout=180)
        page.goto(url + "/draw")
        wait_for_text(page, "Empty sketch", timeout=180)
        time.sleep(2)
        draw(page, SHAPES["seven"])
        wait_for_text(page, "What the model saw")
        browser.close()


# ---- Cold start ----
def bench_start(repeats: int = 3) -> None:
    """``streamlit run`` → the Draw page in Chromium, on an empty SIAMESE_HOME (a first start: the
    default sets are built) and then on the same home (a later start), ``repeats`` times each:
    when the canvas is on screen (it takes strokes), when the page answers (its "Empty sketch"
    help, shown once the model is loaded: a stroke is matched from then on), when the page's first
    run has ended, and when all the default sets are in."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS, app_server, wait_for_text
    rows = {"first start": [], "later start": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as home:
                for label, times in rows.items():
                    t = time.perf_counter()
                    with app_server({"SIAMESE_HOME": home}, timeout=180) as url:
                        page = browser.new_page(viewport={"width": 1280, "height": 1000})
                        page.goto(url + "/draw")
                        page.locator("canvas.upper-canvas").wait_for(timeout=180_000)
                        canvas = time.perf_counter() - t
                        page.get_by_text("Empty sketch").first.wait_for(timeout=180_000)
                        usable = time.perf_counter() - t
                        wait_for_text(page, "Empty sketch", timeout=180)
                        idle = time.perf_counter() - t
                        while "being prepared" in page.inner_text("[data-testid='stApp']"):
                            time.sleep(0.1)
                        wait_for_text(page, "Empty sketch", timeout=180)
                        times.append((canvas, usable, idle, time.perf_counter() - t))
                        page.close()
        browser.close()
    print(f"\ncold start, streamlit run → Draw page (s; {repeats} runs each): canvas on screen | the page answers "
          "| first run ended | all default sets in")
    for label, times in rows.items():
        print(f"  {label}: " + "; ".join(" | ".join(f"{v:.1f}" for v in row) for row in times))


# ---- The embedding map ----
MAP_SCRIPT = """
import time
import streamlit as st
from ui import draw, resources
from siamese.gallery.gallery import Gallery
from siamese.matching import match_sketch
matcher, gallery = resources.require_matcher(), Gallery()
for name in st.session_state["sets"]:
    result = match_sketch(st.session_state["sketch"], resources.get_index(), name, matcher)
    t = time.perf_counter()
    draw.embedding_map_ui(name, gallery, resources.get_index(), matcher, None, result)
    st.session_state["times"].setdefault(name, []).append(1000 * (time.perf_counter() - t))
"""


def bench_map(sizes=(100, 500, 1_000), reruns: int = 30) -> None:
    """What the embedding map adds to one rerun of Draw & match, server side: the set's map from
    its cache (fitted once per set revision and model), the sketch projected, the chart built and
    marshalled by Streamlit (``st.altair_chart``, under AppTest: the server's code, no browser);
    and the chart's size on the wire. Sets of synthetic strokes, 10 references per symbol."""
    from streamlit.testing.v1 import AppTest

    from run import canvas_sketch
    from siamese import load_matcher
    from siamese.gallery.gallery import Gallery, SetKind
    from siamese.data.codec import thumbnail_png
    from siamese.search.index import embed_for_storage
    from siamese.data.preprocess import to_display, to_model_input

    with tempfile.TemporaryDirectory() as home:
        os.environ["SIAMESE_HOME"] = home
        gallery, matcher = Gallery(), load_matcher()
        names = []
        for n in sizes:
            inputs = [to_model_input(canvas_sketch(10_000 + i)) for i in range(n)]
            items = [(f"s{i // 10}", x, thumbnail_png(to_display(x, 1))) for i, x in enumerate(inputs)]
            gallery.add_set_bulk(f"{n} references", SetKind.USER, items, embed_for_storage(matcher, inputs))
            names.append(f"{n} references")
        at = AppTest.from_string(MAP_SCRIPT, default_timeout=300)
        at.session_state["sets"], at.session_state["times"] = names, {}
        at.session_state["sketch"] = canvas_sketch(1)
        for _ in range(reruns + 1):
            at.run()
        assert not at.exception, at.exception
        times = at.session_state["times"]
        sizes_kb = [len(c.proto.SerializeToString()) / 1000 for c in at.get("vega_lite_chart")]
    print("\nembedding map, added to each rerun of Draw & match (server side, ms):")
    print("| references | first rerun (PCA fitted, images encoded) | later reruns p50 | p95 | chart on the wire |")
    print("|---|---|---|---|---|")
    for name, kb in zip(names, sizes_kb):
        first, later = times[name][0], times[name][1:]
        print(f"| {name.split()[0]} | {first:.0f} | {pct(later, 0.5):.1f} | {pct(later, 0.95):.1f} | {kb:.0f} kB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what")
    users = sub.add_parser("users", help="N simultaneous users (default 1 5 20)")
    users.add_argument("n", nargs="*", type=int)
    users.add_argument("--strokes", type=int, help="timed drawings per user")
    sub.add_parser("start", help="cold start")
    sub.add_parser("map", help="the embedding map's cost per rerun")
    serve = sub.add_parser("serve", help="(internal) the instrumented server")
    serve.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.what == "serve":
        instrumented_streamlit(args.argv)
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    if args.what in (None, "users"):
        bench_users(getattr(args, "n", None) or [1, 5, 20], getattr(args, "strokes", None))
    if args.what in (None, "start"):
        bench_start()
    if args.what in (None, "map"):
        bench_map()


if __name__ == "__main__":
    main()
