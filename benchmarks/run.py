"""Benchmarks that print numbers (never asserted: machines here are noisy).

    python -m benchmarks.run                 # everything (about 5 minutes on 2 cores)
    python -m benchmarks.run match embed     # only some sections

Sections:
    match     canvas RGBA -> ranked top-5, p50/p95 over 200 queries, galleries of 100 to 100,000
              references; and the naive baseline (Keras ``predict`` + full sort)
    embed     embedding a whole reference set (all 13,180 Omniglot evaluation images)
    train     training throughput of the three variants (pairs/s) at batch 16 and the Classroom
              preset's wall time
    start     cold start: ``streamlit run`` to a usable Draw page in headless Chromium, the
              import/model-load part of it, and the server's RSS
    memory    RSS after 200 matches and after each of 10 trainings of the three variants
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def canvas_sketch(seed: int) -> np.ndarray:
    """A 280x280 RGBA canvas with a random three-segment stroke, as the drawable canvas returns."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([tuple(p) for p in rng.integers(30, 250, (4, 2))], fill=(0, 0, 0, 255), width=18)
    return np.asarray(img)


def percentiles(samples_ms):
    s = sorted(samples_ms)
    return statistics.median(s), s[int(0.95 * (len(s) - 1))]


def bench_match():
    from siamese import load_matcher
    from siamese.search.index import References, top_symbols
    from siamese.data.preprocess import to_model_input

    t0 = time.perf_counter()
    matcher = load_matcher()
    print(f"load_matcher (load + warm-up): {1000 * (time.perf_counter() - t0):.0f} ms")
    sketches = [canvas_sketch(i) for i in range(200)]
    rng = np.random.default_rng(0)
    print("\n| references | p50 ms | p95 ms | naive predict + sort: p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for n in (100, 1_000, 10_000, 100_000):
        refs = np.ascontiguousarray(rng.normal(0, 1.2, (n, matcher.dim)).astype(np.float32))
        symbols = np.array([f"s{i // 3}" for i in range(n)], dtype=object)
        ref_set = References(np.arange(n), symbols, refs)  # squared norms computed once, as the app does
        fast, naive = [], []
        for img in sketches:
            t = time.perf_counter()
            x = to_model_input(img)
            q = matcher.embed_inputs(x[None])[0]
            top_symbols(q, ref_set.embeddings, ref_set.symbols, 5, ref_set.sq_norms)
            fast.append(1000 * (time.perf_counter() - t))
        for img in sketches[:50]:  # the baseline is slow: 50 queries
            t = time.perf_counter()
            x = to_model_input(img)
            q = matcher.model.predict(x[None], verbose=0)[0]
            np.argsort(np.linalg.norm(refs - q, axis=1))[:5]
            naive.append(1000 * (time.perf_counter() - t))
        (f50, f95), (n50, n95) = percentiles(fast), percentiles(naive)
        print(f"| {n:,} | {f50:.2f} | {f95:.2f} | {n50:.1f} | {n95:.1f} |")


def bench_embed():
    from siamese import load_matcher
    from siamese.data.datasets import load_omniglot

    matcher = load_matcher()
    ev = load_omniglot("evaluation")
    t = time.perf_counter()
    matcher.embed_inputs(ev.images)
    s = time.perf_counter() - t
    print(f"\nembedding {len(ev.images):,} evaluation images: {s:.2f} s ({len(ev.images) / s:,.0f} images/s)")


def bench_train():
    from siamese.lecture.settings import PRESETS, pairs_for
    from siamese.lecture.training import compare_variants
    from siamese.lecture.pairs import mnist_pairs

    print("\n| setting | variant | pairs/s | seconds |")
    print("|---|---|---|---|")
    pairs = mnist_pairs(20_000, seed=0)
    res = compare_variants(pairs, epochs=1, batch_size=16)
    for s in res.summaries.values():
        print(f"| batch 16, 1 epoch of 20,000 pairs | {s.name} | {20_000 / s.seconds:,.0f} | {s.seconds:.1f} |")
    cfg = PRESETS["classroom"]
    t = time.perf_counter()
    pairs = pairs_for(cfg)
    res = compare_variants(pairs, cfg.epochs, cfg.batch_size)
    wall = time.perf_counter() - t
    for s in res.summaries.values():
        rate = cfg.n_pairs * cfg.epochs / s.seconds
        print(f"| Classroom (batch {cfg.batch_size}, {cfg.epochs} epochs) | {s.name} | {rate:,.0f} | {s.seconds:.1f} |")
    print(f"\nClassroom preset wall time, all three variants, pairs included: {wall:.1f} s")


def bench_start():
    from browser import CHROMIUM, CHROMIUM_ARGS, app_server, server_rss_mb, wait_for_text
    from playwright.sync_api import sync_playwright

    code = "import time; t=time.perf_counter(); from siamese import load_matcher; load_matcher(); print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    print(f"\nimport siamese + load_matcher in a fresh process: {float(out.stdout.split()[-1]):.2f} s")
    import tempfile
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as home, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for label in ("first start (reference sets built)", "second start"):
            t = time.perf_counter()
            with app_server({"SIAMESE_HOME": home}) as url:
                page = browser.new_page()
                page.goto(url + "/draw")
                wait_for_text(page, "Empty sketch", timeout=120)
                page.locator("canvas.upper-canvas").wait_for()
                s = time.perf_counter() - t
                print(f"{label}: streamlit run -> usable Draw page {s:.1f} s; server RSS {server_rss_mb(url):.0f} MB")
                page.close()
        browser.close()


def bench_memory():
    """RSS of one process doing what the server does: 200 matches, then 10 trainings."""
    from browser import rss_mb
    from siamese import load_matcher
    from siamese.classroom import SOLO
    from siamese.lecture.training import compare_variants
    from siamese.gallery.schema import CLASS_SYMBOLS
    from siamese.gallery.gallery import Gallery
    from siamese.search.index import ReferenceIndex
    from siamese.matching import match_sketch, register_sketch
    from siamese.lecture.pairs import mnist_pairs
    import tempfile

    matcher = load_matcher()
    with tempfile.TemporaryDirectory() as home:
        gallery = Gallery(Path(home) / "g.sqlite3")
        index = ReferenceIndex(gallery)
        for i in range(20):
            register_sketch(canvas_sketch(1000 + i), gallery, CLASS_SYMBOLS, f"s{i}", matcher, actor=SOLO)
        print(f"\nRSS after start-up: {rss_mb():.0f} MB")
        for round_ in range(4):
            for i in range(50):
                match_sketch(canvas_sketch(i), index, CLASS_SYMBOLS, matcher)
            print(f"RSS after {50 * (round_ + 1)} matches: {rss_mb():.0f} MB")
    pairs = mnist_pairs(2_000, seed=0)
    for k in range(10):
        compare_variants(pairs, epochs=1, batch_size=64)
        print(f"RSS after training {k + 1} (three variants): {rss_mb():.0f} MB")


SECTIONS = {"match": bench_match, "embed": bench_embed, "train": bench_train, "start": bench_start,
            "memory": bench_memory}

if __name__ == "__main__":
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    for name in sys.argv[1:] or SECTIONS:
        SECTIONS[name]()
