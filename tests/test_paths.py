"""Paths: the worked example's five, exact counts at any scale, top K, arrays, and properties."""

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from graphviz_ad import analyze
from graphviz_ad.cli import app
from graphviz_ad.engine.paths import every_path, path_count
from graphviz_ad.errors import LimitError
from graphviz_ad.report.paths import chain
from tests.conftest import WORKED, WORKED_VALUES, gad
from tests.test_properties import expressions

X1, X2 = 1.5, 0.5
N, D = 1 + math.sin(X2), X2 + math.exp(X1)

WORKED_PATHS = {
    "x1": [("x1 → * → +", [X2, 1], X2),
           ("x1 → exp → + → / → +", [math.exp(X1), 1, -N / D**2, 1], -math.exp(X1) * N / D**2)],
    "x2": [("x2 → * → +", [X1, 1], X1),
           ("x2 → sin → + → / → +", [math.cos(X2), 1, 1 / D, 1], math.cos(X2) / D),
           ("x2 → + → / → +", [1, -N / D**2, 1], -N / D**2)],
}


@pytest.mark.parametrize("name", ["x1", "x2"])
def test_worked_example_paths(name):
    analysis = analyze(WORKED, WORKED_VALUES)
    summary = analysis.paths(name)
    assert summary.count == len(WORKED_PATHS[name])
    assert summary.rest_count == 0
    for path, (nodes, factors, product) in zip(summary.paths, WORKED_PATHS[name]):
        assert chain(analysis.graph, path) == nodes
        assert [float(factor) for factor in path.factors] == pytest.approx(factors, abs=1e-12)
        assert float(path.product) == pytest.approx(product, abs=1e-12)
    assert float(sum(path.product for path in summary.paths)) == pytest.approx(
        float(analysis.gradient(name)), abs=1e-12)


def test_repeated_operand_gives_one_path_per_slot():
    analysis = analyze("x*x", x=3.0)
    paths = analysis.paths("x").paths
    assert [chain(analysis.graph, path) for path in paths] == ["x → * (left)", "x → * (right)"]
    assert [float(path.product) for path in paths] == [3.0, 3.0]


def test_detached_edges_and_constants_carry_no_paths():
    analysis = analyze("y = 2*x; z = 3 + detach(x); sum(y + z)", x=[1.0, 1.0])
    summary = analysis.paths("x")
    assert summary.count == 1
    np.testing.assert_array_equal(summary.paths[0].product, [2.0, 2.0])
    assert chain(analysis.graph, summary.paths[0]) == "x → * → + → sum"


def test_doubling_sixty_times_has_two_to_the_sixty_paths():
    source = "x0 = x\n" + "\n".join(f"x{i} = x{i - 1} + x{i - 1}" for i in range(1, 61))
    analysis = analyze(source, x=1.0)
    assert analysis.path_count("x") == 2**60
    summary = analysis.paths("x", top=5)
    assert len(summary.paths) == 5
    assert summary.rest_count == 2**60 - 5
    assert all(float(path.product) == 1.0 for path in summary.paths)
    assert float(summary.rest_sum) == 2.0**60 - 5


def test_listing_all_paths_is_refused_above_the_limit():
    source = "x0 = x\n" + "\n".join(f"x{i} = x{i - 1} * x{i - 1}" for i in range(1, 20))
    analysis = analyze(source, x=1.0)
    with pytest.raises(LimitError, match="524,288 paths"):
        every_path(analysis.graph, "x")


def test_array_paths_are_vector_jacobian_chains_that_sum_to_the_gradient():
    analysis = analyze("h = tanh(W @ x)\nsum(h * h) + sum(W @ x)",
                       W=[[0.5, -1.0], [2.0, 0.3]], x=[0.7, -0.2])
    for name in ("W", "x"):
        summary = analysis.paths(name, top=None)
        assert summary.count == 3
        for path in summary.paths:
            assert np.shape(path.product) == np.shape(analysis.gradient(name))
        np.testing.assert_allclose(summary.shown_sum, analysis.gradient(name), atol=1e-14)


def test_cancellation_is_measured():
    analysis = analyze("(x + 1e8) - 1e8*exp(x/1e8)", x=1.0)
    assert analysis.paths("x").cancellation_digits > 7


program_statements = st.lists(expressions, min_size=1, max_size=3)


def as_program(statements):
    """Each statement may use the names bound before it, which creates shared subgraphs."""
    lines = []
    for index, (text, _) in enumerate(statements):
        lines.append(f"a{index} = {text}" + (f" * a{index - 1}" if index else ""))
    return "\n".join(lines)


@given(program_statements, st.floats(-1.2, 1.2), st.floats(-1.2, 1.2), st.integers(1, 6))
def test_paths_sum_to_the_gradient_counts_are_exact_and_top_k_is_the_largest(
        statements, x, y, top):
    analysis = analyze(as_program(statements), {"x": x, "y": y, "z": 0.3})
    assume(not analysis.numeric_issues)  # sums of inf and nan are not the point here
    for name in analysis.inputs:
        gradients = analysis.graph
        everything = every_path(gradients, name, limit=50_000)
        assert len(everything) == path_count(gradients, name)
        total = sum((float(path.product) for path in everything), 0.0)
        gradient = float(analysis.gradient(name))
        scale = max(1.0, sum(abs(float(path.product)) for path in everything))
        assert abs(total - gradient) <= 1e-12 * scale
        best = sorted((abs(float(path.product)) for path in everything), reverse=True)[:top]
        shown = [abs(float(path.product)) for path in analysis.paths(name, top=top).paths]
        assert shown == pytest.approx(best, rel=1e-12, abs=1e-300)


