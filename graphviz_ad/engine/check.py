"""Finite differences by replaying the graph with one input element nudged, and its kinks.

Central, forward or complex step; and, for a failed check, the points where the gradient is a
convention (relu at 0) rather than a derivative.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from graphviz_ad.engine.graph import MAX_ELEMENTS, Graph
from graphviz_ad.engine.linear import MATMUL
from graphviz_ad.errors import LimitError, UsageError
from graphviz_ad.engine.defaults import FD_CENTRAL, FD_COMPLEX, FD_FORWARD, FD_STEPS

# Sweeps over the graph (finite-difference replays, forward-mode tangents) are budgeted in
# element evaluations: about 2 s of numpy on a laptop. An operation counts OPERATION_COST
# elements at least, its Python overhead.
WORK_BUDGET = 500_000_000
OPERATION_COST = 64
# The smallest relative step a central or forward difference takes. h = step·max(1, |x|)
# below float64's epsilon (2.2e-16) can round away, x + h = x, and the difference is 0/0; a few
# times above it, h moves x by an ulp or two and the difference has no correct digit.
SMALLEST_STEP = 1e-15


def each_index(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every index of an array of `shape`, in order: np.ndindex, except that an empty shape has
    none (np.ndindex would first make a tuple of each other axis's range: terabytes for a
    (0, 10**12) array)."""
    return np.ndindex(*shape) if all(shape) else iter(())


def one_hot(shape: tuple[int, ...], index: tuple[int, ...]) -> Any:
    """The seed of a sweep for one element: 1 there, 0 elsewhere (a number for a number)."""
    seed = np.zeros(shape)
    seed[index] = 1.0
    return seed[()]


def jacobian_zeros(output_shape: tuple[int, ...], input_shape: tuple[int, ...],
                   name: str) -> np.ndarray:
    """An array for d output / d `name` (output shape + input shape), refused before it is
    made past MAX_ELEMENTS, one array's limit: a 3000-vector's Jacobian by a 3000×3000 matrix
    would be 27,000,000,000 numbers, 216 GB."""
    shape = tuple(output_shape) + tuple(input_shape)
    elements = math.prod(shape)
    hint = ("reduce the output to one number, with sum(...) or mean(...): its gradient has the "
            "input's shape")
    if elements > MAX_ELEMENTS:
        raise LimitError(f"the Jacobian with respect to {name} would have shape {shape}, "
                         f"{elements:,} numbers; the limit is {MAX_ELEMENTS:,}", None, hint)
    try:
        return np.zeros(shape)
    except ValueError:  # empty, but the other sizes multiply past what numpy can count
        raise LimitError(f"the Jacobian with respect to {name} would have shape {shape}, which "
                         "numpy cannot make even empty", None, hint) from None


def require_step(method: str, step: float) -> None:
    """A central or forward step of at least SMALLEST_STEP: a smaller one measures rounding."""
    if method != FD_COMPLEX and step < SMALLEST_STEP:
        raise UsageError(
            f"--fd-step {_written(step)} is too small for {method} differences: x + h rounds "
            f"to x or next to it in float64, so the difference is 0/0 or has no correct digit",
            None, f"write --fd-step {_written(FD_STEPS[method])} (the default) or any step "
                  f"from {_written(SMALLEST_STEP)} up; for a tiny step, --fd-method "
                  f"{FD_COMPLEX}, which has no rounding to fear")


def _written(step: float) -> str:
    """1e-6, not 1e-06."""
    return np.format_float_scientific(step, trim="-", exp_digits=1)


def operation_work(graph: Graph, node: int) -> int:
    """The element evaluations of one operation, forward or backward: each number it reads or
    writes (a 3000×3000 W times a vector reads 9 M numbers to make 3,000), and for a matrix
    product each multiply-add (m·k·n)."""
    values = graph.values
    arguments = graph.args[node]
    work = max(values[node].size, sum(values[argument].size for argument in arguments))
    if graph.ops[node].linear_map is MATMUL and arguments:
        inner = values[arguments[0]].shape[-1] if values[arguments[0]].ndim else 1
        work = max(work, values[node].size * inner)
    return OPERATION_COST + work


def sweep_works(graph: Graph) -> list[int]:
    """For each node, the element evaluations of one sweep over the operations after it, as a
    replay, a forward-mode tangent sweep from that input or a backward sweep to it does it (one
    pass, suffix sums)."""
    ops = graph.ops
    works = [0] * len(graph)
    after = 0
    for node in range(graph.output, -1, -1):
        works[node] = after
        op = ops[node]
        if op is not None and not op.stops_gradient:
            after += operation_work(graph, node)
    return works


