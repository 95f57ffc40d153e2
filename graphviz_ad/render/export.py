"""A picture as JSON-ready data, for other tools (`gad graph --format json`).

The same nodes and edges as every other format draws, with ids and exact numbers.
"""

from __future__ import annotations

from typing import Any

from graphviz_ad import display
from graphviz_ad.render.picture import OUTPUT, Picture


def picture_json(picture: Picture) -> dict[str, Any]:
    nodes = [{"id": node.id, "kind": node.kind, "label": node.title, "names": list(node.names),
              "value": display.jsonable(node.raw_value),
              "adjoint": None if node.raw_adjoint is None else display.jsonable(node.raw_adjoint),
              "source": node.tooltip, "output": node.kind == OUTPUT}
             for node in picture.nodes]
    edges = [{"source": edge.tail, "target": edge.head, "slot": edge.slot,
              "local_derivative": None if edge.raw_local is None
              else display.jsonable(edge.raw_local),
              "label": edge.label, "detached": edge.cut, "paths": list(edge.paths)}
             for edge in picture.edges]
    output = next((node.id for node in picture.nodes if node.kind == OUTPUT), None)
    data: dict[str, Any] = {"output": output, "nodes": nodes, "edges": edges}
    if picture.wrt is not None:
        data["wrt"] = picture.wrt
        data["path_count"] = display.count_json(picture.path_count)
    return data
