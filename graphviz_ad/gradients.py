"""Each input's gradient beside its finite difference: the report `gad grad` prints, and its check.

The facade (api.py) asks, and this module reads the analysis through `Differentiated`, what it
needs of one, never importing the facade. Finite differences replay our engine's record, or run a
traced PyTorch function again (the analysis's `rerun`); every check of one report shares one
work budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Protocol

import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import AnnotatedGraph
from graphviz_ad.engine.backward import jacobian_rows
from graphviz_ad.engine.check import (WORK_BUDGET, check_work, finite_difference, jacobian_zeros,
                                      kinks, require_step, sweep_works)
from graphviz_ad.engine.forward import forward_gradient
from graphviz_ad.engine.graph import Graph
from graphviz_ad.errors import CheckError, LimitError, UsageError
from graphviz_ad.tables import Table, Tabled
from graphviz_ad.options import (DEFAULT_ATOL, DEFAULT_RTOL, FD_CENTRAL, FD_COMPLEX, FD_METHODS,
                                 FD_STEPS, MAX_CHECK_RUNS, MODES)

AUTO, REVERSE, FORWARD = MODES


@dataclass(frozen=True)
class CheckSettings:
    """How gradients are checked: the finite-difference method, its relative step (None: the
    method's default) and the tolerances."""

    method: str = FD_CENTRAL
    step: float | None = None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    def __post_init__(self):
        if self.method not in FD_METHODS:
            raise UsageError(f"unknown finite-difference method `{self.method}`", None,
                             f"use one of {', '.join(FD_METHODS)}")
        for name in ("step", "rtol", "atol"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0) \
                    or (name == "step" and value == 0):
                raise UsageError(f"the {name} must be a finite number above 0, got {value}")
        if self.step is not None:
            require_step(self.method, self.step)

    @property
    def note(self) -> str:
        step = FD_STEPS[self.method] if self.step is None else self.step
        written = re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{step:g}")  # 1e-6, not 1e-06
        return f"finite differences: {self.method}, h = {written}·max(1, |x|)"


@dataclass(frozen=True, repr=False)
class Check(Tabled):
    """A gradient beside its finite difference, or the reason the check was skipped (then
    `finite_difference` is None); at a failure, what the engine did at the non-differentiable
    points between the input and the output (relu at 0)."""

    gradient: Any
    finite_difference: Any
    skipped: str = ""
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    kinks: tuple[str, ...] = ()

    @property
    def difference(self) -> float:
        if self.skipped:
            return math.nan
        with np.errstate(all="ignore"):
            return float(np.max(np.abs(np.asarray(self.gradient) - self.finite_difference),
                                initial=0.0))

    @property
    def tolerance(self) -> float:
        return max(self.atol, self.rtol * float(np.max(np.abs(self.gradient), initial=0.0)))

    @property
    def agrees(self) -> bool:
        return not self.skipped and self.difference <= self.tolerance

    @property
    def verdict(self) -> str:
        """`4.7e-12 ✓`, `3.1e-02 ✗`, or why it was not checked."""
        if self.skipped:
            return f"not checked: {self.skipped}"
        return f"{self.difference:.1e} {'✓' if self.agrees else '✗'}"

    def table(self) -> Table:
        return Table("gradient beside its finite difference",
                     ("gradient", "finite difference", "difference"),
                     ((display.value(self.gradient), display.value(self.finite_difference)
                       if self.finite_difference is not None else "", self.verdict),),
                     self.kinks, right=(0, 1))


@dataclass(frozen=True)
class GradientRow:
    name: str
    value: Any
    gradient: Any  # for an array output, the Jacobian: output shape + input shape
    check: Check | None


@dataclass(frozen=True, repr=False)
class GradientReport(Tabled):
    """What `gad grad` shows: the output's value and one row per input."""

    output_name: str
    value: Any
    mode: str
    rows: tuple[GradientRow, ...]
    checked: bool
    settings: CheckSettings = CheckSettings()
    sweeps: int = 1  # backward sweeps, or tangent sweeps in forward mode
    rerun: bool = False  # checked by running the source again (a traced PyTorch function)

    @property
    def jacobian(self) -> bool:
        return np.ndim(self.value) > 0

    @property
    def note(self) -> str:
        if not self.jacobian:
            done = f"{self.mode} mode"
        else:
            per = "output" if self.mode == REVERSE else "input"
            kind = "backward" if self.mode == REVERSE else "tangent"
            done = (f"Jacobians d{self.output_name}/d(input), of shape output + input, by "
                    f"{self.mode} mode: {self.sweeps} {kind} sweep{'s' * (self.sweeps != 1)}, "
                    f"one per {per} element")
        return done + (f"; {self.settings.note}" if self.checked else "")

    def table(self) -> Table:
        """The rows of `gad grad`: each input's value and gradient, and where checked, its
        finite difference and their difference."""
        def check(row: GradientRow) -> tuple[str, ...]:
            if not self.checked:
                return ()
            if row.check is None or row.check.finite_difference is None:
                return ("", row.check.verdict if row.check else "")
            return (display.value(row.check.finite_difference), row.check.verdict)

        checked = ("finite difference", "difference") if self.checked else ()
        rows = tuple((row.name, display.value(row.value), display.value(row.gradient))
                     + check(row) for row in self.rows)
        return Table(f"{self.output_name} = {display.value(self.value)}",
                     ("input", "value", "gradient") + checked, rows, (self.note,),
                     right=(1, 2, 3))

    @property
    def failures(self) -> list[GradientRow]:
        """The rows whose gradient disagrees with its finite difference."""
        return [row for row in self.rows if row.check is not None and not row.check.skipped
                and not row.check.agrees]

    def require_agreement(self) -> None:
        """--check: a gradient that disagrees with its finite difference, or whose check was
        skipped past its work budget, fails the run."""
        if not self.checked:
            raise UsageError("the gradients were not checked", None, "check=True checks them")
        skipped = [row for row in self.rows if row.check is not None and row.check.skipped]
        failures = self.failures
        if skipped and not failures:
            raise CheckError(f"the gradient of {', '.join(row.name for row in skipped)} was not "
                             f"checked: {skipped[0].check.skipped}", None,
                             "check fewer inputs with --wrt, or smaller arrays")
        if not failures:
            return
        first = failures[0].check
        names = ", ".join(row.name for row in failures)
        raise CheckError(
            f"the gradient of {names} disagrees with finite differences (difference "
            f"{first.difference:.1e}, tolerance {first.tolerance:.1e})", None,
            "; ".join(first.kinks) if first.kinks else
            "torch's backward disagrees with the function's own values: look at the backward "
            "of a custom autograd.Function, or at randomness not drawn from torch's generator"
            if self.rerun else
            self._smaller_step_hint())

    def _smaller_step_hint(self) -> str:
        """A step ten times smaller (or the complex step) to try: a truncation error shrinks
        with it, a wrong gradient does not."""
        settings = self.settings
        step = FD_STEPS[settings.method] if settings.step is None else settings.step
        if settings.method == FD_COMPLEX:
            return "the complex step is exact to rounding: the gradient is wrong, or --rtol " \
                   "and --atol are too tight"
        return (f"try --fd-step {step / 10:.0e} or --fd-method complex: a truncation error "
                "shrinks with the step, a wrong gradient does not; --rtol and --atol set the "
                "tolerance").replace("e-0", "e-")


class Differentiated(Protocol):
    """What the gradients read of an analysis (api.Analysis): its annotated graph, the record
    our engine evaluated (None for an imported graph), a source's re-run, the Jacobians by
    reverse mode once made, and which inputs are asked for."""

    graph: AnnotatedGraph
    evaluated: Graph | None
    rerun: Callable[[str, str, float], Any] | None

    @property
    def output_name(self) -> str: ...

    @property
    def reverse_jacobians(self) -> tuple[dict[str, Any], dict[str, LimitError]]: ...

    def selected(self, names: Iterable[str] | None) -> list[str]: ...

    def require_input(self, name: str) -> None: ...


def mode_for(graph: AnnotatedGraph, mode: str, names: Iterable[str]) -> str:
    """auto: reverse mode for a number, whose one backward sweep is already done (an empty
    input's gradient included); for an array output, reverse (one sweep per output element)
    unless the inputs have fewer elements (one tangent sweep each)."""
    if mode not in MODES:
        raise UsageError(f"unknown mode `{mode}`", None, f"use one of {', '.join(MODES)}")
    if mode != AUTO:
        return mode
    output = graph.values[graph.output]
    inputs = sum(np.size(graph.values[graph.inputs[name]]) for name in names)
    return REVERSE if np.ndim(output) == 0 or np.size(output) <= inputs else FORWARD


def gradient(analysis: Differentiated, name: str, mode: str = AUTO) -> Any:
    """d output / d input; for an array output, the Jacobian (output shape + input shape)."""
    analysis.require_input(name)
    graph = analysis.graph
    if mode_for(graph, mode, [name]) == FORWARD:
        return forward_gradient(replayable(analysis.evaluated, "forward mode"), name)
    if np.ndim(graph.values[graph.output]) == 0:
        return graph.gradient(name)
    jacobians, too_large = analysis.reverse_jacobians
    if name in too_large:
        raise too_large[name]
    return jacobians[name]


def replayable(evaluated: Graph | None, what: str) -> Graph:
    """The record our engine evaluated, which `what` replays; an imported graph has none."""
    if evaluated is None:
        raise UsageError(f"{what} needs a graph the engine evaluated", None,
                         "this analysis came from an annotated graph alone")
    return evaluated


def reverse_jacobians(graph: AnnotatedGraph, evaluated: Graph | None
                      ) -> tuple[dict[str, Any], dict[str, LimitError]]:
    """Every input's Jacobian, row by row: one backward sweep per output element; refused
    before any sweep when they would take more than WORK_BUDGET element evaluations. An input
    whose Jacobian alone is past the one-array limit is left out with its refusal, so that the
    others can still be asked for (`--wrt x` beside a large W)."""
    evaluated = replayable(evaluated, "a Jacobian")
    shape = np.shape(graph.values[graph.output])
    sweeps = int(np.prod(shape))
    work = sweeps * sweep_works(evaluated)[0]
    if work > WORK_BUDGET:
        raise LimitError(f"the Jacobian by reverse mode needs {sweeps:,} backward sweeps, "
                         f"{work:,} element evaluations; the limit is {WORK_BUDGET:,}",
                         None, "reduce the output with sum(...), or take fewer sweeps "
                               "with --mode forward when the inputs are smaller")
    rows, too_large = {}, {}
    for name, node in graph.inputs.items():
        try:
            rows[name] = jacobian_zeros(shape, graph.shape(node), name)
        except LimitError as refusal:
            too_large[name] = refusal
    if not rows:
        raise next(iter(too_large.values()))
    jacobian_rows(evaluated, rows)
    return rows, too_large


def checks(analysis: Differentiated, names: Iterable[str], mode: str = AUTO,
           settings: CheckSettings = CheckSettings()) -> dict[str, Check]:
    """Each input's gradient beside finite differences, in order, while their work fits one
    budget in all (WORK_BUDGET element evaluations replaying our engine, MAX_CHECK_RUNS runs of
    a traced function); an input whose check would not fit what is left is skipped, its reason
    said, and later (smaller) ones may still be checked."""
    names = list(names)
    for name in names:
        analysis.require_input(name)
    cost, measure, budget, unit = _rerun_check(analysis, settings) \
        if analysis.evaluated is None and analysis.rerun is not None \
        else _engine_check(analysis, names, mode, settings)
    left = budget
    found = {}
    for name in names:
        work = cost(name)
        if work > left:
            spent = "" if left == budget else f" ({left:,} left)"
            found[name] = Check(gradient(analysis, name, mode), None,
                                f"checking {name} needs {work:,} {unit}; the budget is "
                                f"{budget:,}{spent}")
            continue
        left -= work
        found[name] = measure(name)
    return found


def _engine_check(analysis: Differentiated, names: list[str], mode: str,
                  settings: CheckSettings):
    """Finite differences by replaying our engine's record: the work of each input's, its
    check (with the kinks on its paths where it fails), the budget and its unit."""
    evaluated = replayable(analysis.evaluated, "the check") if names else None
    works = sweep_works(evaluated) if names else []

    def measure(name: str) -> Check:
        checked = Check(gradient(analysis, name, mode),
                        finite_difference(evaluated, name, settings.method, settings.step),
                        rtol=settings.rtol, atol=settings.atol)
        return checked if checked.agrees else replace(checked, kinks=kinks(evaluated, name))

    return (lambda name: check_work(evaluated, name, works, settings.method)), measure, \
        WORK_BUDGET, "element evaluations"


def _rerun_check(analysis: Differentiated, settings: CheckSettings):
    """Finite differences by running the source again (a traced PyTorch function): the runs of
    each input's, its check, the budget (MAX_CHECK_RUNS) and its unit."""
    if settings.method == FD_COMPLEX:
        raise UsageError("the complex step needs a graph our engine evaluated", None,
                         "check a PyTorch function by central or forward differences")
    step = FD_STEPS[settings.method] if settings.step is None else settings.step
    graph = analysis.graph

    def cost(name: str) -> int:
        numbers = int(np.size(graph.gradient(name)))
        return (numbers * 2 if settings.method == FD_CENTRAL else numbers) + 1  # and a base run

    def measure(name: str) -> Check:
        found = analysis.rerun(name, settings.method, step)
        if isinstance(found, str):  # why this input cannot be checked
            return Check(graph.gradient(name), None, found)
        return Check(graph.gradient(name), found, rtol=settings.rtol, atol=settings.atol)

    return cost, measure, MAX_CHECK_RUNS, "runs of the function"


def gradient_report(analysis: Differentiated, names: Iterable[str] | None = None,
                    mode: str = AUTO, check: bool = True,
                    settings: CheckSettings = CheckSettings()) -> GradientReport:
    """The output's value and the gradient (or Jacobian) of each of `names` (every input when
    None), in the mode `mode` chooses, checked by finite differences unless `check` is False."""
    chosen = analysis.selected(names)
    graph = analysis.graph
    mode = mode_for(graph, mode, chosen)
    found = checks(analysis, chosen, mode, settings) if check else {}
    rows = []
    for name in chosen:
        checked = found.get(name)
        rows.append(GradientRow(name, graph.values[graph.inputs[name]],
                                checked.gradient if checked else gradient(analysis, name, mode),
                                checked))
    value = graph.values[graph.output]
    sweeps = np.size(value) if mode == REVERSE else sum(np.size(row.value) for row in rows)
    return GradientReport(analysis.output_name, value, mode, tuple(rows), check, settings,
                          int(sweeps), check and analysis.evaluated is None)
