"""Folding groups of an annotated graph into one node each, keeping the chain rule exact.

A folded group becomes one node with the group's output value and adjoint, and one edge from each
node outside it that feeds it. That edge carries the total derivative d output / d producer
through the group: for scalars the sum over the group's inner paths of their products, in general
the whole Jacobian, found by a reverse sweep inside the group per element of its output. A
Jacobian too large to store (a convolution block's) is known by its action instead: a sweep
inside the group pulls any gradient back, and the edge shows Jᵀ·1. So the paths of the folded
graph, and their products, still sum to the gradient. Those total derivatives cost sweeps (a
traced model's: calls of its backward functions), so `GroupDerivatives` keeps each group's for
later foldings of the same graph (a page folds it once per expanded group).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable
from weakref import WeakKeyDictionary

import numpy as np

from graphviz_ad.engine.annotated import (GROUP, INPUT, AnnotatedGraph, DeferredRow, GroupOp,
                                          Instance, common_path, flows_in, one_feeds_another,
                                          short_name)
from graphviz_ad.engine.graph import NodeLists
from graphviz_ad.engine.linear import JACOBIAN, known_by_action

# A folded edge stores d output / d producer whole (out.size × producer.size numbers, one sweep
# per output element) up to these sizes; a larger one is kept as its action.
MAX_JACOBIAN_ELEMENTS = 1_000_000
MAX_JACOBIAN_ROWS = 4_096


@dataclass(frozen=True)
class Folding:
    """A folded graph, the groups that were folded, and those that could not be, with why."""

    graph: AnnotatedGraph
    folded: tuple[tuple[str, ...], ...]
    refused: dict[tuple[str, ...], str]
    # For each node of the folded graph, the nodes of the original it stands for (a folded
    # group's output: its region, the output last), so views can say where a node went.
    stands_for: tuple[tuple[int, ...], ...] = ()


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
    """Each node in a group to fold, under the outermost such group. An input belongs only
    while nothing outside the group uses it (a layer's weights fold into the layer; a shared
    input stays a leaf of the picture), and the inputs in `keep` (--wrt) always stay outside."""
    chosen = set(paths)
    return _with_inputs(graph, _grouped(graph, keep, lambda path: [
        next((path[:depth] for depth in range(1, len(path) + 1) if path[:depth] in chosen),
             None)]))


def _grouped(graph: AnnotatedGraph, keep: Iterable[int], under) -> dict[tuple[str, ...],
                                                                         list[int]]:
    """Nodes by the groups `under(path)` names for each node's path; inputs set aside."""
    kept = set(keep)
    members: dict[tuple[str, ...], list[int]] = {}
    for node in sorted(graph.groups):
        if node in kept:
            continue
        for group in under(graph.groups[node]):
            if group is not None:
                members.setdefault(group, []).append(node)
    return members


def _with_inputs(graph: AnnotatedGraph, members: dict[tuple[str, ...], list[int]]
                 ) -> dict[tuple[str, ...], list[int]]:
    consumers = graph.consumers()
    for path, nodes in members.items():
        inside = set(nodes)
        nodes[:] = [node for node in nodes if graph.kinds[node] != INPUT or
                    all(user in inside for user, _ in consumers[node])]
    return {path: nodes for path, nodes in members.items() if nodes}


def outputs_of(graph: AnnotatedGraph, members: list[int],
               consumers: list[list[tuple[int, int]]]) -> list[int]:
    """The group's nodes that something outside it uses (or that are the graph's output)."""
    inside = set(members)
    return [node for node in members if node == graph.output
            or any(user not in inside for user, _ in consumers[node])]


def regions(graph: AnnotatedGraph, members: list[int],
            outputs: list[int]) -> dict[int, list[int]]:
    """For each output, the group's nodes it is computed from, up to the other outputs (which
    it takes as arguments, like any node outside). Regions may share inner nodes."""
    inside, boundary = set(members), set(outputs)
    found = {}
    for output in outputs:
        region, stack = {output}, [output]
        while stack:
            for argument in graph.args[stack.pop()]:
                if argument in inside and argument not in boundary and argument not in region:
                    region.add(argument)
                    stack.append(argument)
        found[output] = sorted(region)
    return found


