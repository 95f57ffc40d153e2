"""Budgets are checked before the work they bound: each test proves the work was not done (a
counted call that never happens, or a memory limit the work could not fit in)."""

import decimal
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphviz_ad.api
import graphviz_ad.engine.forward
import graphviz_ad.engine.paths
import graphviz_ad.gradients
import graphviz_ad.records
import graphviz_ad.render.compose
import graphviz_ad.render.dot
import graphviz_ad.render.export
import graphviz_ad.render.picture
from graphviz_ad import display
from graphviz_ad.api import analyze
from graphviz_ad.engine.build import _refuse_many_operators, build, free_names
from graphviz_ad.engine.graph import MAX_HELD_ELEMENTS, GraphBuilder
from graphviz_ad.engine.ops import OPS
from graphviz_ad.errors import GadError, LimitError
from graphviz_ad.language import parse
from graphviz_ad.render.formats import PictureOptions
from tests.conftest import gad

ROOT = Path(__file__).resolve().parent.parent




def flat_sum(terms: int) -> str:
    return " + ".join(["x"] * terms)


def doubling(lines: int) -> str:
    return "x0 = x\n" + "".join(f"x{i} = x{i - 1} + x{i - 1}\n" for i in range(1, lines + 1))


def never(name: str):
    def refuse(*arguments, **options):
        raise AssertionError(f"{name} was called: the work was done before the budget refused it")
    return refuse


class Calls:
    """Wraps a function and counts its calls."""

    def __init__(self, function):
        self.function = function
        self.count = 0

    def __call__(self, *arguments, **options):
        self.count += 1
        return self.function(*arguments, **options)


# Item 2: pictures are sized before they are built, and their texts stay linear.

def test_max_nodes_refuses_a_40000_term_sum_before_building_the_picture(monkeypatch, tmp_path):
    monkeypatch.setattr(graphviz_ad.render.compose, "build_picture", never("build_picture"))
    unfolded = gad("graph", flat_sum(40_000), "x=1", "-o", tmp_path / "f.svg", "--expand-all")
    assert unfolded.exit_code == 2, unfolded.stderr
    # 39,999 additions, and x drawn once per use (a much-used leaf in a large picture)
    assert "the picture would have 79,999 nodes, more than --max-nodes 150" in unfolded.stderr
    # Folded to runs of runs of terms, it fits the default budget; not a smaller one.
    folded = gad("graph", flat_sum(40_000), "x=1", "-o", tmp_path / "f.svg", "--max-nodes", 10,
                 "--apart")  # runs of runs alike would be one box
    assert folded.exit_code == 2, folded.stderr
    assert "the picture would have 15 nodes, more than --max-nodes 10" in folded.stderr
    assert not (tmp_path / "f.svg").exists()


@pytest.mark.parametrize("source, values", [
    (ROOT / "samples/seed.gad", {}),
    (ROOT / "samples/network.gad", {}),
    (ROOT / "samples/fanout.gad", {}),
    ("sin(sin(sin(x))) * y + exp(exp(y)) * 2 + no_grad(x * 3)", {"x": 1.0, "y": 2.0}),
    (" + ".join(["x * c"] * 90) + " + sin(sin(x))", {"x": 1.0, "c": 2.0}),  # copies of c and x
])
@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("only_paths", [False, True])
def test_drawn_nodes_counts_exactly_what_the_picture_draws(source, values, compact, only_paths):
    text = source.read_text() if isinstance(source, Path) else source
    analysis = analyze(text, values)
    wrt = analysis.inputs[0]
    for expand_all in (False, True):
        graph = graphviz_ad.render.compose.picture_graph(analysis, PictureOptions(
            wrt, expand_all=expand_all, max_boxes=60)).graph
        picture = analysis.picture(wrt, only_paths=only_paths, compact=compact,
                                   expand_all=expand_all)
        assert graph_nodes(graph, wrt, only_paths, compact) == len(picture.nodes)


