"""The trace and the paths as JSON-ready records: for `gad trace --json`, `gad paths --json`, pages.

`Trace` holds the engine's steps as `gad trace` shows them. No rich here, so the HTML page
(render/page.py, composed by render/compose.py) embeds the very records the command line
prints. Node ids are the annotated graph's indices (`n3` in DOT and SVG is node 3).
`max_elements` summarises arrays larger than that (shape, least, greatest); None keeps every number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphviz_ad import display
from graphviz_ad.engine.annotated import AnnotatedGraph, output_name
from graphviz_ad.engine.paths import Path, PathSummary
from graphviz_ad.engine.trace import (BackwardStep, ForwardStep, backward_steps, forward_steps,
                                      step_count, trace_names)
from graphviz_ad.errors import LimitError


@dataclass(frozen=True)
class Trace:
    """What `gad trace` shows: the forward steps, the backward sweep, the gradients."""

    names: list[str]  # each node's name in the steps
    forward: list[ForwardStep]
    backward: list[BackwardStep]
    output: int
    output_name: str  # what the views call the output (an output that is an input differs)
    gradients: dict[str, Any]


def trace_of(graph: AnnotatedGraph, inputs: list[str], max_steps: int | None = None,
             hint: str | None = None) -> Trace:
    """The steps of the evaluation and of the backward sweep, and the gradients of `inputs`;
    more than `max_steps` are refused (a LimitError with `hint`) before any is made."""
    steps = step_count(graph)
    if max_steps is not None and steps > max_steps:
        raise LimitError(f"the trace has {steps:,} steps; the limit is {max_steps:,}", None, hint)
    return Trace(trace_names(graph), forward_steps(graph), backward_steps(graph), graph.output,
                 output_name(graph), {name: graph.gradient(name) for name in inputs})


def trace_json(trace: Trace, max_elements: int | None = None) -> dict[str, Any]:
    names = trace.names

    def number(item: Any) -> Any:
        return display.jsonable(item, max_elements)

    return {
        "forward": [{"name": step.name, "id": step.node, "expression": step.expression,
                     "kind": step.kind, "value": number(step.value), "source": step.source}
                    for step in trace.forward],
        "backward": [{"target": names[step.target], "via": names[step.via],
                      "target_id": step.target, "via_id": step.via, "slot": step.slot,
                      "formula": step.formula, "adjoint": number(step.adjoint),
                      "local": number(step.local), "contribution": number(step.contribution),
                      "total": number(step.total)}
                     for step in trace.backward],
        "gradient": {name: number(gradient) for name, gradient in trace.gradients.items()},
    }


def path_json(graph: AnnotatedGraph, path: Path, max_elements: int | None = None) -> dict[str, Any]:
    return {"nodes": [graph.labels[node] for node in path.nodes],
            "ids": list(path.nodes),
            "slots": [edge.slot for edge in path.edges],
            "factors": [display.jsonable(factor, max_elements) for factor in path.factors],
            "product": display.jsonable(path.product, max_elements)}


def path_rows_json(graph: AnnotatedGraph, summary: PathSummary,
                   max_elements: int | None = None) -> dict[str, Any]:
    """An input's paths as the rows of the `gad paths` table: each path's chain and local
    gradients as the table writes them (long paths cut in the middle), its exact product, and
    its node ids and argument slots (to find its edges); the rest and the gradient as in
    `summary_json`."""
    record = summary_json(graph, summary, max_elements)
    record["paths"] = [{"chain": display.path_chain(graph, path),
                        "factors": display.path_factors(path),
                        "ids": list(path.nodes), "slots": [edge.slot for edge in path.edges],
                        "product": display.jsonable(path.product, max_elements)}
                       for path in summary.paths]
    return record


def inputs_json(graph: AnnotatedGraph, summaries: list[PathSummary]) -> dict[str, Any]:
    """`gad paths --json` without --wrt: each input's path count, gradient and largest path."""
    return {"inputs": [{"name": summary.name, "path_count": display.count_json(summary.count),
                        "gradient": display.jsonable(summary.gradient),
                        "largest": path_json(graph, summary.paths[0]) if summary.paths
                        else None}
                       for summary in summaries]}


def summary_json(graph: AnnotatedGraph, summary: PathSummary,
                 max_elements: int | None = None) -> dict[str, Any]:
    return {"wrt": summary.name,
            "gradient": display.jsonable(summary.gradient, max_elements),
            "path_count": display.count_json(summary.count),
            "paths": [path_json(graph, path, max_elements) for path in summary.paths],
            "rest": {"count": display.count_json(summary.rest_count),
                     "sum": display.jsonable(summary.rest_sum, max_elements)}}