def why_not_foldable(graph: AnnotatedGraph, members: list[int],
                     consumers: list[list[tuple[int, int]]]) -> str | None:
    """None when the group folds: something outside it uses it."""
    return None if outputs_of(graph, members, consumers) else "nothing outside it uses it"


def stored(graph: AnnotatedGraph, output: int, producers: list[int]) -> bool:
    """Whether the total derivatives into `output` are small enough to store whole."""
    size = int(np.size(graph.values[output]))
    largest = max((size * int(np.size(graph.values[node])) for node in producers), default=0)
    return largest <= MAX_JACOBIAN_ELEMENTS and size <= MAX_JACOBIAN_ROWS


class GroupDerivatives:
    """The total derivatives of one graph's folded groups, each found once: the local
    derivatives of a folded group's node, and its linear map (its action where they are kept
    as one, JACOBIAN where they are stored whole). Keyed by everything they are computed from
    (the group's output, its region and its producers), so a folding that keeps other inputs
    outside or opens other groups, and so has other regions or producers, finds its own. A
    row kept as an action is a `DeferredRow`, shared by every folding: its Jᵀ·1 is pulled once,
    when a view of any of them first reads it."""

    def __init__(self, graph: AnnotatedGraph):
        self.graph = graph
        self._found: dict[tuple[int, tuple[int, ...], tuple[int, ...]],
                          tuple[Any, Sequence[Any]]] = {}

    def of(self, output: int, region: list[int], producers: list[int]
           ) -> tuple[Any, Sequence[Any]]:
        key = (output, tuple(region), tuple(producers))
        if key not in self._found:
            if stored(self.graph, output, producers):
                self._found[key] = JACOBIAN, tuple(total_derivatives(self.graph, region,
                                                                     output, producers))
            else:
                self._found[key] = _group_action(self.graph, region, output, producers)
        return self._found[key]


Run = tuple[tuple[str, ...], ...]  # repeated sibling groups, folded together as one box


def run_path(run: Run) -> tuple[str, ...]:
    """The key of a run of repeated groups among the folded groups: `model.h.0 … 11`."""
    return run[0][:-1] + (f"{run[0][-1]} … {run[-1][-1]}",)


def run_label(run: Run) -> str:
    """What a run's box is called: `h.0 … h.11 × 12`; `lines 7-12 … 25-30 × 4`, a first word
    both share said once where numbers follow it."""
    first, last = short_name(run[0]), short_name(run[-1])
    shared = first[:next((size for size, (a, b) in enumerate(zip(first, last)) if a != b),
                         min(len(first), len(last)))].rfind(" ") + 1
    return f"{first} … {last[shared:] if last[shared:][:1].isdigit() else last} × {len(run)}"


