"""Load: students against one app server on localhost, in classroom mode (a teacher passcode set), or
against several servers sharing one PostgreSQL gallery behind nginx.

    python -m benchmarks.load cpu                 # server CPU time per interaction, one student at a time
    python -m benchmarks.load 5 20 40 --wave 8    # N students, at most 8 in their browsers at once
    python -m benchmarks.load 40 --servers 2      # the same through nginx, 2 servers on PostgreSQL
    python -m benchmarks.load matches --servers 1 2 --clients 6 --seconds 60   # matches per second

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
127.0.0.1. ``--servers K`` runs the same students through nginx in front of K app servers whose
gallery is one PostgreSQL database (a throwaway server, tests/pgcluster.py).

``matches``: for 1 and for 2 servers behind nginx, ``--clients`` browsers each draw a 7 on Draw &
match, wait for the match list, clear, and again, for ``--seconds`` after a warm-up; reported: the
matches completed per second (all servers together), each server's CPU use and sessions, the
server CPU per match, and how busy the whole machine was (browsers included: on a small machine
they, not the servers, may be the limit). nginx keeps each browser on one server (Streamlit holds a
websocket and the media of a session in one process): a cookie it sets on the first response is
hashed to choose the server, since every client here comes from 127.0.0.1 (``ip_hash`` would send
them all to one server). Needs nginx (``apt-get install nginx``) and SIAMESE_DATA_DIR (the Digits set).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path


from browser import (CHROMIUM, CHROMIUM_ARGS, app_server, cpu_seconds, free_port, server_pid,  # noqa: E402
                     server_rss_mb, settle)

PASSCODE = "load-test"
STROKE_EVERY_S = 5.0
"""The classroom's pace in the capacity estimate: each student draws one stroke every 5 s."""
SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
STAR = [[(0.5, 0.15), (0.62, 0.85), (0.15, 0.4), (0.85, 0.4), (0.38, 0.85), (0.5, 0.15)]]
INK_JS = """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 128) n++; return n; }"""


NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
  log_format upstream '$upstream_addr "$request" $status';
  access_log {dir}/access.log upstream;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  map $cookie_siamese_server $route {{ '' $request_id; default $cookie_siamese_server; }}
  upstream app {{
    hash $route consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 1h;
      add_header Set-Cookie "siamese_server=$route; Path=/; HttpOnly; SameSite=Lax";
    }}
  }}
}}
"""
"""nginx in front of the app servers, sticky per browser: the first response sets a cookie holding a
random value, which is hashed to pick the server for every later request of that browser (the page,
its websocket, its media); the README's "Serving a school" explains it and the ip_hash alternative."""


@contextmanager
def nginx(backends: list[str]):
    """nginx on a free port of 127.0.0.1 in front of ``backends`` (``http://127.0.0.1:port``);
    yields ``(its URL, its access log path)``."""
    import shutil
    import subprocess
    import urllib.request

    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        raise SystemExit("nginx is not installed: apt-get install nginx")
    with tempfile.TemporaryDirectory(prefix="siamese-nginx-") as d:
        if os.geteuid() == 0:
            shutil.chown(d, "nobody")  # nginx's workers run as nobody and write their temporary files here
        port = free_port()
        servers = "\n".join(f"    server {b.split('://')[1]};" for b in backends)
        Path(d, "nginx.conf").write_text(NGINX_CONF.format(dir=d, port=port, servers=servers))
        proc = subprocess.Popen([exe, "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log", "-g", "daemon off;"])
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"nginx did not start: {Path(d, 'error.log').read_text()}")
            yield url, Path(d, "access.log")
        finally:
            proc.terminate()
            proc.wait(20)


