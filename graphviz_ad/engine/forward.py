"""Forward mode: one tangent sweep per input element, an independent route to the same gradient.

For an array output, the sweeps give the Jacobian d output / d input, of shape output + input.
A sweep can record each node's tangent as it makes it, for `gad trace --mode forward`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from graphviz_ad.engine.backward import local_derivatives
from graphviz_ad.engine.check import (WORK_BUDGET, each_index, jacobian_zeros, one_hot,
                                      sweep_works)
from graphviz_ad.engine.graph import Graph
from graphviz_ad.errors import LimitError


@dataclass(frozen=True)
class TangentTerm:
    """One argument's part of a node's tangent: its tangent pushed through the edge."""

    argument: int
    slot: int
    tangent: Any       # tan(argument)
    local: Any         # d node / d argument through this slot
    contribution: Any  # the local derivative applied to tan(argument)


@dataclass(frozen=True)
class TangentUpdate:
    """A node's tangent as a sweep made it: its terms, slots left to right, summed."""

    node: int
    terms: tuple[TangentTerm, ...]
    tangent: Any


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
    after = range(start + 1, graph.output + 1)
    with np.errstate(all="ignore"):
        for node in range(start, graph.output + 1):
            local[node] = local_derivatives(graph, node)
        for index in each_index(shape):
            gradient[(Ellipsis,) + index] = _sweep(graph, after, start, one_hot(shape, index),
                                                   local)
    return gradient[()]


def recorded_sweep(graph, nodes: Iterable[int], start: int, seed: Any,
                   local: Sequence[Sequence[Any]]) -> tuple[Any, list[TangentUpdate]]:
    """A tangent sweep (`_sweep`) and its record: each node a tangent reaches, as it was made."""
    record: list[TangentUpdate] = []
    return _sweep(graph, nodes, start, seed, local, record), record


def _sweep(graph, nodes: Iterable[int], start: int, seed: Any, local: Sequence[Sequence[Any]],
           record: list[TangentUpdate] | None = None) -> Any:
    """tan(output) when tan(start) = `seed` and every other leaf's tangent is 0: each of `nodes`
    (after `start`, in evaluation order) sums, slot by slot, its local derivatives applied to
    its arguments' tangents; `local[node][slot]` is None where no gradient flows. With `record`,
    each node a tangent reaches is appended to it as it is made."""
    tangents: list[Any] = [None] * len(graph)
    tangents[start] = seed
    for node in nodes:
        op = graph.ops[node]
        if op is None:
            continue
        total = None
        terms = [] if record is not None else None
        for slot, argument in enumerate(graph.args[node]):
            tangent = tangents[argument]
            if tangent is None:
                continue
            derivative = local[node][slot]  # read only here: an importer's row costs a call
            if derivative is None:
                continue
            part = op.linear_map.pushforward(slot, derivative, tangent)
            total = part if total is None else total + part
            if terms is not None:
                terms.append(TangentTerm(argument, slot, tangent, derivative, part))
        if total is not None and np.shape(total) != graph.shape(node):
            total = np.broadcast_to(total, graph.shape(node))
        tangents[node] = total
        if terms:
            record.append(TangentUpdate(node, tuple(terms), total))
    result = tangents[graph.output]
    return 0.0 if result is None else result
