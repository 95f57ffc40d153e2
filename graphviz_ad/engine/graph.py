"""The computational graph: nodes in creation order (a topological order), built by GraphBuilder.

A node is an input (a leaf with a name), a data value (a named leaf with no gradient), a constant,
a cut value (a `no_grad(...)` result, which remembers the text it came from) or an operation with
ordered arguments: `x*x` has two edges from `x`. The backward sweep turns it into the annotated
graph every view reads (engine/annotated.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import (CONSTANT, DATA, INPUT, OPERATION, NodeTable,
                                          unused_output_name)
from graphviz_ad.engine.ops import MATMUL, OPS, REDUCE, Op
from graphviz_ad.errors import DomainError, LimitError, ShapeError, Span


MAX_NODES = 2_000_000
MAX_ELEMENTS = 10_000_000  # in one array
# The values of all arrays together: 200 MB of float64, checked before each array is made. The
# backward pass holds at most as much again in adjoints and again in local derivatives, so a
# run stays under about 700 MB (docs/errors.md). Scalars are bounded by MAX_NODES instead.
MAX_HELD_ELEMENTS = 25_000_000


@dataclass(frozen=True, eq=False, repr=False)
class Graph(NodeTable):
    source: str
    kinds: tuple[str, ...]
    ops: tuple[Op | None, ...]
    args: tuple[tuple[int, ...], ...]
    values: tuple[Any, ...]
    spans: tuple[Span | None, ...]
    labels: tuple[str, ...]
    requires_grad: tuple[bool, ...]
    inputs: dict[str, int]
    output: int
    # Names the program assigned to a node (`n = 1 + sin(x2)`), only for nodes that have them.
    names: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # The statement that made each node (`n` for `n = 1 + sin(x2)`), for nodes made by one.
    groups: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # What a node without a span is (a node grad(...) made: `cos(x)`); an importer's, where
    # each of its nodes came from.
    details: dict[int, str] = field(default_factory=dict)


def _shapes_text(values) -> str:
    return " and ".join(str(np.shape(value)) for value in values)


class NodeLists:
    """A graph as it is built, by whichever builder (ours below, an importer's): one entry per
    node in each list, in creation order (a topological order), and maps keyed by node."""

    def __init__(self):
        self.kinds: list[str] = []
        self.ops: list[Any] = []
        self.args: list[tuple[int, ...]] = []
        self.values: list[Any] = []
        self.labels: list[str] = []
        self.requires_grad: list[bool] = []
        self.inputs: dict[str, int] = {}
        self.names: dict[int, tuple[str, ...]] = {}
        self.groups: dict[int, tuple[str, ...]] = {}
        self.details: dict[int, str] = {}

    def append(self, kind: str, op: Any, arguments: tuple[int, ...], value: Any, label: str,
               requires: bool) -> int:
        """A new node; an input is listed by its label."""
        node = len(self.kinds)
        self.kinds.append(kind)
        self.ops.append(op)
        self.args.append(arguments)
        self.values.append(value)
        self.labels.append(label)
        self.requires_grad.append(requires)
        if kind == INPUT:
            self.inputs[label] = node
        return node

    def reaching(self, output: int) -> list[bool]:
        """For each node, whether `output` depends on it (itself included)."""
        reaches = [False] * len(self.kinds)
        reaches[output] = True
        for node in range(output, -1, -1):
            if reaches[node]:
                for argument in self.args[node]:
                    reaches[argument] = True
        return reaches


class GraphBuilder(NodeLists):
    """Appends nodes, evaluating each operation as it is added and checking its domain."""

    def __init__(self, source: str = "", max_nodes: int = MAX_NODES,
                 max_held: int = MAX_HELD_ELEMENTS):
        super().__init__()
        self.source = source
        self.max_nodes = max_nodes
        self.max_held = max_held
        self.held = 0  # elements of the arrays made so far
        self.spans: list[Span | None] = []
        self.data_leaves: list[int] = []

    @classmethod
    def extending(cls, graph: Graph) -> GraphBuilder:
        """A builder that holds `graph`'s nodes, to append more (the sweep of a gradient)."""
        builder = cls(graph.source)
        builder.kinds, builder.ops, builder.args = list(graph.kinds), list(graph.ops), \
            list(graph.args)
        builder.values, builder.labels = list(graph.values), list(graph.labels)
        builder.requires_grad, builder.spans = list(graph.requires_grad), list(graph.spans)
        builder.inputs, builder.names = dict(graph.inputs), dict(graph.names)
        builder.groups, builder.details = dict(graph.groups), dict(graph.details)
        builder.data_leaves = [node for node, kind in enumerate(graph.kinds) if kind == DATA]
        builder.held = sum(value.size for value in graph.values if type(value) is np.ndarray)
        return builder

    def _append(self, kind, op, arguments, value, span, label, requires) -> int:
        if len(self.kinds) >= self.max_nodes:
            raise LimitError(f"the graph would have more than {self.max_nodes:,} nodes", span,
                             "write it with arrays, where one operation is one node: "
                             "sum(w * x) for w1*x1 + w2*x2 + ...")
        if type(value) is np.ndarray:
            self._hold(value.size, label, span)
        self.spans.append(span)
        return self.append(kind, op, arguments, value, label, requires)

    def input(self, name: str, value: Any, span: Span | None = None) -> int:
        return self._append(INPUT, None, (), as_value(value), span, name, True)

    def data(self, name: str, value: Any, span: Span | None = None) -> int:
        node = self._append(DATA, None, (), as_value(value), span, name, False)
        self.data_leaves.append(node)
        return node

    def constant(self, value: Any, label: str, span: Span | None = None,
                 kind: str = CONSTANT) -> int:
        """A literal or a no_grad result, labelled with its text (cut short: a 20×5 matrix
        would otherwise be a node thousands of pixels wide)."""
        return self._append(kind, None, (), as_value(value), span,
                            display.abbreviate(label, display.MAX_TITLE), False)

    def apply(self, op: Op | str, arguments: tuple[int, ...], span: Span | None = None,
              written: tuple[Span, ...] | None = None) -> int:
        """Evaluate `op` on existing nodes and append the result. The hot path of every build.

        `written` are the spans of the arguments as written at this call (`y` in `log(y)`),
        which a domain error quotes; without them it quotes where each argument was computed.
        """
        if type(op) is str:
            op = OPS[op]
        values = self.values
        requires_grad = self.requires_grad
        if len(arguments) == 1:
            operands = (values[arguments[0]],)
            requires = requires_grad[arguments[0]]
        elif len(arguments) == 2:
            operands = (values[arguments[0]], values[arguments[1]])
            requires = requires_grad[arguments[0]] or requires_grad[arguments[1]]
        else:
            operands = tuple(values[argument] for argument in arguments)
            requires = any(requires_grad[argument] for argument in arguments)
        if not op.elementwise or len(operands) > 2 or type(operands[0]) is np.ndarray \
                or type(operands[-1]) is np.ndarray:
            self._hold(self._array_size(op, operands, span), op.label, span)
        try:
            value = op.value(*operands)
        except (ValueError, TypeError, IndexError) as error:
            raise self._shape_error(op, operands, span, error) from None
        if op.domain is not None:
            inside = op.domain(*operands)
            if not op.elementwise:
                if not inside:
                    raise DomainError(self._domain_reason(op, arguments, span, written), span)
            elif not inside.all() and not (inside | _any_nan(operands)).all():
                raise DomainError(self._domain_reason(op, arguments, span, written), span)
        node = len(values)
        if node >= self.max_nodes:
            raise LimitError(f"the graph would have more than {self.max_nodes:,} nodes", span,
                             "write it with arrays, where one operation is one node: "
                             "sum(w * x) for w1*x1 + w2*x2 + ...")
        self.kinds.append(OPERATION)
        self.ops.append(op)
        self.args.append(arguments)
        values.append(value)
        self.spans.append(span)
        self.labels.append(op.label)
        requires_grad.append(requires and not op.stops_gradient)
        return node

    def _shape_error(self, op: Op, operands: tuple, span: Span | None,
                     error: Exception) -> ShapeError:
        """Elementwise operations and @ say which shapes did not fit; the others (an axis out
        of range, an index past the end, a reshape that does not fit) say what numpy said."""
        if op.elementwise or op.linear_map is MATMUL:
            return ShapeError(f"{op.label} cannot combine shapes {_shapes_text(operands)}", span,
                              "elementwise operations broadcast as numpy does; @ needs the "
                              "inner sizes to match")
        where = self.source[span.start:span.end] if span and self.source else op.label
        return ShapeError(f"`{where}`: {error}", span)

    def _array_size(self, op: Op, operands: tuple, span: Span | None) -> int:
        """The elements of the array an operation would make (0 for a reduction's scalar):
        shapes that fit, and at most MAX_ELEMENTS, checked before computing it."""
        shapes = [np.shape(value) for value in operands]
        if op.linear_map is MATMUL:
            if any(len(shape) == 0 for shape in shapes):
                raise ShapeError(f"@ needs vectors, matrices or batches of them, got shapes "
                                 f"{_shapes_text(operands)}", span, "a number multiplies with *")
            try:
                batch = np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2])
            except ValueError:
                batch = ()  # numpy's own error below says the shapes do not fit
            size = int(np.prod(batch)) * (shapes[0][-2] if len(shapes[0]) >= 2 else 1) * \
                (shapes[1][-1] if len(shapes[1]) >= 2 else 1)
        elif op.elementwise:
            try:
                size = int(np.prod(np.broadcast_shapes(*shapes)))
            except ValueError:
                size = 0  # numpy's own error below says the shapes do not fit
        elif op.linear_map is REDUCE:
            size = 0  # a number, or one per row: small beside what it reduces
        else:  # moves, joins and softmax make no more elements than they are given
            size = sum(int(np.prod(shape)) for shape in shapes)
        if size > MAX_ELEMENTS:
            raise LimitError(f"{op.label} would make an array of {size:,} elements; the limit is "
                             f"{MAX_ELEMENTS:,}", span,
                             "make smaller arrays: reduce sooner with sum(..., axis=...), or "
                             "slice the operands (x[:1000]) before this operation")
        return size

    def _hold(self, size: int, what: str, span: Span | None) -> None:
        """Count an array about to be made against MAX_HELD_ELEMENTS."""
        held = self.held + size
        if held > self.max_held:
            raise LimitError(
                f"{display.abbreviate(what, display.MAX_TITLE)} would bring the elements of "
                f"the graph's arrays to {held:,}; the limit is {self.max_held:,}", span,
                f"arrays are limited to {self.max_held * 8 // 1_000_000:,} MB of float64 in "
                "all: use smaller ones, or reduce them with sum(...) sooner")
        self.held = held

    def _domain_reason(self, op: Op, arguments: tuple[int, ...], span: Span | None,
                       written: tuple[Span, ...] | None) -> str:
        """`log(y - 3) needs (y - 3) > 0; here y - 3 = -1`: the domain in the program's own
        terms (simpler where an argument is a literal: `0^y needs y >= 0`), and the value of
        each argument it constrains, each name once, with every digit that tells it from the
        boundary; of an array, the elements outside the domain."""
        operands = tuple(self.values[argument] for argument in arguments)
        literal = tuple(self.kinds[argument] == CONSTANT for argument in arguments)
        texts: list[str | None] = []  # None: only the value is known (a builder without source)
        for slot, argument in enumerate(arguments):
            where = written[slot] if written else self.spans[argument]
            if where and self.source:
                texts.append(self.source[where.start:where.end])
            else:
                texts.append(self.labels[argument] if self.kinds[argument] in (INPUT, DATA)
                             else None)
        atoms = tuple(display.atom(text) if text is not None
                      else display.value(operand, display.SHORT_DIGITS)
                      for text, operand in zip(texts, operands))
        call = self.source[span.start:span.end] if span and self.source else op.written(atoms)
        constrained = [slot for slot in range(len(arguments)) if f"{{{slot}}}" in op.domain_text]
        if not op.elementwise:  # a condition on whole arrays: no elements to single out
            return f"{call} needs {op.domain_text.format(*atoms)}"
        if all(literal[slot] for slot in constrained):
            general = op.written(op.parameters, not call.startswith(f"{op.name}("))
            return f"{call} is outside the domain: {general} needs {op.domain_in_xy}"
        rule = op.domain_text
        if op.domain_given is not None and any(literal):
            rule = op.domain_given(*(operand if known else None
                                     for operand, known in zip(operands, literal))) or rule
        outside = ~(op.domain(*operands) | _any_nan(operands))
        here: dict[str, str] = {}
        named = set()  # `x^x` names x once
        for slot in constrained:
            if literal[slot] or texts[slot] is None or texts[slot] in named:
                continue
            named.add(texts[slot])
            here.update(_elements(texts[slot], atoms[slot], operands[slot], outside))
        need = f"{call} needs {rule.format(*atoms)}"
        if not here:
            return need
        shown = ", ".join(f"{text} = {value}" for text, value in here.items())
        more = int(np.sum(outside)) - MAX_ELEMENTS_SHOWN
        if more > 0:
            shown += f" and {more:,} more element" + ("s" if more != 1 else "")
        return f"{need}; here {shown}"

    def name(self, node: int, name: str) -> None:
        self.names[node] = self.names.get(node, ()) + (name,)

    def finish(self, output: int) -> Graph:
        """The graph of `output`: nodes it does not depend on are dropped, except inputs."""
        live = self._live(output)
        if all(live):
            keep = range(len(self.kinds))
            renumber = None
        else:
            keep = [node for node, alive in enumerate(live) if alive]
            renumber = {old: new for new, old in enumerate(keep)}
        def pick(items):
            return tuple(items) if renumber is None else tuple(items[node] for node in keep)
        arguments = pick(self.args)
        if renumber is not None:
            arguments = tuple(tuple(renumber[a] for a in row) for row in arguments)
        def move(node: int) -> int:
            return node if renumber is None else renumber[node]
        names = {move(node): names for node, names in self.names.items() if live[node]}
        if output not in self.names and len(names) < len(self.names):
            # The output is unnamed, and a node it does not need, dropped, has the name views
            # would call it: it is called by a name no node had (`g` for `grad(f, x)`).
            inputs = set(self.inputs)
            taken = inputs | {name for names in self.names.values() for name in names}
            chosen = unused_output_name(taken)
            if chosen != unused_output_name(inputs | {name for names in names.values()
                                                      for name in names}):
                names[move(output)] = (chosen,)
        return Graph(
            source=self.source, kinds=pick(self.kinds), ops=pick(self.ops), args=arguments,
            values=pick(self.values), spans=pick(self.spans), labels=pick(self.labels),
            requires_grad=pick(self.requires_grad),
            inputs={name: move(node) for name, node in self.inputs.items()},
            output=move(output),
            names=names,
            groups={move(node): group for node, group in self.groups.items() if live[node]},
            details={move(node): text for node, text in self.details.items() if live[node]},
        )

    def _live(self, output: int) -> list[bool]:
        live = self.reaching(output)
        for node in list(self.inputs.values()) + self.data_leaves:
            live[node] = True
        return live