@contextmanager
def serving(servers: int, env: dict, timeout: float = 240):
    """``servers`` app servers behind nginx, their gallery one PostgreSQL database (a throwaway
    server: tests/pgcluster.py); 0: one app server on its SQLite file, no proxy (the classroom).
    Yields ``(URL for the browsers, [each server's URL], the gallery's URL or path, nginx's access
    log or None)``."""
    if servers == 0:
        with app_server(env, timeout=timeout) as url:
            yield url, [url], str(Path(env["SIAMESE_HOME"]) / "gallery.sqlite3"), None
        return
    from pgcluster import Cluster

    cluster = Cluster().start()
    try:
        database = cluster.create_database("school")
        with ExitStack() as stack:
            backends = [stack.enter_context(app_server({**env, "SIAMESE_DATABASE_URL": database,
                                                        "SIAMESE_HOME": str(Path(env["SIAMESE_HOME"]) / f"s{k}")},
                                                       timeout=timeout)) for k in range(servers)]
            url, log = stack.enter_context(nginx(backends))
            yield url, backends, database, log
    finally:
        cluster.remove()


def sessions_per_server(log: Path | None, backends: list[str]) -> list[int]:
    """How many browser sessions (websockets) nginx sent to each server, from its access log."""
    if log is None:
        return []
    lines = log.read_text().splitlines() if log.exists() else []
    return [sum(1 for line in lines if line.startswith(b.split("://")[1]) and "/_stcore/stream" in line)
            for b in backends]


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


async def run(n: int, wave: int, servers: int = 0):
    from playwright.async_api import async_playwright

    from siamese.gallery.schema import CLASS_SYMBOLS
    from siamese.gallery.gallery import Gallery

    with tempfile.TemporaryDirectory() as home:
        env = {"SIAMESE_HOME": home, "SIAMESE_TEACHER_PASSCODE": PASSCODE}
        with serving(servers, env, timeout=180) as (url, backends, database, log):
            pids = [server_pid(b) for b in backends]
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                results = {"latency": [], "registered": [], "errors": []}
                places, cpu0, t0 = asyncio.Semaphore(wave), sum(map(cpu_seconds, pids)), time.perf_counter()
                await asyncio.wait_for(asyncio.gather(*(student(browser, url, i, results, places) for i in range(n))),
                                       timeout=900)
                wall, cpu = time.perf_counter() - t0, sum(map(cpu_seconds, pids)) - cpu0
                rss = max(server_rss_mb(b) for b in backends)
                await browser.close()
            rows = Gallery(database).symbols(CLASS_SYMBOLS)
            sessions = sessions_per_server(log, backends)
    owners = [s["owner_name"] for s in rows if s["name"] == "star"]
    lost = len(set(results["registered"]) - set(owners))
    duplicated = len(owners) - len(set(owners))
    p50, p95 = p50_p95(results["latency"])
    where = "1, SQLite" if servers == 0 else f"{servers}, PostgreSQL, nginx (sessions {'/'.join(map(str, sessions))})"
    print(f"| {where} | {n} | {wave} | {len(results['registered'])}/{n} | {lost} | {duplicated} | "
          f"{len(results['errors'])} | {p50:.2f} | {p95:.2f} | {wall:.0f} | {cpu:.0f} | {rss:.0f} |", flush=True)
    for e in results["errors"][:5]:
        print("   ", e, flush=True)