def graph_nodes(graph, wrt, only_paths, compact):
    return graphviz_ad.render.picture.drawn_nodes(graph, wrt, only_paths, compact)


def test_max_nodes_counts_the_nodes_after_compact_and_only_paths(monkeypatch, tmp_path):
    # Three chains of five sines fold into three nodes; y's constant branch is not on x's paths.
    source = "sin(sin(sin(sin(sin(x))))) + sin(sin(sin(sin(sin(x))))) * " \
             "sin(sin(sin(sin(sin(x))))) + y * 2"
    drawn = graphviz_ad.render.picture.drawn_nodes
    graph = analyze(source, x=1.0, y=1.0).graph
    assert drawn(graph) == 22
    assert drawn(graph, compact=True) == 10
    assert drawn(graph, "x", only_paths=True) == 19
    assert drawn(graph, "x", only_paths=True, compact=True) == 7
    for options in (["--compact"], ["--wrt", "x", "--only-paths"]):
        monkeypatch.setattr(graphviz_ad.render.compose, "build_picture", never("build_picture"))
        result = gad("graph", source, "x=1", "y=1", "-o", tmp_path / "f.svg", "--max-nodes", "6",
                     "--expand-all", *options)
        assert result.exit_code == 2, result.stderr


def test_max_nodes_hint_names_only_options_that_draw_fewer(tmp_path):
    chains = "sin(sin(sin(x))) * y"  # 6 nodes; --compact folds the chain into one
    result = gad("graph", chains, "x=1", "y=2", "-o", tmp_path / "f.svg", "--max-nodes", "3")
    assert "hint: --compact draws 4; DOT (-o FILE.dot) needs no layout; --max-nodes 6 lays " \
           "it out anyway" in result.stderr
    given = gad("graph", chains, "x=1", "y=2", "-o", tmp_path / "f.svg", "--max-nodes", "3",
                "--compact")
    assert "the picture would have 4 nodes, more than --max-nodes 3" in given.stderr
    assert "--compact" not in given.stderr.split("hint:")[1]
    nothing_folds = gad("graph", ROOT / "samples/seed.gad", "-o", tmp_path / "f.svg",
                        "--max-nodes", "5", "--compact")
    assert "--compact" not in nothing_folds.stderr.split("hint:")[1]
    assert "--only-paths" not in nothing_folds.stderr  # without --wrt: whose paths?
    with_wrt = gad("graph", "sin(x) * 2 + 3 * y", "x=1", "y=2", "-o", tmp_path / "f.svg",
                   "--max-nodes", "2", "--wrt", "x")
    assert "hint: --only-paths draws 4;" in with_wrt.stderr  # x, sin, * and +


def test_explain_refuses_its_picture_before_the_tables(monkeypatch, tmp_path):
    monkeypatch.setattr(graphviz_ad.engine.paths, "summarize", never("summarize"))
    monkeypatch.setattr(graphviz_ad.gradients, "finite_difference", never("finite_difference"))
    result = gad("explain", "sin(sin(sin(x))) * y", "x=1", "y=2", "-o", tmp_path / "f.svg",
                 "--max-nodes", "3")
    assert result.exit_code == 2
    assert "hint: --compact draws 4" in result.stderr
    assert result.stdout == ""


def test_only_paths_without_wrt_is_said_before_the_size(tmp_path):
    result = gad("graph", flat_sum(500), "x=1", "-o", tmp_path / "f.svg", "--only-paths")
    assert result.exit_code == 2
    assert "--only-paths needs --wrt NAME" in result.stderr