def fold(graph: AnnotatedGraph, paths: Iterable[tuple[str, ...]],
         keep: Iterable[int] = (), derivatives: GroupDerivatives | None = None,
         runs: Iterable[Run] = ()) -> Folding:
    """`graph` with each group of `paths` folded, where it can be (see `why_not_foldable`):
    each of its outputs becomes one node, fed by what it is computed from outside the group
    (other outputs included); inputs in `keep` stay outside their groups. Each of `runs`, a
    chain of repeated groups (`repeated_runs`), folds as one group. `derivatives` (of this
    graph) gives the groups' total derivatives found by earlier foldings, and keeps those this
    one finds."""
    if derivatives is None:
        derivatives = GroupDerivatives(graph)
    elif derivatives.graph is not graph:
        raise ValueError("the total derivatives given are another graph's")
    consumers = graph.consumers()
    runs = list(runs)
    grouped = members_of(graph, [*paths, *(instance for run in runs for instance in run)], keep)
    instances: dict[tuple[str, ...], tuple[Instance, ...]] = {}
    for run in runs:
        parts = [grouped.pop(instance, []) for instance in run]
        grouped[run_path(run)] = sorted(node for part in parts for node in part)
        instances[run_path(run)] = tuple(_instance(graph, path, part, consumers)
                                         for path, part in zip(run, parts) if part)
    if runs:  # back in order of first node
        grouped = dict(sorted(grouped.items(), key=lambda item: item[1][0]))
    folds: dict[int, tuple[tuple[str, ...], list[int], list[int], bool]] = {}
    refused: dict[tuple[str, ...], str] = {}
    absorbed: set[int] = set()
    folded = []
    for path, members in grouped.items():
        reason = why_not_foldable(graph, members, consumers)
        if reason is not None:
            refused[path] = reason
            continue
        outputs = outputs_of(graph, members, consumers)
        for output, region in regions(graph, members, outputs).items():
            folds[output] = (path, region, _producers(graph, region, set(region)),
                             len(outputs) > 1)
        absorbed.update(members)
        folded.append(path)
    kept = [node for node in range(len(graph)) if node not in absorbed or node in folds]
    stands_for = tuple(tuple(sorted(set(folds[node][1]) - {node})) + (node,) if node in folds
                       else (node,) for node in kept)
    return Folding(_rebuild(graph, folds, absorbed, derivatives, instances), tuple(folded),
                   refused, stands_for)


def _instance(graph: AnnotatedGraph, path: tuple[str, ...], members: list[int],
              consumers: list[list[tuple[int, int]]]) -> Instance:
    """One group of a run, by what it hands on: its last output's value and adjoint."""
    output = outputs_of(graph, members, consumers)[-1]
    return Instance(path, graph.values[output], graph.adjoints[output])


def _producers(graph: AnnotatedGraph, members: list[int], inside: set[int]) -> list[int]:
    """The nodes outside the group that feed it, in node order."""
    return sorted({argument for node in members for argument in graph.args[node]
                   if argument not in inside})


def _sweep_inside(graph: AnnotatedGraph, inside: set[int], output: int,
                  seed: Any) -> dict[int, Any]:
    """A reverse sweep inside the group from `seed` at `output`: what reaches each node."""
    carried: dict[int, Any] = {output: seed}
    for node in sorted(inside, reverse=True):
        gradient = carried.pop(node, None)
        if gradient is None or node > output:
            continue
        op = graph.ops[node]
        for slot, argument in enumerate(graph.args[node]):
            if not graph.flows(node, slot):
                continue
            part = op.linear_map.pullback(slot, graph.local[node][slot], gradient,
                                          graph.values[argument])
            carried[argument] = part if argument not in carried else carried[argument] + part
    return carried


def _puller(graph: AnnotatedGraph, members: list[int], output: int,
            producers: list[int]) -> Callable[[Any], list]:
    """A pull of a gradient of `output` back through the group to each producer (None where
    no gradient reaches it). The source's own engine does it in one call where every path
    between the producers and the output stays inside the group; else our sweep, edge by edge."""
    through = graph.pull_through
    if through is not None and not one_feeds_another(graph.args, producers):
        return lambda gradient: through(output, producers, gradient)
    inside = set(members)

    def sweep(gradient: Any) -> list:
        carried = _sweep_inside(graph, inside, output, gradient)
        return [carried.get(producer) for producer in producers]

    return sweep


def total_derivatives(graph: AnnotatedGraph, members: list[int], output: int,
                      producers: list[int]) -> list[Any]:
    """d output / d producer through the group only, of shape output.shape + producer.shape;
    None where no gradient flows. One pull through the group per output element."""
    pull = _puller(graph, members, output, producers)
    out_shape = np.shape(graph.values[output])
    rows: dict[int, list[Any]] = {producer: [] for producer in producers}
    flows = {producer: False for producer in producers}
    with np.errstate(all="ignore"):
        for index in np.ndindex(*out_shape):
            seed = np.zeros(out_shape)
            seed[index] = 1.0
            for producer, part in zip(producers, pull(seed[()])):
                flows[producer] |= part is not None
                rows[producer].append(np.zeros(np.shape(graph.values[producer]))
                                      if part is None else np.asarray(part, dtype=np.float64))
    return [np.reshape(np.array(rows[producer]), out_shape + np.shape(graph.values[producer]))[()]
            if flows[producer] else None for producer in producers]


