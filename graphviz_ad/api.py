"""The facade for the command line, notebooks and tests: the doors in, and an analysis's queries.

`load`, `analyze`, `Analysis.from_graph` (a graph from any source) and PyTorch's `trace_torch`,
`from_torch` and `load_torch` give an `Analysis`, whose queries hand the work down: gradients
and checks to gradients.py, the trace to records.py, pictures to render/compose.py.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from graphviz_ad import arguments, gradients
from graphviz_ad.display import natural_key
from graphviz_ad.engine.annotated import AnnotatedGraph, output_name
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.build import build
from graphviz_ad.engine.graph import Graph
from graphviz_ad.engine.numerics import NumericIssue, numeric_issues
from graphviz_ad.errors import LimitError, NumericError, ShapeError, UsageError
from graphviz_ad.gradients import AUTO, Check, CheckSettings, GradientReport
from graphviz_ad.notebook import Showable
from graphviz_ad.options import DEFAULT_TOP
from graphviz_ad.writing import write_output

# Paths, traces, folding, higher derivatives and pictures: imported by the queries that need them.
if TYPE_CHECKING:
    from graphviz_ad import records
    from graphviz_ad.engine.fold import GroupDerivatives
    from graphviz_ad.engine.paths import CountEstimate, PathSummary
    from graphviz_ad.higher import HessianReport, HigherReport
    from graphviz_ad.render.compose import Plan
    from graphviz_ad.render.formats import Drawing, DrawOptions, Format, PictureOptions
    from graphviz_ad.render.picture import Picture


@dataclass(frozen=True)
class Walkthrough:
    """What `gad explain` shows: the gradients, each input's paths, the picture's plan or None."""

    report: GradientReport
    summaries: list[PathSummary]
    plan: Plan | None


class Analysis(Showable):
    """A computation at a point: its annotated graph, and where the engine evaluated it, the
    record that finite differences and forward mode replay; in a REPL, its value and gradients,
    and in a notebook its picture, or its page (`show("page")`; notebook.py)."""

    def __init__(self, graph: AnnotatedGraph, evaluated: Graph | None = None,
                 warnings: Iterable[str] = (), rerun: Callable[[str, str, float], Any] |
                 None = None):
        self.graph, self.evaluated, self.warnings = graph, evaluated, tuple(warnings)
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
        """What a user should know: unused values, overflows, no inputs; each said once."""
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

    def gradient(self, name: str, mode: str = AUTO) -> Any:
        """d output / d input, or its Jacobian (output + input shape), in `mode` (mode_for)."""
        return gradients.gradient(self, name, mode)

    @cached_property
    def reverse_jacobians(self) -> tuple[dict[str, Any], dict[str, LimitError]]:
        """Every input's Jacobian by reverse mode, made once (gradients.reverse_jacobians)."""
        return gradients.reverse_jacobians(self.graph, self.evaluated)

    def check(self, name: str, mode: str = AUTO,
              settings: CheckSettings = CheckSettings()) -> Check:
        return self.checks([name], mode, settings)[name]

    def checks(self, names: Iterable[str], mode: str = AUTO,
               settings: CheckSettings = CheckSettings()) -> dict[str, Check]:
        """Each input's gradient beside finite differences, in one budget (gradients.checks)."""
        return gradients.checks(self, names, mode, settings)

    def gradient_report(self, names: Iterable[str] | None = None, mode: str = AUTO,
                        check: bool = True,
                        settings: CheckSettings = CheckSettings()) -> GradientReport:
        """What `gad grad` shows (gradients.gradient_report)."""
        return gradients.gradient_report(self, names, mode, check, settings)

    def hessian(self, names: Iterable[str] | None = None, check: bool = True,
                settings: CheckSettings = CheckSettings()) -> HessianReport:
        """d²(output) / da db for each pair of `names`, checked (higher.hessian_report)."""
        from graphviz_ad import higher
        return higher.hessian_report(self, names, check, settings)

    def hessian_vector_product(self, direction: Mapping[str, Any]) -> dict[str, Any]:
        from graphviz_ad import higher
        return higher.hessian_vector_product_of(self, direction)  # H v by duals, no graph

    def higher(self, order: int, names: Iterable[str] | None = None, mode: str = AUTO,
               check: bool = True, settings: CheckSettings = CheckSettings()) -> HigherReport:
        """`gad grad --order`: derivatives up to `order` of one input, or the Hessian."""
        from graphviz_ad import higher
        return higher.higher_report(self, order, names, mode, check, settings)

    def require_scalar_output(self, what: str) -> None:  # paths, traces, pictures: one gradient
        if np.ndim(self.output_value) != 0:
            raise ShapeError(f"the output has shape {np.shape(self.output_value)}; {what} "
                             "needs a single number", self.graph.span(self.graph.output),
                             "wrap it in sum(...) or mean(...); gad grad prints the Jacobian "
                             "of an array, gad eval its value", self.graph.source or None)

    def paths(self, name: str, top: int | None = DEFAULT_TOP,
              fold: Iterable[str] = ()) -> PathSummary:
        """The `top` paths from `name` to the output, summing to the gradient (through `fold`)."""
        return self.paths_drawn(name, top, fold)[1]

    def paths_drawn(self, name: str, top: int | None = DEFAULT_TOP,
                    fold: Iterable[str] = ()) -> tuple[AnnotatedGraph, PathSummary]:
        """As `paths`, with the (folded) graph they run through, whose nodes a table names."""
        self.require_input(name)
        self.require_scalar_output("a path's product")
        from graphviz_ad.engine.paths import summarize
        graph = self.folded(fold, name).graph if fold else self.graph
        return graph, summarize(graph, name, top)

    def folded(self, groups: Iterable[str], keep_input: str | None = None):
        """The annotated graph with these groups folded (engine/fold.py's `Folding`)."""
        from graphviz_ad.engine.fold import fold
        keep = [self.graph.inputs[keep_input]] if keep_input is not None else []
        return fold(self.graph, self.groups_named(groups), keep, self.group_derivatives)

    @cached_property
    def group_derivatives(self) -> GroupDerivatives:
        """The total derivatives of the groups folded so far, which every later folding reuses
        (a page folds again for each group it expands; through torch, each costs calls)."""
        from graphviz_ad.engine.fold import GroupDerivatives
        return GroupDerivatives(self.graph)

    def groups_named(self, names: Iterable[str]) -> list[tuple[str, ...]]:
        """The group paths of dotted names (`layer2.0`; arguments.groups_named)."""
        return arguments.groups_named(self.graph, names)

    def walkthrough(self, options: PictureOptions, check: bool = True,
                    image_format: str | Format | None = None,
                    drawing: DrawOptions | None = None) -> Walkthrough:
        """The gradients and `options.top` paths of `options.wrt` (else of every input); with
        `image_format`, first the picture's plan, coloured by that input or the only one."""
        names = self.selected([options.wrt] if options.wrt else None)
        self.require_scalar_output("a path's product")
        planned = self.plan(image_format, replace(options, wrt=options.wrt or (
            names[0] if len(names) == 1 else None)), drawing) if image_format else None
        summaries = self.every_input_paths(names, options.top)
        return Walkthrough(self.gradient_report(names, check=check), summaries, planned)

    def every_input_paths(self, names: Iterable[str], top: int = DEFAULT_TOP) -> list[PathSummary]:
        """`paths` for each of `names`, refused first when together they are too much work."""
        from graphviz_ad.engine.paths import check_every_input, summarize
        names = self.selected(names)
        self.require_scalar_output("a path's product")
        check_every_input(self.graph, names)
        return [summarize(self.graph, name, top) for name in names]

    def path_count(self, name: str) -> int | CountEstimate:
        from graphviz_ad.engine.paths import path_count
        self.require_input(name)
        return path_count(self.graph, name)

    def trace(self, max_steps: int | None = None, hint: str | None = None,
              mode: str = AUTO) -> records.Trace:  # evaluation and sweeps (records.trace_of)
        from graphviz_ad import records
        self.require_scalar_output("a trace")
        return records.trace_of(self.graph, self.inputs, max_steps, hint, mode)

    def picture(self, wrt: str | None = None, **options: Any) -> Picture:
        """What every format draws (render/picture.py), with the paths of `wrt` coloured; the
        options are render/formats.PictureOptions's (top, edge_labels, only_paths, ...)."""
        from graphviz_ad.render import compose, formats
        return compose.picture(self, formats.keyword_options(wrt, options, drawn=False)[0])

    def plan(self, image_format: str | Format = "svg", options: PictureOptions | None = None,
             drawing: DrawOptions | None = None) -> Plan:
        """The picture for `image_format` (a name or an entry of the table), its detail chosen
        and its size refused before anything is drawn (render/compose.py); `write` draws it."""
        from graphviz_ad.render import compose, formats
        return compose.plan(self, formats.format_named(image_format),
                            options or formats.PictureOptions(), drawing or formats.DrawOptions())

    def write(self, path: str, planned: Plan) -> Drawing:
        """Draw a planned picture and write it to `path` (`-` for standard output)."""
        from graphviz_ad.render.compose import draw
        drawing = draw(self, planned)
        write_output(path, drawing.data)
        return drawing

    def draw(self, image_format: str = "svg", wrt: str | None = None, **options: Any) -> Drawing:
        """The picture in `image_format`; options as `picture`'s and formats.DrawOptions'."""
        from graphviz_ad.render import compose, formats
        return compose.draw(self, self.plan(image_format, *formats.keyword_options(wrt, options)))

    def render(self, image_format: str = "svg", wrt: str | None = None, **options: Any) -> bytes:
        return self.draw(image_format, wrt, **options).data

    def save(self, path: str, image_format: str | None = None, wrt: str | None = None,
             **options: Any) -> Drawing:
        """Write the picture to `path` (`-` for standard output), in the format its suffix or
        `image_format` names; options as for `draw`."""
        from graphviz_ad.render import formats
        entry = formats.choose_format(path, image_format)
        return self.write(path, self.plan(entry, *formats.keyword_options(wrt, options)))

    def digraph(self, wrt: str | None = None, view: str = "forward", rankdir: str = "auto",
                **options: Any):
        """The annotated graph as a `graphviz.Digraph` (options as for `picture`)."""
        from graphviz_ad.render.dot import to_digraph
        return to_digraph(self.picture(wrt, **options), view, rankdir)

    def selected(self, names: Iterable[str] | None) -> list[str]:
        """The inputs asked for, each once, in the order given; all of them when None."""
        chosen = list(dict.fromkeys(names)) if names else self.inputs
        for name in chosen:
            self.require_input(name)
        return chosen

    def require_input(self, name: str) -> None:
        arguments.require_input(self.graph, name)


