"""The chain rule as a sum over paths: counting (dynamic programming), the top K, and enumeration.

A path runs from an input up to the output along edges a gradient flows through (never into a
constant, never across a cut). Its contribution is the chain of its edges' local derivatives:
their product for scalars, the chain of vector-Jacobian products for arrays. The contributions of
all paths sum to the gradient.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import AnnotatedGraph, ForeignOp, GroupOp, output_name
from graphviz_ad.engine.fold import frames, group_paths
from graphviz_ad.engine.linear import JACOBIAN, MATMUL
from graphviz_ad.errors import LimitError
from graphviz_ad.tables import Table, Tabled
from graphviz_ad.engine.defaults import ENUMERATION_LIMIT

# Edges of all the paths listed at once, bounded before listing by (paths) x (the longest path):
# each edge is held and pulled back along. About 2.5 s and 40 MB: the top 20 of a 100,000-node
# chain.
MAX_LISTED_EDGES = 2_000_000
# Pulling a path's product back costs, on each of its edges, the elements of its producer and
# its consumer and the call (`edge_work`): EDGE_WORK for a call of the source's backward
# function (a traced model's foreign op: about 1 ms, as much as 10,000 elements at about
# 100 ns each), 1 for our engine's own pullbacks. The command line and the page weigh a listing
# by that one estimate (`listing_work`).
EDGE_WORK = 10_000
# A listing is refused past this much of that work, before any path is made: about 30 s, as
# resnet18's top 6 from its first convolution take (its paths weigh 48 million elements each).
MAX_LISTING_WORK = 300_000_000
# Summarizing each input's paths (`gad paths` and `gad explain` without --wrt) visits the nodes
# after each input: about 4 µs a visit, so a few seconds in all.
MAX_SUMMARY_VISITS = 1_000_000
# Exact path counts are integers of up to one bit per node on the way; adding them costs their
# length. Counting stays exact while the counts held at once fit EXACT_COUNT_BITS (32 MB) and
# all the counts made fit EXACT_COUNT_WORK (about a second); past either, the count is
# estimated. A 100,000-line doubling chain (2^100000 paths) is exact.
EXACT_COUNT_BITS = 256_000_000
EXACT_COUNT_WORK = 16_000_000_000


@dataclass(frozen=True)
class CountEstimate:
    """A path count too large to count exactly within the budgets: its base-2 logarithm."""

    log2: float


def fewer(count: int | CountEstimate, shown: int) -> int | CountEstimate:
    """The paths left after `shown` of them; an estimate stays the same estimate."""
    return count - shown if isinstance(count, int) else count


@dataclass(frozen=True)
class Edge:
    producer: int
    consumer: int
    slot: int


@dataclass(frozen=True)
class Path:
    """Edges from the input up to the output, their local derivatives, and the contribution."""

    start: int  # the input; when the output is the input itself, the path has no edges
    edges: tuple[Edge, ...]
    factors: tuple[Any, ...]
    product: Any

    @property
    def nodes(self) -> tuple[int, ...]:
        return (self.start,) + tuple(edge.consumer for edge in self.edges)


# A path's product in a REPL's table, as `gad paths` prints it.
PRODUCT_DIGITS = 10


@dataclass(frozen=True, repr=False)
class PathSummary(Tabled):
    """The paths shown for one input, and what the rest add up to."""

    name: str
    gradient: Any
    count: int | CountEstimate
    paths: tuple[Path, ...]
    rest_count: int | CountEstimate
    rest_sum: Any
    exact_order: bool  # False for array graphs too large to enumerate: ordered by a bound
    # The graph they run through, which names their nodes in the table.
    graph: AnnotatedGraph | None = field(default=None, compare=False)

    def table(self) -> Table:
        """The rows of `gad paths --wrt NAME`: each path, its local gradients and product."""
        graph = self.graph
        rows = [(str(index), display.path_chain(graph, path) if graph else "",
                 display.path_factors(path), display.value(path.product, PRODUCT_DIGITS))
                for index, path in enumerate(self.paths, start=1)]
        if self.rest_count:
            rows.append(("", display.other_paths(self.rest_count), "",
                         display.value(self.rest_sum, PRODUCT_DIGITS)))
        rows.append(("", "gradient (backward pass)", "", display.value(self.gradient)))
        output = output_name(graph) if graph else "the output"
        return Table(f"paths from {self.name} to {output}: {display.count(self.count)}",
                     ("#", "path", "local gradients along it", "product"), tuple(rows),
                     right=(0, 3))

    @property
    def shown_sum(self) -> Any:
        with np.errstate(all="ignore"):
            return sum((path.product for path in self.paths), np.zeros_like(self.gradient))

    @property
    def cancellation_digits(self) -> float:
        """Digits lost to cancellation: log10(largest |term| / |sum|); 0 when there is none,
        and 0 when the terms cancel to exactly 0 (as `x - x` does: nothing was lost)."""
        with np.errstate(all="ignore"):
            largest = max((float(np.max(np.abs(path.product), initial=0.0))
                           for path in self.paths), default=0.0)
            total = float(np.max(np.abs(self.gradient), initial=0.0))
        # inf or nan on either side (1e308 + 1e308 is inf) is overflow, not cancellation.
        if not (math.isfinite(largest) and math.isfinite(total)) or largest == 0.0 \
                or total == 0.0:
            return 0.0
        return max(0.0, math.log10(largest / total))


def _sums(graph: AnnotatedGraph, start: int, counts: list[int]) -> Iterator[tuple[int, int]]:
    """Each node after `start` in creation order, with the sum of `counts` over the arguments
    a gradient flows from; the caller stores the node's count before the next is summed."""
    flows, args = graph.flows, graph.args
    for node in range(start + 1, graph.output + 1):
        total = 0
        for slot, argument in enumerate(args[node]):
            if flows(node, slot):
                total += counts[argument]
        yield node, total


