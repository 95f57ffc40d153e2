"""The annotated graph as JSON-ready data, for other tools (`gad graph --format json`)."""

from __future__ import annotations

from typing import Any

from graphviz_ad import display
from graphviz_ad.engine.backward import Gradients
from graphviz_ad.engine.paths import PathSummary, edge_uses
from graphviz_ad.errors import LimitError

# DOT and JSON need no layout, but grow about 450 bytes a node: 45 MB, a few seconds.
MAX_EXPORT_NODES = 100_000


def refuse_large_export(nodes: int, what: str) -> None:
    """Refuse DOT or JSON of more than MAX_EXPORT_NODES nodes, before any is written."""
    if nodes > MAX_EXPORT_NODES:
        raise LimitError(f"the {what} would have {nodes:,} nodes; {what} output is limited to "
                         f"{MAX_EXPORT_NODES:,}")


def graph_json(gradients: Gradients, summary: PathSummary | None = None) -> dict[str, Any]:
    graph = gradients.graph
    uses = edge_uses(summary.paths if summary is not None else ())
    nodes = [{"id": f"n{node}", "kind": graph.kinds[node], "label": graph.labels[node],
              "names": list(graph.names.get(node, ())),
              "value": display.jsonable(graph.values[node]),
              "adjoint": display.jsonable(gradients.adjoints[node])
              if graph.requires_grad[node] else None,
              "source": graph.text(node), "output": node == graph.output}
             for node in range(len(graph))]
    edges = [{"source": f"n{producer}", "target": f"n{consumer}", "slot": slot,
              "local_derivative": None if gradients.local[consumer][slot] is None
              else display.jsonable(gradients.local[consumer][slot]),
              "detached": graph.is_cut(consumer),
              "paths": uses.get((consumer, slot), [])}
             for consumer, slot, producer in graph.edges()]
    data: dict[str, Any] = {"output": f"n{graph.output}", "nodes": nodes, "edges": edges}
    if summary is not None:
        data["wrt"] = summary.name
        data["path_count"] = display.count_json(summary.count)
    return data
