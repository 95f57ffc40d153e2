"""The neutral annotated graph that every view reads.

Values and adjoints on nodes, local derivatives on edges, and the backward sweep as it ran.

Every source of a graph enters as one of these: our engine makes it (engine/backward.py), and an
importer of another framework's graph can make it too, with no op table: an operation is anything
with the `NodeOp` attributes (our `Op` entries have them; `ForeignOp` is the importer's). Each
is assembled by `AnnotatedGraph.assembled` from the nodes as built and the sweep's record. Paths,
trace, pictures, JSON and tables read only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.linear import ELEMENTWISE, JACOBIAN, LinearMap
from graphviz_ad.errors import Span

INPUT = "input"
DATA = "data"  # a named value with no gradient: `data X = ...`, a batch, a label
CONSTANT = "constant"
CUT = "cut"  # a value that enters without its history: a no_grad(...) result, a torch .data
OPERATION = "operation"
GROUP = "group"  # a folded group: one node for a subgraph, its edges the total derivatives
OUTPUT = "output"  # not stored: the kind a view gives the output node
KINDS = (INPUT, DATA, CONSTANT, CUT, OPERATION, GROUP)


class NodeOp(Protocol):
    """What the views need of an operation."""

    name: str
    label: str  # what a node shows: `+`, `sin`, `addmm`
    arity: int
    linear_map: LinearMap
    elementwise: bool
    stops_gradient: bool
    operator: str | None
    callable: bool
    description: str

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str: ...

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str: ...


@dataclass(frozen=True)
class ForeignOp:
    """An operation our op table does not know (an importer's `addmm`, `conv2d`): drawable with
    its name, values and adjoints; its local derivatives are whatever the importer measured."""

    name: str
    arity: int
    description: str = ""
    linear_map: LinearMap = ELEMENTWISE
    stops_gradient: bool = False
    operator: str | None = None
    callable: bool = True
    backward_name: str = ""  # the framework's name for its backward function: `MulBackward0`

    @property
    def label(self) -> str:
        return self.name

    @property
    def elementwise(self) -> bool:
        return self.linear_map is ELEMENTWISE

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        return ""

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str:
        return f"{self.name}({', '.join(arguments)})"


@dataclass(frozen=True)
class Instance:
    """One of a run of repeated groups folded as one box: its path, and the value and adjoint
    of what it hands on to the next."""

    path: tuple[str, ...]
    value: Any
    adjoint: Any


@dataclass(frozen=True, kw_only=True)
class GroupOp(ForeignOp):
    """The operation of a folded group (engine/fold.py): its edges carry whole Jacobians, its
    local derivatives are total derivatives through the group."""

    path: tuple[str, ...]
    members: int  # how many nodes it stands for
    linear_map: LinearMap = JACOBIAN
    instances: tuple[Instance, ...] = ()  # a run of repeated groups: each of them, in order

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        return f"∂{self.name}/∂{arguments[slot]}"


class DeferredRow(Sequence):
    """The local derivatives of one node's argument slots, computed when first read: an
    importer's op whose derivatives cost a backward pass through its framework (torch's Jᵀ·1)
    pays it only for the edges a view shows. Whether a slot carries a gradient is known at
    once (`AnnotatedGraph.flows`), and a slot that carries none reads None."""

    def __init__(self, flows: Sequence[bool], compute: Callable[[], Sequence[Any]]):
        self._flows = tuple(flows)
        self._compute: Callable[[], Sequence[Any]] | None = compute
        self._row: tuple[Any, ...] = ()

    @property
    def computed(self) -> bool:
        return self._compute is None

    def flows(self, slot: int) -> bool:
        return self._flows[slot]

    def __len__(self) -> int:
        return len(self._flows)

    def __getitem__(self, slot):
        if isinstance(slot, slice):
            return tuple(self)[slot]
        if not self._flows[slot]:
            return None
        if self._compute is not None:
            computed = self._compute()
            self._row = tuple(part if flows else None for part, flows in zip(computed,
                                                                               self._flows))
            self._compute = None
        return self._row[slot]


def one_feeds_another(args: Sequence[tuple[int, ...]], nodes: Sequence[int]) -> bool:
    """Whether one of `nodes` is an ancestor of another (`args`: each node's arguments, in a
    topological order): then a pull from something they all feed back to each of them, along
    every path, counts the paths through the other too. Walks back no further than the
    earliest of them."""
    if len(nodes) < 2:
        return False
    floor, targets = min(nodes), set(nodes)
    seen: set[int] = set()
    stack = [argument for node in nodes for argument in args[node]]
    while stack:
        node = stack.pop()
        if node < floor or node in seen:
            continue
        if node in targets:
            return True
        seen.add(node)
        stack.extend(args[node])
    return False


def flows_in(row: Sequence[Any], slot: int) -> bool:
    """Whether a gradient flows through `slot` of a row of local derivatives."""
    return row.flows(slot) if isinstance(row, DeferredRow) else row[slot] is not None


@dataclass(frozen=True)
class SweepStep:
    """One adjoint update of the backward sweep: adj(target) += the pullback of adj(via)."""

    target: int
    via: int
    slot: int
    adjoint: Any       # adj(via), final when it is used
    local: Any         # d via / d target through this slot
    contribution: Any
    total: Any         # adj(target) after this step


class NodeTable:
    """What every graph of parallel tuples answers (the engine's record and the annotated graph):
    needs the fields kinds, ops, args, values, labels, source, spans and details."""

    def __len__(self) -> int:
        return len(self.kinds)

    def __repr__(self) -> str:  # its size and inputs, not every tuple of every node
        names = ", ".join(sorted(self.inputs, key=display.natural_key)[:12]) + (
            ", …" if len(self.inputs) > 12 else "")
        return f"{type(self).__name__}: {len(self):,} nodes, inputs {names or 'none'}"

    def text(self, node: int) -> str:
        """The source text a node came from, else its details, else its label; past
        display.MAX_SOURCE_TEXT characters, its beginning and end around a `…`, copied without
        the middle (so the texts of all nodes of `x + x + ... + x` stay linear in its length)."""
        span = self.span(node)
        if span is None or not self.source:
            return display.abbreviate(self.details.get(node, self.labels[node]))
        return display.abbreviate(self.source, display.MAX_SOURCE_TEXT, span.start, span.end)

    def span(self, node: int) -> Span | None:
        return self.spans[node] if self.spans else None

    @property
    def data(self) -> dict[str, int]:
        """The named leaves declared as data, which have no gradient."""
        return {self.labels[node]: node for node, kind in enumerate(self.kinds) if kind == DATA}

    def shape(self, node: int) -> tuple[int, ...]:
        return np.shape(self.values[node])

    def edges(self) -> Iterator[tuple[int, int, int]]:
        """(consumer, slot, producer) for every argument slot, in node order."""
        for consumer, arguments in enumerate(self.args):
            for slot, producer in enumerate(arguments):
                yield consumer, slot, producer

    def is_cut(self, consumer: int) -> bool:
        op = self.ops[consumer]
        return op is not None and op.stops_gradient

    def consumers(self) -> list[list[tuple[int, int]]]:
        """For each node, the (consumer, slot) pairs that use it: found once per graph (a
        page's pictures each read them) and shared, so never to be changed."""
        return self._consumers

    @cached_property
    def _consumers(self) -> list[list[tuple[int, int]]]:
        users: list[list[tuple[int, int]]] = [[] for _ in self.kinds]
        for consumer, slot, producer in self.edges():
            users[producer].append((consumer, slot))
        return users


class BuiltNodes(Protocol):
    """The nodes a source built, in a topological order, before any sweep: a
    graph.NodeLists as it was filled, the engine's Graph, or any table with these fields."""

    kinds: Sequence[str]
    ops: Sequence[NodeOp | None]
    args: Sequence[tuple[int, ...]]
    values: Sequence[Any]
    labels: Sequence[str]
    requires_grad: Sequence[bool]
    inputs: Mapping[str, int]
    names: Mapping[int, tuple[str, ...]]
    groups: Mapping[int, tuple[str, ...]]
    details: Mapping[int, str]


# A numpy scalar cannot change, so one zero serves every scalar no gradient reaches (a
# program's constants): making one each took a third of a sweep where half the nodes are.
_ZERO = np.float64(0.0)


def zero_where_unreached(adjoints: Sequence[Any], values: Sequence[Any]) -> tuple[Any, ...]:
    """`adjoints`, with zeros of the value's shape and dtype in place of each None (a node no
    gradient reached)."""
    return tuple(adjoint if adjoint is not None
                 else _ZERO if type(value) is np.float64 else np.zeros_like(value)[()]
                 for adjoint, value in zip(adjoints, values))


_NO_GRADIENT = ((), (None,), (None, None))  # the rows of None of most nodes, made once


def _no_gradient(arguments: tuple[int, ...]) -> tuple[None, ...]:
    count = len(arguments)
    return _NO_GRADIENT[count] if count < 3 else (None,) * count


@dataclass(frozen=True, eq=False, repr=False)
class AnnotatedGraph(NodeTable):
    """Nodes in a topological order (arguments before their consumers), as parallel tuples.

    `local[node][slot]` is the local derivative d node / d argument on that edge, None where no
    gradient flows (into constants, across a cut); `flows(node, slot)` says which without
    computing a `DeferredRow`. `pull_through`, when the source has its own engine (torch's
    autograd), pulls a gradient of one node back to several at once along every path between
    them: `pull_through(node, producers, gradient)` -> a gradient per producer, None where no
    gradient reaches it. The backward sweep's record: `sweep_order`
    lists the nodes whose edges it used, in the order it used them, and `carried` what it pulled
    back along each of their edges that carries a gradient, in the same order (slots left to
    right), as the sweep appended them.
    """

    kinds: tuple[str, ...]
    ops: tuple[NodeOp | None, ...]
    args: tuple[tuple[int, ...], ...]
    values: tuple[Any, ...]
    labels: tuple[str, ...]
    requires_grad: tuple[bool, ...]
    inputs: dict[str, int]
    output: int
    adjoints: tuple[Any, ...]
    local: tuple[tuple[Any, ...], ...]
    carried: tuple[Any, ...]
    sweep_order: tuple[int, ...]
    # Names the program gave a node, only for nodes that have them.
    names: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # A node's group path (`layer1`, `0`, `conv1`), only for nodes in a group.
    groups: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # Where each node came from: spans into `source`, or a text of its own (`details`).
    source: str = ""
    spans: tuple[Span | None, ...] = ()
    details: dict[int, str] = field(default_factory=dict)
    pull_through: Callable[[int, Sequence[int], Any], list] | None = None
    # Nodes whose value the source could not give (what torch did not keep for its backward
    # pass): their values are nan of the right shape, drawn as `not kept`, never reported.
    unknown_values: frozenset[int] = frozenset()
    # The ranges its views have shown of its arrays, which the graphs folded from it share:
    # a page draws the same 38 M-element embedding in each of its pictures.
    ranges: display.Ranges = field(default_factory=display.Ranges, repr=False)

    @classmethod
    def assembled(cls, nodes: BuiltNodes, output: int, *, adjoints: Sequence[Any],
                  local: Sequence[Sequence[Any]], carried: Sequence[Any], order: Sequence[int],
                  source: str = "", spans: Sequence[Span | None] = (),
                  pull_through: Callable[[int, Sequence[int], Any], list] | None = None,
                  unknown_values: Iterable[int] = (),
                  ranges: display.Ranges | None = None) -> AnnotatedGraph:
        """The annotated graph of `nodes` and a backward sweep from `output`, the one way every
        source makes one (engine/backward.py, engine/fold.py, sources/torch_graph.py).

        Of the sweep: `adjoints`, None where no gradient reached a node (zeros, here);
        `local`, each node's row, left empty (`()`) where the sweep did not reach it (a row of
        None, here); `carried` and `order`, its record (see the class). `spans` into `source`
        say where a program's nodes came from; the rest is what only some sources have.
        """
        args = tuple(nodes.args)
        # Comprehensions, not loops: these passes touch every node of the engine's hot path.
        rows = tuple(row if len(row) == len(arguments) else _no_gradient(arguments)
                     for row, arguments in zip(local, args))
        return cls(
            kinds=tuple(nodes.kinds), ops=tuple(nodes.ops), args=args,
            values=tuple(nodes.values), labels=tuple(nodes.labels),
            requires_grad=tuple(nodes.requires_grad), inputs=dict(nodes.inputs),
            output=output, adjoints=zero_where_unreached(adjoints, nodes.values), local=rows,
            carried=tuple(carried), sweep_order=tuple(order), names=dict(nodes.names),
            groups=dict(nodes.groups), source=source, spans=tuple(spans),
            details=dict(nodes.details), pull_through=pull_through,
            unknown_values=frozenset(unknown_values),
            ranges=display.Ranges() if ranges is None else ranges)

    def flows(self, node: int, slot: int) -> bool:
        """Whether a gradient flows along the edge into `node`'s argument `slot`."""
        return flows_in(self.local[node], slot)

    def gradient(self, name: str) -> Any:
        return self.adjoints[self.inputs[name]]

    def carried_along(self) -> dict[tuple[int, int], Any]:
        """What the backward sweep pulled back along each edge that carries a gradient, by
        (consumer, slot): the part of the producer's adjoint that came through that edge."""
        parts = iter(self.carried)
        along: dict[tuple[int, int], Any] = {}
        for node in self.sweep_order:
            for slot in range(len(self.args[node])):
                if self.flows(node, slot):
                    part = next(parts, None)
                    if part is None:
                        return along
                    along[node, slot] = part
        return along

    def sweep(self) -> Iterator[SweepStep]:
        """Each adjoint update as the backward sweep made it, from the recorded contributions;
        totals are summed in the same order, so they equal the sweep's to the last bit."""
        totals: dict[int, Any] = {}
        parts = iter(self.carried)
        for node in self.sweep_order:
            for slot, argument in enumerate(self.args[node]):
                if not self.flows(node, slot):
                    continue
                part = next(parts)
                with np.errstate(all="ignore"):  # inf and nan are reported by numeric_issues
                    totals[argument] = part if argument not in totals else totals[argument] + part
                yield SweepStep(argument, node, slot, self.adjoints[node],
                                self.local[node][slot], part, totals[argument])


def written_as_operator(graph: AnnotatedGraph, node: int) -> bool:
    """Whether the program wrote this operation as an operator (`x^2`) or a call (`pow(x, 2)`)."""
    op = graph.ops[node]
    if op is None or not op.operator:
        return False
    span = graph.span(node)
    if span is None or not graph.source:
        return not op.callable or not graph.text(node).startswith(f"{op.name}(")
    return not op.callable or not graph.source.startswith(f"{op.name}(", span.start)


# The group of the nodes a gradient's sweep makes: `backward · grad(f, x)`. A picture draws it as
# a box whatever its size, so the reader tells the backward pass from the forward one.
BACKWARD_GROUP = "backward · "


def has_backward(groups: dict[int, tuple[str, ...]]) -> bool:
    """Whether some node was made by a gradient's sweep."""
    return any(part.startswith(BACKWARD_GROUP) for path in groups.values() for part in path)


OUTPUT_NAMES = ("f", "g", "h")  # the output's name when the program gives it none


def output_name(graph) -> str:
    """What every view calls the output: the program's name for it, else the first of f, g, h,
    f1, f2, ... that names no input and no other node, so `df/dx` never reads `df/df`."""
    own = graph.names.get(graph.output, ())
    if own and own[-1] not in graph.inputs:
        return own[-1]
    taken = set(graph.inputs) | set(graph.data) | \
        {name for names in graph.names.values() for name in names}
    return unused_output_name(taken)


def unused_output_name(taken: set[str]) -> str:
    """The first of f, g, h, f1, f2, ... not in `taken`."""
    for candidate in OUTPUT_NAMES:
        if candidate not in taken:
            return candidate
    number = 1
    while f"f{number}" in taken:
        number += 1
    return f"f{number}"


def short_name(path: tuple[str, ...]) -> str:
    """A group's name in its box or cluster: its last part, with its parent's when that part is
    a bare index (`layer1.0` for a block of an nn.Sequential, not `0`)."""
    return ".".join(path[-2:]) if path[-1].isdigit() and len(path) > 1 else path[-1]


def common_path(path: tuple[str, ...], other: tuple[str, ...]) -> tuple[str, ...]:
    """The longest group path both begin with: the innermost group holding both."""
    size = 0
    while size < min(len(path), len(other)) and path[size] == other[size]:
        size += 1
    return path[:size]