def path_counts(graph: AnnotatedGraph, start: int, cap: int) -> list[int]:
    """Number of paths from `start` to every node, linear in the edges; a count above `cap`
    is held as `cap` (exact below it, and never a huge integer)."""
    counts = [0] * len(graph)
    counts[start] = 1
    for node, total in _sums(graph, start, counts):
        counts[node] = total if total < cap else cap
    return counts


def paths_to_output(graph: AnnotatedGraph, cap: int) -> list[int]:
    """Number of paths from every node to the output, held at most `cap`: the same dynamic
    program, backwards."""
    counts = [0] * len(graph)
    counts[graph.output] = 1
    for node in range(graph.output, -1, -1):
        if not counts[node]:
            continue
        for slot, argument in enumerate(graph.args[node]):
            if graph.flows(node, slot):
                counts[argument] = min(cap, counts[argument] + counts[node])
    return counts


def path_count(graph: AnnotatedGraph, name: str) -> int | CountEstimate:
    """The exact number of paths from `name` to the output, or an estimate when counting
    exactly would pass EXACT_COUNT_BITS or EXACT_COUNT_WORK. A count is dropped after its
    last use, so a chain holds only a few counts at a time."""
    start = graph.inputs[name]
    flows, args = graph.flows, graph.args
    last_use = [0] * len(graph)
    for node in range(start + 1, graph.output + 1):
        for slot, argument in enumerate(args[node]):
            if flows(node, slot):
                last_use[argument] = node
    counts = [0] * len(graph)
    counts[start] = 1
    held = made = 0
    for node, total in _sums(graph, start, counts):
        counts[node] = total
        bits = total.bit_length()
        held += bits
        made += bits
        for argument in args[node]:
            if last_use[argument] == node and counts[argument]:
                held -= counts[argument].bit_length()
                counts[argument] = 0
        if held > EXACT_COUNT_BITS or made > EXACT_COUNT_WORK:
            return CountEstimate(_log2_count(graph, start))
    return counts[graph.output]


