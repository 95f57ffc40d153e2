"""The facade for the command line, notebooks and tests: one door in, one door out.

In: `load` (an expression, a program file or `-`, and NAME=VALUE assignments), `analyze` (source
text and values), `Analysis.from_graph` (an annotated graph from any source) and the PyTorch
importer's `trace_torch`, `from_torch` and `load_torch` all give an `Analysis`. Out:
`Analysis.picture` is what every format draws, `Analysis.render` and `Analysis.save` write it
through the one format table (render/formats.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from functools import cached_property
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from graphviz_ad.engine.annotated import AnnotatedGraph, output_name
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.check import (WORK_BUDGET, check_work, each_index, finite_difference,
                                      jacobian_zeros, kinks, require_step, sweep_works)
from graphviz_ad.engine.forward import forward_gradient
from graphviz_ad.engine.graph import Graph
from graphviz_ad.engine.numerics import NumericIssue, numeric_issues
from graphviz_ad.engine.paths import (CountEstimate, PathSummary, check_every_input, path_count,
                                      summarize)
from graphviz_ad.errors import (CheckError, LimitError, NumericError, ShapeError,
                                 UnknownNameError, UsageError)
from graphviz_ad.options import (DEFAULT_ATOL, DEFAULT_MAX_BOXES, DEFAULT_RTOL, DEFAULT_TOP,
                                 FD_CENTRAL, FD_COMPLEX, FD_METHODS, FD_STEPS, LARGE_PICTURE,
                                 MAX_CHAIN, MAX_CHECK_RUNS, MODES)

AUTO, REVERSE, FORWARD = MODES
PICTURE_OPTIONS = ("top", "edge_labels", "only_paths", "compact", "expand", "depth",
                   "expand_all", "max_boxes")


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


@dataclass(frozen=True)
class Check:
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


@dataclass(frozen=True)
class GradientRow:
    name: str
    value: Any
    gradient: Any  # for an array output, the Jacobian: output shape + input shape
    check: Check | None


@dataclass(frozen=True)
class GradientReport:
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


@dataclass(frozen=True)
class Walkthrough:
    """What `gad explain` shows: the gradient report, each input's paths, and which input's
    paths its picture colours."""

    report: GradientReport
    summaries: list[PathSummary]
    picture_wrt: str | None


@dataclass(frozen=True)
class Trace:
    """What `gad trace` shows: the forward steps, the backward sweep, the gradients."""

    names: list[str]  # each node's name in the steps
    forward: list
    backward: list
    output: int
    output_name: str  # what the views call the output (an output that is an input differs)
    gradients: dict[str, Any]


class Analysis:
    """A computation at a point: its annotated graph, and where the engine evaluated it, the
    record that finite differences and forward mode replay."""

    def __init__(self, graph: AnnotatedGraph, evaluated: Graph | None = None,
                 warnings: Iterable[str] = (), rerun: Callable[[str, str, float], Any] |
                 None = None):
        self.graph = graph
        self.evaluated = evaluated
        self.warnings = tuple(warnings)
        # A source that can run its computation again: finite differences of an input's
        # gradient, `rerun(name, method, step)` (a traced PyTorch function).
        self.rerun = rerun

    @classmethod
    def from_graph(cls, graph: AnnotatedGraph, warnings: Iterable[str] = (),
                   rerun: Callable[[str, str, float], Any] | None = None) -> Analysis:
        """An analysis of an annotated graph from any source (an importer, a test); `rerun`
        gives the finite differences the check compares with, where the source can."""
        return cls(graph, None, warnings, rerun)

    @classmethod
    def from_evaluated(cls, evaluated: Graph, warnings: Iterable[str] = ()) -> Analysis:
        """An analysis of a graph our engine evaluated: the backward sweep annotates it."""
        return cls(backward(evaluated), evaluated, warnings)

    @cached_property
    def numeric_issues(self) -> list[NumericIssue]:
        """Overflows, nans and infinite local derivatives, where they first appear."""
        return numeric_issues(self.graph)

    @property
    def notes(self) -> list[str]:
        """What a user should know about the run: unused values, overflows, no inputs; each
        once (`exp(v) + exp(v)` overflows twice)."""
        notes = list(self.warnings) + [issue.message for issue in self.numeric_issues]
        if not self.graph.inputs:
            notes.append("the program has no inputs: its value is a constant, with nothing to "
                         "differentiate")
        return list(dict.fromkeys(notes))

    def require_finite(self) -> None:
        """--strict: the first inf or nan is an error rather than a warning."""
        if self.numeric_issues:
            issue = self.numeric_issues[0]
            raise NumericError(issue.message, issue.span,
                               "without --strict this is a warning and the run goes on",
                               self.graph.source or None)

    @property
    def value(self) -> float:
        """The output, a number (`output_value` is an array output too)."""
        self.require_scalar_output("`value`")
        return float(self.graph.values[self.graph.output])

    @property
    def output_value(self) -> Any:
        """The output: a number, or an array (`gad eval`, Jacobians)."""
        return self.graph.values[self.graph.output]

    @property
    def output_name(self) -> str:
        return output_name(self.graph)

    @property
    def inputs(self) -> list[str]:
        """Input names in natural order (x2 before x10), the order every table uses."""
        return sorted(self.graph.inputs, key=natural_key)

    def mode_for(self, mode: str, names: Iterable[str]) -> str:
        """auto: reverse mode for a number; for an array output, reverse (one sweep per output
        element) unless the inputs have fewer elements (one tangent sweep each)."""
        if mode not in MODES:
            raise UsageError(f"unknown mode `{mode}`", None, f"use one of {', '.join(MODES)}")
        if mode != AUTO:
            return mode
        inputs = sum(np.size(self.graph.values[self.graph.inputs[name]]) for name in names)
        return REVERSE if np.size(self.output_value) <= inputs else FORWARD

    def gradient(self, name: str, mode: str = AUTO) -> Any:
        """d output / d input; for an array output, the Jacobian (output shape + input shape)."""
        self.require_input(name)
        mode = self.mode_for(mode, [name])
        if mode == FORWARD:
            return forward_gradient(self._replayable("forward mode"), name)
        if np.ndim(self.output_value) == 0:
            return self.graph.gradient(name)
        jacobians, too_large = self._reverse_jacobians
        if name in too_large:
            raise too_large[name]
        return jacobians[name]

    @cached_property
    def _reverse_jacobians(self) -> tuple[dict[str, Any], dict[str, LimitError]]:
        """Every input's Jacobian, row by row: one backward sweep per output element; refused
        before any sweep when they would take more than WORK_BUDGET element evaluations. An
        input whose Jacobian alone is past the one-array limit is left out with its refusal,
        so that the others can still be asked for (`--wrt x` beside a large W)."""
        evaluated = self._replayable("a Jacobian")
        shape = np.shape(self.output_value)
        sweeps = int(np.prod(shape))
        work = sweeps * sweep_works(evaluated)[0]
        if work > WORK_BUDGET:
            raise LimitError(f"the Jacobian by reverse mode needs {sweeps:,} backward sweeps, "
                             f"{work:,} element evaluations; the limit is {WORK_BUDGET:,}",
                             None, "reduce the output with sum(...), or take fewer sweeps "
                                   "with --mode forward when the inputs are smaller")
        rows, too_large = {}, {}
        for name, node in self.graph.inputs.items():
            try:
                rows[name] = jacobian_zeros(shape, self.graph.shape(node), name)
            except LimitError as refusal:
                too_large[name] = refusal
        if not rows:
            raise next(iter(too_large.values()))
        for index in each_index(shape):
            seed = np.zeros(shape)
            seed[index] = 1.0
            swept = backward(evaluated, seed)
            for name, jacobian in rows.items():
                jacobian[index] = swept.gradient(name)
        return rows, too_large

    def check(self, name: str, mode: str = AUTO,
              settings: CheckSettings = CheckSettings()) -> Check:
        return self.checks([name], mode, settings)[name]

    def checks(self, names: Iterable[str], mode: str = AUTO,
               settings: CheckSettings = CheckSettings()) -> dict[str, Check]:
        """Each input's gradient beside finite differences, in order, while their work fits
        one budget in all (WORK_BUDGET element evaluations replaying our engine, MAX_CHECK_RUNS
        runs of a traced function); an input whose check would not fit what is left is
        skipped, its reason said, and later (smaller) ones may still be checked."""
        names = list(names)
        for name in names:
            self.require_input(name)
        cost, measure, budget, unit = self._rerun_check(settings) \
            if self.evaluated is None and self.rerun is not None \
            else self._engine_check(names, mode, settings)
        left = budget
        checks = {}
        for name in names:
            work = cost(name)
            if work > left:
                spent = "" if left == budget else f" ({left:,} left)"
                checks[name] = Check(self.gradient(name, mode), None,
                                     f"checking {name} needs {work:,} {unit}; the budget is "
                                     f"{budget:,}{spent}")
                continue
            left -= work
            checks[name] = measure(name)
        return checks

    def _engine_check(self, names: list[str], mode: str, settings: CheckSettings):
        """Finite differences by replaying our engine's record: the work of each input's, its
        check (with the kinks on its paths where it fails), the budget and its unit."""
        evaluated = self._replayable("the check") if names else None
        works = sweep_works(evaluated) if names else []

        def measure(name: str) -> Check:
            checked = Check(self.gradient(name, mode),
                            finite_difference(evaluated, name, settings.method, settings.step),
                            rtol=settings.rtol, atol=settings.atol)
            return checked if checked.agrees else replace(checked,
                                                          kinks=kinks(evaluated, name))

        return (lambda name: check_work(evaluated, name, works, settings.method)), measure, \
            WORK_BUDGET, "element evaluations"

    def _rerun_check(self, settings: CheckSettings):
        """Finite differences by running the source again (a traced PyTorch function): the
        runs of each input's, its check, the budget (MAX_CHECK_RUNS) and its unit."""
        if settings.method == FD_COMPLEX:
            raise UsageError("the complex step needs a graph our engine evaluated", None,
                             "check a PyTorch function by central or forward differences")
        step = FD_STEPS[settings.method] if settings.step is None else settings.step

        def cost(name: str) -> int:
            numbers = int(np.size(self.graph.gradient(name)))
            return (numbers * 2 if settings.method == FD_CENTRAL else numbers) + 1  # and a base run

        def measure(name: str) -> Check:
            found = self.rerun(name, settings.method, step)
            if isinstance(found, str):  # why this input cannot be checked
                return Check(self.graph.gradient(name), None, found)
            return Check(self.graph.gradient(name), found, rtol=settings.rtol,
                         atol=settings.atol)

        return cost, measure, MAX_CHECK_RUNS, "runs of the function"

    def gradient_report(self, names: Iterable[str] | None = None, mode: str = AUTO,
                        check: bool = True,
                        settings: CheckSettings = CheckSettings()) -> GradientReport:
        chosen = self.selected(names)
        mode = self.mode_for(mode, chosen)
        checks = self.checks(chosen, mode, settings) if check else {}
        rows = []
        for name in chosen:
            checked = checks.get(name)
            rows.append(GradientRow(name, self.graph.values[self.graph.inputs[name]],
                                    checked.gradient if checked else self.gradient(name, mode),
                                    checked))
        sweeps = np.size(self.output_value) if mode == REVERSE else sum(
            np.size(row.value) for row in rows)
        return GradientReport(self.output_name, self.output_value, mode, tuple(rows), check,
                              settings, int(sweeps), check and self.evaluated is None)

    def require_scalar_output(self, what: str) -> None:
        """Paths, traces and pictures follow one gradient: the output must be a number."""
        if np.ndim(self.output_value) != 0:
            raise ShapeError(f"the output has shape {np.shape(self.output_value)}; {what} "
                             "needs a single number", self.graph.span(self.graph.output),
                             "wrap it in sum(...) or mean(...); gad grad prints the Jacobian "
                             "of an array, gad eval its value", self.graph.source or None)

    def paths(self, name: str, top: int | None = DEFAULT_TOP,
              fold: Iterable[str] = ()) -> PathSummary:
        """The `top` paths from `name` to the output by |product| (every path when None);
        with `fold`, through those groups folded (dotted names, `layer1.0`): a folded group's
        edge carries its total derivative, so the products still sum to the gradient."""
        return self.paths_drawn(name, top, fold)[1]

    def paths_drawn(self, name: str, top: int | None = DEFAULT_TOP,
                    fold: Iterable[str] = ()) -> tuple[AnnotatedGraph, PathSummary]:
        """As `paths`, with the graph the paths run through (folded when `fold` names
        groups), which a table needs to name their nodes."""
        self.require_input(name)
        self.require_scalar_output("a path's product")
        graph = self.folded(fold, name).graph if fold else self.graph
        return graph, summarize(graph, name, top)

    def folded(self, groups: Iterable[str], keep_input: str | None = None):
        """The annotated graph with these groups folded (engine/fold.py's `Folding`); an
        unknown group name is an error that lists the groups."""
        from graphviz_ad.engine.fold import fold

        keep = [self.graph.inputs[keep_input]] if keep_input is not None else []
        return fold(self.graph, self.groups_named(groups), keep, self._group_derivatives)

    @cached_property
    def _group_derivatives(self):
        """The total derivatives of the groups folded so far, which every later folding of
        this analysis reuses (a page folds the graph again for each expanded group; through a
        traced model each costs calls of its backward functions)."""
        from graphviz_ad.engine.fold import GroupDerivatives

        return GroupDerivatives(self.graph)

    def groups_named(self, names: Iterable[str]) -> list[tuple[str, ...]]:
        """The group paths of dotted names: a group's whole name (`model.layer2.0`) or its
        last parts, as boxes and clusters show it (`layer2.0`, `h.3`), when only one group
        ends so. An unknown name is an error that lists the groups, an ambiguous one an error
        that lists those it could be."""
        from graphviz_ad.engine.fold import dotted, group_paths

        known = {dotted(path): path for path in group_paths(self.graph)}
        chosen = []
        for name in names:
            candidates = [name] if name in known else \
                [whole for whole in known if whole.endswith("." + name)]
            if len(candidates) > 1:
                listed = ", ".join(candidates[:12]) + (", ..." if len(candidates) > 12 else "")
                raise UsageError(f"`{name}` names {len(candidates)} groups: {listed}", None,
                                 "give more of its name: one of those listed")
            if not candidates:
                from graphviz_ad.engine.build import suggest

                listed = ", ".join(list(known)[:12]) or "none"
                raise UsageError(f"`{name}` is not a group of the program (groups: {listed})",
                                 None, suggest(name, known) or "a group is a statement's name")
            chosen.append(known[candidates[0]])
        return chosen

    def walkthrough(self, wrt: str | None = None, check: bool = True,
                    image_format: str | None = None, **options: Any) -> Walkthrough:
        """The gradients and the `top` paths (an option, as for `draw`) of `wrt`, of every
        input when None; with `image_format`, a picture too large for it is refused first."""
        top = options.get("top", DEFAULT_TOP)
        names = self.selected([wrt] if wrt else None)
        picture_wrt = wrt or (names[0] if len(names) == 1 else None)
        if image_format is not None:
            self.refuse_oversized(image_format, picture_wrt, **options)
        summaries = self.every_input_paths(names, top)
        return Walkthrough(self.gradient_report(names, check=check), summaries, picture_wrt)

    def every_input_paths(self, names: Iterable[str], top: int = DEFAULT_TOP) -> list[PathSummary]:
        """`paths` for each of `names`, refused first when together they are too much work."""
        names = self.selected(names)
        self.require_scalar_output("a path's product")
        check_every_input(self.graph, names)
        return [summarize(self.graph, name, top) for name in names]

    def path_count(self, name: str) -> int | CountEstimate:
        self.require_input(name)
        return path_count(self.graph, name)

    def trace(self, max_steps: int | None = None, hint: str | None = None) -> Trace:
        """The steps of the evaluation and of the backward sweep; more than `max_steps` are
        refused (a LimitError with `hint`) before any is made."""
        from graphviz_ad.engine.trace import backward_steps, forward_steps, step_count, trace_names

        self.require_scalar_output("the backward sweep")
        steps = step_count(self.graph)
        if max_steps is not None and steps > max_steps:
            raise LimitError(f"the trace has {steps:,} steps; the limit is {max_steps:,}", None,
                             hint)
        names = trace_names(self.graph)
        return Trace(names, forward_steps(self.graph), backward_steps(self.graph),
                     self.graph.output, self.output_name,
                     {name: self.graph.gradient(name) for name in self.inputs})

    def sweeps(self, picture, wrt: str | None = None, **picture_options: Any):
        """What a page steps through beside `picture` (render/picture.Sweeps): the trace, each
        input's paths as the rows of their table (render/page.path_rows: over arrays
        summarised, within the page's budget), and for the first PAGE_EXPANSIONS groups
        `picture` folded, the picture drawn with the options given and that group expanded."""
        from graphviz_ad import records
        from graphviz_ad.render.page import PAGE_ELEMENTS, PAGE_EXPANSIONS, path_rows
        from graphviz_ad.render.picture import Sweeps, TooManyNodes

        top = picture_options.get("top", DEFAULT_TOP)
        expand = tuple(picture_options.pop("expand", ()))
        budget = picture_options.pop("max_boxes", DEFAULT_MAX_BOXES)
        folded: dict[str, int] = {}  # each folded group, and how many nodes it holds
        for node in picture.nodes:
            if node.opens:
                folded[node.opens] = folded.get(node.opens, 0) + len(node.members)
        expansions = {}
        for name, size in list(folded.items())[:PAGE_EXPANSIONS]:
            # Room for the opened group's nodes, up to a budget more: a larger group shows
            # its own groups folded. One that still passes --max-nodes is left out, and the
            # page says how to draw it open.
            try:
                expansions[name] = self.picture(wrt, **picture_options, expand=expand + (name,),
                                                max_boxes=budget + min(size, budget))
            except TooManyNodes:
                continue
        return Sweeps(records.trace_json(self.trace(), PAGE_ELEMENTS),
                      path_rows(self.graph, list(self.inputs), wrt, top), expansions)

    def picture(self, wrt: str | None = None, top: int = DEFAULT_TOP,
                edge_labels: str = "value", only_paths: bool = False, compact: bool = False,
                expand: Iterable[str] = (), depth: int | None = None, expand_all: bool = False,
                max_boxes: int = DEFAULT_MAX_BOXES, max_nodes: int | None = None,
                export: str | None = None):
        """What every format draws (render/picture.py), with the paths of `wrt` coloured.

        Past `max_boxes` nodes, groups fold until the picture fits (the groups on the paths
        of `wrt` last); `expand` keeps groups open (dotted names), `depth` folds exactly the
        groups nested deeper than it, `expand_all` folds nothing. A picture of more than
        `max_nodes` nodes (to lay out), or for `export` ("DOT", "JSON") of more than
        MAX_EXPORT_NODES, is refused before it is built."""
        from graphviz_ad.engine.fold import dotted
        from graphviz_ad.render.picture import build_picture, split_fanout

        self.require_scalar_output("a picture of grads")
        graph, folding, detail, many_inputs = self._picture_graph(wrt, expand, depth,
                                                                  expand_all, max_boxes)
        self._refuse_oversized(graph, wrt, only_paths, compact, max_nodes, export)
        summary = summarize(graph, wrt, top) if wrt is not None else None
        picture = build_picture(graph, summary, edge_labels, only_paths, compact)
        notes = []
        if folding is not None:
            picture = _members_unfolded(picture, folding.stands_for)
            shown = ", ".join(dotted(path) for path in folding.folded[:6])
            more = f" and {len(folding.folded) - 6} more" if len(folding.folded) > 6 else ""
            why = (f"below depth {depth}" if not detail.automatic
                   else f"to draw at most {max_boxes} boxes" if detail.chain is None
                   else f"to draw at most {max_boxes} boxes, {MAX_CHAIN} in a row"
                   if detail.chain <= MAX_CHAIN else
                   f"to draw at most {max_boxes} boxes, by whole levels ({detail.chain} in a "
                   "row)")
            notes.append(f"folded {len(folding.folded)} group(s) {why}: {shown}{more}"
                         + ("; inputs used only inside a group fold with it" if many_inputs
                            else "") + "; --expand NAME opens one, --depth N or --expand-all "
                         "more")
        picture = replace(picture, notes=picture.notes + tuple(notes),
                          clusters=folding is not None or bool(expand) or depth is not None)
        if len(picture.nodes) > LARGE_PICTURE:
            picture = split_fanout(picture)
        return picture

    def _picture_graph(self, wrt: str | None, expand: Iterable[str] = (),
                       depth: int | None = None, expand_all: bool = False,
                       max_boxes: int = DEFAULT_MAX_BOXES):
        """The graph a picture draws, its groups folded to fit `max_boxes` (as `picture`
        says): the graph, the `Folding` (or None), the chosen detail, and whether inputs fold."""
        from graphviz_ad.engine.fold import choose_detail, fold
        from graphviz_ad.engine.paths import path_counts, paths_to_output

        # Inputs stay leaves of the picture, unless there are so many (a network's weights)
        # that those used only inside a group fold into it; --wrt's input always stays.
        many_inputs = len(self.graph.inputs) > max_boxes // 4
        keep = [] if many_inputs else list(self.graph.inputs.values())
        on_paths = []
        if wrt is not None:
            self.require_input(wrt)
            keep.append(self.graph.inputs[wrt])
            reach, back = path_counts(self.graph, keep[-1], 1), paths_to_output(self.graph, 1)
            on_paths = [node for node in range(len(self.graph)) if reach[node] and back[node]]
        detail = choose_detail(self.graph, max_boxes, self.groups_named(expand), depth,
                               expand_all, keep, on_paths, MAX_CHAIN,
                               self.graph.inputs[wrt] if wrt is not None else None)
        folding = fold(self.graph, detail.fold, keep, self._group_derivatives) \
            if detail.fold else None
        return (folding.graph if folding else self.graph), folding, detail, many_inputs

    @staticmethod
    def _refuse_oversized(graph: AnnotatedGraph, wrt: str | None, only_paths: bool,
                          compact: bool, max_nodes: int | None, export: str | None) -> None:
        """Refuse a picture of `graph` past its budget, counting its nodes in linear time:
        the export limit for `export`, else `max_nodes`, the hint sized for what would help."""
        from graphviz_ad.render.picture import drawn_nodes, refuse_large_export, refuse_layout

        if max_nodes is None and export is None:
            return
        nodes = drawn_nodes(graph, wrt, only_paths, compact)
        if export is not None:
            refuse_large_export(nodes, export)
            return
        if nodes <= max_nodes:
            return
        alternatives = []
        if not compact:
            alternatives.append((drawn_nodes(graph, wrt, only_paths, True), "--compact"))
        if wrt is not None and not only_paths:
            alternatives.append((drawn_nodes(graph, wrt, True, compact), "--only-paths"))
        refuse_layout(nodes, max_nodes, alternatives)

    def draw(self, image_format: str = "svg", wrt: str | None = None, **options: Any):
        """The picture in `image_format` (a name from the format table) as a `Drawing`:
        options as for `picture`, and as `render.formats.DrawOptions` (view, rankdir, renderer,
        timeout, dpi, max_nodes). Its size is refused before the picture is built."""
        entry, picture_options, draw_options = _split_options(image_format, options)
        max_nodes, export = _budget(entry, draw_options)
        picture = self.picture(wrt, **picture_options, max_nodes=max_nodes, export=export)
        if entry.steps:
            picture = replace(picture, sweeps=self.sweeps(picture, wrt, **picture_options,
                                                          max_nodes=max_nodes, export=export))
        return entry.write(picture, draw_options)

    def refuse_oversized(self, image_format: str, wrt: str | None = None,
                         **options: Any) -> None:
        """What `draw` refuses for its size, refused without drawing anything (options as for
        `draw`): `gad explain` asks before it prints its tables."""
        entry, picture_options, draw_options = _split_options(image_format, options)
        folding = {key: value for key, value in picture_options.items()
                   if key in ("expand", "depth", "expand_all", "max_boxes")}
        self._refuse_oversized(self._picture_graph(wrt, **folding)[0], wrt,
                               picture_options.get("only_paths", False),
                               picture_options.get("compact", False),
                               *_budget(entry, draw_options))

    def render(self, image_format: str = "svg", wrt: str | None = None, **options: Any) -> bytes:
        """The picture's bytes in `image_format` (options as for `draw`)."""
        return self.draw(image_format, wrt, **options).data

    def save(self, path: str, image_format: str | None = None, wrt: str | None = None,
             **options: Any):
        """Write the picture to `path` (`-` for standard output), in the format its suffix or
        `image_format` names; options as for `draw`. Returns the `Drawing`."""
        from graphviz_ad.render.formats import choose_format
        from graphviz_ad.writing import write_output

        drawing = self.draw(choose_format(path, image_format).name, wrt, **options)
        write_output(path, drawing.data)
        return drawing

    def digraph(self, wrt: str | None = None, view: str = "forward", rankdir: str = "LR",
                **options: Any):
        """The annotated graph as a `graphviz.Digraph` (options as for `picture`)."""
        from graphviz_ad.render.dot import to_digraph

        return to_digraph(self.picture(wrt, **options), view, rankdir)

    def _repr_svg_(self) -> str:
        """Notebooks show an analysis as its picture, drawn by the bundled renderer if need be;
        past the node budget, a small picture that says why and what to call instead."""
        from graphviz_ad.render.formats import DEFAULT_MAX_NODES, too_large_svg

        if len(self.graph) > DEFAULT_MAX_NODES:
            return too_large_svg(len(self.graph), DEFAULT_MAX_NODES)
        return self.render("svg").decode()

    def selected(self, names: Iterable[str] | None) -> list[str]:
        """The inputs asked for, each once, in the order given; all of them when None."""
        chosen = list(dict.fromkeys(names)) if names else self.inputs
        for name in chosen:
            self.require_input(name)
        return chosen

    def require_input(self, name: str) -> None:
        if name in self.graph.data:
            raise UsageError(f"`{name}` is data, which has no gradient", None,
                             "declare it without `data` to differentiate it")
        if name not in self.graph.inputs:
            from graphviz_ad.engine.build import suggest

            known = ", ".join(self.graph.inputs) or "none"
            raise UnknownNameError(f"`{name}` is not an input of the program (inputs: {known})",
                                   None, suggest(name, self.graph.inputs))

    def _replayable(self, what: str) -> Graph:
        if self.evaluated is None:
            raise UsageError(f"{what} needs a graph the engine evaluated", None,
                             "this analysis came from an annotated graph alone")
        return self.evaluated