def machine_busy() -> tuple[float, float]:
    """``(busy, total)`` CPU seconds of the whole machine so far, all cores (``/proc/stat``)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz  # idle and iowait are not busy


async def warm(browser, url):
    """One visit to a server itself: its model loaded, the default sets built (or found), the
    Digits set embedded and cached, one match made."""
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(180_000)
    try:
        await page.goto(url, timeout=180_000)
        deadline = time.perf_counter() + 300
        while "Digits: 10 symbols" not in await page.inner_text("[data-testid='stApp']"):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{url}: the default sets were never built")
            await asyncio.sleep(3)
            await page.reload()
            await wait_text(page, "Reference sets")
        await page.goto(f"{url}/draw", timeout=180_000)
        await wait_text(page, "Empty sketch")
        await draw(page, SEVEN)
        await wait_text(page, "What the model saw")
    finally:
        await page.close()


async def match_client(browser, url, stop, done, errors):
    """One browser on Draw & match: a 7, the match list, clear, again, until ``stop``; appends the
    moment of each match list to ``done``."""
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(180_000)
    try:
        await page.goto(f"{url}/draw", timeout=180_000)
        await wait_text(page, "Empty sketch")
        while time.perf_counter() < stop:
            await draw(page, SEVEN)
            done.append(await wait_text(page, "What the model saw"))
            await page.locator("button[title*='eset' i], button[title*='lear' i]").first.click()
            await wait_text(page, "Empty sketch")
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
    finally:
        await page.close()


async def measure_matches(servers: int, clients: int, seconds: float, warmup: float):
    """Matches per second through nginx with ``servers`` app servers on one PostgreSQL gallery."""
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as home:
        with serving(servers, {"SIAMESE_HOME": home}) as (url, backends, database, log):
            pids = [server_pid(b) for b in backends]
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for b in backends:
                    await warm(browser, b)
                done, errors, t0 = [], [], time.perf_counter()
                work = asyncio.gather(*(match_client(browser, url, t0 + warmup + seconds, done, errors)
                                        for _ in range(clients)))
                await asyncio.sleep(warmup)
                c0, m0, t1 = [cpu_seconds(q) for q in pids], machine_busy(), time.perf_counter()
                await asyncio.sleep(seconds)
                c1, m1, t2 = [cpu_seconds(q) for q in pids], machine_busy(), time.perf_counter()
                await asyncio.wait_for(work, timeout=600)
                await browser.close()
            sessions = sessions_per_server(log, backends)
    n, span = sum(1 for t in done if t1 <= t < t2), t2 - t1
    cpu = [b - a for a, b in zip(c0, c1)]
    busy = (m1[0] - m0[0]) / (m1[1] - m0[1])
    print(f"| {servers} | {clients} | {n / span:.2f} | {n} in {span:.0f} s | "
          f"{' + '.join(f'{100 * c / span:.0f}%' for c in cpu)} | {1000 * sum(cpu) / max(n, 1):.0f} ms | "
          f"{'/'.join(map(str, sessions))} | {100 * busy:.0f}% of {os.cpu_count()} cores | {len(errors)} |", flush=True)
    for e in errors[:5]:
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
    parser.add_argument("students", nargs="*", help="'cpu', 'matches', or numbers of students (default 5 20 40)")
    parser.add_argument("--wave", type=int, default=40, help="most students in their browsers at once")
    parser.add_argument("--strokes", type=int, default=30)
    parser.add_argument("--registrations", type=int, default=10)
    parser.add_argument("--servers", type=int, nargs="*", default=None,
                        help="app servers behind nginx on one PostgreSQL gallery (students: one number; matches: "
                             "each number in turn, default 1 2); without it, students use one server on SQLite")
    parser.add_argument("--clients", type=int, default=6, help="matches: browsers drawing at once")
    parser.add_argument("--seconds", type=float, default=60, help="matches: how long to count, after the warm-up")
    parser.add_argument("--warmup", type=float, default=20, help="matches: seconds before counting starts")
    args = parser.parse_args()
    if args.students == ["cpu"]:
        asyncio.run(measure_cpu(args.strokes, args.registrations))
        sys.exit()
    if args.students == ["matches"]:
        print("| servers | browsers | matches/s | matches | server CPU (each) | server CPU per match | sessions "
              "per server | machine busy | errors |")
        print("|---|---|---|---|---|---|---|---|---|")
        for k in args.servers or [1, 2]:
            asyncio.run(measure_matches(max(1, k), max(1, min(args.clients, 40)), args.seconds, args.warmup))
        sys.exit()
    print("| servers | students | at once | registrations | lost | duplicated | errors | stroke→matches p50 s | "
          "p95 s | wall s | server CPU s | server RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in [int(a) for a in args.students] or [5, 20, 40]:
        asyncio.run(run(min(n, 40), max(1, args.wave), max(0, min((args.servers or [0])[0], 4))))