def _log2_count(graph: AnnotatedGraph, start: int) -> float:
    """log2 of the number of paths from `start` to the output, in floating point."""
    logs = [-math.inf] * len(graph)
    logs[start] = 0.0
    flows, args = graph.flows, graph.args
    for node in range(start + 1, graph.output + 1):
        terms = [logs[argument] for slot, argument in enumerate(args[node])
                 if flows(node, slot) and logs[argument] > -math.inf]
        if terms:
            top = max(terms)
            logs[node] = top + math.log2(sum(2.0 ** (term - top) for term in terms))
    return logs[graph.output]


def longest_path(graph: AnnotatedGraph, start: int) -> int:
    """Edges on the longest path from `start` to the output (0 when there is none)."""
    longest: list[int | None] = [None] * len(graph)
    longest[start] = 0
    flows, args = graph.flows, graph.args
    for node in range(start + 1, graph.output + 1):
        for slot, argument in enumerate(args[node]):
            if flows(node, slot) and longest[argument] is not None:
                candidate = longest[argument] + 1
                if longest[node] is None or candidate > longest[node]:
                    longest[node] = candidate
    return longest[graph.output] or 0


def _magnitude(graph: AnnotatedGraph, edge: Edge) -> float:
    """log of a bound on how much an edge can scale a gradient (exact for scalars)."""
    local = graph.local[edge.consumer][edge.slot]
    op = graph.ops[edge.consumer]
    if np.ndim(local) == 0:
        size = abs(float(local))
    elif op.linear_map is MATMUL:
        with np.errstate(all="ignore"):
            size = float(np.linalg.norm(local))
    else:
        size = float(np.max(np.abs(local), initial=0.0))
    if math.isnan(size):
        return math.inf  # a nan factor is the first thing to look at
    return math.log(size) if size > 0 else -math.inf


def contribution(graph: AnnotatedGraph, edges: tuple[Edge, ...]) -> Any:
    """The path's term of the gradient: d output / d input through these edges only."""
    carried: Any = np.float64(1.0)
    for edge in reversed(edges):
        op = graph.ops[edge.consumer]
        local = graph.local[edge.consumer][edge.slot]
        carried = op.linear_map.pullback(edge.slot, local, carried, graph.values[edge.producer])
    return carried


def _make_path(graph: AnnotatedGraph, start: int, edges: tuple[Edge, ...]) -> Path:
    factors = tuple(graph.local[edge.consumer][edge.slot] for edge in edges)
    with np.errstate(all="ignore"):
        return Path(start, edges, factors, contribution(graph, edges))


def _edges_in(graph: AnnotatedGraph, node: int, reachable: list) -> Iterator[Edge]:
    for slot, argument in enumerate(graph.args[node]):
        if reachable[argument] is not None and graph.flows(node, slot):
            yield Edge(argument, node, slot)