def _members_unfolded(picture, stands_for: tuple[tuple[int, ...], ...]):
    """The picture with each box's members as nodes of the unfolded graph, as the trace and
    the paths of the analysis name them."""
    return replace(picture, nodes=tuple(
        replace(node, members=tuple(original for member in node.members
                                    for original in stands_for[member]))
        for node in picture.nodes))


def _split_options(image_format: str, options: dict[str, Any]):
    """The format table's entry for `image_format`, and `options` split into the picture's and
    the drawing's (render.formats.DrawOptions)."""
    from graphviz_ad.render.formats import FORMATS, DrawOptions, name_list

    entry = FORMATS.get(image_format)
    if entry is None:
        raise UsageError(f"unknown format `{image_format}`", None, f"choose one of {name_list()}")
    options = dict(options)
    picture_options = {key: options.pop(key) for key in PICTURE_OPTIONS if key in options}
    return entry, picture_options, DrawOptions(**options)


def _budget(entry, draw_options) -> tuple[int | None, str | None]:
    """What bounds a picture in this format: --max-nodes for a layout, else the export limit
    (for DOT and JSON, named)."""
    if entry.needs_layout:
        return draw_options.max_nodes, None
    return None, entry.name.upper()


def natural_key(name: str) -> tuple:
    """x2 before x10, and W among the w's rather than before every lower-case name."""
    parts = [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
             for part in re.split(r"(\d+)", name) if part]
    return (parts, name)


