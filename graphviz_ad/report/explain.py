"""The whole walkthrough of `gad explain`: the checked gradients, then each input's paths.

Between them, what each mode costs on the user's graph.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from graphviz_ad.engine.annotated import AnnotatedGraph
from graphviz_ad.engine.paths import PathSummary
from graphviz_ad.engine.trace import sweep_cost
from graphviz_ad.gradients import GradientReport
from graphviz_ad.report.grad import gradient_table
from graphviz_ad.report.layout import cell
from graphviz_ad.report.paths import paths_table
from graphviz_ad.report.trace import graph_cost


def walkthrough(graph: AnnotatedGraph, report: GradientReport,
                summaries: list[PathSummary]) -> Group:
    parts = [gradient_table(report)]
    if graph.inputs:
        parts.append(cell(graph_cost(sweep_cost(graph)), "dim"))
    for summary in summaries:
        parts += [Text(""), paths_table(graph, summary)]
    return Group(*parts)