def _group_action(graph: AnnotatedGraph, members: list[int], output: int,
                  producers: list[int]) -> tuple[Any, DeferredRow]:
    """The total derivatives kept as their action: a pull through the group, and each edge's
    Jᵀ·1 (None where no gradient flows), pulled when first read: through a traced model that
    is one more backward pass through the group, which only a view that shows it needs."""
    pull_some = _puller(graph, members, output, producers)

    def pull(gradient: Any) -> list:
        with np.errstate(all="ignore"):
            parts = pull_some(gradient)
        return [np.zeros_like(graph.values[producer])[()] if part is None else part
                for producer, part in zip(producers, parts)]

    scalar = np.ndim(graph.values[output]) == 0
    row = DeferredRow(_reached(graph, members, output, producers),
                      lambda: pull(np.ones_like(graph.values[output])[()]))
    return known_by_action("group", pull, scalar), row


def _reached(graph: AnnotatedGraph, members: list[int], output: int,
             producers: list[int]) -> list[bool]:
    """Whether a gradient of `output` reaches each producer through the group, without pulling
    one: along the edges that carry a gradient, as `_sweep_inside` carries it."""
    reached = {output}
    for node in sorted(members, reverse=True):
        if node not in reached:
            continue
        reached.update(argument for slot, argument in enumerate(graph.args[node])
                       if graph.flows(node, slot))
    return [producer in reached for producer in producers]


def _rebuild(graph: AnnotatedGraph, folds: dict, absorbed: set[int],
             derivatives: GroupDerivatives,
             instances: dict[tuple[str, ...], tuple[Instance, ...]]) -> AnnotatedGraph:
    kept = [node for node in range(len(graph)) if node not in absorbed or node in folds]
    renumber = {old: new for new, old in enumerate(kept)}
    table = NodeLists()
    local, spans = [], []
    for node in kept:
        if node in folds:
            path, region, producers, several = folds[node]
            # A group with several outputs shows each by its own name: `lines 1-9 → b3`.
            run = instances.get(path, ())
            name = run_label(tuple(instance.path for instance in run)) if run \
                else short_name(path)
            label = f"{name} → {graph.names.get(node, (graph.labels[node],))[-1]}" \
                if several else name
            description = f"the group {'.'.join(path)}, folded: {len(region)} nodes"
            linear_map, row = derivatives.of(node, region, producers)
            new = table.append(GROUP, GroupOp(label, len(producers), description,
                                              linear_map=linear_map, path=path,
                                              members=len(region), instances=run),
                               tuple(renumber[producer] for producer in producers),
                               graph.values[node], label, graph.requires_grad[node])
            local.append(row)
            if path[:-1]:
                table.groups[new] = path[:-1]
            spans.append(_covering(graph, region))
            table.details[new] = f"{'.'.join(path)}: {len(region)} nodes folded"
        else:
            new = table.append(graph.kinds[node], graph.ops[node],
                               tuple(renumber[argument] for argument in graph.args[node]),
                               graph.values[node], graph.labels[node],
                               graph.requires_grad[node])
            local.append(graph.local[node])
            if node in graph.groups:
                table.groups[new] = graph.groups[node]
            spans.append(graph.span(node))
            if node in graph.details:
                table.details[new] = graph.details[node]
        if node in graph.names:
            table.names[new] = graph.names[node]
    # The graph's own names for its inputs (an importer's may differ from their labels).
    table.inputs = {name: renumber[node] for name, node in graph.inputs.items()
                    if node in renumber}
    adjoints = [graph.adjoints[node] for node in kept]
    order, carried = _sweep_record(table.ops, table.args, table.values, adjoints,
                                   table.requires_grad, local)
    return AnnotatedGraph.assembled(
        table, renumber[graph.output], adjoints=adjoints, local=local, carried=carried,
        order=order, source=graph.source, spans=spans if graph.spans else (),
        unknown_values=(renumber[node] for node in graph.unknown_values if node in renumber),
        ranges=graph.ranges)