def analyze(source: str, values: Mapping[str, Any] | None = None,
            data_names: Iterable[str] = (), **named: Any) -> Analysis:
    """Evaluate `source` at the given input values: `analyze("x*y", x=2, y=3).gradient("x")`;
    `data_names` are data, with no gradient, as if the program declared `data X`."""
    from graphviz_ad.engine.build import build

    built = build(source, {**(values or {}), **named}, data_names)
    return Analysis.from_evaluated(built.graph, built.warnings)


def check_output(output: str, image_format: str | None = None, renderer: str = "auto",
                 program: str | None = None):
    """The format an output will have, and that it can be written, checked before anything is
    evaluated: a suffix or format the table knows, a renderer that writes it, a folder that
    exists, and never the program file itself."""
    from graphviz_ad.arguments import is_file
    from graphviz_ad.render.formats import check_renderer, choose_format
    from graphviz_ad.writing import check_target, is_standard_output

    if not is_standard_output(output):
        if program is not None and is_file(Path(program)) and \
                Path(output).resolve() == Path(program).resolve():
            raise UsageError(f"{output} is the program file itself", None,
                             "write to another file")
        check_target(output)
    entry = choose_format(output, image_format)
    check_renderer(entry, renderer)
    return entry


def load(argument: str, assignments: Iterable[str] = (), strict: bool = False) -> Analysis:
    """What the command line does: `argument` is an expression, a program file or `-`
    (standard input), `assignments` are NAME=VALUE texts (`x=1.5`, `W=[[1,2],[3,4]]`,
    `X=@batch.npy`, `W=@weights.npz:W1`, `y=@labels.csv`, `y=@-`).
    Errors point into the text they came from, named by the file when there is one."""
    from graphviz_ad.arguments import load_source, parse_values
    from graphviz_ad.errors import GadError
    from graphviz_ad.reading import is_standard_input

    values = parse_values(list(assignments), is_standard_input(argument))
    source = load_source(argument)
    try:
        analysis = analyze(source, values)
        if strict:
            analysis.require_finite()
    except GadError as error:
        if error.source == source and source != argument and not is_standard_input(argument):
            error.origin = argument
        raise
    return analysis


