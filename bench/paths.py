"""Time path counting and the top-20 path search on scalar graphs with astronomically many paths.

Run it with `.venv/bin/python bench/paths.py` (`--sizes 1000,10000` for a quicker run).

Three graph shapes, each built at about 1e3, 1e4 and 1e5 nodes from one input `x = 0.5`:

- ladder: rung i combines rungs i-1 and i-2 (a Fibonacci recurrence, about phi^rungs paths),
  alternating an average `(a + b) * 0.5` and a product `a * b`; every fourth rung is
  `sin(a * b) + 1.5`, which keeps every value in [0.3, 17.5].
- doubling: level i is `add(level i-1, level i-1)` (two edges from one node: 2^levels paths);
  after every 8 levels a `mul` by the constant 2^-8 keeps the value exactly 0.5. Edges into
  constants carry no path, so they don't change the count.
- random: seeded; each point combines two distinct points among the last 10, by an average
  `(a + b) * 0.5`, `sin(a * b) + 1.5` or `tanh(a - b) + 1.5`, so values stay in [0.5, 2.5].

For each graph: nodes, edges (argument slots), floor(log2) of the path count (bit length - 1), best
of 3 timings of `path_count` (as microseconds per edge) and of `summarize(..., 20)` (the top 20 by
a best-first search). Exact counts grow to tens of thousands of bits, and adding such integers
costs time in proportion to their length; so a control runs the very same dynamic program with
counts kept modulo a 61-bit prime (one machine word), which isolates the algorithm's own cost.
Then the targets: counting linear in the edges (the control's microseconds per edge at 1e5 nodes
within 2x of that at 1e3; the exact count's ratio is printed beside it), and the top 20 in under
1 s on every 1e4-node graph with more than 2^100 paths. A sanity check on a 10-level doubling graph runs first. The top-20
timings run in a forked child, stopped after 120 s or at 6 GB of address space, so a search that
blows up shows as a row rather than taking the machine's memory.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import random
import sys
import time

from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.graph import Graph, GraphBuilder
from graphviz_ad.engine.paths import path_count, summarize
from graphviz_ad.errors import LimitError

TOP = 20
REPEATS = 3
SIZES = (1_000, 10_000, 100_000)
LINEAR_RATIO = 2.0      # us/edge at the largest size over that at the smallest
TOP_SECONDS = 1.0       # for the top 20 on the 1e4-node graphs ...
TOP_MIN_PATHS = 2 ** 100  # ... that have more paths than this
TOP_SIZE = 10_000
SEED = 20240601
GUARD_SECONDS = 120     # the top-20 timings run in a child process, stopped past this ...
GUARD_BYTES = 6 << 30   # ... or when its address space would pass this


def ladder(nodes: int) -> Graph:
    b = GraphBuilder()
    x = b.input("x", 0.5)
    half = b.constant(0.5, "0.5")
    offset = b.constant(1.5, "1.5")
    rungs = [x, x]
    step = 2
    while len(b.kinds) < nodes:
        first, second = rungs[-1], rungs[-2]
        kind = step % 4
        if kind in (0, 2):    # average
            rung = b.apply("mul", (b.apply("add", (first, second)), half))
        elif kind == 1:       # product
            rung = b.apply("mul", (first, second))
        else:                 # product, folded back into [0.5, 2.5]
            rung = b.apply("add", (b.apply("sin", (b.apply("mul", (first, second)),)), offset))
        rungs.append(rung)
        step += 1
    return b.finish(rungs[-1])


def doubling(nodes: int | None = None, levels: int | None = None) -> Graph:
    """`levels` doublings, or as many as fit in about `nodes` nodes."""
    b = GraphBuilder()
    x = b.input("x", 0.5)
    scale = b.constant(2.0 ** -8, "2^-8")
    node = x
    done = 0
    while (done < levels) if levels is not None else (len(b.kinds) < nodes):
        node = b.apply("add", (node, node))
        done += 1
        if done % 8 == 0 and (levels is None or done < levels):
            node = b.apply("mul", (node, scale))
    return b.finish(node)


def random_dag(nodes: int, seed: int = SEED, window: int = 10) -> Graph:
    """About `nodes` live nodes: points no later point uses are dropped, so build a few more."""
    graph = _random_dag(nodes, seed, window)
    if len(graph) < nodes:
        graph = _random_dag(round(nodes * nodes / len(graph)), seed, window)
    return graph


def _random_dag(nodes: int, seed: int, window: int) -> Graph:
    rng = random.Random(seed)
    b = GraphBuilder()
    x = b.input("x", 0.5)
    half = b.constant(0.5, "0.5")
    offset = b.constant(1.5, "1.5")
    points = [x, b.apply("add", (b.apply("sin", (x,)), offset))]
    while len(b.kinds) < nodes:
        first, second = rng.sample(points[-window:], 2)
        kind = rng.randrange(3)
        if kind == 0:
            point = b.apply("mul", (b.apply("add", (first, second)), half))
        elif kind == 1:
            point = b.apply("add", (b.apply("sin", (b.apply("mul", (first, second)),)), offset))
        else:
            point = b.apply("add", (b.apply("tanh", (b.apply("sub", (first, second)),)), offset))
        points.append(point)
    return b.finish(points[-1])


SHAPES = {"ladder": ladder, "doubling": doubling, "random": random_dag}


def fixed_width_counts(grads, start: int, modulus: int = (1 << 61) - 1) -> list[int]:
    """The control: path_counts' loop, word-sized numbers (counts modulo a 61-bit prime)."""
    graph = grads
    counts = [0] * len(graph)
    counts[start] = 1
    local, args = grads.local, graph.args
    for node in range(start + 1, graph.output + 1):
        row = local[node]
        total = 0
        for slot, argument in enumerate(args[node]):
            if row[slot] is not None:
                total += counts[argument]
        counts[node] = total % modulus
    return counts


