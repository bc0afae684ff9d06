"""Load: students against one app server on localhost, in classroom mode (a teacher passcode set).

    python benchmarks/load.py cpu                 # server CPU time per interaction, one student at a time
    python benchmarks/load.py 5 20 40 --wave 8    # N students, at most 8 in their browsers at once

``cpu``: one student's browser joins, draws a 7 on Draw & match 30 times (cleared in between) and
registers 10 symbols; the server process's own CPU time (user + system, all threads, from
/proc/<pid>/stat) is read before and after each interaction, so the browser's work, on the same
machine, is not counted. From it: how many students one server sustains at one stroke every 5 s.

``N``: each student is a headless-Chromium page (one shared browser, asyncio): it opens the app,
joins the class under a name, goes to Draw & match, draws a 7 and waits for the match list (timed
from mouse-up to the list being rendered), then registers a symbol called "star" (every student's
own: names are unique per owner). The browsers run on the server's 2 cores, so ``--wave K`` lets at
most K students work at once (the others wait for a free place, as students trickle in) and every
client finishes. At the end the database must hold every registration: "lost" counts those that
did not arrive, "duplicated" those stored twice. Bounded: at most 40 students, 900 s in all; only
127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, CHROMIUM_ARGS, app_server, cpu_seconds, server_pid, server_rss_mb  # noqa: E402

PASSCODE = "load-test"
STROKE_EVERY_S = 5.0
"""The classroom's pace in the capacity estimate: each student draws one stroke every 5 s."""
SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
STAR = [[(0.5, 0.15), (0.62, 0.85), (0.15, 0.4), (0.85, 0.4), (0.38, 0.85), (0.5, 0.15)]]
INK_JS = """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 128) n++; return n; }"""


async def draw(page, strokes):
    canvas = page.locator("canvas.upper-canvas").first
    await canvas.wait_for(timeout=120_000)
    lower = page.locator("canvas.dc-canvas.lower-canvas").first
    before = await lower.evaluate(INK_JS)
    for _ in range(10):
        box = await canvas.bounding_box()
        for stroke in strokes:
            x, y = stroke[0]
            await page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
            await page.mouse.down()
            for x, y in stroke[1:]:
                await page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=10)
            await page.mouse.up()
        if await lower.evaluate(INK_JS) > before:
            return time.perf_counter()
        await asyncio.sleep(1.5)
    raise RuntimeError("canvas did not take the strokes")


async def wait_text(page, text, timeout=180):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if text in await page.inner_text("[data-testid='stApp']"):
            return time.perf_counter()
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{text!r} did not appear")


async def settle(page, quiet_s=0.5):
    """Until the app has not been running for ``quiet_s`` seconds (every rerun done)."""
    quiet_since = None
    while True:
        running = await page.locator("[data-testid='stStatusWidget']").count()
        now = time.perf_counter()
        quiet_since = None if running else (quiet_since or now)
        if quiet_since and now - quiet_since >= quiet_s:
            return
        await asyncio.sleep(0.05)


async def join(page, url, name):
    await page.goto(url, timeout=180_000)
    await wait_text(page, "Join the class")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Join").click()
    await wait_text(page, f"You are {name}")
    return re.search(r"student=([\w-]+)", page.url).group(1)


async def student(browser, url, i, results, places):
    async with places:  # at most --wave students in their browsers at once
        page = await browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(180_000)
        try:
            token = await join(page, url, f"Student {i}")
            await page.goto(f"{url}/draw?student={token}", timeout=180_000)
            await wait_text(page, "Empty sketch")
            up = await draw(page, SEVEN)
            done = await wait_text(page, "What the model saw")
            results["latency"].append(done - up)
            await page.goto(f"{url}/register?student={token}", timeout=180_000)
            await wait_text(page, "symbols are yours")
            await page.get_by_label("Name", exact=True).fill("star")
            await page.keyboard.press("Tab")
            await draw(page, STAR)
            await asyncio.sleep(1.0)
            await page.get_by_role("button", name="Register").click()
            await wait_text(page, "Registered")
            results["registered"].append(f"Student {i}")
        except Exception as exc:
            results["errors"].append(f"student {i}: {type(exc).__name__}: {str(exc)[:120]}")
        finally:
            await page.close()


def p50_p95(values):
    values = sorted(values)
    if not values:
        return float("nan"), float("nan")
    return statistics.median(values), values[int(0.95 * (len(values) - 1))]


