"""Time DOT generation for large graphs (target: 10,000 nodes in under 1 s): `.venv/bin/python bench/render.py`.

The picture and its DOT text are built in-process (no Graphviz layout, which is the renderer's
work and grows far faster); with and without `--wrt`, which adds path colours and the legend.
"""

from __future__ import annotations

import time

from graphviz_ad import analyze

TARGET_SECONDS = 1.0


def program(statements: int) -> str:
    """Three nodes a statement: a chain with a shared input, so paths and colours are busy."""
    lines = ["v0 = x"] + [f"v{i} = sin(v{i - 1}) * y + v{i - 1}" for i in range(1, statements)]
    return "\n".join(lines)


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    print(f"{'nodes':>8} {'wrt':>5} {'DOT s':>8} {'DOT bytes':>11}")
    results = {}
    for statements in (334, 1667, 3334):
        analysis = analyze(program(statements), x=0.1, y=0.5)
        for wrt in (None, "x"):
            source = analysis.digraph(wrt).source
            seconds = best_of(3, lambda: analysis.digraph(wrt).source)
            results[(len(analysis.graph), wrt)] = seconds
            print(f"{len(analysis.graph):>8} {wrt or '-':>5} {seconds:>8.3f} {len(source):>11,}")
    largest = max(nodes for nodes, _ in results)
    worst = max(seconds for (nodes, _), seconds in results.items() if nodes == largest)
    verdict = "met" if worst < TARGET_SECONDS else "NOT met"
    print(f"target: DOT for a {largest:,}-node graph in under {TARGET_SECONDS:g} s: {verdict} "
          f"({worst:.3f} s at worst)")


if __name__ == "__main__":
    main()
