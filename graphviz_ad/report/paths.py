"""The chain rule as tables: one row per path with its local gradients, product and share."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphviz_ad import display
from graphviz_ad.engine.annotated import AnnotatedGraph, output_name
from graphviz_ad.engine.paths import Path, PathSummary
from graphviz_ad.style import REST_COLOUR, path_colour

PRODUCT_DIGITS = 10
CANCELLATION_DIGITS = 3  # flag a sum whose largest term is 1000x larger than the sum


def chain(graph: AnnotatedGraph, path: Path) -> str:
    return display.path_chain(graph, path)


def _share(product: Any, gradient: Any) -> str:
    if np.ndim(product) or float(gradient) == 0.0:
        return ""
    ratio = float(product) / float(gradient)
    return f"{100 * ratio:.1f}%" if abs(ratio) < 100 else f"{ratio:.2g}×"


def paths_table(graph: AnnotatedGraph, summary: PathSummary) -> Group:
    """One row per path; then the sum of the products beside the backward pass's gradient.

    When only the top K are listed, the rest is the gradient minus the listed products, so
    the table says so and shows no difference (it would be zero by construction).
    """
    title = Text.assemble(("paths from ", "bold"), (summary.name, "bold green"),
                          (f" to {output_name(graph)}: ", "bold"),
                          (f"{summary.count:,}", "bold cyan"))
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("path")
    table.add_column("local gradients along it")
    table.add_column("product", justify="right")
    table.add_column("share", justify="right")
    for index, path in enumerate(summary.paths):
        colour = path_colour(index)
        table.add_row(Text(str(index + 1), style=colour), Text(chain(graph, path), style=colour),
                      Text(display.path_factors(path)),
                      Text(display.value(path.product, PRODUCT_DIGITS)),
                      Text(_share(path.product, summary.gradient)))
    table.add_section()
    if summary.rest_count:
        table.add_row("", Text(display.other_paths(summary.rest_count), style=REST_COLOUR),
                      Text("the gradient minus the rows above", style="dim"),
                      Text(display.value(summary.rest_sum, PRODUCT_DIGITS)),
                      Text(_share(summary.rest_sum, summary.gradient)))
        table.add_row("", Text("backward pass", style="bold"), "",
                      Text(display.value(summary.gradient), style="bold"), "")
    else:
        with np.errstate(all="ignore"):
            difference = np.max(np.abs(np.asarray(summary.shown_sum) - summary.gradient))
        table.add_row("", Text("sum of products", style="bold"), "",
                      Text(display.value(summary.shown_sum), style="bold"), "")
        table.add_row("", Text("backward pass", style="bold"), "",
                      Text(display.value(summary.gradient), style="bold"), "")
        table.add_row("", Text("difference", style="bold"), "", f"{difference:.1e}", "")
    notes = []
    if not summary.exact_order:
        notes.append(Text("paths of arrays are ordered by a bound on their size, not exactly",
                          style="dim"))
    digits = summary.cancellation_digits
    if digits >= CANCELLATION_DIGITS:
        notes.append(Text(f"cancellation: the largest term is 10^{digits:.0f} times the sum; "
                          f"about {digits:.0f} of 16 digits are lost", style="bold yellow"))
    return Group(table, *notes)


def inputs_table(graph: AnnotatedGraph, summaries: list[PathSummary]) -> Table:
    table = Table(title=Text("paths from each input to the output", style="bold"),
                  title_justify="left", caption="gad paths EXPR --wrt NAME lists one input's paths",
                  caption_justify="left")
    table.add_column("input", style="green")
    table.add_column("paths", justify="right")
    table.add_column("gradient", justify="right", style="bold")
    table.add_column("largest path")
    table.add_column("its product", justify="right")
    for summary in summaries:
        largest = summary.paths[0] if summary.paths else None
        table.add_row(summary.name, f"{summary.count:,}", display.value(summary.gradient),
                      Text(chain(graph, largest)) if largest else Text("none", style="dim"),
                      display.value(largest.product, PRODUCT_DIGITS) if largest else "")
    return table

