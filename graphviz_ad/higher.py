"""Derivatives of derivatives: a Hessian, or a function of one number's derivatives up to an order.

Each is checked by finite differences of the order below it.

The derivatives come from graphs: the gradient's graph is built by the op table's own rules
(engine/differentiate.py), then swept again, so every order is exact to rounding. The finite
differences do not use those graphs for the Hessian: they difference the first-order numeric
gradient at nudged points, so they check the rules against the sweep that is checked itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Union

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.check import (WORK_BUDGET, each_index, finite_difference, jacobian_zeros,
                                      replayed_values, sweep_works)
from graphviz_ad.engine.differentiate import (derivative_graphs, gradient_graph, hessian_rows,
                                              hessian_vector_product)
from graphviz_ad.engine.graph import Graph
from graphviz_ad.errors import CheckError, LimitError, UsageError
from graphviz_ad.gradients import (AUTO, REVERSE, Check, CheckSettings, Differentiated,
                                   replayable)
from graphviz_ad.options import FD_CENTRAL, FD_COMPLEX, FD_FORWARD, FD_STEPS
from graphviz_ad.tables import Table, Tabled

# A REPL's Hessian is the matrix up to this many rows, its blocks past it.
MATRIX_ROWS = 8


def element_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """`x` for a number; `W[0, 1]`, ... for an array's elements, in row-major order."""
    if not shape:
        return [name]
    return [f"{name}[{', '.join(map(str, index))}]" for index in np.ndindex(*shape)]


@dataclass(frozen=True, repr=False)
class HessianReport(Tabled):
    """What `gad grad --order 2` shows: d²f / da db for each pair of inputs, as blocks of
    shape a + b, each beside finite differences of the gradient."""

    output_name: str
    value: Any
    names: tuple[str, ...]
    shapes: dict[str, tuple[int, ...]]
    blocks: dict[str, dict[str, Any]]
    checks: dict[str, dict[str, Check]] | None
    settings: CheckSettings
    nodes: int  # of the function's graph
    gradient_nodes: dict[str, int]  # of the graph of each input's gradient

    @property
    def matrix(self) -> np.ndarray:
        """The whole Hessian, one row and one column per input element."""
        sizes = [int(np.prod(self.shapes[name])) for name in self.names]
        return np.block([[np.reshape(self.blocks[first][second], (rows, columns))
                          for second, columns in zip(self.names, sizes)]
                         for first, rows in zip(self.names, sizes)])

    @property
    def element_names(self) -> list[str]:
        return [label for name in self.names for label in element_names(name, self.shapes[name])]

    @property
    def difference(self) -> float:
        if self.checks is None:
            return float("nan")
        return max(check.difference for row in self.checks.values() for check in row.values())

    @property
    def agrees(self) -> bool:
        return self.checks is not None and all(check.agrees for row in self.checks.values()
                                               for check in row.values())

    def require_agreement(self) -> None:
        _require(self.checks is not None, self.agrees, "the Hessian", self.difference)

    def table(self) -> Table:
        """The matrix, a row and a column per input element; a larger one block by block."""
        title = f"Hessian of {self.output_name} = {display.value(self.value)}"
        checked = (f"checked against finite differences of the gradient: largest difference "
                   f"{self.difference:.1e} {'✓' if self.agrees else '✗'}",) if self.checks else ()
        names = self.element_names
        if len(names) <= MATRIX_ROWS:
            return Table(title, ("",) + tuple(names),
                         tuple((name,) + tuple(display.value(entry) for entry in row)
                               for name, row in zip(names, self.matrix)),
                         checked, right=tuple(range(1, len(names) + 1)))
        return Table(title, ("block", "shape", "entries"),
                     tuple((f"d²/d{first} d{second}", display.shape(block), display.brief(block))
                           for first in self.names for second in self.names
                           for block in (self.blocks[first][second],)), checked, right=(1,))


@dataclass(frozen=True)
class DerivativeRow:
    order: int
    value: Any
    nodes: int  # of the graph that computes it
    check: Check | None