def _covering(graph: AnnotatedGraph, members: list[int]):
    spans = [graph.span(node) for node in members if graph.span(node) is not None]
    if not spans:
        return None
    covering = spans[0]
    for span in spans[1:]:
        covering = covering.cover(span)
    return covering


def _sweep_record(ops, args, values, adjoints, requires, local) -> tuple[list[int], list[Any]]:
    """The backward sweep's record over the folded graph: what each edge carries back. Into a
    node that only one edge carries a gradient to, that edge carried its whole adjoint, so
    nothing is pulled back again (a folded group's pull is a sweep through it)."""
    flowing = [[slot for slot in range(len(args[node])) if flows_in(local[node], slot)]
               if op is not None and requires[node] else [] for node, op in enumerate(ops)]
    feeds = [0] * len(ops)
    for node, slots in enumerate(flowing):
        for slot in slots:
            feeds[args[node][slot]] += 1
    order, carried = [], []
    with np.errstate(all="ignore"):
        for node in range(len(ops) - 1, -1, -1):
            if not flowing[node]:
                continue
            for slot in flowing[node]:
                argument = args[node][slot]
                carried.append(adjoints[argument] if feeds[argument] == 1 else
                               ops[node].linear_map.pullback(slot, local[node][slot],
                                                             adjoints[node], values[argument]))
            order.append(node)
    return order, carried


@dataclass(frozen=True)
class Detail:
    """Which groups a picture folds, and what it says about it."""

    fold: tuple[tuple[str, ...], ...]
    boxes: int  # nodes drawn once they are folded
    automatic: bool  # chosen to fit the budget, rather than by --depth
    chain: int | None = None  # the longest chain, where whole levels folded to shorten it
    runs: tuple[Run, ...] = ()  # repeated groups, each run folded as one box


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def frames(paths: Iterable[tuple[str, ...]]) -> int:
    """How many outer levels are frames rather than levels: a group alone at its level that
    holds other groups (the one module a traced function reads, `model`) wraps the picture, so
    it is left out of `--depth`'s count as it may be left out of a group's name."""
    paths = list(paths)
    level = 0
    while True:
        here = {path for path in paths if len(path) == level + 1}
        if len(here) != 1 or not any(len(path) > level + 1 for path in paths):
            return level
        level += 1


def choose_detail(graph: AnnotatedGraph, budget: int, expand: Iterable[tuple[str, ...]] = (),
                  depth: int | None = None, expand_all: bool = False,
                  keep: Iterable[int] = (), on_paths: Iterable[int] = (),
                  chain_budget: int | None = None, wrt: int | None = None,
                  merge: bool = True) -> Detail:
    """The groups to fold so the picture has at most `budget` boxes: the deepest first, then
    the largest, and those holding a node of `on_paths` (the paths of --wrt) last. When that
    still leaves a chain of more than `chain_budget` boxes in a row (a deep network drawn as one
    long strip), every group below one depth folds instead, the deepest depth that fits both
    (or has the shortest chain), except the groups where the input `wrt` is first used.
    `depth` folds exactly the groups nested deeper than it instead, not counting the frames
    (see `frames`); `expand_all` folds nothing. Then each group of `expand` (paths) opens, with
    the folded groups around it and inside it (see `_opened`). Last, with `merge`, repeated
    groups that fold, or hold groups that fold, fold as one box per run (`repeated_runs`)."""
    if expand_all:
        return Detail((), len(graph), False)
    grouping = _Grouping.of(graph, keep)
    on_path = {path for node in on_paths for path in _prefixes(graph.groups.get(node, ()))}
    if depth is not None:
        chosen = _at_depth(grouping, depth + frames(group_paths(graph)), set())
    else:
        chosen = _fitted(graph, grouping, budget, on_path, chain_budget, wrt)
    expand = set(expand)
    chosen = _opened(grouping, chosen, expand, budget, on_path)
    return _merged(graph, grouping, chosen, expand) if merge else chosen


