"""Large PyTorch traces drawn to SVG against plain torch, in time and peak memory: `.venv/bin/python bench/torch_scale.py`.

Three cases of issue 17, each run in a fresh subprocess per side, the sides interleaved in the
same run (the machine is shared: ratios, not absolute times, are what the targets ask):
- gpt: a GPT-2-small-sized model (12 blocks, width 768, 12 heads, 64 tokens, vocabulary 50,257;
  samples/torch_gpt.py's layout, random weights), from the call to an SVG on disk
  (`trace_torch(model.loss).save`) against a plain forward and backward; targets: at most 2x the
  time and 1.5x the peak memory.
- loop: `y = x; for _ in range(10**6): y = y + x` on a scalar: traced, against plain torch; the
  target is at most 3x the time and memory, or a refusal under a stated budget within 2 s.
- resnet18: samples/torch_resnet18.py at 224×224, the whole process (`python -c ...` from start
  to exit), `trace_torch(...).save(svg)` against a plain forward and backward plus torchviz's
  `make_dot` and `dot -Tsvg`; the target is at most 1.3x.
Time is wall time (time.perf_counter) inside each subprocess for gpt and loop (the model is
built before the clock starts, as a user's is), and of the whole subprocess for resnet18. Peak
memory is each subprocess's maximum resident set (resource.getrusage(RUSAGE_CHILDREN)), which
counts what torch allocates, model and all. torchviz is not a dependency: install it with
`pip install --no-deps --target DIR torchviz` and set PYTHONPATH=DIR, else the resnet18 case
compares with the plain forward and backward alone and says so.

`--case NAME` runs one side in this process (what the parent calls); `--runs N` repeats each
pair (default 1; the best time and the largest memory of each side are printed);
`--only gpt,loop` picks cases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOP_ADDS = 10 ** 6
TARGETS = {"gpt": (2.0, 1.5), "loop": (3.0, 3.0), "resnet18": (1.3, None)}
REFUSAL_SECONDS = 2.0


def gpt_model():
    import runpy

    import torch

    sample = runpy.run_path(str(ROOT / "samples" / "torch_gpt.py"))
    torch.manual_seed(0)
    model = sample["gpt"](blocks=12, width=768, heads=12, vocabulary=50_257, context=64)
    tokens = torch.randint(0, 50_257, (1, 65))

    def loss():
        logits = model(tokens[:, :-1])
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())

    return loss


def run_case(case: str, folder: str) -> str:
    """One side of one case, in this process; what it prints is `seconds [note]`."""
    import torch

    svg = os.path.join(folder, f"{case}.svg")
    if case.startswith("gpt"):
        loss = gpt_model()
        started = time.perf_counter()
        if case == "gpt-plain":
            loss().backward()
        else:
            import graphviz_ad

            graphviz_ad.trace_torch(loss).save(svg, renderer="dot", timeout=600)
        return f"{time.perf_counter() - started:.3f}"
    if case.startswith("loop"):
        x = torch.tensor(1.0, requires_grad=True)

        def loop():
            y = x
            for _ in range(LOOP_ADDS):
                y = y + x
            return y

        started = time.perf_counter()
        if case == "loop-plain":
            loop().backward()
            return f"{time.perf_counter() - started:.3f}"
        import graphviz_ad
        from graphviz_ad.errors import GadError

        try:
            graphviz_ad.trace_torch(loop).save(svg, renderer="dot", timeout=600)
        except GadError as error:  # refused past a budget: a LimitError
            return f"{time.perf_counter() - started:.3f} refused: {error}"
        return f"{time.perf_counter() - started:.3f}"
    raise SystemExit(f"unknown case {case}")


# The resnet18 case is a whole process each side, so it is run as `python -c`.
RESNET_OURS = """
import graphviz_ad, runpy, sys
sample = runpy.run_path(sys.argv[1])
graphviz_ad.trace_torch(sample["logits"]).save(sys.argv[2], renderer="dot", timeout=600)
"""
RESNET_THEIRS = """
import runpy, sys
sample = runpy.run_path(sys.argv[1])
model, x = sample["model"], sample["x"]
y = model(x)
y.sum().backward(retain_graph=True)
from torchviz import make_dot
make_dot(y, params=dict(model.named_parameters())).render(sys.argv[2], format="svg",
                                                           cleanup=True)
