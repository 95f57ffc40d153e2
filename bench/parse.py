"""Time parsing against evaluation on large programs: `.venv/bin/python bench/parse.py [--quick]`.

Three program shapes at 1e5 and 3e5 nodes: a chain of statements (`v7 = v6 * 1.0001 +
sin(v6)`), one flat sum of products in a single statement, and statements of calls with keyword
and positional arguments and indexing (`w7 = clip(w6[0] * c, -5, 5) + max(w6, axis=0)`). For
each, the best of several runs of: tokenize, tokenize + parse (the whole of `parse`), evaluate
(building the graph from the syntax tree, every node's value computed), and the backward sweep,
in CPU seconds, as `build` runs them (the cyclic garbage collector paused: collector.py).
The figure that matters is the ratio parse / evaluate, which must stay at most 1: reading a
program costs no more than evaluating it. `--quick` runs 1e5 only; `--gc` keeps the collector on,
to see what it costs each step.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time

from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.build import _Evaluator
from graphviz_ad.language import parse
from graphviz_ad.language.tokens import tokenize

TARGET_RATIO = 1.0
REPEATS = 3


def chain(nodes: int) -> str:
    lines = ["v0 = x"]
    count = 2
    while count < nodes:
        lines.append(f"v{len(lines)} = v{len(lines) - 1} * 1.0001 + sin(v{len(lines) - 1})")
        count += 4
    return "\n".join(lines)


def flat_sum(nodes: int) -> str:
    return " + ".join(f"x{index % 7} * 1.5" for index in range(nodes // 3))


def calls(nodes: int) -> str:
    lines = ["w0 = [x, 2 * x]"]
    count = 4
    while count < nodes:
        previous = f"w{len(lines) - 1}"
        lines.append(f"w{len(lines)} = clip({previous}[0] * 0.999, -5, 5) "
                     f"+ max({previous}, axis=0) * [1, 0.5]")
        count += 10
    return "\n".join(lines) + f"\nsum(w{len(lines) - 1})"


SHAPES = {"chain of statements": chain, "one flat sum": flat_sum, "calls and indexing": calls}


def measure(source: str, values: dict) -> dict[str, float]:
    """The best CPU time of each step over REPEATS runs."""
    best: dict[str, float] = {}
    clock = time.process_time
    for _ in range(REPEATS):
        started = clock()
        tokenize(source)
        tokenized = clock()
        program = parse(source)
        parsed = clock()
        evaluator = _Evaluator(program, values)
        graph = evaluator.builder.finish(evaluator.run())
        evaluated = clock()
        backward(graph)
        swept = clock()
        for step, seconds in (("tokenize", tokenized - started), ("parse", parsed - tokenized),
                              ("evaluate", evaluated - parsed), ("backward", swept - evaluated)):
            best[step] = min(best.get(step, float("inf")), seconds)
        best["nodes"] = len(graph)
        del program, evaluator, graph
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5 nodes only")
    parser.add_argument("--gc", action="store_true", help="keep the cyclic collector on")
    arguments = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}; collector "
          f"{'on' if arguments.gc else 'paused'}; best of {REPEATS}, CPU seconds")
    print(f"{'program':<22} {'nodes':>8} {'tokenize':>9} {'parse':>8} {'evaluate':>9} "
          f"{'backward':>9} {'parse/evaluate':>15}")
    worst = 0.0
    for size in (100_000,) if arguments.quick else (100_000, 300_000):
        for name, make in SHAPES.items():
            source = make(size)
            values = {"x": 0.5, **{f"x{index}": 0.1 * index for index in range(7)}}
            if not arguments.gc:
                gc.disable()
            try:
                best = measure(source, values)
            finally:
                gc.enable()
            ratio = best["parse"] / best["evaluate"]
            worst = max(worst, ratio)
            print(f"{name:<22} {best['nodes']:>8,} {best['tokenize']:>9.3f} {best['parse']:>8.3f} "
                  f"{best['evaluate']:>9.3f} {best['backward']:>9.3f} {ratio:>15.2f}")
    verdict = "within" if worst <= TARGET_RATIO else "OVER"
    print(f"largest parse/evaluate: {worst:.2f} ({verdict} the target of {TARGET_RATIO:g})")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