TORCH_INSTALL = "pip install 'graphviz-ad[torch]' (or pip install torch)"


def _torch_source(module: str):
    """An importer module of graphviz_ad.sources that needs PyTorch, imported only when asked."""
    import importlib

    try:
        importlib.import_module("graphviz_ad.sources.torch_compat").require_supported()
        return importlib.import_module(f"graphviz_ad.sources.{module}")
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        raise UsageError("PyTorch is not installed", None, f"install it: {TORCH_INSTALL}") \
            from None


def trace_torch(fn, *args: Any, **kwargs: Any) -> Analysis:
    """Run `fn(*args, **kwargs)` (a function or an `nn.Module` returning a loss tensor) and
    record it: every torch call a node with torch's value, grouped by the module it ran in,
    `detach()`, `.data` and `no_grad` drawn as cuts; torch's backward pass gives the adjoints.
    A result with more than one element is summed. Parameters' `.grad` are left untouched."""
    imported = _torch_source("pytorch").trace(fn, args, kwargs)
    return Analysis.from_graph(imported.graph, imported.notes, imported.finite_difference)


def from_torch(output, params: Mapping[str, Any] | None = None) -> Analysis:
    """The backward graph of a tensor already computed (torchviz's `make_dot(y, params)`):
    leaves named by `params` (`dict(model.named_parameters())`), values where torch saved
    them, shapes always; torch's backward pass gives the adjoints (call it before
    `backward()`, or after `backward(retain_graph=True)`)."""
    imported = _torch_source("torch_output").from_output(output, params)
    return Analysis.from_graph(imported.graph, imported.notes)


def load_torch(target: str, assignments: Iterable[str] = ()) -> Analysis:
    """What `gad torch` does: run `FILE.py` as Python runs a script and trace its function
    (`FILE.py:NAME`, or the only function it defines) called with the NAME=VALUE
    `assignments` as float64 tensors. This executes the file's code."""
    from graphviz_ad.arguments import parse_values

    values = parse_values(list(assignments))
    imported = _torch_source("script").run(target, values)
    return Analysis.from_graph(imported.graph, imported.notes, imported.finite_difference)
