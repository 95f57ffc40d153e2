"""The small public facade used by the CLI, notebooks and tests: analyze a program at a point."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from graphviz_ad.engine.backward import Gradients, backward
from graphviz_ad.engine.build import Built, build
from graphviz_ad.engine.check import WORK_BUDGET, check_work, finite_difference, sweep_works
from graphviz_ad.engine.forward import forward_gradient
from graphviz_ad.engine.graph import Graph
from graphviz_ad.engine.numerics import NumericIssue, numeric_issues
from graphviz_ad.engine.paths import (CountEstimate, PathSummary, check_every_input, path_count,
                                      summarize)
from graphviz_ad.errors import UnknownNameError, UsageError

DEFAULT_TOP = 20
REVERSE = "reverse"
FORWARD = "forward"


@dataclass(frozen=True)
class Check:
    """A gradient beside its central finite difference, or the reason the check was skipped
    (then `finite_difference` is None)."""

    gradient: Any
    finite_difference: Any
    skipped: str = ""

    @property
    def difference(self) -> float:
        with np.errstate(all="ignore"):
            return float(np.max(np.abs(np.asarray(self.gradient) - self.finite_difference),
                                initial=0.0))

    @property
    def agrees(self) -> bool:
        scale = max(1.0, float(np.max(np.abs(self.gradient), initial=0.0)))
        return self.difference <= 1e-5 * scale


class Analysis:
    """A program evaluated at a point, with its gradients (computed once, on first use)."""

    def __init__(self, built: Built):
        self.built = built

    @property
    def graph(self) -> Graph:
        return self.built.graph

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.built.warnings

    @cached_property
    def numeric_issues(self) -> list[NumericIssue]:
        """Overflows, nans and infinite local derivatives, where they first appear."""
        return numeric_issues(self.graph, self.gradients)

    @property
    def value(self) -> float:
        return float(self.graph.values[self.graph.output])

    @property
    def inputs(self) -> list[str]:
        """Input names in natural order (x2 before x10), the order every table uses."""
        return sorted(self.graph.inputs, key=natural_key)

    @cached_property
    def gradients(self) -> Gradients:
        return backward(self.graph)

    def gradient(self, name: str, mode: str = REVERSE) -> Any:
        self.require_input(name)
        if mode not in (REVERSE, FORWARD):
            raise UsageError(f"unknown mode `{mode}`", None, f"use {REVERSE!r} or {FORWARD!r}")
        if mode == FORWARD:
            return forward_gradient(self.graph, name)
        return self.gradients.of(name)

    def paths(self, name: str, top: int | None = DEFAULT_TOP) -> PathSummary:
        """The `top` paths from `name` to the output by |product| (every path when None)."""
        self.require_input(name)
        return summarize(self.gradients, name, top)

    def every_input_paths(self, names: list[str], top: int = DEFAULT_TOP) -> list[PathSummary]:
        """`paths` for each of `names`, refused first when together they are too much work."""
        for name in names:
            self.require_input(name)
        check_every_input(self.gradients, names)
        return [summarize(self.gradients, name, top) for name in names]

    def path_count(self, name: str) -> int | CountEstimate:
        self.require_input(name)
        return path_count(self.gradients, name)

    def picture(self, wrt: str | None = None, top: int = DEFAULT_TOP,
                edge_labels: str = "value", only_paths: bool = False, compact: bool = False):
        """What a drawing shows (render/picture.py), with the paths of `wrt` coloured."""
        from graphviz_ad.render.picture import build_picture

        summary = self.paths(wrt, top) if wrt is not None else None
        return build_picture(self.gradients, summary, edge_labels, only_paths, compact)

    def digraph(self, wrt: str | None = None, view: str = "forward", rankdir: str = "LR",
                **options: Any):
        """The annotated graph as a `graphviz.Digraph` (options as for `picture`)."""
        from graphviz_ad.render.dot import to_digraph

        return to_digraph(self.picture(wrt, **options), view, rankdir)

    def _repr_svg_(self) -> str:
        """Jupyter shows an analysis as its picture, drawn by the bundled renderer if need be."""
        from graphviz_ad.render.backend import find_renderer, render

        source = self.digraph().source
        return render(source, "svg", find_renderer()).decode()

    def check(self, name: str, mode: str = REVERSE) -> Check:
        return self.checks([name], mode)[name]

    def checks(self, names: list[str], mode: str = REVERSE) -> dict[str, Check]:
        """Each input's gradient beside finite differences, in order, while their work fits
        one WORK_BUDGET in all; an input whose check would not fit what is left is skipped,
        its reason said, and later (smaller) ones may still be checked."""
        left = WORK_BUDGET
        works = sweep_works(self.graph)
        checks = {}
        for name in names:
            gradient = self.gradient(name, mode)
            work = check_work(self.graph, name, works)
            if work > left:
                spent = "" if left == WORK_BUDGET else f" ({left:,} left)"
                checks[name] = Check(gradient, None, f"checking {name} needs {work:,} element "
                                                     f"evaluations; the budget is "
                                                     f"{WORK_BUDGET:,}{spent}")
                continue
            left -= work
            checks[name] = Check(gradient, finite_difference(self.graph, name))
        return checks

    def require_input(self, name: str) -> None:
        if name not in self.graph.inputs:
            from graphviz_ad.engine.build import suggest

            known = ", ".join(self.graph.inputs) or "none"
            raise UnknownNameError(f"`{name}` is not an input of the program (inputs: {known})",
                                   None, suggest(name, self.graph.inputs))


def natural_key(name: str) -> tuple:
    """x2 before x10, and W among the w's rather than before every lower-case name."""
    parts = [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
             for part in re.split(r"(\d+)", name) if part]
    return (parts, name)


def analyze(source: str, values: Mapping[str, Any] | None = None, **named: Any) -> Analysis:
    """Evaluate `source` at the given input values: `analyze("x*y", x=2, y=3).gradient("x")`."""
    return Analysis(build(source, {**(values or {}), **named}))