def test_dot_of_a_flat_sum_grows_linearly_and_tooltips_are_cut(tmp_path):
    sizes = {}
    for terms in (1_000, 4_000):
        result = gad("graph", flat_sum(terms), "x=1", "-o", tmp_path / f"{terms}.dot")
        assert result.exit_code == 0, result.stderr
        sizes[terms] = (tmp_path / f"{terms}.dot").stat().st_size
    assert sizes[4_000] < 4.4 * sizes[1_000]  # quadratic would be 16x
    text = (tmp_path / "4000.dot").read_text()
    tooltips = re.findall(r'tooltip="([^"]*)"', text)
    assert max(len(tooltip) for tooltip in tooltips) == display.MAX_SOURCE_TEXT
    assert 'tooltip="' + "x + " * 12 + "x… x" + " + x" * 12 + '"' in text


def test_trace_and_json_export_cut_the_source_text():
    trace = json.loads(gad("trace", flat_sum(2_000), "x=1", "--json").stdout)
    assert max(len(step["source"]) for step in trace["forward"]) == display.MAX_SOURCE_TEXT
    export = json.loads(gad("graph", flat_sum(2_000), "x=1", "-f", "json").stdout)
    assert max(len(node["source"]) for node in export["nodes"]) == display.MAX_SOURCE_TEXT
    assert display.abbreviate("abcdefghij", 5) == "ab…ij"
    assert display.abbreviate("0123456789", 5, 2, 9) == "23…78"


def test_dot_and_json_exports_are_refused_past_their_node_limit(monkeypatch):
    monkeypatch.setattr(graphviz_ad.render.compose, "MAX_EXPORT_NODES", 100)
    monkeypatch.setattr(graphviz_ad.render.compose, "build_picture", never("build_picture"))
    for form in ("dot", "json"):
        result = gad("graph", flat_sum(200), "x=1", "-f", form, "--expand-all")
        assert result.exit_code == 2, result.stderr
        # 199 additions and x drawn once for each of its 200 uses
        assert f"the {form.upper()} would have 399 nodes; {form.upper()} output is limited " \
               "to 100" in result.stderr


def test_trace_refuses_long_tables_before_making_a_step(monkeypatch):
    monkeypatch.setattr(graphviz_ad.records, "forward_steps", never("forward_steps"))
    result = gad("trace", flat_sum(5_000), "x=1")
    assert result.exit_code == 2
    assert "the trace has 14,998 steps; the limit is 10,000" in result.stderr
    assert "hint: --json prints up to 100,000 steps" in result.stderr


# Item 4: the arrays of a graph together have a budget, checked before each array is made.

def test_held_elements_budget_stops_before_computing_the_array_past_it():
    computed = Calls(OPS["sin"].value)
    counting_sin = type(OPS["sin"])(**{**{field: getattr(OPS["sin"], field) for field in
                                          ("name", "arity", "partials", "description")},
                                       "value": computed})
    builder = GraphBuilder("", max_held=2_500)
    x = builder.input("x", np.ones(1_000))
    first = builder.apply(counting_sin, (x,))
    with pytest.raises(LimitError) as refused:
        builder.apply(counting_sin, (first,))
    assert computed.count == 1
    assert refused.value.reason == "sin would bring the elements of the graph's arrays to " \
                                   "3,000; the limit is 2,500"


def test_held_elements_budget_counts_broadcasts_and_skips_reductions():
    builder = GraphBuilder("", max_held=1_000)
    column = builder.input("c", np.ones((30, 1)))
    row = builder.input("r", np.ones(30))
    total = builder.apply("sum", (builder.apply("mul", (column, row)),))
    assert builder.values[total] == 900
    assert builder.held == 30 + 30 + 900  # the sum is a scalar: not counted
    with pytest.raises(LimitError):
        builder.apply("add", (column, row))


