"""Derivatives as graphs: `grad(f, x)` runs the backward sweep on graph nodes.

The op table's rules (engine/ops.py) and the linear maps' pullbacks (engine/linear.py) are read
with `Nodes`, an emitter whose every op appends a node to the graph being built. So the gradient
is an ordinary part of the graph: evaluated as it is built, drawn, traced, folded, and
differentiated again by the numeric sweep or by another `grad(...)`, to any order.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import BACKWARD_GROUP, DATA, INPUT
from graphviz_ad.engine.backward import jacobian_rows
from graphviz_ad.engine.check import jacobian_zeros
from graphviz_ad.engine.graph import Graph, GraphBuilder
from graphviz_ad.engine.emit import Dual, reduced_count
from graphviz_ad.engine.ops import DUALS, OPS, Op
from graphviz_ad.errors import DomainError, ShapeError, Span, UsageError


class Nodes:
    """Rules read on graph nodes (ints): each op appends its node, a number becomes a constant
    node. Steps that change nothing are left out, so the graph stays what a person would write:
    multiplying by 1, adding 0, summing or broadcasting to the shape a value already has."""

    def __init__(self, builder: GraphBuilder, span: Span | None):
        self.builder = builder
        self.span = span
        self.constants: dict[tuple[float, str], int] = {}
        self.constant_nodes: set[int] = set()

    def __getattr__(self, name: str) -> Callable[..., int]:
        op = OPS.get(name)
        if op is None:
            raise AttributeError(name)
        return lambda *operands, **settings: self.apply(op, tuple(map(self.node, operands)),
                                                        settings)

    def node(self, operand: Any) -> int:
        return operand if type(operand) is int else self.const(operand)

    def const(self, value: Any, text: str | None = None) -> int:
        value = np.float64(value)
        text = text or display.shortest(value)
        key = (float(value), text)
        if key not in self.constants:
            node = self.builder.constant(value, text)
            self.constants[key] = node
            self.constant_nodes.add(node)
        return self.constants[key]

    def count(self, x: int, axis: int | None = None) -> int:
        return self.const(float(reduced_count(self.value(x), axis)), "n")

    def expand(self, x: int, axis: int | None = None) -> int:
        if axis is None:
            return x
        shape = self.shape(x)
        where = axis % (len(shape) + 1)
        return self.reshape(x, shape=shape[:where] + (1,) + shape[where:])

    def shape(self, x: int) -> tuple[int, ...]:
        return np.shape(self.value(x))

    def fixed(self, function: Callable[..., Any], template: str, *operands: int) -> int:
        value = function(*(self.value(operand) for operand in operands))
        texts = tuple(display.atom(self.text(operand)) for operand in operands)
        return self.builder.constant(value, template.format(*texts))

    def value(self, node: int) -> Any:
        return self.builder.values[node]

    def is_constant(self, node: int, number: float) -> bool:
        """Whether `node` is a number this emitter made, equal to `number`."""
        return node in self.constant_nodes and self.value(node) == number

    def apply(self, op: Op, operands: tuple[int, ...], settings: dict[str, Any]) -> int:
        shortcut = self._unchanged(op.name, operands, settings)
        if shortcut is not None:
            return shortcut
        if op.statics or op.variadic or op.derive is not None:
            op = op.bind(settings, tuple(map(self.shape, operands)))
        texts = tuple(display.atom(self.text(operand)) for operand in operands)
        try:
            node = self.builder.apply(op, operands, self.span)
        except DomainError:
            raise DomainError(f"the derivative is not defined here: {op.written(texts)} needs "
                              f"{op.domain_text.format(*texts)}", self.span,
                              "a derivative has the domain of its formula (`gad ops`)") from None
        self.builder.spans[node] = None  # errors point at grad(...); the node is its own text
        self.builder.details[node] = display.abbreviate(op.written(texts))
        return node

    def _unchanged(self, name: str, operands: tuple[int, ...],
                   settings: dict[str, Any]) -> int | None:
        """The operand itself where the op would change nothing."""
        if name == "mul":
            for mine, other in (operands, operands[::-1]):
                if self.is_constant(mine, 1.0):
                    return other
        if name == "add":
            for mine, other in (operands, operands[::-1]):
                if self.is_constant(mine, 0.0) and \
                        np.shape(self.value(other)) == np.broadcast_shapes(
                            *map(self.shape, operands)):
                    return other
        if name == "div" and self.is_constant(operands[1], 1.0):
            return operands[0]
        if name in ("sum_to", "broadcast_to", "reshape") and \
                self.shape(operands[0]) == tuple(settings["shape"]):
            return operands[0]
        return None

    def text(self, node: int) -> str:
        """A node as an operand's text: an input by its name (its span is the statement that
        assigned it, `x = 0.5`), another by the source it came from, else its own text."""
        builder = self.builder
        span = builder.spans[node]
        if builder.kinds[node] in (INPUT, DATA):
            return builder.labels[node]
        if span is not None and builder.source:
            return display.abbreviate(builder.source, display.MAX_SOURCE_TEXT, span.start,
                                      span.end)
        return builder.details.get(node, builder.labels[node])


def gradient(builder: GraphBuilder, output: int, wrt: int, span: Span | None,
             group: str) -> int:
    """The node of d output / d wrt, appended to `builder` with the sweep that computes it (in
    `group`): reverse mode over the nodes between `wrt` and `output`, each rule emitted as
    nodes. `output` must be a number."""
    values, kinds = builder.values, builder.kinds
    if np.ndim(values[output]) != 0:
        raise ShapeError(f"grad(f, x) needs a number f, got an array of shape "
                         f"{np.shape(values[output])}", span,
                         "reduce it first: grad(sum(f), x)")
    if kinds[wrt] == DATA:
        raise UsageError(f"{builder.labels[wrt]} is data: it has no gradient", span,
                         "an input without `data` has one")
    first = len(kinds)
    emit = Nodes(builder, span)
    # The nodes that depend on wrt, from wrt on: only their edges carry its gradient.
    args, ops = builder.args, builder.ops
    depends = [False] * (output - wrt + 1) if output >= wrt else []
    if depends:
        depends[0] = True
        for node in range(wrt + 1, output + 1):
            depends[node - wrt] = ops[node] is not None and not ops[node].stops_gradient and \
                any(argument >= wrt and depends[argument - wrt] for argument in args[node])
    adjoints: dict[int, int] = {}
    if depends and depends[-1]:
        adjoints[output] = emit.const(1.0)
    groups = builder.groups
    for node in range(output, wrt, -1):
        adjoint = adjoints.pop(node, None)
        if adjoint is None:
            continue
        made = len(kinds)
        op = ops[node]
        if op.linear_map.expression is None:
            raise UsageError(f"{op.label} has no rule to differentiate it again", span)
        arguments = args[node]
        for slot, argument in enumerate(arguments):
            if argument < wrt or not depends[argument - wrt]:
                continue
            local = op.partials[slot].expression(emit, *arguments, node)
            if isinstance(local, float) and local == 0.0 or \
                    type(local) is int and emit.is_constant(local, 0.0):
                continue
            part = op.linear_map.expression(emit, slot, emit.node(local), adjoint, argument)
            previous = adjoints.get(argument)
            adjoints[argument] = part if previous is None else emit.add(previous, part)
        # The nodes that pull back through a node go where it is, inside the sweep's group: the
        # backward pass folds statement by statement, as the forward pass does.
        inside = (group,) + groups.get(node, ())
        for made_now in range(made, len(kinds)):
            groups[made_now] = inside
    result = adjoints.get(wrt)
    if result is None:  # f does not depend on x: its gradient is zero, shaped like x
        zeros = np.zeros(np.shape(values[wrt]))[()]
        result = builder.constant(zeros, "0")
    for node in range(first, len(kinds)):
        if node not in groups:  # the seed, constants made first: the sweep's own
            groups[node] = (group,)
    return result


def gradient_graph(graph: Graph, wrt: str, output_name: str = "f") -> Graph:
    """The graph of d output / d wrt: `graph`'s nodes and the sweep's (grouped as the backward
    pass), with the gradient as its output."""
    builder = GraphBuilder.extending(graph)
    node = gradient(builder, graph.output, graph.inputs[wrt], None,
                    f"{BACKWARD_GROUP}d{output_name}/d{wrt}")
    return builder.finish(node)


def derivative_graphs(graph: Graph, wrt: str, order: int, output_name: str = "f"
                      ) -> list[Graph]:
    """The graphs of the 1st to `order`th derivative of a number with respect to one scalar
    input, each the previous one's gradient graph."""
    graphs = [graph]
    for _ in range(order):
        graphs.append(gradient_graph(graphs[-1], wrt, output_name))
    return graphs[1:]


