"""Each default picture's shape: `.venv/bin/python bench/aspect.py [--base DIR]`.

Draws every sample's default SVG (`gad graph FILE -o x.svg`, the values the Makefile's `samples`
target gives), resnet18's and the GPT's (`gad torch`, when torch is installed), and prints each
width ÷ height, which the default arrangement keeps within 1:3–3:1 (render/rows.py), and how
many pairs of edges cross, counted on the layout of the picture's DOT by the system `dot`
(`-Tjson`), each edge taken as the straight segment between its boxes' centres. With
`--base DIR`, the same pictures are drawn by the code in DIR too (an unpacked older tree, run with
PYTHONPATH pointing at it), side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VALUES = {"doubling": ["x=1"], "softmax_step": ["X=@samples/data/X.npy", "y=@samples/data/y.npy"]}
TORCH = {"resnet18": ["torch", "samples/torch_resnet18.py"],
         "GPT (2 blocks)": ["torch", "samples/torch_gpt.py:loss"]}


def cases() -> dict[str, list[str]]:
    found = {path.stem: ["graph", str(path.relative_to(ROOT)), *VALUES.get(path.stem, [])]
             for path in sorted((ROOT / "samples").glob("*.gad"))}
    try:
        import torch  # noqa: F401 (only whether it is there)
    except ModuleNotFoundError:
        return found
    return {**found, **TORCH}


def aspect(tree: Path, arguments: list[str]) -> str:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "p.svg"
        environment = {**os.environ, "PYTHONPATH": str(tree)}
        # -P: the package from PYTHONPATH, not from the working directory.
        subprocess.run([sys.executable, "-P", "-m", "graphviz_ad", *arguments, "-o", str(output)],
                       cwd=ROOT, env=environment, capture_output=True, timeout=300)
        if not output.exists():
            return "-"
        width, height = map(float, re.search(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"',
                                             output.read_text()).groups())
        return f"{width / height:.2f}"


def crossings(tree: Path, arguments: list[str]) -> str:
    """Pairs of edges that cross, as straight segments between their boxes' centres, in the
    layout the system `dot` makes of the picture's DOT."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    dot = subprocess.run([sys.executable, "-P", "-m", "graphviz_ad", *arguments, "-f", "dot"],
                         cwd=ROOT, env=environment, capture_output=True, timeout=300).stdout
    laid = subprocess.run(["dot", "-Tjson"], input=dot, capture_output=True, timeout=300)
    if laid.returncode or not dot:
        return "-"
    layout = json.loads(laid.stdout)
    centres = {item["_gvid"]: tuple(map(float, item["pos"].split(",")))
               for item in layout.get("objects", []) if "pos" in item}
    segments = [(centres[edge["tail"]], centres[edge["head"]]) for edge in layout.get("edges", [])
                if edge["tail"] in centres and edge["head"] in centres
                and "invis" not in edge.get("style", "")]
    count = 0
    for index, (a, b) in enumerate(segments):
        for c, d in segments[index + 1:]:
            if len({a, b, c, d}) == 4 and _cross(a, b, c, d):
                count += 1
    return str(count)


def _cross(a, b, c, d) -> bool:
    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="an older tree to draw the same pictures with")
    options = parser.parse_args()
    trees = ([("before", Path(options.base))] if options.base else []) + [("now", ROOT)]
    print(f"{'picture':<18}" + "".join(f"{label + ' w/h':>12}{'crossings':>10}"
                                       for label, _ in trees))
    for name, arguments in cases().items():
        print(f"{name:<18}" + "".join(f"{aspect(tree, arguments):>12}"
                                      f"{crossings(tree, arguments):>10}" for _, tree in trees),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
