"""The engine against hand-derived values: the worked example, arrays, detach, errors, scale."""

import math

import numpy as np
import pytest

from graphviz_ad import analyze
from graphviz_ad.engine.annotated import CUT, INPUT, OPERATION, AnnotatedGraph, ForeignOp
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.graph import GraphBuilder, NodeLists
from graphviz_ad.errors import (ArityError, DomainError, MissingInputError, ShapeError,
                                UnknownNameError, UsageError)
from tests.conftest import WORKED, WORKED_VALUES


def test_worked_example_value_and_gradient():
    analysis = analyze(WORKED, WORKED_VALUES)
    assert analysis.value == pytest.approx(1.0469726768804155, abs=1e-12)
    assert analysis.gradient("x1") == pytest.approx(0.23283374747559749, abs=1e-12)
    assert analysis.gradient("x2") == pytest.approx(1.6165488003791766, abs=1e-12)


def test_worked_example_matches_the_hand_derivation():
    x1, x2 = 1.5, 0.5
    n, d = 1 + math.sin(x2), x2 + math.exp(x1)
    analysis = analyze(WORKED, WORKED_VALUES)
    assert analysis.gradient("x1") == pytest.approx(-n / d**2 * math.exp(x1) + x2, abs=1e-14)
    assert analysis.gradient("x2") == pytest.approx(math.cos(x2) / d - n / d**2 + x1, abs=1e-14)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_both_modes_and_finite_differences_agree(mode):
    analysis = analyze(WORKED, WORKED_VALUES)
    for name in ("x1", "x2"):
        check = analysis.check(name, mode)
        assert check.difference < 1e-9
        assert check.agrees


def test_the_seed_program_file_is_the_worked_example():
    with open("samples/seed.gad") as handle:
        analysis = analyze(handle.read())
    assert analysis.value == pytest.approx(1.0469726768804155, abs=1e-12)
    assert analysis.gradient("x2") == pytest.approx(1.6165488003791766, abs=1e-12)
    assert analysis.graph.names[analysis.graph.output] == ("f",)


def test_detach_stops_the_gradient_but_passes_the_value():
    analysis = analyze("y = 2*x; z = 3 + detach(x); sum(y + z)", x=[1, 1])
    assert analysis.value == 12
    np.testing.assert_array_equal(analysis.gradient("x"), [2, 2])
    np.testing.assert_array_equal(analyze("y = 2*x; z = 3 + x; sum(y + z)", x=[1, 1])
                                  .gradient("x"), [3, 3])
    check = analysis.check("x")
    assert check.agrees  # finite differences hold detached values fixed


def test_no_grad_result_is_one_constant_that_remembers_its_text():
    analysis = analyze("no_grad(x*x) * y + x", x=3.0, y=2.0)
    graph = analysis.graph
    frozen = [node for node, kind in enumerate(graph.kinds) if kind == "cut"]
    assert [graph.labels[node] for node in frozen] == ["no_grad(x*x)"]
    assert analysis.value == 21.0
    assert analysis.gradient("x") == 1.0
    assert analysis.gradient("y") == 9.0


def test_square_at_a_negative_point_needs_no_logarithm():
    analysis = analyze("x^2", x=-2.0)
    assert analysis.gradient("x") == -4.0
    assert analysis.graph.local[analysis.graph.output] == (-4.0, None)


def test_repeated_operand_has_two_edges():
    analysis = analyze("x*x", x=3.0)
    graph = analysis.graph
    assert graph.args[graph.output] == (graph.inputs["x"], graph.inputs["x"])
    assert analysis.gradient("x") == 6.0


def test_nodes_no_gradient_reaches_have_zero_adjoints_and_rows_of_none():
    graph = analyze("sum(x * (2 * [1, 3])) + 5", x=2.0).graph
    constant = {graph.labels[node]: node for node, kind in enumerate(graph.kinds)
                if kind == "constant"}
    scaled = graph.args[graph.args[graph.args[graph.output][0]][0]][1]  # 2 * [1, 3]
    assert graph.adjoints[constant["[1, 3]"]].dtype == np.float64
    np.testing.assert_array_equal(graph.adjoints[constant["[1, 3]"]], [0.0, 0.0])
    assert graph.adjoints[constant["5"]] == 0.0 and np.ndim(graph.adjoints[constant["5"]]) == 0
    assert graph.local[scaled] == (None, None) and not graph.flows(scaled, 0)
    np.testing.assert_array_equal(graph.adjoints[scaled], [0.0, 0.0])
    assert graph.gradient("x") == 8.0  # 2*1 + 2*3


