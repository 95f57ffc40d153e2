"""The HTML page at scale: its size, and each step's time in headless Chromium.

Run: .venv/bin/python bench/page.py [nodes]   (default 500; needs Playwright and a Chromium)

For every shape of bench/shapes.py, the page of a program of about `nodes` nodes is written as `gad
graph -o page.html --max-nodes 5000` writes it (renderer auto), folded to the default box budget
(with the expansions of its folded groups) and whole (`--expand-all`), and opened from disk in the
system's headless Chromium. The table prints the page's size, the time to open it (navigation to a
ready page), the time of each step of the whole backward sweep (its script and the style and layout
it causes; and until the next frame has been drawn, which waits for the next frame of a 60 Hz
display, so never less than about 16.7 ms), and the time between frames while the wheel zooms or a
drag pans. Budgets: 2 MB a page of 500 nodes, 50 ms a step. A shape whose layout does not finish in
60 s is reported as such.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shapes import SHAPES  # noqa: E402

from graphviz_ad import analyze  # noqa: E402
from graphviz_ad.errors import GadError  # noqa: E402

PAGE_BUDGET = 2_000_000  # for a page of 500 nodes
STEP_BUDGET_MS = 50.0
LAUNCH_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run"]
# Each step of the backward sweep: go to it, force style and layout (sync), then wait until the
# next frame has been drawn (frame).
STEP_TIMES = """async () => {
  const sync = [], frame = [];
  const drawing = document.querySelector('#stage svg');
  for (let position = gadPage.seed; position <= gadPage.last; position++) {
    const started = performance.now();
    gadPage.go(position);
    drawing.getBoundingClientRect();
    getComputedStyle(drawing.querySelector('g.node')).opacity;
    sync.push(performance.now() - started);
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
    frame.push(performance.now() - started);
  }
  return [sync, frame];
}"""
# The time between frames while the wheel zooms in and out, or a drag pans, one event a frame.
FRAME_GAPS = """async (kind) => {
  const stage = document.querySelector('#stage');
  const box = stage.getBoundingClientRect();
  const at = (step) => ({clientX: box.left + 400 + 4 * step, clientY: box.top + 300 + 2 * step,
                         pointerId: 1, button: 0, bubbles: true, cancelable: true});
  if (kind === 'drag') stage.dispatchEvent(new PointerEvent('pointerdown', at(0)));
  const gaps = [];
  let last = performance.now();
  for (let step = 1; step <= 120; step++) {
    await new Promise((done) => requestAnimationFrame(done));
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (kind === 'drag') stage.dispatchEvent(new PointerEvent('pointermove', at(step)));
    else stage.dispatchEvent(new WheelEvent('wheel', {...at(0), deltaY: step <= 60 ? -40 : 40}));
  }
  if (kind === 'drag') stage.dispatchEvent(new PointerEvent('pointerup', at(120)));
  return gaps;
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(page_path: Path, browser) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 820})
    started = time.perf_counter()
    page.goto(page_path.as_uri())
    page.evaluate("new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))")
    opened = time.perf_counter() - started
    sync, frame = page.evaluate(STEP_TIMES)
    page.evaluate("gadPage.go(0)")
    page.wait_for_timeout(300)
    zoom = page.evaluate(FRAME_GAPS, "wheel")
    page.wait_for_timeout(300)
    drag = page.evaluate(FRAME_GAPS, "drag")
    page.close()
    return {"open": opened, "sync": sync, "frame": frame, "zoom": zoom, "drag": drag}


def main() -> None:
    from playwright.sync_api import sync_playwright

    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("no Chromium on PATH")
    print("| shape | nodes | page | open | backward steps | step: script, style, layout "
          "(median / max) | step to drawn frame (median / 95% / max) | wheel zoom, drag: frame "
          "gap (median / 90%) |")
    print("|---|---|---|---|---|---|---|---|")
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGUMENTS)
        for (name, make), whole in itertools.product(SHAPES.items(), (False, True)):
            analysis = analyze(make(nodes))
            path = Path(folder) / "page.html"
            shape = f"{name}, {'whole' if whole else 'folded'}"
            try:
                drawing = analysis.save(str(path), max_nodes=5000, timeout=60, expand_all=whole)
            except GadError as error:
                print(f"| {shape} | {len(analysis.graph)} | {error.reason} | | | | | |")
                continue
            timing = measure(path, browser)
            size = len(path.read_bytes())
            sync, frame = timing["sync"], timing["frame"]
            over = sum(1 for value in frame if value > STEP_BUDGET_MS)
            flag = " (over budget)" if size > PAGE_BUDGET and nodes <= 500 else ""
            print(f"| {shape} | {len(analysis.graph)} ({drawing.nodes} drawn) | "
                  f"{size / 1e6:.2f} MB{flag} | {timing['open']:.2f} s | "
                  f"{len(sync)} | {statistics.median(sync):.1f} / {max(sync):.1f} ms | "
                  f"{statistics.median(frame):.1f} / {percentile(frame, 0.95):.1f} / "
                  f"{max(frame):.1f} ms, {over} over {STEP_BUDGET_MS:g} ms | "
                  f"{statistics.median(timing['zoom']):.1f} / {percentile(timing['zoom'], 0.9):.1f}"
                  f", {statistics.median(timing['drag']):.1f} / "
                  f"{percentile(timing['drag'], 0.9):.1f} ms |", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