def _merged(graph: AnnotatedGraph, grouping: _Grouping, chosen: Detail,
            opened: set[tuple[str, ...]]) -> Detail:
    """`chosen` with its repeated groups folded as one box per run: those that fold, or hold
    groups that fold, except the groups `opened` names, those around them, and the children
    of an opened group (`--expand h` draws h.0, h.1, ... one by one)."""
    protected = {group[:size] for group in opened for size in range(1, len(group) + 1)}
    holding = {outer for path in chosen.fold for outer in _prefixes(path)}
    runs = repeated_runs(graph, grouping, lambda path: path in holding and
                         path not in protected and path[:-1] not in opened)
    inside_runs = {instance for run in runs for instance in run}
    runs = [run for run in runs  # a run inside another's group folds with it
            if not any(outer in inside_runs for outer in _prefixes(run[0])[:-1])]
    if not runs:
        return chosen
    merged = {instance for run in runs for instance in run}
    fold = tuple(path for path in chosen.fold
                 if not any(outer in merged for outer in _prefixes(path)))
    boxes = grouping.nodes - sum(grouping.saving(path) for path in fold) - sum(
        sum(len(grouping.members[instance]) for instance in run) - 1 for run in runs)
    return replace(chosen, fold=fold, boxes=boxes, runs=tuple(runs))


def repeated_runs(graph: AnnotatedGraph, grouping: _Grouping,
                  candidate: Callable[[tuple[str, ...]], bool]) -> list[Run]:
    """Runs of two or more consecutive sibling groups of `candidate`s with the same structure
    (`structure`: the same ops, wiring and shapes, whatever their names), which together hand
    on one output, as the blocks of a network hand the stream from one to the next (`h.0`,
    `h.1`, ...): folded as one box, the run's paths and their products stay exact."""
    siblings: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for path in grouping.members:
        siblings.setdefault(path[:-1], []).append(path)
    consumers = graph.consumers()
    runs = []
    for children in siblings.values():
        # In the order they compute, not of their inputs (a model's weights come first).
        children.sort(key=lambda path: next((node for node in grouping.members[path]
                                             if graph.kinds[node] != INPUT),
                                            grouping.members[path][0]))
        run: list[tuple[str, ...]] = []
        shape = None
        for path in [*children, None]:
            here = structure(graph, path, grouping.members[path]) \
                if path is not None and candidate(path) else None
            if run and (here is None or here != shape):
                if len(run) > 1 and _hands_on_one(graph, grouping, run, consumers):
                    runs.append(tuple(run))
                run = []
            if here is not None:
                run.append(path)
                shape = here
    return runs


def structure(graph: AnnotatedGraph, path: tuple[str, ...], members: list[int]) -> tuple:
    """What two groups share when they repeat each other: for each member in order, its kind,
    op, shape, place among the group's own groups, and where its arguments come from (a member,
    by place; outside, by order of first use and shape), but not names or values."""
    place = {node: index for index, node in enumerate(members)}
    outside: dict[int, int] = {}
    # Inner groups by order of first member and depth, not by name: `y (5)` repeats `y (2)`.
    inner: dict[tuple[str, ...], tuple[int, int]] = {}
    found = []
    for node in members:
        sources = tuple(("member", place[argument]) if argument in place else
                        ("outside", outside.setdefault(argument, len(outside)),
                         np.shape(graph.values[argument])) for argument in graph.args[node])
        within = graph.groups.get(node, ())[len(path):]
        op = graph.ops[node]
        found.append((graph.kinds[node], None if op is None else getattr(op, "name", op),
                      np.shape(graph.values[node]),
                      inner.setdefault(within, (len(inner), len(within))), sources))
    return tuple(found)


def _hands_on_one(graph: AnnotatedGraph, grouping: _Grouping, run: list[tuple[str, ...]],
                  consumers: list[list[tuple[int, int]]]) -> bool:
    """Whether the run's groups together have one output: each hands on only to the next."""
    members = [node for path in run for node in grouping.members[path]]
    return len(outputs_of(graph, members, consumers)) == 1