def test_an_assembled_graph_gives_unreached_nodes_zeros_of_their_dtype():
    nodes = NodeLists()
    leaf = nodes.append(INPUT, None, (), np.float32(1.5), "a", True)
    cut = nodes.append(CUT, None, (), np.ones(2, dtype=np.float32), "held", False)
    three = ForeignOp("mix", 3)
    mixed = nodes.append(OPERATION, three, (cut, cut, cut), np.ones(2, np.float32), "mix", False)
    out = nodes.append(OPERATION, ForeignOp("scale", 2), (leaf, mixed), np.float32(4.0),
                       "scale", True)
    graph = AnnotatedGraph.assembled(
        nodes, out, adjoints=[np.float32(2.0), None, None, np.float32(1.0)],
        local=[(), (), (), (np.float32(2.0), None)], carried=[np.float32(2.0)], order=[out])
    assert graph.local[mixed] == (None, None, None) and graph.local[leaf] == ()
    assert graph.adjoints[mixed].dtype == np.float32
    np.testing.assert_array_equal(graph.adjoints[mixed], [0.0, 0.0])
    assert graph.inputs == {"a": leaf} and graph.gradient("a") == 2.0
    assert [(step.target, step.total) for step in graph.sweep()] == [(leaf, 2.0)]


@pytest.mark.parametrize("source, values, expected", [
    ("sum(x * y)", {"x": [1, 2, 3], "y": 2.0}, {"x": [2, 2, 2], "y": 6.0}),
    ("sum(A * b)", {"A": [[1, 2], [3, 4]], "b": [10, 20]}, {"b": [4, 6]}),
    ("sum(A * c)", {"A": [[1, 2], [3, 4]], "c": [[10], [20]]}, {"c": [[3], [7]]}),
    ("sum(A @ v)", {"A": [[1, 2], [3, 4]], "v": [1, 1]}, {"A": [[1, 1], [1, 1]], "v": [4, 6]}),
    ("v @ w", {"v": [1, 2], "w": [3, 4]}, {"v": [3, 4], "w": [1, 2]}),
    ("sum(v @ B)", {"v": [1, 2], "B": [[1, 2], [3, 4]]}, {"v": [3, 7], "B": [[1, 1], [2, 2]]}),
    ("sum(A @ B)", {"A": [[1, 2]], "B": [[3], [4]]}, {"A": [[3, 4]], "B": [[1], [2]]}),
    ("mean(x)", {"x": [1, 2, 3, 4]}, {"x": [0.25] * 4}),
    ("sum(max(x, y))", {"x": [1, 2, 3], "y": [2, 2, 2]}, {"x": [0, 0.5, 1], "y": [1, 0.5, 0]}),
])
def test_array_gradients(source, values, expected):
    analysis = analyze(source, values)
    for name, gradient in expected.items():
        np.testing.assert_allclose(analysis.gradient(name), gradient)
        np.testing.assert_allclose(analysis.gradient(name, "forward"), gradient)
        assert analysis.check(name).agrees


def test_two_layer_network_gradients_match_finite_differences():
    source = "h = relu(W1 @ x + b1)\ny = W2 @ h + b2\nsum((y - t)^2)"
    values = {"W1": [[0.5, -0.2], [0.1, 0.4], [-0.3, 0.8]], "b1": [0.1, -0.1, 0.05],
              "W2": [[1.0, -1.0, 0.5]], "b2": [0.2], "x": [1.0, 2.0], "t": [0.3]}
    analysis = analyze(source, values)
    for name in values:
        check = analysis.check(name)
        assert check.difference < 1e-7, name
        np.testing.assert_allclose(analysis.gradient(name, "forward"), check.gradient, atol=1e-12)


def test_literal_assignment_is_an_input_with_a_default_that_values_override():
    assert analyze("x = 2; x*x").gradient("x") == 4.0
    assert analyze("x = 2; x*x", x=5).gradient("x") == 10.0
    assert analyze("x = 2; x = x + 1; x*x").value == 9.0


def test_unused_values_are_warnings():
    analysis = analyze("x*2", x=1, y=2)
    assert analysis.warnings == ("y is given a value but the program does not use it",)


def test_dead_statements_are_dropped_from_the_graph():
    analysis = analyze("a = sin(x) * 100; x + 1", x=1.0)
    assert sorted(analysis.graph.labels) == ["+", "1", "x"]


