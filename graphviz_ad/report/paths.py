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
from graphviz_ad.records import inputs_json, summary_json  # noqa: F401 (--json, as the page)
from graphviz_ad.report.layout import Fitted, cell
from graphviz_ad.text import printable
from graphviz_ad.style import REST_COLOUR, path_colour

PRODUCT_DIGITS = 10
CANCELLATION_DIGITS = 3  # flag a sum whose largest term is 1000x larger than the sum
# Columns a narrow terminal drops, in this order, before a number would have to be folded.
SHARE = "share"
LOCAL_GRADIENTS = "local gradients along it"
LARGEST_PATH = "largest path"
ITS_PRODUCT = "its product"


def chain(graph: AnnotatedGraph, path: Path) -> str:
    return display.path_chain(graph, path)


def _share(product: Any, gradient: Any) -> str:
    """A path's part of the gradient; none of an infinite or nan one (inf/inf says nothing)."""
    if np.ndim(product) or float(gradient) == 0.0 or not np.isfinite(gradient) \
            or not np.isfinite(product):
        return ""
    ratio = float(product) / float(gradient)
    return f"{100 * ratio:.1f}%" if abs(ratio) < 100 else f"{ratio:.2g}×"


def paths_table(graph: AnnotatedGraph, summary: PathSummary) -> Group:
    """One row per path; then the sum of the products beside the backward pass's gradient.

    When only the top K are listed, the rest is the gradient minus the listed products, so
    the table says so and shows no difference (it would be zero by construction).
    """
    title = Text.assemble(("paths from ", "bold"), (printable(summary.name), "bold green"),
                          (printable(f" to {output_name(graph)}: "), "bold"),
                          (display.count(summary.count), "bold cyan"))
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("path")
    table.add_column(LOCAL_GRADIENTS)
    table.add_column("product", justify="right")
    table.add_column(SHARE, justify="right")
    for index, path in enumerate(summary.paths):
        colour = path_colour(index)
        table.add_row(cell(str(index + 1), colour), cell(chain(graph, path), colour),
                      cell(display.path_factors(path)),
                      cell(display.value(path.product, PRODUCT_DIGITS)),
                      cell(_share(path.product, summary.gradient)))
    table.add_section()
    blank = cell("")
    if summary.rest_count:
        table.add_row(blank, cell(display.other_paths(summary.rest_count), REST_COLOUR),
                      cell("the gradient minus the rows above", "dim"),
                      cell(display.value(summary.rest_sum, PRODUCT_DIGITS)),
                      cell(_share(summary.rest_sum, summary.gradient)))
        table.add_row(blank, cell("backward pass", "bold"), blank,
                      cell(display.value(summary.gradient), "bold"), blank)
    else:
        with np.errstate(all="ignore"):
            difference = np.max(np.abs(np.asarray(summary.shown_sum) - summary.gradient),
                                initial=0.0)  # an empty input's paths differ by nothing
        table.add_row(blank, cell("sum of products", "bold"), blank,
                      cell(display.value(summary.shown_sum), "bold"), blank)
        table.add_row(blank, cell("backward pass", "bold"), blank,
                      cell(display.value(summary.gradient), "bold"), blank)
        table.add_row(blank, cell("difference", "bold"), blank, cell(f"{difference:.1e}"), blank)
    notes = []
    if not summary.exact_order:
        notes.append(Text("paths of arrays are ordered by a bound on their size, not exactly",
                          style="dim"))
    digits = summary.cancellation_digits
    if digits >= CANCELLATION_DIGITS:
        notes.append(Text(f"cancellation: the largest term is 10^{digits:.0f} times the sum; "
                          f"about {digits:.0f} of 16 digits are lost", style="bold yellow"))
    return Group(Fitted(table, optional=[SHARE, LOCAL_GRADIENTS]), *notes)


def inputs_table(graph: AnnotatedGraph, summaries: list[PathSummary]) -> Fitted:
    table = Table(title=Text("paths from each input to the output", style="bold"),
                  title_justify="left", caption="gad paths EXPR --wrt NAME lists one input's paths",
                  caption_justify="left")
    table.add_column("input", style="green")
    table.add_column("paths", justify="right")
    table.add_column("gradient", justify="right", style="bold")
    table.add_column(LARGEST_PATH)
    table.add_column(ITS_PRODUCT, justify="right")
    for summary in summaries:
        largest = summary.paths[0] if summary.paths else None
        table.add_row(cell(summary.name), cell(display.count(summary.count)),
                      cell(display.value(summary.gradient)),
                      cell(chain(graph, largest)) if largest else cell("none", "dim"),
                      cell(display.value(largest.product, PRODUCT_DIGITS) if largest else ""))
    return Fitted(table, optional=[LARGEST_PATH, ITS_PRODUCT])