@dataclass(frozen=True)
class _Grouping:
    """Every group's members, and how many of them something outside it uses (its outputs),
    found for all groups in one pass over the edges. It holds no reference to its graph, which
    keys it in `_GROUPINGS`."""

    nodes: int  # of the graph
    members: dict[tuple[str, ...], list[int]]
    outputs: dict[tuple[str, ...], int]

    @classmethod
    def of(cls, graph: AnnotatedGraph, keep: Iterable[int]) -> _Grouping:
        """The grouping of `graph` with the inputs of `keep` outside every group, found once
        while the graph lives: a page chooses the detail of each of its pictures."""
        found = _GROUPINGS.setdefault(graph, {})
        kept = frozenset(keep)
        if kept not in found:
            found[kept] = cls._found(graph, kept)
        return found[kept]

    @classmethod
    def _found(cls, graph: AnnotatedGraph, keep: frozenset[int]) -> _Grouping:
        # A node is in the groups of its path up to some depth (an input only where all its
        # uses are); it is an output of those deeper than the depth to which every consumer
        # shares its groups (none for the graph's output).
        consumers = graph.consumers()
        members = _members_by_path(graph, keep)
        depth = [0] * len(graph)
        for path, nodes in members.items():
            for node in nodes:
                depth[node] = max(depth[node], len(path))
        outputs = dict.fromkeys(members, 0)
        for node, deepest in enumerate(depth):
            if not deepest:
                continue
            path = graph.groups[node]
            shared = 0 if node == graph.output else deepest
            for user, _ in consumers[node]:
                if shared == 0:
                    break
                shared = min(shared, depth[user],
                             len(common_path(path, graph.groups.get(user, ()))))
            for size in range(shared + 1, deepest + 1):
                outputs[path[:size]] += 1
        return cls(len(graph), members, outputs)

    def saving(self, path: tuple[str, ...]) -> int:
        """How many fewer boxes the picture has with `path` folded (nothing inside it folded)."""
        return len(self.members[path]) - self.outputs[path]

    def foldable(self, path: tuple[str, ...]) -> bool:
        """Whether `path` folds: something outside it uses it (see `why_not_foldable`)."""
        return self.outputs[path] > 0


_GROUPINGS: WeakKeyDictionary[AnnotatedGraph, dict[frozenset[int], _Grouping]] = \
    WeakKeyDictionary()


def _opened(grouping: _Grouping, chosen: Detail, opened: set[tuple[str, ...]], budget: int,
            on_path: set[tuple[str, ...]]) -> Detail:
    """`chosen` with each group of `opened` drawn open, and so shown in more detail than
    without it: the folded groups around it and inside it open, and what they hold folds again
    only as far as `budget` needs (the deepest first), never those groups themselves nor the
    path to an opened group. The rest of the picture stays as it was."""
    reopened = {path for path in chosen.fold for group in opened
                if path[:len(group)] == group or group[:len(path)] == path}
    if not reopened:
        return chosen
    members = grouping.members
    protected = {group[:size] for group in opened for size in range(1, len(group) + 1)}
    inside = [path for path in members if path not in protected and any(
        len(path) > len(outer) and path[:len(outer)] == outer for outer in reopened)]
    saved = {path: grouping.saving(path) for path in chosen.fold if path not in reopened}
    boxes = _fold_to(grouping, budget, saved, grouping.nodes - sum(saved.values()),
                     sorted(inside, key=lambda path: (path in on_path, -len(path),
                                                      -len(members[path]))))
    return Detail(tuple(saved), boxes, chosen.automatic)