def check_work(graph: Graph, name: str, works: list[int], method: str = FD_CENTRAL) -> int:
    """The work of `finite_difference` for one input: two replays per element (one for forward
    differences)."""
    node = graph.inputs[name]
    return (1 if method == FD_FORWARD else 2) * graph.values[node].size * works[node]


def replay(graph: Graph, overrides: dict[int, Any]) -> Any:
    """The output with some leaves replaced; cut nodes keep their recorded values, and so do
    the nodes made before the first leaf replaced (creation order is topological).

    Holding detached and no_grad values fixed makes the check measure what the backward pass
    differentiates, rather than flag every `detach` as a mismatch.
    """
    return replayed_values(graph, overrides)[graph.output]


def replayed_values(graph: Graph, overrides: dict[int, Any]) -> list[Any]:
    """Every node's value as `replay` computes it."""
    values = list(graph.values)
    for node, value in overrides.items():
        values[node] = value
    with np.errstate(all="ignore"):
        for node in range(min(overrides, default=0), graph.output + 1):
            op = graph.ops[node]
            if op is None or op.stops_gradient:
                continue
            values[node] = op.value(*[values[argument] for argument in graph.args[node]])
    return values


def finite_difference(graph: Graph, name: str, method: str = FD_CENTRAL,
                      step: float | None = None) -> Any:
    """d output / d input `name` element by element, h = step * max(1, |x|): central
    (f(x + h) - f(x - h)) / 2h, forward (f(x + h) - f(x)) / h, or complex step Im f(x + ih) / h.
    For an array output, the Jacobian (output + input shape)."""
    node = graph.inputs[name]
    if method == FD_COMPLEX:
        _require_complex_step(graph, name)
    step = FD_STEPS[method] if step is None else step
    require_step(method, step)
    point = np.asarray(graph.values[node], dtype=np.float64)
    result = jacobian_zeros(graph.shape(graph.output), point.shape, name)
    with np.errstate(all="ignore"):
        for index in each_index(point.shape):
            h = step * max(1.0, abs(float(point[index])))
            if method == FD_COMPLEX:
                moved = point.astype(np.complex128)
                moved[index] += 1j * h
                result[(Ellipsis,) + index] = np.imag(replay(graph, {node: moved[()]})) / h
                continue
            up, down = point.copy(), point.copy()
            up[index] += h
            if method == FD_CENTRAL:
                down[index] -= h
            width = up[index] - down[index]  # the step actually taken, after rounding
            low = replay(graph, {node: down[()]}) if method != FD_FORWARD \
                else graph.values[graph.output]
            result[(Ellipsis,) + index] = (replay(graph, {node: up[()]}) - low) / width
    return result[()]


def depends_on(graph: Graph, start: int) -> list[bool]:
    """Which nodes the leaf `start` reaches through edges that carry a gradient."""
    reached = [False] * len(graph)
    reached[start] = True
    for node in range(start + 1, graph.output + 1):
        op = graph.ops[node]
        if op is not None and not op.stops_gradient and any(
                reached[argument] for argument in graph.args[node]):
            reached[node] = True
    return reached


def _require_complex_step(graph: Graph, name: str) -> None:
    """The complex step is exact only through operations that take complex numbers and are
    analytic there (the op table's `complex_step`): every one that depends on the input."""
    reached = depends_on(graph, graph.inputs[name])
    for node, op in enumerate(graph.ops):
        if op is not None and reached[node] and not op.complex_step:
            raise UsageError(f"the complex step needs every operation that depends on {name} to "
                             f"take complex numbers, and {op.label} (`{graph.text(node)}`) does "
                             "not", graph.span(node),
                             f"check with --fd-method {FD_CENTRAL} or {FD_FORWARD}",
                             graph.source or None)


def kinks(graph: Graph, name: str) -> tuple[str, ...]:
    """What the engine does at each non-differentiable point between the input and the output
    (relu at 0, a tie of max), where finite differences straddle a kink and disagree."""
    reached = depends_on(graph, graph.inputs[name])
    found: dict[str, None] = {}
    with np.errstate(all="ignore"):
        for node, op in enumerate(graph.ops):
            if op is None or op.kink is None or not reached[node]:
                continue
            if np.any(op.kink(*[graph.values[argument] for argument in graph.args[node]])):
                found[f"{op.kink_text} (at `{graph.text(node)}`)"] = None
    return tuple(found)