def best_first(graph: AnnotatedGraph, name: str, limit: int | None = None) -> Iterator[Path]:
    """Paths in order of decreasing |product| (for arrays: of a bound on it), lazily.

    First a dynamic program from the input: best[v], the largest log-magnitude of any path from
    the input to v. Then a search from the output down, where a partial path's cost is the sum
    of its edges' gaps, best[consumer] - (best[producer] + log|factor|): zero on a best edge,
    so the cost is exactly how far below the best path the path's best completion falls. That
    estimate is exact, so whole paths come out in order and each costs about its length in
    steps; equal products stay exactly equal (gaps of 0.0, not sums rounded differently), and
    a tie goes to the deeper state, so equal paths are found depth-first.

    Each state in the queue completes to at least one path of its own cost, so when only
    `limit` paths are wanted only the best `limit` states are kept: memory stays proportional
    to `limit`, even with 2^60 paths of equal products.
    """
    start = graph.inputs[name]
    best: list[float | None] = [None] * len(graph)
    best[start] = 0.0
    incoming: list[tuple[tuple[Edge, float], ...]] = [()] * len(graph)
    for node in range(start + 1, graph.output + 1):
        edges = tuple((edge, _magnitude(graph, edge))
                      for edge in _edges_in(graph, node, best))
        incoming[node] = edges
        for edge, weight in edges:
            candidate = best[edge.producer] + weight
            if best[node] is None or candidate > best[node]:
                best[node] = candidate
    if best[graph.output] is None:
        return
    found = counter = 0
    # Entries: (cost, -edges so far, tie counter, node, suffix as a linked list (edge, rest)).
    heap: list = [(0.0, 0, counter, graph.output, None)]
    while heap:
        cost, depth, _, node, chain = heapq.heappop(heap)
        if node == start:
            edges = []
            while chain is not None:
                edge, chain = chain
                edges.append(edge)
            found += 1
            yield _make_path(graph, start, tuple(edges))
            continue
        for edge, weight in incoming[node]:
            counter += 1
            gap = best[node] - (best[edge.producer] + weight)
            if math.isnan(gap):  # inf - inf: a nan factor, or only zero products: no gap
                gap = 0.0
            heapq.heappush(heap, (cost + max(gap, 0.0), depth - 1, counter, edge.producer,
                                  (edge, chain)))
        if limit is not None and len(heap) > 4 * max(1, limit - found):
            heap = heapq.nsmallest(limit - found, heap)


def edge_uses(paths) -> dict[tuple[int, int], list[int]]:
    """For each (consumer, slot), the indices of the given paths that pass along that edge."""
    uses: dict[tuple[int, int], list[int]] = {}
    for index, path in enumerate(paths):
        for edge in path.edges:
            uses.setdefault((edge.consumer, edge.slot), []).append(index)
    return uses


def every_path(graph: AnnotatedGraph, name: str, limit: int = ENUMERATION_LIMIT) -> list[Path]:
    """All paths, by an iterative depth-first walk; refuses when there are more than `limit`."""
    start = graph.inputs[name]
    counts = path_counts(graph, start, limit + 1)
    if counts[graph.output] > limit:
        raise _too_many(name, path_count(graph, name), limit)
    reachable = [True if total else None for total in counts]
    found: list[Path] = []
    stack: list[tuple[int, tuple[Edge, ...]]] = [(graph.output, ())]
    while stack:
        node, suffix = stack.pop()
        if node == start:
            found.append(_make_path(graph, start, suffix))
            continue
        for edge in reversed(list(_edges_in(graph, node, reachable))):
            stack.append((edge.producer, (edge,) + suffix))
    return found


def _too_many(name: str, count: int | CountEstimate, limit: int) -> LimitError:
    return LimitError(f"{name} has {display.count(count)} paths to the output; listing all of "
                      f"them is limited to {limit:,}", None,
                      "use --top K to see the K largest and the sum of the rest")


