"""A picture as JSON-ready data, for other tools (`gad graph --format json`).

The same nodes and edges as every other format draws, with ids and exact numbers.
"""

from __future__ import annotations

from typing import Any

from graphviz_ad import display
from graphviz_ad.render.picture import OUTPUT, Picture


def picture_json(picture: Picture, max_elements: int | None = None) -> dict[str, Any]:
    """`max_elements`: arrays with more numbers become their shape, least and greatest."""
    def number(item: Any) -> Any:
        return None if item is None else display.jsonable(item, max_elements)

    nodes = [{"id": node.id, "kind": node.kind, "label": node.title, "names": list(node.names),
              "value": number(node.raw_value), "adjoint": number(node.raw_adjoint),
              "source": node.tooltip, "output": node.kind == OUTPUT,
              "members": list(node.members)}
             for node in picture.nodes]
    edges = [{"source": edge.tail, "target": edge.head, "slot": edge.slot,
              "local_derivative": number(edge.raw_local),
              "label": edge.label, "detached": edge.cut, "paths": list(edge.paths)}
             for edge in picture.edges]
    output = next((node.id for node in picture.nodes if node.kind == OUTPUT), None)
    data: dict[str, Any] = {"output": output, "nodes": nodes, "edges": edges}
    if picture.wrt is not None:
        data["wrt"] = picture.wrt
        data["path_count"] = display.count_json(picture.path_count)
    return data