@pytest.mark.parametrize("source, values, error, start, reason", [
    ("log(x - 1)", {"x": 0.5}, DomainError, 0,
     "log(x - 1) needs (x - 1) > 0; here x - 1 = -0.5"),
    ("1 + sqrt(x)", {"x": -4}, DomainError, 4, "sqrt(x) needs x >= 0; here x = -4"),
    ("asin(2*x)", {"x": 1}, DomainError, 0, "asin(2*x) needs -1 <= (2*x) <= 1; here 2*x = 2"),
    ("x / (x - x)", {"x": 1}, DomainError, 0, "x / (x - x) needs (x - x) != 0; here (x - x) = 0"),
    ("y = x - 3; log(y)", {"x": 1}, DomainError, 11, "log(y) needs y > 0; here y = -2"),
    ("y^0.5", {"y": -1}, DomainError, 0, "y^0.5 needs y >= 0; here y = -1"),
    ("sinn(x)", {"x": 1}, UnknownNameError, 0, "unknown function `sinn`"),
    ("clip(x)", {"x": 1}, ArityError, 0, "`clip` takes 3 arguments, got 1"),
    ("sum(x, 0, 1)", {"x": [1]}, ArityError, 0, "`sum` takes 1 or 2 arguments, got 3"),
    ("reshape(x)", {"x": [1]}, ArityError, 0, "`reshape` takes 2 arguments, got 1"),
    ("concat()", {}, ArityError, 0, "`concat` takes at least one argument"),
    ("sum(x, k)", {"x": [1, 2]}, UsageError, 7,
     "the axis of `sum` must be a whole number written in the program, such as 0 or -1"),
    ("sum(x, axis=0.5)", {"x": [1, 2]}, UsageError, 12,
     "the axis of `sum` must be a whole number written in the program, such as 0 or -1"),
    ("sum(x, dim=0)", {"x": [1, 2]}, UsageError, 7, "`sum` has no parameter `dim`"),
    ("sum(x, 0, axis=0)", {"x": [1, 2]}, UsageError, 10, "the axis of `sum` is given twice"),
    ("sum(reshape(x, [n]))", {"x": [1, 2]}, UsageError, 15,
     "the shape of `reshape` must be written in the program as whole numbers, such as [2, 3] "
     "or [-1, 4]"),
    ("sum(x, 2)", {"x": [[1, 2]]}, ShapeError, 0,
     "`sum(x, 2)`: axis 2 is out of bounds for array of dimension 2"),
    ("x[2] + 1", {"x": [1, 2]}, ShapeError, 0,
     "`x[2]`: index 2 is out of bounds for axis 0 with size 2"),
    ("x[i]", {"x": [1, 2], "i": 0}, UsageError, 2,
     "an index must be a whole number written in the program, such as 0, -1 or 1:3"),
    ("x[0][0]", {"x": [1, 2]}, ShapeError, 0, "`x[0][0]`: a number cannot be indexed"),
    ("sum(reshape(x, [3]))", {"x": [1, 2]}, ShapeError, 4,
     "`reshape(x, [3])`: cannot reshape array of size 2 into shape (3,)"),
    ("sum([x, [1, 2, 3]])", {"x": [1, 2]}, ShapeError, 4,
     "`[x, [1, 2, 3]]`: all input arrays must have the same shape"),
    ("sum(concat(x, y, axis=1))", {"x": [1, 2], "y": [1]}, ShapeError, 4,
     "`concat(x, y, axis=1)`: axis 1 is out of range for arrays of 1 dimension (axes -1 to "
     "0)"),
    ("mse(x, y)", {"x": [1, 2], "y": [[1, 2]]}, ShapeError, 0,
     "`mse(x, y)`: mse compares two arrays of one shape, got (2,) and (1, 2)"),
    ("cross_entropy(z, y)", {"z": [[1, 2], [3, 4]], "y": [0, 2]}, DomainError, 0,
     "cross_entropy(z, y) needs y holds class indices 0 <= y < C, or probabilities shaped "
     "like z"),
    ("sin + x", {"x": 1}, UsageError, 0, "`sin` is a function, not a value"),
    ("pi = 3; pi", {}, UsageError, 0, "`pi` is a constant and cannot be assigned to"),
    ("x + y", {}, MissingInputError, 0, "no value for x, y"),
    ("sum(x + y)", {"x": [1, 2], "y": [1, 2, 3]}, ShapeError, 4,
     "+ cannot combine shapes (2,) and (3,)"),
    ("x @ y", {"x": 1, "y": 2}, ShapeError, 0,
     "@ needs vectors, matrices or batches of them, got shapes () and ()"),
])
def test_errors_point_at_the_subexpression(source, values, error, start, reason):
    with pytest.raises(error) as caught:
        analyze(source, values)
    assert caught.value.reason == reason
    assert caught.value.span.start == start
    assert caught.value.source == source


def test_unknown_function_suggests_the_closest():
    with pytest.raises(UnknownNameError) as caught:
        analyze("sinn(x)", x=1)
    assert caught.value.hint == "did you mean `sin`?"


def test_hundred_thousand_chained_statements_differentiate():
    count = 100_000
    source = "v0 = x\n" + "\n".join(f"v{i} = v{i - 1} * 1.00001 + x" for i in range(1, count))
    analysis = analyze(source, x=1e-3)
    expected = sum(1.00001 ** k for k in range(count))
    assert analysis.gradient("x") == pytest.approx(expected, rel=1e-9)


def test_a_hundred_thousand_term_flat_sum_builds_iteratively():
    analysis = analyze("+".join(["x"] * 100_000), x=1.0)
    assert analysis.gradient("x") == 100_000


def test_a_million_node_chain_differentiates():
    builder = GraphBuilder()
    node = builder.input("x", 0.5)
    for _ in range(1_000_000):
        node = builder.apply("sin", (node,))
    gradients = backward(builder.finish(node))
    assert np.isfinite(gradients.gradient("x"))
    assert 0 < gradients.gradient("x") < 1


def test_an_array_output_has_no_paths_picture_or_trace():
    analysis = analyze("x * 2", x=[1.0, 2.0])
    assert analysis.output_value.tolist() == [2.0, 4.0]
    for view in (lambda: analysis.paths("x"), analysis.trace, analysis.picture):
        with pytest.raises(ShapeError, match=r"the output has shape \(2,\); .* needs a single "
                                             "number"):
            view()