def hessian_rows(swept: Graph, first: str, names: list[str]) -> dict[str, Any]:
    """d²f / d first d b for each input b, from the graph of d f / d first: one backward sweep
    through it per element of `first` (reverse over reverse), of shape first's + b's."""
    shape = np.shape(swept.values[swept.output])
    rows = {second: jacobian_zeros(shape, np.shape(swept.values[swept.inputs[second]]),
                                   f"{first}, {second}") for second in names}
    jacobian_rows(swept, rows)
    return {second: row[()] for second, row in rows.items()}


def hessian_vector_product(graph: Graph, direction: dict[str, Any]) -> dict[str, Any]:
    """H v for a direction v (by input) of a number's inputs, forward over reverse, with no node
    made: one tangent sweep gives each node's directional derivative, then one backward sweep
    on duals (engine/emit.py `Duals`) carries each adjoint with its own, each local derivative
    read from its rule. The adjoints' tangents at the inputs are H v."""
    values, args, ops = graph.values, graph.args, graph.ops
    duals = _tangents(graph, direction)
    requires = graph.requires_grad
    adjoints: list[Dual | None] = [None] * len(graph)
    output = graph.output
    array = np.ndarray
    adjoints[output] = Dual(np.ones(np.shape(values[output]))[()])
    with np.errstate(all="ignore"):
        for node in range(output, -1, -1):
            adjoint = adjoints[node]
            op = ops[node]
            if adjoint is None or op is None or op.stops_gradient or not requires[node]:
                continue
            arguments = args[node]
            operands = tuple([duals[argument] for argument in arguments])
            out = duals[node]
            scalar = op.elementwise and type(out.value) is not array
            gradient, turn = adjoint.value, adjoint.tangent
            for slot, argument in enumerate(arguments):
                if not requires[argument]:
                    continue
                local = op.partials[slot].expression(DUALS, *operands, out)
                if scalar:  # numbers: the local derivative multiplies, by the product rule
                    value, bend = (local.value, local.tangent) if type(local) is Dual \
                        else (local, None)
                    part = gradient * value
                    if turn is None:
                        tangent = None if bend is None else gradient * bend
                    else:
                        tangent = turn * value if bend is None else \
                            turn * value + gradient * bend
                else:
                    pulled = op.linear_map.expression(
                        DUALS, slot, local if type(local) is Dual else Dual(local), adjoint,
                        operands[slot])
                    part, tangent = pulled.value, pulled.tangent
                previous = adjoints[argument]
                if previous is None:
                    adjoints[argument] = Dual(part, tangent)
                    continue
                if previous.tangent is not None and tangent is not None:
                    tangent = previous.tangent + tangent
                elif tangent is None:
                    tangent = previous.tangent
                adjoints[argument] = Dual(previous.value + part, tangent)
    found = {}
    for name, node in graph.inputs.items():
        adjoint = adjoints[node]
        found[name] = np.zeros(np.shape(values[node]))[()] \
            if adjoint is None or adjoint.tangent is None else adjoint.tangent
    return found