def best_time(function, repeats: int = REPEATS) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _timed_top(grads, connection) -> None:
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (GUARD_BYTES, GUARD_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    try:
        seconds, summary = best_time(lambda: summarize(grads, "x", TOP))
        connection.send((seconds, summary.count, len(summary.paths)))
    except MemoryError:
        connection.send("out of memory")
    except LimitError as error:
        connection.send(f"refused: {error.reason}")


def guarded_top(grads) -> tuple[float | None, str]:
    """Best of 3 `summarize(grads, "x", 20)` in a forked child: (seconds, "") or (None, why)."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork (Windows): unguarded
        seconds, summary = best_time(lambda: summarize(grads, "x", TOP))
        return seconds, ""
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_timed_top, args=(grads, sender))
    child.start()
    sender.close()
    try:
        if not receiver.poll(GUARD_SECONDS):
            return None, f"over {GUARD_SECONDS} s"
        answer = receiver.recv()
    except EOFError:
        return None, f"child died ({child.exitcode})"
    finally:
        if child.is_alive():
            child.kill()
        child.join()
    if isinstance(answer, str):
        return None, answer if answer.startswith("refused") else \
            f"{answer} (> {GUARD_BYTES >> 30} GB)"
    seconds, count, shown = answer
    assert count == path_count(grads, "x") and shown == min(TOP, count)
    return seconds, ""


def sanity() -> bool:
    """A 10-level doubling graph: 2^10 paths, and the paths add up to the gradient."""
    grads = backward(doubling(levels=10))
    gradient = float(grads.gradient("x"))
    count = path_count(grads, "x")
    summary = summarize(grads, "x", TOP)
    total = sum(float(path.product) for path in summary.paths) + float(summary.rest_sum)
    everything = summarize(grads, "x", None)  # all 1024 paths, enumerated
    enumerated = sum(float(path.product) for path in everything.paths)
    checks = {
        f"path_count == 2**10 (got {count})": count == 2 ** 10,
        f"{len(summary.paths)} top paths, rest_count {summary.rest_count}":
            len(summary.paths) == TOP and summary.rest_count == 2 ** 10 - TOP,
        f"top-{TOP} sum + rest_sum == gradient {gradient:g} (got {total!r})":
            math.isclose(total, gradient, rel_tol=1e-9),
        f"sum over all {len(everything.paths)} enumerated paths == gradient (got {enumerated!r})":
            len(everything.paths) == 2 ** 10 and math.isclose(enumerated, gradient, rel_tol=1e-9),
    }
    print("sanity (10-level doubling):")
    for text, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {text}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES),
                        help="comma-separated node counts (default 1000,10000,100000)")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]

    ok = sanity()
    print()
    header = (f"{'graph':9} {'target':>7} {'nodes':>7} {'edges':>7} {'log2 paths':>10} "
              f"{'count ms':>9} {'us/edge':>8} {'control':>8} {'top-20 ms':>10}")
    print(header)
    print("-" * len(header))
    rows = {}
    for shape, build in SHAPES.items():
        for size in sizes:
            graph = build(size)
            grads = backward(graph)
            edges = sum(len(arguments) for arguments in graph.args)
            count_seconds, count = best_time(lambda: path_count(grads, "x"))
            start = graph.inputs["x"]
            control_seconds, _ = best_time(lambda: fixed_width_counts(grads, start))
            top_seconds, failure = guarded_top(grads)
            # floor(log2(count)); past the exact-counting budgets the count is an estimate
            bits = count.bit_length() - 1 if isinstance(count, int) else math.floor(count.log2)
            per_edge = count_seconds / edges * 1e6
            control = control_seconds / edges * 1e6
            rows[shape, size] = (bits, per_edge, top_seconds, failure,
                                 bits > math.log2(TOP_MIN_PATHS), control)
            top = f"{top_seconds * 1e3:>10.1f}" if failure == "" else f"  {failure}"
            print(f"{shape:9} {size:>7,} {len(graph):>7,} {edges:>7,} {bits:>10,} "
                  f"{count_seconds * 1e3:>9.2f} {per_edge:>8.3f} {control:>8.3f} {top}",
                  flush=True)

    print()
    small, large = min(sizes), max(sizes)
    if small != large:
        print(f"counting linear in edges (control us/edge at {large:,} within {LINEAR_RATIO:g}x "
              f"of {small:,}; exact counts also pay for their growing length):")
        for shape in SHAPES:
            ratio = rows[shape, large][5] / rows[shape, small][5]
            exact = rows[shape, large][1] / rows[shape, small][1]
            met = ratio <= LINEAR_RATIO
            ok &= met
            print(f"  {shape:9} control ratio {ratio:6.2f}  {'met' if met else 'NOT met'}   "
                  f"(exact counts: {exact:.2f}, at 2^{rows[shape, large][0]:,})")
    if TOP_SIZE in sizes:
        print(f"top-{TOP} under {TOP_SECONDS:g} s on the {TOP_SIZE:,}-node graphs with > 2^100 "
              f"paths:")
        for shape in SHAPES:
            bits, _, seconds, failure, big, _ = rows[shape, TOP_SIZE]
            if not big:
                print(f"  {shape:9} 2^{bits} paths, not > 2^100: no target")
                continue
            met = failure == "" and seconds < TOP_SECONDS
            ok &= met
            took = f"{seconds * 1e3:8.1f} ms" if failure == "" else failure
            print(f"  {shape:9} 2^{bits} paths, {took}  {'met' if met else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
