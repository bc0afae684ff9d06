"""What one stroke on Draw & match costs on the WebSocket: the bytes the browser sends (the canvas's
value, the rerun request) and the bytes the server sends back (the fragment's elements), per
stroke, with the received bytes split by element. Prints numbers; asserts nothing.

    python -m benchmarks.stroke_bytes                 # the Digits set (the page's default), 6 strokes
    python -m benchmarks.stroke_bytes --strokes 10 --set "Omniglot: Latin"

One app server on 127.0.0.1 (a fresh SIAMESE_HOME, the default sets built before measuring) and one
headless-Chromium page at 1280x1000 on Draw & match. Each stroke is drawn with the mouse, then the
page waits until the app is idle (``tests/browser.settle``); the frames of that interval are the
stroke's. Received frames are decoded as Streamlit ``ForwardMsg`` protobufs: a new element is
counted under its type ("vega_lite_chart", "imgs", ...), and ``ref_hash`` is a message the browser
already holds (Streamlit's message cache, for elements of 10 kB or more that did not change).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STROKES = [  # canvas fractions: a 7, a 1, a cross, a zero's halves
    [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)],
    [(0.5, 0.15), (0.5, 0.85)],
    [(0.2, 0.5), (0.8, 0.5)],
    [(0.3, 0.3), (0.7, 0.7)],
    [(0.3, 0.7), (0.7, 0.3)],
    [(0.2, 0.2), (0.8, 0.8), (0.2, 0.8)],
]


def kind(payload: bytes) -> str:
    """What a server-to-browser frame holds: the element type of a new element, "ref_hash", or the
    ForwardMsg's own type."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # noqa: BLE001 - not a ForwardMsg: count it as such
        return "other"
    which = msg.WhichOneof("type")
    if which == "delta":
        delta = msg.delta.WhichOneof("type")
        if delta == "new_element":
            return msg.delta.new_element.WhichOneof("type")
        return delta
    return which or "other"


def measure(url: str, strokes: int, set_label: str | None) -> list[dict]:
    """Per stroke: ``{"sent": bytes, "received": bytes, "by_kind": {kind: bytes}}``."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS, draw, wait_for_text

    frames: list[tuple[str, bytes | str]] = []

    def on_ws(ws):
        ws.on("framesent", lambda p: frames.append(("sent", p)))
        ws.on("framereceived", lambda p: frames.append(("received", p)))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("websocket", on_ws)
        page.goto(url)  # the home page first (a deep link into a fresh server: streamlit#9992)
        wait_for_text(page, "Reference sets", timeout=300)
        page.goto(url + "/draw")
        wait_for_text(page, "Empty sketch", timeout=300)
        if set_label:
            page.get_by_label("Reference set").click()
            page.get_by_role("option", name=set_label).first.click()
            wait_for_text(page, "Empty sketch")
        time.sleep(2)  # the canvas shows before its drawing handlers are attached
        results = []
        for i in range(strokes):
            frames.clear()
            before = page.inner_text("[data-testid='stApp']")
            draw(page, [STROKES[i % len(STROKES)]])
            deadline = time.time() + 60
            while page.inner_text("[data-testid='stApp']") == before and time.time() < deadline:
                time.sleep(0.1)
            wait_for_text(page, "d = ")
            time.sleep(1.0)  # frames still on their way
            by_kind = collections.Counter()
            sent = received = 0
            for direction, payload in frames:
                n = len(payload) if isinstance(payload, (bytes, bytearray)) else len(payload.encode())
                if direction == "sent":
                    sent += n
                else:
                    received += n
                    by_kind[kind(payload) if isinstance(payload, (bytes, bytearray)) else "text"] += n
            results.append({"sent": sent, "received": received, "by_kind": dict(by_kind)})
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=6)
    parser.add_argument("--set", dest="set_label", default=None,
                        help="a reference set other than the default (its label's start, e.g. 'Omniglot: Latin')")
    args = parser.parse_args()
    from browser import app_server

    data = os.environ.get("SIAMESE_DATA_DIR")
    if not data:
        sys.exit("SIAMESE_DATA_DIR is not set: the default sets need the datasets")
    with tempfile.TemporaryDirectory() as home, app_server({"SIAMESE_HOME": home, "SIAMESE_DATA_DIR": data},
                                                           timeout=300) as url:
        results = measure(url, args.strokes, args.set_label)
    print(f"{'stroke':>6} {'sent kB':>8} {'received kB':>12}  received by element (kB)")
    for i, r in enumerate(results, 1):
        parts = ", ".join(f"{k} {v / 1000:.1f}" for k, v in sorted(r["by_kind"].items(), key=lambda kv: -kv[1]))
        print(f"{i:>6} {r['sent'] / 1000:>8.1f} {r['received'] / 1000:>12.1f}  {parts}")
    later = results[1:] or results
    print(f"strokes 2-{len(results)}: mean {sum(r['sent'] + r['received'] for r in later) / len(later) / 1000:.1f} kB "
          "per stroke, both directions")


if __name__ == "__main__":
    main()
