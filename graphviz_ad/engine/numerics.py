"""Where inf and nan first appear: in a value, or in a local derivative, with the subexpression."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphviz_ad.engine.annotated import DATA, INPUT, AnnotatedGraph, DeferredRow
from graphviz_ad.errors import Span


@dataclass(frozen=True)
class NumericIssue:
    node: int
    span: Span | None
    message: str


def _finite(value: Any) -> bool:
    if type(value) is np.ndarray:
        return bool(np.isfinite(value).all())
    return math.isfinite(value)


def _describe(value: Any) -> str:
    array = np.asarray(value)
    if np.isnan(array).any():
        return "nan"
    return "-inf" if np.all(array[~np.isfinite(array)] < 0) else "inf"


def numeric_issues(graph: AnnotatedGraph) -> list[NumericIssue]:
    """Each node whose value is not finite although its arguments are (an overflow or a nan
    born there), each non-finite input, and each non-finite local derivative at a finite point."""
    issues = []
    values = graph.values
    finite = [_finite(value) for value in values]
    for node in range(len(graph)):
        if finite[node] or node in graph.unknown_values:
            continue
        text = graph.text(node)
        if graph.kinds[node] in (INPUT, DATA):
            issues.append(NumericIssue(node, graph.span(node),
                                       f"{graph.kinds[node]} {graph.labels[node]} is "
                                       f"{_describe(values[node])}"))
        elif all(finite[argument] for argument in graph.args[node]):
            result = _describe(values[node])
            if any(np.size(values[argument]) == 0 for argument in graph.args[node]):
                message = f"`{text}` is {result}, of an empty array"  # mean: 0/0, logsumexp: log 0
            elif result.endswith("inf"):
                message = f"`{text}` overflows to {result}"
            else:
                message = f"`{text}` is {result}"
            issues.append(NumericIssue(node, graph.span(node), message))
    for consumer, slot, producer in graph.edges():
        row = graph.local[consumer]
        if isinstance(row, DeferredRow) and not row.computed:
            continue  # an importer's op's, not computed yet: checking would compute them all
        local = row[slot]
        if local is None or _finite(local) or not finite[consumer]:
            continue
        issues.append(NumericIssue(
            consumer, graph.span(consumer),
            f"the local derivative of `{graph.text(consumer)}` with respect to "
            f"`{graph.text(producer)}` is {_describe(local)}"))
    return issues
