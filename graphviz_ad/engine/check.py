"""Central finite differences by replaying the graph with one input element nudged."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphviz_ad.engine.graph import Graph

STEP = 1e-6
# Sweeps over the graph (finite-difference replays, forward-mode tangents) are budgeted in
# element evaluations: about 2 s of numpy on a laptop. An operation counts OPERATION_COST
# elements at least, its Python overhead.
WORK_BUDGET = 500_000_000
OPERATION_COST = 64


def sweep_works(graph: Graph) -> list[int]:
    """For each node, the element evaluations of one sweep over the operations after it, as a
    replay or a forward-mode tangent sweep from that input does it (one pass, suffix sums)."""
    values, ops = graph.values, graph.ops
    works = [0] * len(graph)
    after = 0
    for node in range(graph.output, -1, -1):
        works[node] = after
        op = ops[node]
        if op is not None and not op.stops_gradient:
            after += OPERATION_COST + values[node].size
    return works


def check_work(graph: Graph, name: str, works: list[int]) -> int:
    """The work of `finite_difference` for one input: two replays per element."""
    node = graph.inputs[name]
    return 2 * graph.values[node].size * works[node]


def replay(graph: Graph, overrides: dict[int, Any]) -> Any:
    """The output with some leaves replaced; cut nodes keep their recorded values, and so do
    the nodes made before the first leaf replaced (creation order is topological).

    Holding detached and no_grad values fixed makes the check measure what the backward pass
    differentiates, rather than flag every `detach` as a mismatch.
    """
    values = list(graph.values)
    for node, value in overrides.items():
        values[node] = value
    with np.errstate(all="ignore"):
        for node in range(min(overrides, default=0), graph.output + 1):
            op = graph.ops[node]
            if op is None or op.stops_gradient:
                continue
            values[node] = op.value(*[values[argument] for argument in graph.args[node]])
    return values[graph.output]


def finite_difference(graph: Graph, name: str, step: float = STEP) -> Any:
    """Central difference (f(x + h) - f(x - h)) / 2h per element, h = step * max(1, |x|)."""
    with np.errstate(all="ignore"):
        return _central_differences(graph, graph.inputs[name], step)


def _central_differences(graph: Graph, node: int, step: float) -> Any:
    point = np.asarray(graph.values[node], dtype=np.float64)
    result = np.zeros(point.shape)
    for index in np.ndindex(*point.shape):
        h = step * max(1.0, abs(float(point[index])))
        up, down = point.copy(), point.copy()
        up[index] += h
        down[index] -= h
        width = up[index] - down[index]  # the step actually taken, after rounding
        result[index] = (replay(graph, {node: up[()]}) - replay(graph, {node: down[()]})) / width
    return result[()]