def analyze(source: str, values: Mapping[str, Any] | None = None,
            data_names: Iterable[str] = (), **named: Any) -> Analysis:
    """Evaluate `source` at the given input values: `analyze("x*y", x=2, y=3).gradient("x")`;
    `data_names` are data, with no gradient, as if the program declared `data X`."""
    built = build(source, {**(values or {}), **named}, data_names)
    return Analysis.from_evaluated(built.graph, built.warnings)


def load(argument: str, assignments: Iterable[str] = (), strict: bool = False) -> Analysis:
    """What the command line does: `argument` is an expression, a program file or `-`
    (standard input), `assignments` are NAME=VALUE texts (`x=1.5`, `W=[[1,2],[3,4]]`,
    `X=@batch.npy`, `W=@weights.npz:W1`, `y=@labels.csv`, `y=@-`). Errors point into the text
    they came from, named by the file when there is one."""
    source, values = arguments.read_program(argument, assignments)
    with arguments.named_by_its_file(argument, source):
        analysis = analyze(source, values)
        if strict:
            analysis.require_finite()
    return analysis


@contextmanager
def requiring_torch() -> Iterator[None]:
    """Around the imports of graphviz_ad.sources, made only when asked: no PyTorch, or a too
    old one, is a message saying what to install."""
    try:
        from graphviz_ad.sources.torch_compat import require_supported
        require_supported()
        yield
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        raise UsageError("PyTorch is not installed", None, "install it: pip install "
                         "'graphviz-ad[torch]' (or pip install torch)") from None


