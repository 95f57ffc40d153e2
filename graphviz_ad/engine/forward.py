"""Forward mode: one tangent sweep per input element, an independent route to the same gradient.

For an array output, the sweeps give the Jacobian d output / d input, of shape output + input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphviz_ad.engine.backward import local_derivatives
from graphviz_ad.engine.check import WORK_BUDGET, each_index, jacobian_zeros, sweep_works
from graphviz_ad.engine.graph import Graph
from graphviz_ad.errors import LimitError


def forward_gradient(graph: Graph, name: str) -> Any:
    """d output / d input `name`, one forward sweep for each element of the input; refused
    before any sweep when they would take more than WORK_BUDGET element evaluations, or the
    Jacobian more than one array's elements."""
    start = graph.inputs[name]
    shape = graph.shape(start)
    sweeps = graph.values[start].size
    work = sweeps * sweep_works(graph)[start]
    if work > WORK_BUDGET:
        raise LimitError(f"forward mode for {name} needs {sweeps:,} tangent sweeps, "
                         f"{work:,} element evaluations; the limit is {WORK_BUDGET:,}", None,
                         "reverse mode gives every gradient in one backward sweep: drop --mode "
                         "forward")
    gradient = jacobian_zeros(graph.shape(graph.output), shape, name)
    local = [()] * len(graph)
    with np.errstate(all="ignore"):
        for node in range(start, graph.output + 1):
            local[node] = local_derivatives(graph, node)
        for index in each_index(shape):
            seed = np.zeros(shape)
            seed[index] = 1.0
            gradient[(Ellipsis,) + index] = _sweep(graph, start, seed[()], local)
    return gradient[()]


def _sweep(graph: Graph, start: int, seed: Any, local: list[tuple[Any, ...]]) -> Any:
    tangents: list[Any] = [None] * len(graph)
    tangents[start] = seed
    for node in range(start + 1, graph.output + 1):
        op = graph.ops[node]
        if op is None:
            continue
        total = None
        for slot, argument in enumerate(graph.args[node]):
            tangent = tangents[argument]
            derivative = local[node][slot]
            if tangent is None or derivative is None:
                continue
            part = op.linear_map.pushforward(slot, derivative, tangent)
            total = part if total is None else total + part
        if total is not None and np.shape(total) != graph.shape(node):
            total = np.broadcast_to(total, graph.shape(node))
        tangents[node] = total
    result = tangents[graph.output]
    return 0.0 if result is None else result