def _tangents(graph: Graph, direction: dict[str, Any]) -> list[Dual]:
    """Each node's value with its directional derivative along `direction` (None: zero), by
    forward mode."""
    values, args, ops = graph.values, graph.args, graph.ops
    tangents: list[Any] = [None] * len(graph)
    for name, vector in direction.items():
        tangents[graph.inputs[name]] = np.asarray(vector, dtype=np.float64)[()]
    start = min((graph.inputs[name] for name in direction), default=len(graph))
    array = np.ndarray
    with np.errstate(all="ignore"):
        for node in range(start, graph.output + 1):
            op = ops[node]
            if op is None or op.stops_gradient:
                continue
            arguments = args[node]
            operands = [values[argument] for argument in arguments]
            out = values[node]
            scalar = op.elementwise and type(out) is not array  # the local just multiplies
            total = None
            for slot, argument in enumerate(arguments):
                tangent = tangents[argument]
                if tangent is None:
                    continue
                local = op.rules[slot](*operands, out)
                part = local * tangent if scalar else \
                    op.linear_map.pushforward(slot, local, tangent)
                total = part if total is None else total + part
            if not scalar and total is not None and np.shape(total) != np.shape(out):
                total = np.broadcast_to(total, np.shape(out))
            tangents[node] = total
    return [Dual(value, tangent) for value, tangent in zip(values, tangents)]
