"""The chain rule as a sum over paths: counting (dynamic programming), the top K, and enumeration.

A path runs from an input up to the output along edges a gradient flows through (never into a
constant, never across a cut). Its contribution is the chain of its edges' local derivatives:
their product for scalars, the chain of vector-Jacobian products for arrays. The contributions of
all paths sum to the gradient.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from graphviz_ad.engine.annotated import AnnotatedGraph
from graphviz_ad.engine.linear import MATMUL
from graphviz_ad.errors import LimitError

ENUMERATION_LIMIT = 10_000


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


@dataclass(frozen=True)
class PathSummary:
    """The paths shown for one input, and what the rest add up to."""

    name: str
    gradient: Any
    count: int
    paths: tuple[Path, ...]
    rest_count: int
    rest_sum: Any
    exact_order: bool  # False for array graphs too large to enumerate: ordered by a bound

    @property
    def shown_sum(self) -> Any:
        with np.errstate(all="ignore"):
            return sum((path.product for path in self.paths), np.zeros_like(self.gradient))

    @property
    def cancellation_digits(self) -> float:
        """Digits lost to cancellation: log10(largest |term| / |sum|); 0 when there is none,
        and 0 when the terms cancel to exactly 0 (as `x - x` does: nothing was lost)."""
        largest = max((float(np.max(np.abs(path.product))) for path in self.paths), default=0.0)
        total = float(np.max(np.abs(self.gradient))) if np.size(self.gradient) else 0.0
        if largest == 0.0 or total == 0.0 or not math.isfinite(largest):
            return 0.0
        return max(0.0, math.log10(largest / total))


def flows(graph: AnnotatedGraph, consumer: int, slot: int) -> bool:
    return graph.local[consumer][slot] is not None


def path_counts(graph: AnnotatedGraph, start: int) -> list[int]:
    """Number of paths from `start` to every node: exact integers, linear in the edges."""
    counts = [0] * len(graph)
    counts[start] = 1
    local, args = graph.local, graph.args
    for node in range(start + 1, graph.output + 1):
        row = local[node]
        total = 0
        for slot, argument in enumerate(args[node]):
            if row[slot] is not None:
                total += counts[argument]
        counts[node] = total
    return counts


def paths_to_output(graph: AnnotatedGraph) -> list[int]:
    """Number of paths from every node to the output: the same dynamic program, backwards."""
    counts = [0] * len(graph)
    counts[graph.output] = 1
    for node in range(graph.output, -1, -1):
        if not counts[node]:
            continue
        for slot, argument in enumerate(graph.args[node]):
            if graph.local[node][slot] is not None:
                counts[argument] += counts[node]
    return counts


def path_count(graph: AnnotatedGraph, name: str) -> int:
    return path_counts(graph, graph.inputs[name])[graph.output]


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
        size = float(np.max(np.abs(local)))
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
        if reachable[argument] is not None and flows(graph, node, slot):
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
    counts = path_counts(graph, start)
    count = counts[graph.output]
    if count > limit:
        raise LimitError(f"{name} has {count:,} paths to the output; listing all of them is "
                         f"limited to {limit:,}", None,
                         "use --top K to see the K largest and the sum of the rest")
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


def _size(product: Any) -> float:
    with np.errstate(all="ignore"):
        size = float(np.linalg.norm(np.ravel(product)))
    return math.inf if math.isnan(size) else size


def summarize(graph: AnnotatedGraph, name: str, top: int | None) -> PathSummary:
    """The `top` paths of largest |contribution| (all when `top` is None) and the rest's sum."""
    count = path_count(graph, name)
    gradient = graph.gradient(name)
    scalar = all(np.ndim(value) == 0 for value in graph.values)
    exact = True
    if top is None or (not scalar and count <= ENUMERATION_LIMIT):
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
    return PathSummary(name, gradient, count, shown, count - len(shown),
                       rest_sum if count > len(shown) else np.zeros_like(gradient)[()], exact)