MAX_ELEMENTS_SHOWN = 3  # a domain error names this many elements of an array, then counts


def _elements(text: str, atom: str, value: Any, outside: Any) -> dict[str, str]:
    """`{"x": "-0.5"}` for a scalar; for an array its first elements where `outside` (the
    broadcast shape) is true, as `{"x[1]": "-2"}`."""
    if np.ndim(value) == 0:
        return {text: display.shortest(value)}
    shape = np.shape(value)
    lead = np.ndim(outside) - len(shape)
    shown = {}
    for position in np.argwhere(outside)[:MAX_ELEMENTS_SHOWN]:
        index = tuple(0 if size == 1 else int(position[lead + axis])
                      for axis, size in enumerate(shape))
        shown[f"{atom}[{', '.join(map(str, index))}]"] = display.shortest(value[index])
    return shown


def _any_nan(operands) -> Any:
    """nan passes every domain check: it propagates (and is warned about), as in numpy."""
    mask = np.isnan(operands[0])
    for operand in operands[1:]:
        mask = mask | np.isnan(operand)
    return mask


def as_value(value: Any) -> Any:
    """float64 scalars as numpy scalars, everything else as float64 arrays."""
    array = np.asarray(value, dtype=np.float64)
    return array[()] if array.ndim == 0 else array
