"""The facade for the command line, notebooks and tests: one door in, one door out.

In: `load` (an expression, a program file or `-`, and NAME=VALUE assignments), `analyze` (source
text and values) and `Analysis.from_graph` (an annotated graph from any source) all give an
`Analysis`. Out: `Analysis.picture` is what every format draws, `Analysis.render` and
`Analysis.save` write it through the one format table (render/formats.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from functools import cached_property
from typing import Any, Iterable, Mapping

import numpy as np

from graphviz_ad.engine.annotated import AnnotatedGraph, output_name
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.check import finite_difference
from graphviz_ad.engine.forward import forward_gradient
from graphviz_ad.engine.graph import Graph
from graphviz_ad.engine.numerics import NumericIssue, numeric_issues
from graphviz_ad.engine.paths import PathSummary, path_count, summarize
from graphviz_ad.errors import NumericError, UnknownNameError, UsageError
from graphviz_ad.options import DEFAULT_TOP, MODES

REVERSE, FORWARD = MODES
PICTURE_OPTIONS = ("top", "edge_labels", "only_paths", "compact")
CHECK_NOTE = "finite differences: central, h = 1e-6·max(1, |x|)"


@dataclass(frozen=True)
class Check:
    """A gradient beside its central finite difference."""

    gradient: Any
    finite_difference: Any

    @property
    def difference(self) -> float:
        with np.errstate(all="ignore"):
            return float(np.max(np.abs(np.asarray(self.gradient) - self.finite_difference),
                                initial=0.0))

    @property
    def agrees(self) -> bool:
        scale = max(1.0, float(np.max(np.abs(self.gradient), initial=0.0)))
        return self.difference <= 1e-5 * scale


@dataclass(frozen=True)
class GradientRow:
    name: str
    value: Any
    gradient: Any
    check: Check | None


@dataclass(frozen=True)
class GradientReport:
    """What `gad grad` shows: the output's value and one row per input."""

    output_name: str
    value: Any
    mode: str
    rows: tuple[GradientRow, ...]
    checked: bool

    @property
    def note(self) -> str:
        return f"{self.mode} mode" + (f"; {CHECK_NOTE}" if self.checked else "")


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
                 warnings: Iterable[str] = ()):
        self.graph = graph
        self.evaluated = evaluated
        self.warnings = tuple(warnings)

    @classmethod
    def from_graph(cls, graph: AnnotatedGraph, warnings: Iterable[str] = ()) -> Analysis:
        """An analysis of an annotated graph from any source (an importer, a test)."""
        return cls(graph, None, warnings)

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
        """What a user should know about the run: unused values, overflows, no inputs."""
        notes = list(self.warnings) + [issue.message for issue in self.numeric_issues]
        if not self.graph.inputs:
            notes.append("the program has no inputs: its value is a constant, with nothing to "
                         "differentiate")
        return notes

    def require_finite(self) -> None:
        """--strict: the first inf or nan is an error rather than a warning."""
        if self.numeric_issues:
            issue = self.numeric_issues[0]
            raise NumericError(issue.message, issue.span,
                               "without --strict this is a warning and the run goes on",
                               self.graph.source or None)

    @property
    def value(self) -> float:
        return float(self.graph.values[self.graph.output])

    @property
    def output_name(self) -> str:
        return output_name(self.graph)

    @property
    def inputs(self) -> list[str]:
        """Input names in natural order (x2 before x10), the order every table uses."""
        return sorted(self.graph.inputs, key=natural_key)

    def gradient(self, name: str, mode: str = REVERSE) -> Any:
        self.require_input(name)
        if mode not in MODES:
            raise UsageError(f"unknown mode `{mode}`", None, f"use {REVERSE!r} or {FORWARD!r}")
        if mode == FORWARD:
            return forward_gradient(self._replayable("forward mode"), name)
        return self.graph.gradient(name)

    def check(self, name: str, mode: str = REVERSE) -> Check:
        gradient = self.gradient(name, mode)
        return Check(gradient, finite_difference(self._replayable("the check"), name))

    def gradient_report(self, names: Iterable[str] | None = None, mode: str = REVERSE,
                        check: bool = True) -> GradientReport:
        chosen = self.selected(names)
        rows = []
        for name in chosen:
            checked = self.check(name, mode) if check else None
            rows.append(GradientRow(name, self.graph.values[self.graph.inputs[name]],
                                    checked.gradient if checked else self.gradient(name, mode),
                                    checked))
        return GradientReport(self.output_name, self.graph.values[self.graph.output], mode,
                              tuple(rows), check)

    def paths(self, name: str, top: int | None = DEFAULT_TOP) -> PathSummary:
        """The `top` paths from `name` to the output by |product| (every path when None)."""
        self.require_input(name)
        return summarize(self.graph, name, top)

    def path_count(self, name: str) -> int:
        self.require_input(name)
        return path_count(self.graph, name)

    def trace(self) -> Trace:
        from graphviz_ad.engine.trace import backward_steps, forward_steps, trace_names

        names = trace_names(self.graph)
        return Trace(names, forward_steps(self.graph), backward_steps(self.graph),
                     self.graph.output, self.output_name,
                     {name: self.graph.gradient(name) for name in self.inputs})

    def sweeps(self, top: int = DEFAULT_TOP):
        """The trace and each input's `top` paths as the rows of their table, for a page that
        steps through them (render/picture.Sweeps); arrays past PAGE_ELEMENTS numbers are
        summarised."""
        from graphviz_ad import records
        from graphviz_ad.render.page import PAGE_ELEMENTS
        from graphviz_ad.render.picture import Sweeps

        return Sweeps(records.trace_json(self.trace(), PAGE_ELEMENTS),
                      {name: records.path_rows_json(self.graph, self.paths(name, top),
                                                    PAGE_ELEMENTS)
                       for name in self.inputs})

    def picture(self, wrt: str | None = None, top: int = DEFAULT_TOP,
                edge_labels: str = "value", only_paths: bool = False, compact: bool = False):
        """What every format draws (render/picture.py), with the paths of `wrt` coloured."""
        from graphviz_ad.render.picture import build_picture

        summary = self.paths(wrt, top) if wrt is not None else None
        return build_picture(self.graph, summary, edge_labels, only_paths, compact)

    def draw(self, image_format: str = "svg", wrt: str | None = None, **options: Any):
        """The picture in `image_format` (a name from the format table) as a `Drawing`:
        options as for `picture`, and as `render.formats.DrawOptions` (view, rankdir, renderer,
        timeout, dpi, max_nodes)."""
        from graphviz_ad.render.formats import FORMATS, DrawOptions, name_list

        entry = FORMATS.get(image_format)
        if entry is None:
            raise UsageError(f"unknown format `{image_format}`", None,
                             f"choose one of {name_list()}")
        picture_options = {key: options.pop(key) for key in PICTURE_OPTIONS if key in options}
        draw_options = DrawOptions(**options)
        picture = self.picture(wrt, **picture_options)
        if entry.steps:
            picture = replace(picture, sweeps=self.sweeps(picture_options.get("top", DEFAULT_TOP)))
        return entry.write(picture, draw_options)

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


def natural_key(name: str) -> tuple:
    """x2 before x10, and W among the w's rather than before every lower-case name."""
    parts = [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
             for part in re.split(r"(\d+)", name) if part]
    return (parts, name)


def analyze(source: str, values: Mapping[str, Any] | None = None, **named: Any) -> Analysis:
    """Evaluate `source` at the given input values: `analyze("x*y", x=2, y=3).gradient("x")`."""
    from graphviz_ad.engine.build import build

    built = build(source, {**(values or {}), **named})
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
    (standard input), `assignments` are NAME=VALUE texts (`x=1.5`, `W=[[1,2],[3,4]]`).
    Errors point into the text they came from, named by the file when there is one."""
    from graphviz_ad.arguments import load_source, parse_values
    from graphviz_ad.errors import GadError
    from graphviz_ad.reading import is_standard_input

    source = load_source(argument)
    values = parse_values(list(assignments))
    try:
        analysis = analyze(source, values)
        if strict:
            analysis.require_finite()
    except GadError as error:
        if error.source == source and source != argument and not is_standard_input(argument):
            error.origin = argument
        raise
    return analysis