def _fold_to(grouping: _Grouping, budget: int, saved: dict[tuple[str, ...], int], boxes: int,
             order: Iterable[tuple[str, ...]]) -> int:
    """Fold the groups of `order`, in that order, until at most `budget` boxes are drawn; each
    folds with what `saved` already folds inside it, into `saved`. Returns the boxes drawn."""
    # The folded groups inside each group, kept up to date as groups fold: folding one finds
    # those it takes in without a scan of every folded group.
    inside: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for folded in saved:
        for outer in _prefixes(folded)[:-1]:
            inside.setdefault(outer, set()).add(folded)
    for path in order:
        if boxes <= budget:
            break
        if any(outer in saved for outer in _prefixes(path)):
            continue  # folded already, or inside a folded group
        inner = inside.get(path, set())
        whole = grouping.saving(path)
        saving = whole - sum(saved[folded] for folded in inner)
        if saving <= 0 or not grouping.foldable(path):
            continue
        for folded in list(inner):
            del saved[folded]
            for outer in _prefixes(folded)[:-1]:
                inside[outer].discard(folded)
        saved[path] = whole
        for outer in _prefixes(path)[:-1]:
            inside.setdefault(outer, set()).add(path)
        boxes -= saving
    return boxes


def _fitted(graph: AnnotatedGraph, grouping: _Grouping, budget: int,
            on_path: set[tuple[str, ...]], chain_budget: int | None,
            wrt: int | None) -> Detail:
    """The groups to fold to fit `budget` boxes and `chain_budget` in a row (`choose_detail`)."""
    members = grouping.members
    counts = {path: len(nodes) for path, nodes in members.items()}
    order = sorted(counts, key=lambda path: (path in on_path, -len(path), -counts[path]))
    saved: dict[tuple[str, ...], int] = {}
    boxes = _fold_to(grouping, budget, saved, len(graph), order)
    chosen = Detail(tuple(saved), boxes, True)
    if not saved or chain_budget is None or \
            longest_chain(graph, members, saved) <= chain_budget:
        return chosen
    # Whole levels, deepest first, keeping open the groups of the first use of --wrt's input
    # (its paths start in detail) while that fits: the first level within both budgets, else
    # the one with the shortest chain.
    first_use = min((user for user, _ in graph.consumers()[wrt]), default=None) \
        if wrt is not None else None
    openings = [set(_prefixes(graph.groups.get(first_use, ()))), set()]
    shortest = None
    for kept_open in openings if openings[0] != openings[1] else openings[1:]:
        for level in range(max(map(len, counts)) - 1, -1, -1):
            uniform = _at_depth(grouping, level, kept_open)
            if uniform.boxes > budget:
                continue
            uniform = replace(uniform, automatic=True,
                              chain=longest_chain(graph, members, uniform.fold))
            if uniform.chain <= chain_budget:
                return uniform
            if shortest is None or uniform.chain < shortest.chain:
                shortest = uniform
    return shortest or chosen


def _at_depth(grouping: _Grouping, depth: int, protected: set[tuple[str, ...]]) -> Detail:
    """Every foldable group nested exactly `depth` deep folded (those inside it with it)."""
    chosen = [path for path in grouping.members if len(path) == depth + 1
              and path not in protected and grouping.foldable(path)]
    return Detail(tuple(chosen), grouping.nodes - sum(
        grouping.saving(path) for path in chosen), False)


def longest_chain(graph: AnnotatedGraph, members: dict[tuple[str, ...], list[int]],
                  folded: Iterable[tuple[str, ...]]) -> int:
    """About how many boxes the longest chain of the picture has with `folded` folded, each
    group counted as one box: one pass in node order, so a group's depth is that of the
    producers of its nodes seen so far."""
    box = {node: path for path in folded for node in members[path]}
    level: dict[Any, int] = {}
    for node in range(len(graph)):
        key = box.get(node, node)
        here = level.get(key, 1)
        for argument in graph.args[node]:
            source = box.get(argument, argument)
            if source != key:
                here = max(here, level[source] + 1)
        level[key] = here
    return max(level.values(), default=0)


def _prefixes(path: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [path[:size] for size in range(1, len(path) + 1)]


def _members_by_path(graph: AnnotatedGraph, keep: Iterable[int]) -> dict[tuple[str, ...],
                                                                          list[int]]:
    """Every group's nodes, nested groups' included, in node order, in one pass."""
    return _with_inputs(graph, _grouped(graph, keep, _prefixes))