async def run(n: int, wave: int):
    from playwright.async_api import async_playwright

    from siamese.gallery import CLASS_SYMBOLS, Gallery

    with tempfile.TemporaryDirectory() as home:
        with app_server({"SIAMESE_HOME": home, "SIAMESE_TEACHER_PASSCODE": PASSCODE}, timeout=180) as url:
            pid = server_pid(url)
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                results = {"latency": [], "registered": [], "errors": []}
                places, cpu0, t0 = asyncio.Semaphore(wave), cpu_seconds(pid), time.perf_counter()
                await asyncio.wait_for(asyncio.gather(*(student(browser, url, i, results, places) for i in range(n))),
                                       timeout=900)
                wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
                rss = server_rss_mb(url)
                await browser.close()
        rows = Gallery(Path(home) / "gallery.sqlite3").symbols(CLASS_SYMBOLS)
    owners = [s["owner_name"] for s in rows if s["name"] == "star"]
    lost = len(set(results["registered"]) - set(owners))
    duplicated = len(owners) - len(set(owners))
    p50, p95 = p50_p95(results["latency"])
    print(f"| {n} | {wave} | {len(results['registered'])}/{n} | {lost} | {duplicated} | {len(results['errors'])} | "
          f"{p50:.2f} | {p95:.2f} | {wall:.0f} | {cpu:.0f} | {rss:.0f} |", flush=True)
    for e in results["errors"][:5]:
        print("   ", e, flush=True)


async def measure_cpu(strokes: int, registrations: int):
    """Server CPU seconds per stroke → matches and per registration, one interaction at a time."""
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as home:
        with app_server({"SIAMESE_HOME": home, "SIAMESE_TEACHER_PASSCODE": PASSCODE}, timeout=180) as url:
            pid = server_pid(url)
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = await browser.new_page(viewport={"width": 1280, "height": 1000})
                token = await join(page, url, "Timer")
                await page.goto(f"{url}/draw?student={token}")
                await wait_text(page, "Empty sketch")
                await settle(page)
                c0, t0 = cpu_seconds(pid), time.perf_counter()
                await asyncio.sleep(10)
                idle = (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)
                per_stroke, per_clear = [], []
                for i in range(strokes + 2):  # the first two warm up (the Digits set, the page's caches)
                    c0 = cpu_seconds(pid)
                    await draw(page, SEVEN)
                    await wait_text(page, "What the model saw")
                    await settle(page)
                    if i >= 2:
                        per_stroke.append(cpu_seconds(pid) - c0)
                    c0 = cpu_seconds(pid)
                    await page.locator("button[title*='eset' i], button[title*='lear' i]").first.click()
                    await wait_text(page, "Empty sketch")
                    await settle(page)
                    per_clear.append(cpu_seconds(pid) - c0)
                per_registration = []
                await page.goto(f"{url}/register?student={token}")
                await wait_text(page, "symbols are yours")
                await settle(page)
                for i in range(registrations):
                    c0 = cpu_seconds(pid)
                    await page.get_by_label("Name", exact=True).fill(f"symbol {i}")
                    await page.keyboard.press("Tab")
                    await draw(page, [[(x + 0.02 * (i % 5), y) for x, y in STAR[0]]])  # a new sketch each time
                    await asyncio.sleep(1.0)
                    await page.get_by_role("button", name="Register").click()
                    await wait_text(page, f"Name: symbol {i}")
                    await settle(page)
                    per_registration.append(cpu_seconds(pid) - c0)
                await browser.close()
    ms = lambda v: f"{1000 * v:.0f} ms"  # noqa: E731
    stroke, stroke95 = p50_p95(per_stroke)
    clear, _ = p50_p95(per_clear)
    reg, reg95 = p50_p95(per_registration)
    print(f"server idle: {ms(idle)} CPU per second")
    print(f"stroke → matches (Draw & match, Digits): p50 {ms(stroke)}, p95 {ms(stroke95)}, mean "
          f"{ms(statistics.mean(per_stroke))} server CPU over {len(per_stroke)} strokes")
    print(f"clearing the canvas (a rerun that matches nothing): p50 {ms(clear)}")
    print(f"registration (name, sketch, click: three reruns and the write): p50 {ms(reg)}, p95 {ms(reg95)} "
          f"over {len(per_registration)}")
    load = statistics.mean(per_stroke) / STROKE_EVERY_S  # cores one student keeps busy
    print(f"one stroke every {STROKE_EVERY_S:.0f} s keeps {100 * load:.2f}% of a core busy per student: "
          f"{0.7 * 2 / load:.0f} students on 2 cores at 70% use; {0.7 / load:.0f} if the work were all "
          f"Python under one interpreter lock (one core)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("students", nargs="*", help="'cpu', or numbers of students (default 5 20 40)")
    parser.add_argument("--wave", type=int, default=40, help="most students in their browsers at once")
    parser.add_argument("--strokes", type=int, default=30)
    parser.add_argument("--registrations", type=int, default=10)
    args = parser.parse_args()
    if args.students == ["cpu"]:
        asyncio.run(measure_cpu(args.strokes, args.registrations))
        sys.exit()
    print("| students | at once | registrations | lost | duplicated | errors | stroke→matches p50 s | p95 s | "
          "wall s | server CPU s | server RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in [int(a) for a in args.students] or [5, 20, 40]:
        asyncio.run(run(min(n, 40), max(1, args.wave)))
