"""Load test: N simulated students at once against one app server on localhost.

    python benchmarks/load.py 5 20 40

Each student is a headless-Chromium page (one shared browser, asyncio): it opens the app, goes to
Draw & match, draws a digit with the mouse and waits for the match list (timed from mouse-up to
the list being rendered), then registers a symbol under a unique name from one sketch. At the end
the database must hold every registration: "lost" counts those that did not arrive. Bounded:
at most 40 students, 600 s in all; only 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, CHROMIUM_ARGS, app_server, server_rss_mb  # noqa: E402

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


async def wait_text(page, text, timeout=120):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if text in await page.inner_text("[data-testid='stApp']"):
            return time.perf_counter()
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{text!r} did not appear")


async def student(browser, url, i, results):
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(180_000)  # an overloaded machine is slow, not broken: errors = real failures
    try:
        await page.goto(url, timeout=120_000)
        await wait_text(page, "Reference sets")
        await page.goto(url + "/draw", timeout=120_000)
        await wait_text(page, "Empty sketch")
        up = await draw(page, SEVEN)
        done = await wait_text(page, "What the model saw")
        results["latency"].append(done - up)
        await page.goto(url + "/register", timeout=120_000)
        await wait_text(page, "My symbols")
        await page.get_by_label("Name", exact=True).fill(f"student-{i}")
        await page.keyboard.press("Tab")
        await draw(page, STAR)
        await asyncio.sleep(1.0)
        await page.get_by_role("button", name="Register").click()
        await wait_text(page, "Registered")
        results["registered"].append(f"student-{i}")
    except Exception as exc:
        results["errors"].append(f"student {i}: {type(exc).__name__}: {str(exc)[:120]}")
    finally:
        await page.close()


async def run(n: int):
    from playwright.async_api import async_playwright

    from siamese.gallery import MY_SYMBOLS, Gallery

    with tempfile.TemporaryDirectory() as home:
        with app_server({"SIAMESE_HOME": home}, timeout=180) as url:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                results = {"latency": [], "registered": [], "errors": []}
                t0 = time.perf_counter()
                await asyncio.wait_for(asyncio.gather(*(student(browser, url, i, results) for i in range(n))),
                                       timeout=600)
                wall = time.perf_counter() - t0
                rss = server_rss_mb(url)
                await browser.close()
        stored = {s["name"] for s in Gallery(Path(home) / "gallery.sqlite3").symbols(MY_SYMBOLS)}
    lost = len(set(results["registered"]) - stored)
    lat = sorted(results["latency"])
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    print(f"| {n} | {len(results['registered'])} | {lost} | {len(results['errors'])} | {p50:.2f} | {p95:.2f} | "
          f"{wall:.0f} | {rss:.0f} |", flush=True)
    for e in results["errors"][:5]:
        print("   ", e, flush=True)


if __name__ == "__main__":
    print("| students | registrations confirmed | lost | errors | stroke→matches p50 s | p95 s | wall s | server RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in [int(a) for a in sys.argv[1:]] or [5, 20, 40]:
        asyncio.run(run(min(n, 40)))