runner = CliRunner()


def test_paths_command_table_and_json():
    result = runner.invoke(app, ["paths", WORKED, "x1=1.5", "x2=0.5", "--wrt", "x2"],
                           env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    for text in ("x2 → sin → + → / → +", "0.877583 · 1 · 0.200735 · 1", "0.1761616491",
                 "92.8%", "1.6165488003791766"):
        assert text in result.stdout
    data = json.loads(runner.invoke(app, ["paths", WORKED, "x1=1.5", "x2=0.5", "--wrt", "x2",
                                          "--top", "2", "--json"]).stdout)
    assert data["wrt"] == "x2" and data["path_count"] == 3
    assert [path["nodes"] for path in data["paths"]] == [["x2", "*", "+"],
                                                         ["x2", "sin", "+", "/", "+"]]
    assert data["rest"]["count"] == 1
    assert data["rest"]["sum"] == pytest.approx(-N / D**2, abs=1e-12)


def test_paths_json_count_is_exact_as_digits_past_the_safe_integers():
    source = "x0 = x\n" + "\n".join(f"x{i} = x{i - 1} + x{i - 1}" for i in range(1, 101))
    result = runner.invoke(app, ["paths", source, "x=1", "--wrt", "x", "--top", "1", "--json"])
    assert json.loads(result.stdout)["path_count"] == "1267650600228229401496703205376"
    assert int(json.loads(result.stdout)["path_count"]) == 2**100


def test_paths_without_wrt_lists_each_input():
    result = runner.invoke(app, ["paths", WORKED, "x1=1.5", "x2=0.5", "--json"])
    data = json.loads(result.stdout)
    assert [(row["name"], row["path_count"]) for row in data["inputs"]] == [("x1", 2), ("x2", 3)]
    assert data["inputs"][1]["largest"]["product"] == 1.5


def test_paths_all_refused_with_exit_2():
    source = "x0 = x\n" + "\n".join(f"x{i} = x{i - 1} + x{i - 1}" for i in range(1, 30))
    result = runner.invoke(app, ["paths", source, "x=1", "--wrt", "x", "--all"])
    assert result.exit_code == 2
    assert "536,870,912 paths" in result.stderr


@pytest.mark.parametrize("items, expected", [
    (["1", "1"], "1 · 1"),
    (["1", "1", "1"], "1 ×3"),
    (["a", "b", "b", "b", "b", "c"], "a · b ×4 · c"),
    ([str(i) for i in range(20)], "0 · 1 · 2 · 3 · 4 · … 10 more … · 15 · 16 · 17 · 18 · 19"),
])
def test_long_chains_fold_repeats_and_cut_the_middle(items, expected):
    from graphviz_ad.display import runs

    assert runs(items, " · ") == expected


def test_output_that_is_the_input_has_one_empty_path():
    analysis = analyze("x", x=2.0)
    (path,) = analysis.paths("x").paths
    assert path.edges == () and path.nodes == (analysis.graph.inputs["x"],)
    assert float(path.product) == 1.0 and chain(analysis.graph, path) == "x"


# A listing is weighed, before any path is made, by the work of pulling its paths' products
# back: on each edge its producer's and consumer's elements and the call (engine/paths.py).

def test_listing_work_counts_each_paths_own_arrays():
    from graphviz_ad.engine.fold import fold
    from graphviz_ad.engine.paths import heaviest_path, listing_work

    analysis = analyze("y = sin(x)\nsum(y * x)", x=np.ones(10))
    graph = analysis.graph
    # x -> sin -> * -> sum: (10 + 10 + 1) twice, then 10 + 1 + 1; x -> * -> sum is lighter.
    assert heaviest_path(graph, graph.inputs["x"]) == 21 + 21 + 12
    assert listing_work(graph, "x", 20) == 2 * 54 == listing_work(graph, "x", 1)  # both listed
    # Folded, y's edge multiplies by its stored 10 x 10 Jacobian: 10 + 10 + 100.
    folded = fold(graph, [("y",)]).graph
    assert heaviest_path(folded, folded.inputs["x"]) == 120 + 21 + 12


def test_a_listing_past_its_work_is_refused_naming_what_fits(monkeypatch):
    import graphviz_ad.engine.paths as paths_module

    analysis = analyze("y = sin(x)\nsum(y * x)", x=np.ones(10))
    monkeypatch.setattr(paths_module, "MAX_LISTING_WORK", 100)
    with pytest.raises(LimitError) as refused:
        analysis.paths("x", 2)
    assert refused.value.reason == "pulling the products of 2 paths back along them is up " \
                                   "to 108 elements' work (54 on the heaviest path); the " \
                                   "limit is 100"
    assert refused.value.hint == "use --top 1 or fewer"
    assert len(analysis.paths("x", 1).paths) == 1
    monkeypatch.setattr(paths_module, "MAX_LISTING_WORK", 50)  # not even one path fits
    with pytest.raises(LimitError) as refused:
        analysis.paths("x", 1)
    assert refused.value.hint.startswith("list the paths through groups folded, --fold GROUP "
                                         "(y")
    assert paths_module.most_listed(analysis.graph, "x") == 0


def test_the_paths_of_an_empty_input_array_sum_to_its_empty_gradient(tmp_path):
    (tmp_path / "empty.json").write_text("[]")
    result = gad("paths", "sum(x*x) + 1", f"x=@{tmp_path / 'empty.json'}", "--wrt", "x")
    assert result.exit_code == 0, result.stderr
    assert "difference" in result.stdout and "0.0e+00" in result.stdout