@dataclass(frozen=True)
class _Listing:
    """What listing paths from one input costs, known before any is made: each path holds at
    most `longest` edges, and pulling its product back along them is at most `heaviest`
    elements of work (`heaviest_path`); `through`, the groups the heaviest path runs through."""

    longest: int
    heaviest: int
    through: tuple[str, ...] = ()

    def edges(self, paths: int) -> int:
        return paths * self.longest

    def work(self, paths: int) -> int:
        return paths * self.heaviest

    def fits(self, paths: int) -> bool:
        return self.edges(paths) <= MAX_LISTED_EDGES and self.work(paths) <= MAX_LISTING_WORK

    def most(self) -> int:
        """The most paths that fit both budgets."""
        return min(MAX_LISTED_EDGES // max(1, self.longest),
                   MAX_LISTING_WORK // max(1, self.heaviest))

    def refuse_beyond_budget(self, paths: int) -> None:
        if self.fits(paths):
            return
        edges, work, most = self.edges(paths), self.work(paths), self.most()
        reason = (f"listing {paths:,} paths of up to {self.longest:,} edges is {edges:,} "
                  f"edges; the limit is {MAX_LISTED_EDGES:,}" if edges > MAX_LISTED_EDGES else
                  f"pulling the products of {paths:,} paths back along them is up to "
                  f"{work:,} elements' work ({self.heaviest:,} on the heaviest path); the "
                  f"limit is {MAX_LISTING_WORK:,}")
        if most:
            hint = f"use --top {most} or fewer"
        else:
            # One path is too heavy: a folded group's edge pulls back through the whole group
            # in one step, a stored Jacobian's product when the group is small enough.
            groups = ", ".join(self.through[:6]) + (", ..." if len(self.through) > 6 else "")
            hint = (f"list the paths through groups folded, --fold GROUP ({groups}), or give "
                    "--wrt an input nearer the output") if groups else \
                "give --wrt an input nearer the output"
        raise LimitError(reason, None, hint)


def _listing(graph: AnnotatedGraph, name: str) -> _Listing:
    start = graph.inputs[name]
    work, via = _heaviest(graph, start)
    # Named one level below the frames (the module a traced function reads), as --fold takes
    # them: `model.layer1`.
    level = frames(group_paths(graph)) + 1
    through: dict[str, None] = {}
    node = graph.output if work[graph.output] is not None else start
    while node != start:
        if graph.groups.get(node):
            through.setdefault(".".join(graph.groups[node][:level]), None)
        node = via[node]
    return _Listing(longest_path(graph, start), work[graph.output] or 0,
                    tuple(reversed(through)))


def _size(product: Any) -> float:
    with np.errstate(all="ignore"):
        size = float(np.linalg.norm(np.ravel(product)))
    return math.inf if math.isnan(size) else size


def check_every_input(graph: AnnotatedGraph, names: list[str]) -> None:
    """Refuse to summarize the paths of every one of `names` when together they would visit
    more than MAX_SUMMARY_VISITS nodes (many inputs over a long graph), before any is made."""
    visits = sum(graph.output - graph.inputs[name] + 1 for name in names)
    if visits > MAX_SUMMARY_VISITS:
        raise LimitError(f"the paths of {len(names):,} inputs would take {visits:,} node "
                         f"visits; the limit is {MAX_SUMMARY_VISITS:,}", None,
                         "give --wrt NAME for one input's paths")


def check_top(top: int | None) -> None:
    """Refuse a --top past ENUMERATION_LIMIT (the commands check it before any work)."""
    if top is not None and top > ENUMERATION_LIMIT:
        raise LimitError(f"--top {top:,} is more than the {ENUMERATION_LIMIT:,} paths that can "
                         "be listed", None,
                         f"use --top {ENUMERATION_LIMIT} or fewer: the rest are summed in one row")


def _listed(graph: AnnotatedGraph, top: int | None, count: int | CountEstimate,
            listing: _Listing) -> tuple[bool, int]:
    """Whether `summarize` lists every path (array programs, to sort them by size, when that
    fits the listing budgets), and how many paths it lists."""
    scalar = all(np.ndim(value) == 0 for value in graph.values)
    enumerable = isinstance(count, int) and count <= ENUMERATION_LIMIT
    if top is None or (not scalar and enumerable and listing.fits(count)):
        return True, count
    return False, min(top, count) if isinstance(count, int) else top


def edge_work(graph: AnnotatedGraph, node: int, argument: int, sizes: list[int]) -> int:
    """The work, in array elements, of pulling a gradient back along the edge from `argument`
    into `node` (`sizes`: each node's elements): their elements, and the call. A traced
    model's op calls its backward function (EDGE_WORK); a folded group multiplies by its stored
    Jacobian, or sweeps through its nodes where it is known by its action; our engine's own
    pullback is numpy on those elements."""
    op = graph.ops[node]
    if isinstance(op, GroupOp):
        call = sizes[argument] * sizes[node] if op.linear_map is JACOBIAN \
            else EDGE_WORK * op.members
    else:
        call = EDGE_WORK if isinstance(op, ForeignOp) else 1
    return sizes[argument] + sizes[node] + call


def _heaviest(graph: AnnotatedGraph, start: int) -> tuple[list[int | None], list[int]]:
    """For each node, the most work (`edge_work`) of any path from `start` to it (None where
    there is none), and the argument that path arrives from."""
    heaviest: list[int | None] = [None] * len(graph)
    heaviest[start] = 0
    via = list(range(len(graph)))
    sizes = [int(np.size(value)) for value in graph.values]
    flows, args = graph.flows, graph.args
    for node in range(start + 1, graph.output + 1):
        for slot, argument in enumerate(args[node]):
            if flows(node, slot) and heaviest[argument] is not None:
                candidate = heaviest[argument] + edge_work(graph, node, argument, sizes)
                if heaviest[node] is None or candidate > heaviest[node]:
                    heaviest[node], via[node] = candidate, argument
    return heaviest, via


def heaviest_path(graph: AnnotatedGraph, start: int) -> int:
    """The most work any path from `start` to the output costs to pull back along, in array
    elements (`edge_work`; 0 when there is no path)."""
    return _heaviest(graph, start)[0][graph.output] or 0


def listing_work(graph: AnnotatedGraph, name: str, top: int) -> int | None:
    """A bound, before any path is made, on the work of `summarize(graph, name, top)` pulling
    back its paths' products, in elements: (paths listed) x (the heaviest path's work);
    None where `summarize` would refuse them (past MAX_LISTED_EDGES or MAX_LISTING_WORK)."""
    listing = _listing(graph, name)
    listed = _listed(graph, top, path_count(graph, name), listing)[1]
    return listing.work(listed) if listing.fits(listed) else None


def most_listed(graph: AnnotatedGraph, name: str) -> int:
    """The largest --top whose listing `summarize` would not refuse (0: not even one path)."""
    return min(_listing(graph, name).most(), ENUMERATION_LIMIT)


def summarize(graph: AnnotatedGraph, name: str, top: int | None) -> PathSummary:
    """The `top` paths of largest |contribution| (all when `top` is None) and the rest's sum.

    Refused before any path is made past ENUMERATION_LIMIT paths, MAX_LISTED_EDGES edges or
    MAX_LISTING_WORK elements of work (`listing_work`). Array programs list every path and
    sort them by size when that fits those budgets, and
    otherwise search by a bound on the size, as scalar programs always do (exactly there).
    """
    check_top(top)
    count = path_count(graph, name)
    enumerable = isinstance(count, int) and count <= ENUMERATION_LIMIT
    listing = _listing(graph, name)
    gradient = graph.gradient(name)
    scalar = all(np.ndim(value) == 0 for value in graph.values)
    if top is None and not enumerable:
        raise _too_many(name, count, ENUMERATION_LIMIT)
    exact = True
    every, listed = _listed(graph, top, count, listing)
    listing.refuse_beyond_budget(listed)
    if every:
        paths = every_path(graph, name)
        paths.sort(key=lambda path: -_size(path.product))
        paths = paths if top is None else paths[:top]
    else:
        iterator = best_first(graph, name, top)
        paths = [path for _, path in zip(range(top), iterator)]
        exact = scalar
    shown = tuple(paths)
    with np.errstate(all="ignore"):
        rest_sum = gradient - sum((path.product for path in shown), np.zeros_like(gradient))
    rest_count = fewer(count, len(shown))
    return PathSummary(name, gradient, count, shown, rest_count,
                       rest_sum if rest_count else np.zeros_like(gradient)[()], exact, graph)