"""
RESNET_PLAIN = """
import runpy, sys
sample = runpy.run_path(sys.argv[1])
sample["model"](sample["x"]).sum().backward()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default="gpt,loop,resnet18")
    parser.add_argument("--folder", default=None)
    options = parser.parse_args()
    if options.case:
        print(run_case(options.case, options.folder or tempfile.mkdtemp()))
        return 0
    folder = tempfile.mkdtemp()
    me = [sys.executable, str(Path(__file__).resolve())]
    sample = str(ROOT / "samples" / "torch_resnet18.py")
    try:
        import torchviz  # noqa: F401  (not a dependency of ours)
        theirs = True
    except ImportError:
        theirs = False
    print(f"{'case':<10} {'side':<34} {'seconds':>8} {'peak MB':>8}  note")
    verdicts = []
    for case in options.only.split(","):
        if case == "resnet18":
            sides = {"ours: trace_torch → SVG": [sys.executable, "-c", RESNET_OURS, sample,
                                                  os.path.join(folder, "ours.svg")],
                     ("plain f+b + torchviz → SVG" if theirs else "plain f+b (no torchviz)"):
                         [sys.executable, "-c", RESNET_THEIRS if theirs else RESNET_PLAIN,
                          sample, os.path.join(folder, "torchviz")]}
        else:
            sides = {"ours: trace_torch → SVG": me + ["--case", f"{case}-ours",
                                                      "--folder", folder],
                     "plain forward + backward": me + ["--case", f"{case}-plain",
                                                       "--folder", folder]}
        results = {side: [float("inf"), 0.0, ""] for side in sides}
        for _ in range(options.runs):
            # each side's peak needs its own parent: RUSAGE_CHILDREN keeps the maximum
            for side, command in sides.items():
                measured = subprocess.run(
                    [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True,
                    cwd=ROOT)
                if measured.returncode != 0:
                    raise SystemExit(measured.stdout + measured.stderr[-3000:])
                wall, peak, output = measured.stdout.split("\t", 2)
                seconds = float(output.split()[0]) if case != "resnet18" else float(wall)
                best = results[side]
                best[0], best[1] = min(best[0], seconds), max(best[1], float(peak))
                best[2] = " ".join(output.split()[1:])[:200]
        for side, (seconds, peak, note) in results.items():
            print(f"{case:<10} {side:<34} {seconds:>8.2f} {peak:>8.0f}  {note}")
        (ours_seconds, ours_peak, note), (plain_seconds, plain_peak, _) = results.values()
        time_ratio, memory_ratio = ours_seconds / plain_seconds, ours_peak / plain_peak
        time_target, memory_target = TARGETS[case]
        if case == "loop" and note.startswith("refused"):
            met = ours_seconds <= REFUSAL_SECONDS
            verdicts.append(f"loop: refused in {ours_seconds:.2f} s (target ≤ "
                            f"{REFUSAL_SECONDS:g} s): {'met' if met else 'NOT met'}")
            continue
        met = time_ratio <= time_target and (memory_target is None
                                             or memory_ratio <= memory_target)
        verdicts.append(f"{case}: {time_ratio:.2f}x time (target ≤ {time_target:g}), "
                        f"{memory_ratio:.2f}x peak memory"
                        + (f" (target ≤ {memory_target:g})" if memory_target else "")
                        + f": {'met' if met else 'NOT met'}")
    print("\n".join(verdicts))
    return 0


# A parent of its own for each side, so that RUSAGE_CHILDREN is that side's peak alone.
MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - started
if done.returncode != 0:
    sys.exit(done.stderr[-3000:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{wall:.3f}\\t{peak:.1f}\\t{done.stdout.strip()}")
"""


if __name__ == "__main__":
    sys.exit(main())
