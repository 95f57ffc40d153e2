"""What heatmaps cost on resnet18's default picture: the time with them over the time without.

Run: .venv/bin/python bench/heatmaps.py [runs]   (default 3; needs torch and torchvision)

Each measurement alternates heatmaps on and off in the same run and keeps the best of `runs`:
the whole command as a user runs it (`gad torch samples/torch_resnet18.py -o r18.svg` against
`--no-heatmaps`: start-up, the trace and the layout included), which the target is for (heatmaps
cost at most 25% more: a ratio of at most 1.25); and, to see where the cost is, the drawing
alone in one process with each renderer installed (the traced model loaded once and drawn once
before timing, so that what both draws share, torch's backward passes and the arrays' ranges,
is counted in neither).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "samples" / "torch_resnet18.py")
GAD = str(Path(sys.executable).with_name("gad"))
TARGET = 1.25


def best(runs: int, work) -> tuple[float, float]:
    """The best seconds of `runs` calls of work(True) and of work(False), alternated."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(runs):
        for heatmaps in (True, False):
            started = time.perf_counter()
            work(heatmaps)
            times[heatmaps].append(time.perf_counter() - started)
    return min(times[True]), min(times[False])


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        output = str(Path(folder) / "r18.svg")

        def command(heatmaps: bool) -> None:
            subprocess.run([GAD, "torch", SAMPLE, "-o", output]
                           + ([] if heatmaps else ["--no-heatmaps"]),
                           check=True, capture_output=True)

        from graphviz_ad.api import load_torch
        from graphviz_ad.render.backend import find_renderer
        from graphviz_ad.errors import RenderError

        analysis = load_torch(SAMPLE)
        analysis.save(output)  # torch's backward passes, once, for both
        measured = [("whole command (gad torch)", command)]
        for renderer in ("dot", "graphviz-pure"):
            try:
                find_renderer(renderer, "svg")
            except RenderError:
                continue
            measured.append((f"drawing alone, {renderer}",
                             lambda heatmaps, renderer=renderer: analysis.save(
                                 output, heatmaps=heatmaps, renderer=renderer)))
        print(f"{'resnet18, default picture to SVG':<36} {'heatmaps':>9} {'none':>7} {'ratio':>6}")
        for name, work in measured:
            on, off = best(runs, work)
            verdict = "met" if on / off <= TARGET else "NOT met"
            print(f"{name:<36} {on:>8.2f}s {off:>6.2f}s {on / off:>6.2f}  "
                  f"(target {TARGET:g}: {verdict})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
