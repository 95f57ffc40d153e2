"""Whole-process time to draw each benchmark shape to SVG, by renderer, folded by default.

Run: .venv/bin/python bench/pictures.py [sizes...]   (default 500 5000; `make bench` runs it)

For every shape of bench/shapes.py and each size, `gad graph PROGRAM -o out.svg` runs as a user
would run it, once per renderer (the system `dot` where installed, and graphviz-pure), and the
table prints seconds and the drawn node count. Beside it, in the same run, the time of
`gad graph --expand-all --format dot` (no layout) shows what the layout costs. Where torch and
torchviz are installed, torchviz's make_dot + `dot -Tsvg` on an MLP of the same node count is
timed too, also as a whole process, for the ratio the issue asks for (skipped otherwise).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shapes import SHAPES  # noqa: E402

GAD = str(Path(sys.executable).with_name("gad"))
TARGETS = {500: 2.0, 5000: 5.0}


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        return elapsed, "failed: " + finished.stderr.strip().splitlines()[-1][:60]
    note = next((line for line in finished.stderr.splitlines() if line.startswith("wrote")), "")
    return elapsed, note.partition("(")[2].rstrip(")")


def renderers() -> list[str]:
    found = ["graphviz-pure"]
    if shutil.which("dot"):
        found.insert(0, "dot")
    return found


TORCHVIZ = """
import subprocess, sys, torch
from torchviz import make_dot
layers = max(1, int(sys.argv[1]) // 8)
model = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh())
                              for _ in range(layers)])
output = model(torch.ones(1, 4)).sum()
source = make_dot(output, params=dict(model.named_parameters())).source
subprocess.run(["dot", "-Tsvg", "-o", sys.argv[2]], input=source, text=True, check=True)
"""


def torchviz_seconds(nodes: int, folder: str) -> float | str | None:
    """torchviz's make_dot + `dot -Tsvg` on an MLP of about `nodes` nodes, as a whole process
    like ours (Python start-up and imports included); None where torch or torchviz is missing,
    the last line of its error where it fails."""
    try:
        import torch  # noqa: F401
        import torchviz  # noqa: F401
    except ImportError:
        return None
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-c", TORCHVIZ, str(nodes),
                               str(Path(folder) / "tv.svg")], capture_output=True, text=True)
    if finished.returncode != 0:
        return finished.stderr.strip().splitlines()[-1][:70]
    return time.perf_counter() - started


def main(sizes: list[int]) -> None:
    print(f"{'shape':<14} {'nodes':>6} {'renderer':<14} {'seconds':>8}  drawn")
    worst: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            for name, make in SHAPES.items():
                program = Path(folder) / f"{name.replace(' ', '_')}_{size}.gad"
                program.write_text(make(size))
                dot_only, _ = timed([GAD, "graph", str(program), "--expand-all", "-f", "dot",
                                     "-o", str(Path(folder) / "out.dot")])
                print(f"{name:<14} {size:>6} {'(DOT, no layout)':<14} {dot_only:>8.2f}")
                for renderer in renderers():
                    seconds, note = timed([GAD, "graph", str(program), "-o",
                                           str(Path(folder) / "out.svg"), "--renderer", renderer])
                    worst[size] = max(worst.get(size, 0.0), seconds)
                    print(f"{name:<14} {size:>6} {renderer:<14} {seconds:>8.2f}  {note}")
            peer = torchviz_seconds(size, folder)
            if isinstance(peer, str):
                print(f"{'torchviz MLP':<14} {size:>6} failed: {peer}")
            elif peer is not None:
                print(f"{'torchviz MLP':<14} {size:>6} {'dot':<14} {peer:>8.2f}  "
                      f"ratio ours/torchviz at worst: {worst[size] / peer:.2f}")
    for size, seconds in sorted(worst.items()):
        target = TARGETS.get(size)
        verdict = "" if target is None else (" met" if seconds <= target else " NOT met")
        print(f"worst at {size} nodes: {seconds:.2f} s" +
              (f" (target {target:g} s:{verdict})" if target else ""))


if __name__ == "__main__":
    main([int(argument) for argument in sys.argv[1:]] or [500, 5000])
