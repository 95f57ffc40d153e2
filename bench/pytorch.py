"""PyTorch models drawn our way against torchviz, and what recording costs: `.venv/bin/python bench/pytorch.py`.

Two models from samples/torch_resnet.py: the small ResNet (two blocks, a 32×32 image) and
torchvision's resnet18 layout on a 224×224 image, both float32 as torch makes them. For each,
side by side and interleaved, the best of a few runs (recording in CPU time of this process,
which other work on the machine disturbs less; the SVG in wall time, as it runs `dot`) of:
- recording: `trace_torch` (forward, backward, values, adjoints, local derivatives) against a
  plain forward and backward (`model(x).sum().backward()`); the target is at most 3x;
- from the call to an SVG on disk: our picture (`trace_torch(...).save(svg)`, system `dot`),
  folded by default and expanded (`expand_all`), against torchviz's `make_dot(model(x),
  params)` rendered by `dot -Tsvg`; the targets are at most 1x folded and 2x expanded.
  torchviz runs the forward pass only, we run the forward and backward passes: the plain
  forward and backward in wall time over torchviz's whole time is printed as the floor, the
  ratio no picture with gradients can beat.
torchviz is not a dependency: where it is missing its column says so (install it beside the
project's torch with `pip install --no-deps --target DIR torchviz` and PYTHONPATH=DIR).
"""

from __future__ import annotations

import runpy
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
OVERHEAD_TARGET = 3.0

try:
    import torch
except ModuleNotFoundError:
    torch = None


def best_of(runs: int, works: dict) -> dict:
    """The best time of each piece of work, the pieces interleaved run by run: CPU time for
    work in this process, wall time for work that runs a renderer (`_svg`) or is compared
    with such work (`_wall`)."""
    best = {name: float("inf") for name in works}
    for _ in range(runs):
        for name, work in works.items():
            clock = time.perf_counter if name.endswith(("_svg", "_wall")) \
                else time.process_time
            started = clock()
            work()
            best[name] = min(best[name], clock() - started)
    return best


def main() -> int:
    if torch is None:
        print("PyTorch is not installed: nothing to measure (pip install torch==2.13.0)")
        return 0
    import graphviz_ad

    try:
        from torchviz import make_dot
    except ImportError:  # torchviz is not a dependency of ours
        make_dot = None
    if shutil.which("dot") is None:
        print("no system Graphviz dot: the SVG columns need one")
        return 0
    sample = runpy.run_path(str(ROOT / "samples" / "torch_resnet.py"))
    torch.manual_seed(0)
    models = {"small ResNet, 32×32": (sample["model"].float(), torch.rand(1, 3, 32, 32)),
              "resnet18 layout, 224×224": (sample["resnet18"](), torch.rand(1, 3, 224, 224))}
    folder = Path(tempfile.mkdtemp())
    print(f"{'model':<26} {'nodes':>6} {'plain f+b s':>12} {'trace s':>8} {'ratio':>6} "
          f"{'folded→SVG s':>13} {'expanded→SVG s':>15} {'torchviz→SVG s':>15} "
          f"{'ratios':>11} {'floor':>6}")
    overhead = 0.0
    for name, (model, image) in models.items():
        def plain():
            model.zero_grad()
            model(image).sum().backward()

        def ours_svg():
            graphviz_ad.trace_torch(model, image).save(str(folder / "ours.svg"), renderer="dot",
                                                        max_nodes=10_000, timeout=600)

        def expanded_svg():
            graphviz_ad.trace_torch(model, image).save(
                str(folder / "expanded.svg"), renderer="dot", max_nodes=10_000, timeout=600,
                expand_all=True)

        def torchviz_svg():
            make_dot(model(image), params=dict(model.named_parameters())).render(
                str(folder / "torchviz"), format="svg", cleanup=True)

        works = {"plain": plain, "plain_wall": plain,
                 "trace": lambda: graphviz_ad.trace_torch(model, image),
                 "ours_svg": ours_svg, "expanded_svg": expanded_svg}
        if make_dot is not None:
            works["torchviz_svg"] = torchviz_svg
        plain()  # warm up torch's kernels and our recorder once before anything is timed
        graphviz_ad.trace_torch(model, image)
        best = best_of(RUNS, works)
        nodes = len(graphviz_ad.trace_torch(model, image).graph)
        overhead = best["trace"] / best["plain"]  # the last model's, resnet18's, is the target's
        theirs = best.get("torchviz_svg")
        ratios = (f"{best['ours_svg'] / theirs:.2f} {best['expanded_svg'] / theirs:.2f}"
                  if theirs else "-")
        floor = f"{best['plain_wall'] / theirs:.2f}" if theirs else "-"
        print(f"{name:<26} {nodes:>6} {best['plain']:>12.3f} {best['trace']:>8.3f} "
              f"{overhead:>6.2f} {best['ours_svg']:>13.3f} {best['expanded_svg']:>15.3f} "
              + (f"{theirs:>15.3f}" if theirs else f"{'not installed':>15}")
              + f" {ratios:>11} {floor:>6}")
    verdict = "met" if overhead <= OVERHEAD_TARGET else "NOT met"
    print(f"target: recording resnet18 costs at most {OVERHEAD_TARGET:g}x its plain forward and "
          f"backward: {verdict} ({overhead:.2f}x); ratios: ours (folded, expanded) over "
          "torchviz's, to reach 1 and 2; floor: the plain forward and backward alone over "
          "torchviz's")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