@dataclass(frozen=True, repr=False)
class DerivativesReport(Tabled):
    """What `gad grad --order N` shows for one scalar input: d^k f / dx^k for k = 1 .. N, each
    beside the finite difference of the order below."""

    output_name: str
    name: str
    point: Any
    value: Any
    nodes: int
    rows: tuple[DerivativeRow, ...]
    settings: CheckSettings

    @property
    def checked(self) -> bool:
        return all(row.check is not None for row in self.rows)

    @property
    def agrees(self) -> bool:
        return self.checked and all(row.check.agrees for row in self.rows)

    def require_agreement(self) -> None:
        difference = max((row.check.difference for row in self.rows if row.check), default=0.0)
        _require(self.checked, self.agrees, "a derivative", difference)

    def table(self) -> Table:
        """Each derivative's value and graph size, and where checked, beside its finite
        difference."""
        def row(derivative: DerivativeRow) -> tuple[str, ...]:
            power = "" if derivative.order == 1 else display.superscript(derivative.order)
            cells = (f"d{power}{self.output_name}/d{self.name}{power}",
                     display.value(derivative.value), f"{derivative.nodes:,}")
            check = derivative.check
            return cells + ((display.value(check.finite_difference), check.verdict)
                            if check is not None and check.finite_difference is not None
                            else ("", check.verdict) if check is not None else ())

        header = ("derivative", "value", "graph nodes") + (
            ("finite difference", "difference") if self.checked else ())
        return Table(f"{self.output_name} = {display.value(self.value)} at {self.name} = "
                     f"{display.brief(self.point)}", header,
                     tuple(row(derivative) for derivative in self.rows), right=(1, 2, 3))


HigherReport = Union[HessianReport, DerivativesReport]  # what `gad grad --order N` shows


def _require(checked: bool, agrees: bool, what: str, difference: float) -> None:
    if not checked:
        raise UsageError(f"{what} was not checked", None, "check=True checks it")
    if not agrees:
        raise CheckError(f"{what} disagrees with finite differences of the order below "
                         f"(difference {difference:.1e})", None,
                         "a kink between the input and the output (relu, abs, max) has no "
                         "second derivative there; else --fd-step sets the step")


def _scalar_function(analysis: Differentiated, what: str) -> Graph:
    evaluated = replayable(analysis.evaluated, what)
    if np.ndim(evaluated.values[evaluated.output]) != 0:
        raise UsageError(f"{what} is taken of a number, and the output is an array of shape "
                         f"{np.shape(evaluated.values[evaluated.output])}", None,
                         "reduce it first: sum(...), mean(...)")
    return evaluated


def _step_settings(settings: CheckSettings) -> float:
    if settings.method == FD_COMPLEX:
        raise UsageError("the complex step checks first derivatives only", None,
                         "check higher orders with --fd-method central or forward")
    return FD_STEPS[settings.method] if settings.step is None else settings.step


def hessian_report(analysis: Differentiated, names: Iterable[str] | None = None,
                   check: bool = True, settings: CheckSettings = CheckSettings()
                   ) -> HessianReport:
    """The Hessian of the output with respect to `names` (every input when None), checked by
    finite differences of the gradient unless `check` is False; refused before any sweep when
    the sweeps and the check would take more than WORK_BUDGET element evaluations."""
    evaluated = _scalar_function(analysis, "a Hessian")
    chosen = analysis.selected(names)
    step = _step_settings(settings) if check else 0.0
    output = analysis.output_name
    graphs = {name: gradient_graph(evaluated, name, output) for name in chosen}
    shapes = {name: np.shape(evaluated.values[evaluated.inputs[name]]) for name in chosen}
    elements = sum(int(np.prod(shape)) for shape in shapes.values())
    sweep = max((sweep_works(graph)[0] for graph in graphs.values()), default=0)
    replays = (2 if settings.method != FD_FORWARD else 1) * 2 * sweep_works(evaluated)[0]
    work = elements * (sweep + (replays if check else 0))
    if work > WORK_BUDGET:
        raise LimitError(f"the Hessian needs {elements:,} backward sweeps of the gradient's "
                         f"graph{' and their check' if check else ''}, {work:,} element "
                         f"evaluations; the limit is {WORK_BUDGET:,}", None,
                         "ask for fewer inputs with --wrt, or use smaller arrays")
    blocks = {name: hessian_rows(graphs[name], name, chosen) for name in chosen}
    checks = None
    if check:
        differences = _gradient_differences(evaluated, chosen, settings.method, step)
        checks = {first: {second: Check(blocks[first][second], differences[first][second],
                                        rtol=settings.rtol, atol=settings.atol)
                          for second in chosen} for first in chosen}
    return HessianReport(output, evaluated.values[evaluated.output], tuple(chosen), shapes,
                         blocks, checks, settings, len(evaluated),
                         {name: len(graph) for name, graph in graphs.items()})


