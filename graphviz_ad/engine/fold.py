"""Folding groups of an annotated graph into one node each, keeping the chain rule exact.

A folded group becomes one node with the group's output value and adjoint, and one edge from each
node outside it that feeds it. That edge carries the total derivative d output / d producer
through the group: for scalars the sum over the group's inner paths of their products, in general
the whole Jacobian, found by a reverse sweep inside the group per element of its output. So the
paths of the folded graph, and their products, still sum to the gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from graphviz_ad.engine.annotated import GROUP, AnnotatedGraph
from graphviz_ad.engine.linear import JACOBIAN, LinearMap

# A folded edge stores d output / d producer whole: out.size × producer.size numbers.
MAX_JACOBIAN_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class GroupOp:
    """The operation of a folded group, as the views see it."""

    name: str
    path: tuple[str, ...]
    arity: int
    members: int  # how many nodes it stands for
    linear_map: LinearMap = JACOBIAN
    stops_gradient: bool = False
    operator: str | None = None
    callable: bool = True

    @property
    def label(self) -> str:
        return self.name

    @property
    def elementwise(self) -> bool:
        return False

    @property
    def description(self) -> str:
        return f"the group {'.'.join(self.path)}, folded: {self.members} nodes"

    def formula(self, slot: int, arguments: tuple[str, ...]) -> str:
        return f"∂{self.name}/∂{arguments[slot]}"

    def written(self, arguments: tuple[str, ...], as_operator: bool | None = None) -> str:
        return f"{self.name}({', '.join(arguments)})"


@dataclass(frozen=True)
class Folding:
    """A folded graph, the groups that were folded, and those that could not be, with why."""

    graph: AnnotatedGraph
    folded: tuple[tuple[str, ...], ...]
    refused: dict[tuple[str, ...], str]


def group_paths(graph: AnnotatedGraph) -> list[tuple[str, ...]]:
    """Every group and every enclosing group, outermost first, in order of first node."""
    seen: dict[tuple[str, ...], None] = {}
    for node in sorted(graph.groups):
        path = graph.groups[node]
        for depth in range(1, len(path) + 1):
            seen.setdefault(path[:depth], None)
    return list(seen)


def members_of(graph: AnnotatedGraph, paths: Iterable[tuple[str, ...]],
               keep: Iterable[int] = ()) -> dict[tuple[str, ...], list[int]]:
    """Each node in a group to fold, under the outermost such group; inputs in `keep` (and every
    input of a program, which belongs to no group) stay outside."""
    chosen = set(paths)
    kept = set(keep)
    members: dict[tuple[str, ...], list[int]] = {}
    for node in sorted(graph.groups):
        if node in kept:
            continue
        path = graph.groups[node]
        for depth in range(1, len(path) + 1):
            if path[:depth] in chosen:
                members.setdefault(path[:depth], []).append(node)
                break
    return members


def fold(graph: AnnotatedGraph, paths: Iterable[tuple[str, ...]],
         keep: Iterable[int] = ()) -> Folding:
    """`graph` with each group of `paths` folded into one node, where it can be: a group folds
    when exactly one of its nodes is used outside it (or is the output) and its total derivative
    is small enough to store (MAX_JACOBIAN_ELEMENTS)."""
    consumers = graph.consumers()
    folds: dict[int, tuple[tuple[str, ...], list[int], list[int]]] = {}
    refused: dict[tuple[str, ...], str] = {}
    absorbed: dict[int, int] = {}
    for path, members in members_of(graph, paths, keep).items():
        inside = set(members)
        outputs = [node for node in members if node == graph.output
                   or any(user not in inside for user, _ in consumers[node])]
        if len(outputs) != 1:
            refused[path] = (f"{len(outputs)} of its nodes are used outside it" if outputs
                             else "nothing outside it uses it")
            continue
        (output,) = outputs
        producers = _producers(graph, members, inside)
        size = int(np.size(graph.values[output]))
        largest = max((size * int(np.size(graph.values[node])) for node in producers), default=0)
        if largest > MAX_JACOBIAN_ELEMENTS:
            refused[path] = (f"its total derivative would have {largest:,} numbers (the limit "
                             f"is {MAX_JACOBIAN_ELEMENTS:,})")
            continue
        folds[output] = (path, members, producers)
        for node in members:
            absorbed[node] = output
    return Folding(_rebuild(graph, folds, absorbed), tuple(folds[node][0] for node in sorted(folds)),
                   refused)


def _producers(graph: AnnotatedGraph, members: list[int], inside: set[int]) -> list[int]:
    """The nodes outside the group that feed it, in node order."""
    return sorted({argument for node in members for argument in graph.args[node]
                   if argument not in inside})


def total_derivatives(graph: AnnotatedGraph, members: list[int], output: int,
                      producers: list[int]) -> list[Any]:
    """d output / d producer through the group only, of shape output.shape + producer.shape;
    None where no gradient flows. One reverse sweep inside the group per output element."""
    inside = set(members)
    out_shape = np.shape(graph.values[output])
    rows: dict[int, list[Any]] = {producer: [] for producer in producers}
    flows = {producer: False for producer in producers}
    with np.errstate(all="ignore"):
        for index in np.ndindex(*out_shape):
            seed = np.zeros(out_shape)
            seed[index] = 1.0
            carried: dict[int, Any] = {output: seed[()]}
            for node in sorted(inside, reverse=True):
                gradient = carried.pop(node, None)
                if gradient is None or node > output:
                    continue
                op = graph.ops[node]
                for slot, argument in enumerate(graph.args[node]):
                    local = graph.local[node][slot]
                    if local is None:
                        continue
                    part = op.linear_map.pullback(slot, local, gradient, graph.values[argument])
                    carried[argument] = part if argument not in carried else \
                        carried[argument] + part
            for producer in producers:
                part = carried.get(producer)
                flows[producer] |= part is not None
                rows[producer].append(np.zeros(np.shape(graph.values[producer]))
                                      if part is None else np.asarray(part, dtype=np.float64))
    return [np.reshape(np.array(rows[producer]), out_shape + np.shape(graph.values[producer]))[()]
            if flows[producer] else None for producer in producers]


def _rebuild(graph: AnnotatedGraph, folds: dict, absorbed: dict[int, int]) -> AnnotatedGraph:
    kept = [node for node in range(len(graph)) if node not in absorbed or node in folds]
    renumber = {old: new for new, old in enumerate(kept)}
    kinds, ops, args, labels, local, names, groups, spans, details = [], [], [], [], [], {}, {}, \
        [], {}
    for node in kept:
        new = renumber[node]
        if node in folds:
            path, members, producers = folds[node]
            kinds.append(GROUP)
            ops.append(GroupOp(path[-1], path, len(producers), len(members)))
            args.append(tuple(renumber[producer] for producer in producers))
            labels.append(path[-1])
            local.append(tuple(total_derivatives(graph, members, node, producers)))
            if path[:-1]:
                groups[new] = path[:-1]
            spans.append(_covering(graph, members))
            details[new] = f"{'.'.join(path)}: {len(members)} nodes folded"
        else:
            kinds.append(graph.kinds[node])
            ops.append(graph.ops[node])
            args.append(tuple(renumber[argument] for argument in graph.args[node]))
            labels.append(graph.labels[node])
            local.append(graph.local[node])
            if node in graph.groups:
                groups[new] = graph.groups[node]
            spans.append(graph.span(node))
            if node in graph.details:
                details[new] = graph.details[node]
        if node in graph.names:
            names[new] = graph.names[node]
    values = tuple(graph.values[node] for node in kept)
    adjoints = tuple(graph.adjoints[node] for node in kept)
    requires = tuple(graph.requires_grad[node] for node in kept)
    order, carried = _sweep_record(ops, args, values, adjoints, requires, local)
    return AnnotatedGraph(
        kinds=tuple(kinds), ops=tuple(ops), args=tuple(args), values=values,
        labels=tuple(labels), requires_grad=requires,
        inputs={name: renumber[node] for name, node in graph.inputs.items() if node in renumber},
        output=renumber[graph.output], adjoints=adjoints, local=tuple(local),
        carried=tuple(carried), sweep_order=tuple(order), names=names, groups=groups,
        source=graph.source, spans=tuple(spans) if graph.spans else (), details=details)


def _covering(graph: AnnotatedGraph, members: list[int]):
    spans = [graph.span(node) for node in members if graph.span(node) is not None]
    if not spans:
        return None
    covering = spans[0]
    for span in spans[1:]:
        covering = covering.cover(span)
    return covering


def _sweep_record(ops, args, values, adjoints, requires, local) -> tuple[list[int], list[Any]]:
    """The backward sweep's record over the folded graph: what each edge carries back."""
    order, carried = [], []
    with np.errstate(all="ignore"):
        for node in range(len(ops) - 1, -1, -1):
            op = ops[node]
            if op is None or not requires[node]:
                continue
            used = False
            for slot, argument in enumerate(args[node]):
                if local[node][slot] is None:
                    continue
                used = True
                carried.append(op.linear_map.pullback(slot, local[node][slot], adjoints[node],
                                                      values[argument]))
            if used:
                order.append(node)
    return order, carried
