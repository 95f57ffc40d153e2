"""Time our engine against micrograd on scalar graphs: `.venv/bin/python bench/engine.py [--quick]`.

Three graph shapes (a chain, a wide sum of products over shared inputs, a seeded random DAG) at
1e3, 1e4 and 1e5 nodes are built from one recipe per cell and replayed in both engines, so both
differentiate the very same graph. "Forward plus backward" is build (which evaluates every node)
+ finish + backward for ours, and build + backward for micrograd; each figure is the best of
several repeats. Both engines' gradients of every input must agree to a relative 1e-9.
Then a 1e6-node chain is differentiated by our engine alone. `--quick` runs 1e3 and 1e4 only;
`--no-gc` turns the cyclic garbage collector off while timing (it is on by default, as in use).
`make bench` installs micrograd and runs this script; without micrograd, ours runs alone.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import sys
import threading
import time

from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.graph import GraphBuilder
from graphviz_ad.engine.ops import OPS

try:
    from micrograd.engine import Value
except ImportError:  # the benchmark still times our engine
    Value = None

REL_TOL = 1e-9
TARGET_US_PER_NODE = 1.5  # ours, at 1e5 nodes, on every shape
TARGET_RATIO_LARGEST = 3.0  # micrograd / ours at 1e5
TARGET_RATIO_ALL = 1.0  # micrograd / ours at every size


# ---------------------------------------------------------------------------------------------
# Recipes: engine-independent descriptions of a graph. Inputs come first (node ids 0..k-1), then
# one step per operation node, (op name, argument ids); a step's id is its position after the
# inputs. The output is the last node. Generating a recipe is not timed.

class Recipe:
    def __init__(self, shape: str, inputs: list[tuple[str, float]],
                 steps: list[tuple[str, tuple[int, ...]]]):
        self.shape = shape
        self.inputs = inputs
        self.steps = steps

    def __len__(self) -> int:
        return len(self.inputs) + len(self.steps)


def chain(nodes: int) -> Recipe:
    """Each node uses the previous one, cycling mul / add / sin with one of four inputs."""
    inputs = [(f"x{i}", 0.3 + 0.15 * i) for i in range(4)]
    steps = []
    previous = 0
    for step in range(nodes - len(inputs)):
        node = len(inputs) + step
        kind = step % 3
        if kind == 0:
            steps.append(("mul", (previous, step % 4)))
        elif kind == 1:
            steps.append(("add", (previous, (step + 1) % 4)))
        else:
            steps.append(("sin", (previous,)))
        previous = node
    return Recipe("chain", inputs, steps)


def wide(nodes: int) -> Recipe:
    """x_i * x_j over eleven shared inputs, every product added into one accumulator."""
    inputs = [(f"x{i}", 0.5 + 0.05 * i) for i in range(11)]
    pairs = [(i, j) for i in range(11) for j in range(i, 11)]
    steps = [("mul", pairs[0])]
    accumulator = len(inputs)
    count = 1
    while len(inputs) + len(steps) < nodes:  # 11 inputs + 1 + 2k steps: any even count
        product = len(inputs) + len(steps)
        steps.append(("mul", pairs[count % len(pairs)]))
        steps.append(("add", (accumulator, product)))
        accumulator = product + 1
        count += 1
    return Recipe("wide", inputs, steps)


def random_dag(nodes: int, seed: int = 2026) -> Recipe:
    """Random nodes, each add/mul/sin/tanh of 1 or 2 earlier random nodes, in a running sum.

    Arguments are picked mostly among recent random nodes (a geometric offset, mean 3); the
    second argument of add/mul is one of 9 inputs one time in 20 and any earlier random node
    one time in 5. Every random node is also added into a running sum, which is the output,
    so the whole graph is live and every input's gradient passes through many paths.
    """
    rng = random.Random(seed)
    inputs = [(f"x{i}", rng.uniform(-1.0, 1.0)) for i in range(9)]
    steps: list[tuple[str, tuple[int, ...]]] = []
    randoms = list(range(len(inputs)))  # nodes the random ops may use: inputs and random nodes
    accumulator = None

    def recent() -> int:
        return randoms[max(0, len(randoms) - 1 - int(rng.expovariate(1 / 3)))]

    while len(inputs) + len(steps) < nodes:  # 9 inputs + 1 + 2k steps: any even count
        op = rng.choice(("add", "mul", "sin", "tanh"))
        if op in ("sin", "tanh"):
            steps.append((op, (recent(),)))
        else:
            draw = rng.random()
            second = (rng.randrange(len(inputs)) if draw < 0.05
                      else randoms[rng.randrange(len(randoms))] if draw < 0.25 else recent())
            steps.append((op, (recent(), second)))
        node = len(inputs) + len(steps) - 1
        randoms.append(node)
        if accumulator is None:
            accumulator = node
            continue
        steps.append(("add", (accumulator, node)))
        accumulator = node + 1
    return Recipe("random DAG", inputs, steps)


SHAPES = (chain, wide, random_dag)


# ---------------------------------------------------------------------------------------------
# Timing. Python's cyclic garbage collector stays on by default, as in real use (--no-gc turns
# it off inside the timed region); each run starts after a full collection.

COLLECT_DURING_TIMING = True


def _start_timing() -> float:
    gc.collect()
    if not COLLECT_DURING_TIMING:
        gc.disable()
    return time.perf_counter()


def _stop_timing(start: float) -> float:
    elapsed = time.perf_counter() - start
    gc.enable()
    return elapsed


# ---------------------------------------------------------------------------------------------
# Our engine.

def run_ours(recipe: Recipe) -> tuple[float, dict[str, float], int]:
    """Seconds for build + finish + backward; the gradient of each input; live nodes."""
    ops = {name: OPS[name] for name in ("add", "mul", "sin", "tanh")}
    # Parallel lists, not (op, arguments) pairs: a million tuples holding an Op would stay
    # tracked by the cyclic GC and slow its collections, a cost of the harness, not the engine.
    op_list = [ops[name] for name, _ in recipe.steps]
    argument_list = [arguments for _, arguments in recipe.steps]
    start = _start_timing()
    builder = GraphBuilder()
    for name, value in recipe.inputs:
        builder.input(name, value)
    apply = builder.apply
    for op, arguments in zip(op_list, argument_list):
        apply(op, arguments)
    graph = builder.finish(len(recipe) - 1)
    grads = backward(graph)
    elapsed = _stop_timing(start)
    return elapsed, {name: float(grads.gradient(name)) for name, _ in recipe.inputs}, len(graph)


# ---------------------------------------------------------------------------------------------
# micrograd, with the ops it lacks written in its own style: a Value with `_prev`, `_op` and a
# `_backward` closure that accumulates into the arguments' grads.

def mg_sin(self):
    out = Value(math.sin(self.data), (self,), 'sin')

    def _backward():
        self.grad += math.cos(self.data) * out.grad
    out._backward = _backward

    return out


def mg_tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,), 'tanh')

    def _backward():
        self.grad += (1 - t**2) * out.grad
    out._backward = _backward

    return out


def mg_add(a, b):
    return a + b


def mg_mul(a, b):
    return a * b


def _micrograd_ops():
    table = {"add": mg_add, "mul": mg_mul, "sin": mg_sin, "tanh": mg_tanh}
    # Use micrograd's own tanh where the installed version has one.
    if Value is not None and hasattr(Value, "tanh"):
        table["tanh"] = Value.tanh
    return table


def _run_micrograd(recipe: Recipe) -> tuple[float, dict[str, float]]:
    table = _micrograd_ops()
    functions = [table[name] for name, _ in recipe.steps]
    argument_list = [arguments for _, arguments in recipe.steps]
    start = _start_timing()
    nodes = [Value(value) for _, value in recipe.inputs]
    append = nodes.append
    for function, arguments in zip(functions, argument_list):
        if len(arguments) == 1:
            append(function(nodes[arguments[0]]))
        else:
            append(function(nodes[arguments[0]], nodes[arguments[1]]))
    nodes[-1].backward()
    elapsed = _stop_timing(start)
    grads = {name: float(nodes[index].grad) for index, (name, _) in enumerate(recipe.inputs)}
    del nodes
    return elapsed, grads


def run_micrograd(recipe: Recipe) -> tuple[float, dict[str, float]] | None:
    """As run_ours, in a thread with a big stack for micrograd's recursive topological sort.

    None when the sort still overflows (RecursionError).
    """
    result: dict[str, object] = {}

    def target():
        try:
            result["value"] = _run_micrograd(recipe)
        except RecursionError:
            result["value"] = None

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return result.get("value")


# ---------------------------------------------------------------------------------------------

def agree(ours: dict[str, float], theirs: dict[str, float]) -> bool:
    return all(ours[name] == theirs[name]
               or math.isclose(ours[name], theirs[name], rel_tol=REL_TOL, abs_tol=0.0)
               for name in ours)


def best(function, recipe: Recipe, repeats: int):
    """The best time over `repeats` runs, and the last run's other results."""
    times, last = [], None
    for _ in range(repeats):
        last = function(recipe)
        if last is None:
            return None
        times.append(last[0])
    return (min(times),) + tuple(last[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 1e3 and 1e4 nodes")
    parser.add_argument("--no-gc", action="store_true",
                        help="turn the cyclic garbage collector off while timing")
    options = parser.parse_args()
    global COLLECT_DURING_TIMING
    COLLECT_DURING_TIMING = not options.no_gc

    sizes = (1_000, 10_000) if options.quick else (1_000, 10_000, 100_000)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1_000_000))
    threading.stack_size(512 * 1024 * 1024)

    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores; best of 5 (1e3, 1e4) or 3 (1e5) runs; cyclic GC "
          f"{'on' if COLLECT_DURING_TIMING else 'off'} while timing")
    if Value is None:
        print("note: micrograd is not installed (`.venv/bin/pip install micrograd`): "
              "timing our engine alone")
    tanh_source = "micrograd's" if Value is not None and hasattr(Value, "tanh") else "added"
    if Value is not None:
        print(f"micrograd: sin added in its style, tanh {tanh_source}")
    print()

    header = ("shape", "nodes", "live", "ours µs/node", "micrograd µs/node", "ratio", "grads agree")
    rows = []
    cells = {}
    for shape in SHAPES:
        for size in sizes:
            recipe = shape(size)
            repeats = 3 if size >= 100_000 else 5
            ours_time, ours_grads, live = best(run_ours, recipe, repeats)
            ours_us = ours_time / len(recipe) * 1e6
            theirs_us = ratio = None
            if Value is None:
                theirs_text, ratio_text, agree_text = "-", "-", "-"
            else:
                theirs = best(run_micrograd, recipe, repeats)
                if theirs is None:
                    theirs_text, ratio_text, agree_text = "failed (RecursionError)", "-", "-"
                else:
                    theirs_time, theirs_grads = theirs
                    theirs_us = theirs_time / len(recipe) * 1e6
                    ratio = theirs_time / ours_time
                    theirs_text, ratio_text = f"{theirs_us:.2f}", f"{ratio:.2f}"
                    agree_text = "yes" if agree(ours_grads, theirs_grads) else "NO"
            cells[recipe.shape, size] = (ours_us, theirs_us, ratio)
            rows.append((recipe.shape, f"{len(recipe):,}", f"{live:,}", f"{ours_us:.2f}",
                         theirs_text, ratio_text, agree_text))

    widths = [max(len(str(row[column])) for row in rows + [header])
              for column in range(len(header))]
    def line(row):
        return "  ".join(str(cell).rjust(width) if column else str(cell).ljust(width)
                         for column, (cell, width) in enumerate(zip(row, widths)))
    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))

    print()
    print("targets:")
    largest = max(sizes)
    if largest < 100_000:
        print("  (the 1e5 targets need a full run, without --quick)")
    else:
        for shape in SHAPES:
            name = shape(10).shape
            ours_us = cells[name, largest][0]
            met = ours_us <= TARGET_US_PER_NODE
            print(f"  ours <= {TARGET_US_PER_NODE} µs/node at 1e5, {name}: {ours_us:.2f} -> "
                  f"{'met' if met else 'NOT met'}")
    if Value is not None:
        if largest >= 100_000:
            for shape in SHAPES:
                name = shape(10).shape
                ratio = cells[name, largest][2]
                met = ratio is not None and ratio >= TARGET_RATIO_LARGEST
                shown = "n/a" if ratio is None else f"{ratio:.2f}"
                print(f"  ratio >= {TARGET_RATIO_LARGEST:g} at 1e5, {name}: {shown} -> "
                      f"{'met' if met else 'NOT met'}")
        ratios = [(key, value[2]) for key, value in cells.items()]
        failing = [f"{name} {size:,} ({'n/a' if ratio is None else f'{ratio:.2f}'})"
                   for (name, size), ratio in ratios
                   if ratio is None or ratio < TARGET_RATIO_ALL]
        print(f"  ratio >= {TARGET_RATIO_ALL:g} at every size: "
              + ("met" if not failing else "NOT met: " + ", ".join(failing)))

    if not options.quick:
        print()
        recipe = chain(1_000_000)
        try:
            elapsed, grads, _ = run_ours(recipe)
            finite = all(math.isfinite(value) for value in grads.values())
            status = "ok" if finite else "ok (but a non-finite gradient)"
        except Exception as error:  # report, don't crash
            elapsed, status = float("nan"), f"failed ({type(error).__name__}: {error})"
        print(f"1e6-node chain, ours only: {elapsed:.2f} s "
              f"({elapsed / len(recipe) * 1e6:.2f} µs/node) {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