def _gradient_differences(graph: Graph, names: list[str], method: str, step: float
                          ) -> dict[str, dict[str, Any]]:
    """d(df/da)/db by finite differences of the numeric first-order gradient, for each pair."""
    found = {first: {second: jacobian_zeros(np.shape(graph.values[graph.inputs[first]]),
                                            np.shape(graph.values[graph.inputs[second]]),
                                            f"{first}, {second}")
                     for second in names} for first in names}
    base = backward(graph) if method == FD_FORWARD else None

    def gradients_at(node: int, moved: Any) -> Any:
        annotated = backward(replace(graph, values=tuple(replayed_values(graph,
                                                                         {node: moved}))))
        return {first: annotated.gradient(first) for first in names}

    with np.errstate(all="ignore"):
        for second in names:
            node = graph.inputs[second]
            point = np.asarray(graph.values[node], dtype=np.float64)
            for index in each_index(point.shape):
                h = step * max(1.0, abs(float(point[index])))
                up, down = point.copy(), point.copy()
                up[index] += h
                if method == FD_CENTRAL:
                    down[index] -= h
                width = up[index] - down[index]
                high = gradients_at(node, up[()])
                low = gradients_at(node, down[()]) if base is None \
                    else {first: base.gradient(first) for first in names}
                for first in names:
                    found[first][second][(Ellipsis,) + index] = \
                        (np.asarray(high[first]) - low[first]) / width
    return {first: {second: block[()] for second, block in row.items()}
            for first, row in found.items()}


def derivatives_report(analysis: Differentiated, name: str, order: int, check: bool = True,
                       settings: CheckSettings = CheckSettings()) -> DerivativesReport:
    """d^k f / dx^k for k = 1 .. `order` of a number f and a scalar input x, each the value of
    the previous one's gradient graph, checked by finite differences of the one below."""
    evaluated = _scalar_function(analysis, "a derivative of a higher order")
    analysis.require_input(name)
    point = evaluated.values[evaluated.inputs[name]]
    if np.ndim(point) != 0:
        raise UsageError(f"--order above 2 lists the derivatives of a function of one number, "
                         f"and {name} has shape {np.shape(point)}", None,
                         "--order 2 gives the Hessian of any inputs")
    step = _step_settings(settings) if check else 0.0
    graphs = derivative_graphs(evaluated, name, order, analysis.output_name)
    rows = []
    below = evaluated
    for level, graph in enumerate(graphs, start=1):
        found = graph.values[graph.output]
        difference = finite_difference(below, name, settings.method, step) if check else None
        rows.append(DerivativeRow(level, found, len(graph),
                                  None if difference is None else
                                  Check(found, difference, rtol=settings.rtol,
                                        atol=settings.atol)))
        below = graph
    return DerivativesReport(analysis.output_name, name, point,
                             evaluated.values[evaluated.output], len(evaluated), tuple(rows),
                             settings)



def higher_report(analysis: Differentiated, order: int, names: Iterable[str] | None = None,
                  mode: str = AUTO, check: bool = True,
                  settings: CheckSettings = CheckSettings()) -> HigherReport:
    """What `gad grad --order N` shows: for one scalar input, its derivatives up to `order`;
    else, at order 2, the Hessian. Both are reverse mode over the gradient's graph."""
    if mode not in (AUTO, REVERSE):
        raise UsageError(f"--order {order} differentiates the gradient's graph by reverse mode",
                         None, "drop --mode, or ask for first derivatives by forward mode")
    chosen = analysis.selected(names)
    evaluated = _scalar_function(analysis, f"a derivative of order {order}")
    if len(chosen) == 1 and np.ndim(evaluated.values[evaluated.inputs[chosen[0]]]) == 0:
        return derivatives_report(analysis, chosen[0], order, check, settings)
    if order != 2:
        why = f"there are {len(chosen)} inputs" if len(chosen) != 1 else \
            f"{chosen[0]} has shape {np.shape(evaluated.values[evaluated.inputs[chosen[0]]])}"
        raise UsageError(f"--order {order} lists the derivatives of a function of one number, "
                         f"and {why}", None,
                         "choose one number with --wrt, or --order 2 for the Hessian")
    return hessian_report(analysis, chosen, check, settings)


def hessian_vector_product_of(analysis: Differentiated, direction: dict[str, Any]
                              ) -> dict[str, Any]:
    """H v for a direction v (by input name) of a number's inputs, every input's row: forward
    over reverse on duals, with no graph made (engine/differentiate.py)."""
    evaluated = _scalar_function(analysis, "a Hessian-vector product")
    for name in direction:
        analysis.require_input(name)
    return hessian_vector_product(evaluated, dict(direction))

