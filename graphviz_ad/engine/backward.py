"""Reverse mode: one backward sweep gives every node's adjoint and every edge's local derivative.

It records what it pulled back along each edge: the result is the annotated graph every view
reads (engine/annotated.py).
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from graphviz_ad.engine.annotated import AnnotatedGraph
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


def backward(graph: Graph) -> AnnotatedGraph:
    """Sweep nodes from the output down (creation order is topological), accumulating adjoints.

    Unary and binary nodes are unrolled by hand: this loop is most of the cost of a gradient.
    The sweep makes no reference cycles, so the cyclic garbage collector is paused during it
    (it would otherwise rescan the whole graph again and again: about 8% at 1e5 nodes).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _sweep(graph)
    finally:
        if collecting:
            gc.enable()


def _sweep(graph: Graph) -> AnnotatedGraph:
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
    adjoints[graph.output] = np.float64(1.0)
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
    return _annotated(graph, adjoints, local, carried, order)


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


def _annotated(graph: Graph, adjoints: list, local: list, carried: list,
               order: list[int]) -> AnnotatedGraph:
    # Comprehensions, not a loop: this pass touches every node and is a tenth of the cost.
    no_edges = [(), (None,), (None, None)]

    def none_row(arguments: tuple[int, ...]) -> tuple[None, ...]:
        count = len(arguments)
        return no_edges[count] if count < 3 else (None,) * count

    finished_adjoints = tuple(
        adjoint if adjoint is not None else np.zeros(np.shape(value))[()]
        for adjoint, value in zip(adjoints, graph.values))
    finished_local = tuple(row if len(row) == len(arguments) else none_row(arguments)
                           for row, arguments in zip(local, graph.args))
    return AnnotatedGraph(
        kinds=graph.kinds, ops=graph.ops, args=graph.args, values=graph.values,
        labels=graph.labels, requires_grad=graph.requires_grad, inputs=graph.inputs,
        output=graph.output, adjoints=finished_adjoints, local=finished_local,
        carried=tuple(carried), sweep_order=tuple(order), names=graph.names,
        groups=graph.groups,
        source=graph.source, spans=graph.spans)