def trace_torch(fn, *args: Any, **kwargs: Any) -> Analysis:
    """Run `fn(*args, **kwargs)` (a function or an `nn.Module` returning a loss tensor) and
    record it: every torch call a node with torch's value, grouped by the module it ran in,
    `detach()`, `.data` and `no_grad` drawn as cuts; torch's backward pass gives the adjoints.
    A result with more than one element is summed. Parameters' `.grad` are left untouched."""
    with requiring_torch():
        from graphviz_ad.sources.pytorch import trace
    imported = trace(fn, args, kwargs)
    return Analysis.from_graph(imported.graph, imported.notes, imported.finite_difference)


def from_torch(output, params: Mapping[str, Any] | None = None) -> Analysis:
    """The backward graph of a tensor already computed (torchviz's `make_dot(y, params)`):
    leaves named by `params` (`dict(model.named_parameters())`), values where torch saved
    them, shapes always; torch's backward pass gives the adjoints (call it before
    `backward()`, or after `backward(retain_graph=True)`)."""
    with requiring_torch():
        from graphviz_ad.sources.torch_output import from_output
    imported = from_output(output, params)
    return Analysis.from_graph(imported.graph, imported.notes)


def load_torch(target: str | arguments.ScriptTarget, assignments: Iterable[str] = ()) -> Analysis:
    """What `gad torch` does: run `FILE.py` as Python runs a script and trace its function
    (`FILE.py:NAME`, or its only one) called with the NAME=VALUE `assignments` as float64
    tensors (`target` may come split: arguments.split_torch_target). This runs the file's code."""
    script = arguments.split_torch_target(target) if isinstance(target, str) else target
    values = arguments.parse_values(list(assignments))
    with requiring_torch():
        from graphviz_ad.sources.script import run
    arguments.require_script(script.file)
    imported = run(script.file, script.name, values, from_torch)
    return Analysis.from_graph(imported.graph, imported.notes, imported.finite_difference)