def test_forty_chained_ops_on_a_broadcast_are_refused_within_500_mb(tmp_path):
    program = tmp_path / "chain.gad"
    program.write_text("y = a*b\n" + "y = sin(y)\n" * 40 + "sum(y)\n")
    column = "a=[" + ",".join(["[1]"] * 3162) + "]"
    row = "b=[" + ",".join(["1"] * 3162) + "]"
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (500 << 20, 500 << 20));"
            "from graphviz_ad.cli import main; sys.argv = ['gad'] + sys.argv[1:]; main()")
    result = subprocess.run([sys.executable, "-c", code, "grad", str(program), column, row,
                             "--no-check"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 2, result.stderr
    assert f"the limit is {MAX_HELD_ELEMENTS:,}" in result.stderr
    assert "line 3" in result.stderr


# Item 5: the finite-difference check has a work budget; past it an input is skipped.

def wide_program():
    """x of 1,000 elements broadcast against c to a million. Checking x replays, twice per
    element, the operations after it, each counting the numbers it reads or writes, whichever
    are more, plus OPERATION_COST: x * c and sin write 1,000,000, and sum reads as many, so
    2 * 1,000 * (3,000,000 + 3 * 64) = 6,000,384,000 evaluations."""
    return "sum(sin(x * c))", "x=[" + ",".join(["0.5"] * 1000) + "]", \
        "c=[" + ",".join(["[1]"] * 1000) + "]"


def test_check_past_its_budget_is_skipped_without_replaying(monkeypatch):
    monkeypatch.setattr(graphviz_ad.gradients, "finite_difference", never("finite_difference"))
    table = gad("grad", *wide_program(), "--wrt", "x")
    assert table.exit_code == 0, table.stderr
    assert "skipped" in table.stdout
    assert "finite differences skipped past their work budget: checking x needs " \
           "6,000,384,000 element evaluations; the budget is 500,000,000" in \
           " ".join(table.stdout.split())
    data = json.loads(gad("grad", *wide_program(), "--json").stdout)
    assert data["check"]["x"] == {"skipped": "checking x needs 6,000,384,000 element "
                                             "evaluations; the budget is 500,000,000"}
    assert data["gradient"]["x"][0] == pytest.approx(1000 * np.cos(0.5))


def test_check_budget_is_shared_and_smaller_checks_still_run(monkeypatch):
    # After big: big * 2 (reads 11 numbers), sum (reads 10) and + (reads 2), each plus 64:
    # 215 per replay, 2 * 10 * 215 = 4,300 for big; after small only +: 2 * 1 * 66 = 132,
    # which fits.
    monkeypatch.setattr(graphviz_ad.gradients, "WORK_BUDGET", 1_000)
    analysis = analyze("sum(big * 2) + small", big=np.ones(10), small=1.0)
    checks = analysis.checks(["big", "small"])
    assert checks["big"].skipped == "checking big needs 4,300 element evaluations; the budget " \
                                    "is 1,000"
    assert checks["big"].finite_difference is None
    assert not checks["small"].skipped and checks["small"].agrees


def test_explain_has_no_check():
    result = gad("explain", ROOT / "samples/seed.gad", "--no-check")
    assert result.exit_code == 0, result.stderr
    assert "finite difference" not in result.stdout and "1.6165488003791766" in result.stdout


def test_forward_mode_past_the_budget_is_refused_before_any_sweep(monkeypatch):
    monkeypatch.setattr(graphviz_ad.engine.forward, "_sweep", never("a forward sweep"))
    result = gad("grad", *wide_program(), "--mode", "forward", "--no-check")
    assert result.exit_code == 2
    assert "forward mode for c needs 1,000 tangent sweeps" in result.stderr


# Item 6: --top and listings are bounded before any path is made.

@pytest.mark.parametrize("command", [["paths", "--wrt", "x"], ["graph", "--wrt", "x"],
                                     ["explain"]])
def test_top_past_the_enumeration_limit_is_refused_before_evaluating(monkeypatch, command):
    monkeypatch.setattr(graphviz_ad.api, "analyze", never("analyze"))
    result = gad(command[0], ROOT / "samples/doubling.gad", "x=1", *command[1:], "--top",
                 "1000000")
    assert result.exit_code == 2
    assert "1000000 is not in the range 1<=x<=10000" in result.stderr
    with pytest.raises(LimitError) as refused:  # from Python too, before any path is made
        monkeypatch.setattr(graphviz_ad.engine.paths, "path_count", never("path_count"))
        graphviz_ad.engine.paths.summarize(None, "x", 1_000_000)
    assert refused.value.reason == "--top 1,000,000 is more than the 10,000 paths that can " \
                                   "be listed"


def test_long_paths_are_refused_before_any_is_listed(monkeypatch):
    monkeypatch.setattr(graphviz_ad.engine.paths, "best_first", never("best_first"))
    result = gad("paths", doubling(4_000), "x=1", "--wrt", "x", "--top", "1000")
    assert result.exit_code == 2
    assert "listing 1,000 paths of up to 4,000 edges is 4,000,000 edges; the limit is " \
           "2,000,000" in result.stderr
    assert "hint: use --top 500 or fewer" in result.stderr


def test_array_paths_are_searched_not_enumerated_past_the_listing_budget(monkeypatch):
    monkeypatch.setattr(graphviz_ad.engine.paths, "every_path", never("every_path"))
    source = "y = x\n" + "y = sin(y) + y\n" * 13 + "sum(y)"
    summary = analyze(source, x=np.ones(10_000)).paths("x", 20)
    assert summary.count == 8192 and len(summary.paths) == 20 and not summary.exact_order


def test_paths_of_every_input_are_refused_past_their_budget_before_any(monkeypatch):
    monkeypatch.setattr(graphviz_ad.engine.paths, "summarize", never("summarize"))
    source = " + ".join(f"x{i} * x{i}" for i in range(1500))  # 4,499 nodes
    values = [f"x{i}=1" for i in range(1500)]
    for command in ("paths", "explain"):
        result = gad(command, source, *values)
        assert result.exit_code == 2, result.stderr
        # x0 is node 0 and x_i node 3i - 1; each visits itself and every node up to the output,
        # node 4,498: 4,499 for x0 and 4,500 - 3i for x_i.
        visits = 4_499 + sum(4_500 - 3 * i for i in range(1, 1500))
        assert f"the paths of 1,500 inputs would take {visits:,} node visits; the limit is " \
               "1,000,000" in result.stderr


# Item 9: path counts of any size print short in tables, exactly in JSON.

def test_a_14286_line_doubling_chain_counts_paths_without_the_digit_limit(tmp_path):
    program = tmp_path / "doubling.gad"
    program.write_text(doubling(14_286))
    table = gad("paths", program, "x=1", "--wrt", "x", "--top", "2")
    assert table.exit_code == 0, table.stderr
    assert "paths from x to x14286: 2^14286" in table.stdout
    assert "the other ≈ 3.270e+4300" in table.stdout
    data = json.loads(gad("paths", program, "x=1", "--wrt", "x", "--top", "1", "--json").stdout)
    assert decimal.Decimal(data["path_count"]) == decimal.Decimal(2 ** 14286)
    assert gad("paths", program, "x=1").exit_code == 0
    assert gad("explain", program, "x=1", "--no-check", "--top", "1").exit_code == 0
    export = gad("graph", program, "x=1", "--wrt", "x", "-o", tmp_path / "d.json")
    assert export.exit_code == 0, export.stderr


def test_counts_past_the_exact_budget_are_estimated(monkeypatch):
    monkeypatch.setattr(graphviz_ad.engine.paths, "EXACT_COUNT_WORK", 100_000)
    table = gad("paths", doubling(1_000), "x=1", "--wrt", "x", "--top", "1")
    assert "paths from x to x1000: ≈ 1.072e+301" in table.stdout
    data = json.loads(gad("paths", doubling(1_000), "x=1", "--wrt", "x", "--top", "1",
                          "--json").stdout)
    assert data["path_count"] == "~1.07151e+301" and data["rest"]["count"] == "~1.07151e+301"


def test_exact_counting_drops_counts_after_their_last_use(monkeypatch):
    # Under 20,000 bits held at once, a 1,000-line chain (500,000 bits made in all) is exact.
    monkeypatch.setattr(graphviz_ad.engine.paths, "EXACT_COUNT_BITS", 20_000)
    assert analyze(doubling(1_000), x=1.0).path_count("x") == 2 ** 1000


@pytest.mark.parametrize("value, text, as_json", [
    (3, "3", 3),
    (2 ** 60, "1,152,921,504,606,846,976", "1152921504606846976"),
    (2 ** 53 - 1, "9,007,199,254,740,991", 2 ** 53 - 1),
    (10 ** 20 + 1, "≈ 1.000e+20", "100000000000000000001"),
    (2 ** 14286, "2^14286", None),
    (3 * 2 ** 100000, "≈ 2.997e+30103", None),
    (graphviz_ad.engine.paths.CountEstimate(100000.0), "≈ 9.990e+30102", "~9.99002e+30102"),
], ids=lambda item: item if isinstance(item, str) else display.count(item) if item else "-")
def test_path_counts_print_short_and_json_exact(value, text, as_json):
    assert display.count(value) == text
    if as_json is not None:
        assert display.count_json(value) == as_json
    if isinstance(value, int) and value > 2 ** 53:
        assert decimal.Decimal(display.count_json(value)) == decimal.Decimal(value)


@pytest.mark.parametrize("source, values", [
    ("x*1e308 + x*1e308", ["x=1"]),
    ("x*y + x", ["x=1", "y=nan"]),
    ("x*1e308 - x*1e308", ["x=1"]),
])
def test_cancellation_estimate_takes_inf_and_nan(source, values):
    result = gad("paths", source, *values, "--wrt", "x")
    assert result.exit_code == 0, result.stderr
    assert "cancellation" not in result.stdout and "RuntimeWarning" not in result.stderr


# Item 18: long literal labels are cut wherever a node title is drawn.

def test_a_no_grad_matrix_is_labelled_short(tmp_path):
    matrix = "[" + ", ".join("[" + ", ".join(str(5 * i + j) for j in range(5)) + "]"
                             for i in range(20)) + "]"
    source = f"w = no_grad({matrix})\nsum(w @ x)"
    graph = analyze(source, x=np.ones(5)).graph
    assert graph.labels[0] == "no_grad([[0, 1,…6, 97, 98, 99]])"
    dot = gad("graph", source, "x=[1,2,3,4,5]").stdout
    assert "<B>no_grad([[0, 1,…6, 97, 98, 99]])</B>" in dot
    assert "[[0, 1, 2, 3, 4], [5" not in dot.split("tooltip")[0]


@pytest.mark.system_dot
@pytest.mark.skipif(shutil.which("dot") is None, reason="needs a system Graphviz `dot`")
def test_a_no_grad_matrix_draws_a_picture_of_ordinary_width(tmp_path):
    matrix = "[" + ", ".join("[" + ", ".join(str(5 * i + j) for j in range(5)) + "]"
                             for i in range(20)) + "]"
    result = gad("graph", f"w = no_grad({matrix})\nsum(w @ x)", "x=[1,2,3,4,5]", "-o",
                 tmp_path / "w.svg", "--renderer", "dot")
    assert result.exit_code == 0, result.stderr
    width = re.search(r'<svg width="([0-9.]+)pt"', (tmp_path / "w.svg").read_text()).group(1)
    assert float(width) < 1000  # the whole literal as a title made it about 10,000 pt wide


def test_every_limit_constant_is_named_in_docs_errors():
    text = (ROOT / "docs" / "errors.md").read_text()
    pattern = re.compile(r"^(MAX_\w+|\w+_LIMIT|\w+_BUDGET|EXACT_COUNT_\w+) = ", re.MULTILINE)
    found = {name for path in (ROOT / "graphviz_ad").rglob("*.py")
             for name in pattern.findall(path.read_text())}
    assert {name for name in found if f"`{name}`" not in text} == set()


class CountingSource(str):
    """Program text that counts the characters `str.count` scans in it."""

    scanned = 0

    def count(self, sub, start=0, end=None):
        end = len(self) if end is None else end
        CountingSource.scanned += max(0, end - start)
        return str.count(self, sub, start, end)


def test_long_programs_find_their_block_lines_in_one_scan():
    source = CountingSource(doubling(3_000))
    CountingSource.scanned = 0
    groups = analyze(source, x=1.0).graph.groups
    assert CountingSource.scanned <= len(source)  # per statement from the start: 1,400x more
    # 3,001 statements in blocks of ceil(sqrt(3001)) = 55, those in blocks of 8: 440 lines
    assert groups[1][:2] == ("lines 1-440", "lines 1-55")


# A program of more binary operators than graph nodes allowed is refused from its text, before
# it is parsed (tests/test_complexity.py measures it); the count must never pass the nodes the
# program makes, or a program that fits would be refused.

@pytest.mark.parametrize("source, counted", [
    ("x+x+x", 2),
    # an exponent's sign and a minus sign are not operators; a number before one is a constant
    ("2e-3*x - -x^2 ** 3 @ y", 8),
    ("x + 1 + 2.5\n1e3 - x", 5),  # 1, and 1e3 on a line of its own, are before an operator
    ("f(a, -b)+ [1, -2][0]  # a+b*c, not counted\n  y\t-1", 2),
    ("w = x .5E+2", 0),  # a syntax error, so never built: nothing to count
    ("sum(x, axis=-1) / (y)\n-z", 1),  # a new statement's sign
])
def test_binary_operators_and_the_numbers_before_them_are_counted_from_the_text(source,
                                                                                 counted):
    _refuse_many_operators(source, counted + 1)
    if counted:
        with pytest.raises(LimitError, match=f"more than {counted:,} nodes"):
            _refuse_many_operators(source, counted)


spacing = st.sampled_from(["", " ", "\t", "  "])
atoms = st.sampled_from(["x", "y2", "a2e", "e", "1", "2.5", "1e-3", "4E+2", ".5", "7.", "pi"])


def composite(inner):
    binary = st.tuples(inner, spacing, st.sampled_from(["+", "-", "*", "/", "^", "**", "@"]),
                       spacing, inner).map("".join)
    unary = st.tuples(st.sampled_from(["-", "+"]), inner).map("".join)
    bracketed = st.tuples(st.sampled_from(["(", "sin(", "[", "max(1, "]), st.sampled_from(
        ["", "\n", " # -1 + x\n"]), inner).map(
        lambda parts: parts[0] + parts[1] + parts[2] + ("]" if parts[0] == "[" else ")"))
    return binary | unary | bracketed


@given(st.recursive(atoms, composite, max_leaves=12))
def test_what_is_counted_from_the_text_never_outnumbers_the_nodes_built(source):
    try:
        names = free_names(parse(source))
        nodes = len(build(source, dict.fromkeys(names, 1.0)).graph)
    except GadError:
        return  # not a program that builds: refused for what it is, at any size
    _refuse_many_operators(source, nodes)  # a program that fits is never refused


def test_a_matrix_product_counts_every_number_it_reads_before_a_jacobian_is_swept(monkeypatch):
    # W @ x, W 30×30: one backward sweep reads W's 900 numbers and x's 30 (more than its 30
    # outputs, and than its 30 × 30 multiply-adds), plus 64: 994; 30 sweeps, one per output.
    monkeypatch.setattr(graphviz_ad.gradients, "WORK_BUDGET", 29_819)
    monkeypatch.setattr(graphviz_ad.gradients, "jacobian_rows", never("jacobian_rows"))
    analysis = graphviz_ad.api.analyze("W @ x", W=np.ones((30, 30)), x=np.ones(30))
    with pytest.raises(LimitError, match="needs 30 backward sweeps, 29,820 element evaluations; "
                                         "the limit is 29,819"):
        analysis.gradient("x", "reverse")
