"""Reverse mode: one backward sweep gives every node's adjoint and every edge's local derivative.

It records what it pulled back along each edge: the result is the annotated graph every view
reads (engine/annotated.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphviz_ad import collector
from graphviz_ad.engine.annotated import AnnotatedGraph
from graphviz_ad.engine.check import each_index, one_hot
from graphviz_ad.engine.graph import Graph


def local_derivatives(graph: Graph, node: int) -> tuple[Any, ...]:
    """d node / d argument for each slot, computed only where a gradient can flow."""
    op = graph.ops[node]
    if op is None:
        return ()
    values = graph.values
    arguments = graph.args[node]
    operands = [values[argument] for argument in arguments]
    requires = graph.requires_grad
    return tuple(
        None if op.stops_gradient or not requires[argument]
        else partial.rule(*operands, values[node])
        for argument, partial in zip(arguments, op.partials))


def backward(graph: Graph, seed: Any = None) -> AnnotatedGraph:
    """Sweep nodes from the output down (creation order is topological), accumulating adjoints.

    `seed` is the output's adjoint: 1 for a number; for an array, ones (the gradient of the sum
    of its elements) unless given (a one-hot seed gives one row of the Jacobian).

    Unary and binary nodes are unrolled by hand: this loop is most of the cost of a gradient.
    The sweep makes no reference cycles, so the cyclic garbage collector is paused during it
    (graphviz_ad/collector.py).
    """
    if seed is None:
        output = graph.values[graph.output]
        seed = np.ones(np.shape(output)) if type(output) is np.ndarray else np.float64(1.0)
    with collector.paused():
        return _sweep(graph, seed)


def jacobian_rows(graph: Graph, rows: dict[str, Any]) -> None:
    """Fill each `rows[name]` (output shape + that input's shape, zeros) with d output / d
    input, row by row: one backward sweep per output element, seeded at it."""
    shape = np.shape(graph.values[graph.output])
    for index in each_index(shape):
        swept = backward(graph, one_hot(shape, index))
        for name, jacobian in rows.items():
            jacobian[index] = swept.gradient(name)


def _sweep(graph: Graph, seed: Any) -> AnnotatedGraph:
    count = len(graph)
    values, args, ops = graph.values, graph.args, graph.ops
    requires = graph.requires_grad
    array = np.ndarray
    adjoints: list[Any] = [None] * count
    local: list[tuple[Any, ...]] = [()] * count
    # The record: the nodes whose edges were used, in order, and what each edge carried, flat.
    order: list[int] = []
    carried: list[Any] = []
    record_node, record_part = order.append, carried.append
    adjoints[graph.output] = seed
    with np.errstate(all="ignore"):
        for node in range(graph.output, -1, -1):
            gradient = adjoints[node]
            if gradient is None or not requires[node]:
                continue
            op = ops[node]
            if op is None:
                continue
            record_node(node)
            rules = op.rules
            out = values[node]
            # All scalars is the common case: the local derivative just multiplies.
            scalar = op.elementwise and type(out) is not array
            arguments = args[node]
            if len(arguments) == 1:
                (first,) = arguments
                x = values[first]
                dx = rules[0](x, out)
                part = gradient * dx if scalar else op.linear_map.pullback(0, dx, gradient, x)
                local[node] = (dx,)
                record_part(part)
                previous = adjoints[first]
                adjoints[first] = part if previous is None else previous + part
                continue
            if len(arguments) > 2:
                local[node] = _pull_back(op, arguments, values, requires, gradient, adjoints,
                                         out, record_part)
                continue
            first, second = arguments
            x, y = values[first], values[second]
            dx = dy = None
            if requires[first]:
                dx = rules[0](x, y, out)
                part_x = gradient * dx if scalar else op.linear_map.pullback(0, dx, gradient, x)
                previous = adjoints[first]
                adjoints[first] = part_x if previous is None else previous + part_x
                record_part(part_x)
            if requires[second]:
                dy = rules[1](x, y, out)
                part_y = gradient * dy if scalar else op.linear_map.pullback(1, dy, gradient, y)
                previous = adjoints[second]
                adjoints[second] = part_y if previous is None else previous + part_y
                record_part(part_y)
            local[node] = (dx, dy)
    return AnnotatedGraph.assembled(graph, graph.output, adjoints=adjoints, local=local,
                                    carried=carried, order=order, source=graph.source,
                                    spans=graph.spans)


def _pull_back(op, arguments, values, requires, gradient, adjoints, out, record_part):
    """Any number of arguments: the general form of the unrolled cases above."""
    operands = [values[argument] for argument in arguments]
    locals_ = []
    for slot, argument in enumerate(arguments):
        if not requires[argument]:
            locals_.append(None)
            continue
        local = op.rules[slot](*operands, out)
        part = op.linear_map.pullback(slot, local, gradient, operands[slot])
        previous = adjoints[argument]
        adjoints[argument] = part if previous is None else previous + part
        record_part(part)
        locals_.append(local)
    return tuple(locals_)
