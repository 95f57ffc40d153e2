"""Derivatives of derivatives: grad(f, x) in the language is a graph, exact at any order."""

import json
import math

import numpy as np
import pytest

from graphviz_ad import analyze
from graphviz_ad.engine.build import build
from graphviz_ad.engine.differentiate import hessian_vector_product
from graphviz_ad.engine.ops import TABLE
from graphviz_ad.errors import DomainError, ShapeError, UsageError

from conftest import gad

from test_ops import bound, sample_points


def nested(expression: str, order: int) -> str:
    for _ in range(order):
        expression = f"grad({expression}, x)"
    return expression


def value(source: str, **values) -> float:
    built = build(source, values)
    return built.graph.values[built.graph.output]


def tanh_derivative(order: int, x: float) -> float:
    """d^n/dx^n tanh(x) = p_n(tanh x), with p_0(t) = t and p_(n+1) = p_n' · (1 - t^2)."""
    polynomial = np.polynomial.Polynomial([0.0, 1.0])
    for _ in range(order):
        polynomial = polynomial.deriv() * np.polynomial.Polynomial([1.0, 0.0, -1.0])
    return float(polynomial(np.tanh(x)))


@pytest.mark.parametrize("order", range(1, 7))
def test_nth_derivatives_match_closed_forms(order):
    x = 0.7
    assert value(nested("sin(x)", order), x=x) == pytest.approx(
        math.sin(x + order * math.pi / 2), rel=1e-13, abs=1e-15)
    assert value(nested("exp(x)", order), x=x) == pytest.approx(math.exp(x), rel=1e-14)
    assert value(nested("log(x)", order), x=x) == pytest.approx(
        (-1) ** (order - 1) * math.factorial(order - 1) / x ** order, rel=1e-13)
    assert value(nested("tanh(x)", order), x=x) == pytest.approx(tanh_derivative(order, x),
                                                                rel=1e-12, abs=1e-14)
    # and the numeric sweep through the graph of the nth derivative gives the (n+1)th
    analysis = analyze(nested("tanh(x)", order), x=x)
    assert analysis.gradient("x") == pytest.approx(tanh_derivative(order + 1, x), rel=1e-12,
                                                   abs=1e-14)


def test_the_worked_example_gradient_is_a_graph_with_the_same_numbers():
    f = "(sin(x2)+1)/(x2+exp(x1))+x1*x2"
    assert value(f"grad({f}, x2)", x1=1.5, x2=0.5) == pytest.approx(1.6165488003791766,
                                                                      rel=1e-15)
    assert value(f"grad({f}, x1)", x1=1.5, x2=0.5) == pytest.approx(0.23283374747559749,
                                                                      rel=1e-15)


# Slots that are not differentiated: a condition is 0 or 1, nudging it leaves its domain.
NOT_DIFFERENTIATED = {("where", 0)}


def second_order_cases():
    for op in TABLE:
        if op.stops_gradient or not op.callable and op.operator is None and op.name != "index":
            continue  # detach cuts; scatter is only made by grad(...), which index's case makes
        for slot in range(len(op.sample_shapes) if op.variadic else op.arity):
            if (op.name, slot) not in NOT_DIFFERENTIATED:
                yield pytest.param(op, slot, id=f"{op.name}-{slot}")


@pytest.mark.parametrize("entry, slot", list(second_order_cases()))
def test_every_op_has_a_second_derivative_that_agrees_with_finite_differences(entry, slot):
    """grad(sum(op(a0, a1, ...) * c), a_slot), then sum(g * v): its value is the first
    derivative (against the numeric sweep), its gradient H v (against finite differences)."""
    rng = np.random.default_rng(sum(map(ord, entry.name)) + slot)
    operands = next(sample_points(entry, rng, count=1))
    settings = dict(entry.sample_statics)
    op = bound(entry, settings, operands)
    names = tuple(f"a{index}" for index in range(len(operands)))
    written = op.written(names, as_operator=op.operator is not None)
    out = op.value(*operands)
    values = dict(zip(names, operands))
    values["c"] = rng.normal(size=np.shape(out))[()]
    values["v"] = rng.normal(size=np.shape(operands[slot]))[()]
    first = analyze(f"sum({written} * c)", values, data_names=["c", "v"])
    program = f"g = grad(sum({written} * c), a{slot})\nsum(g * v)"
    second = analyze(program, values, data_names=["c", "v"])
    assert second.value == pytest.approx(float(np.sum(first.gradient(f"a{slot}") * values["v"])),
                                         rel=1e-12, abs=1e-12)
    for name in names:
        if (entry.name, names.index(name)) in NOT_DIFFERENTIATED:
            continue
        check = second.check(name)
        scale = max(1.0, float(np.max(np.abs(check.gradient))))
        assert check.difference <= 1e-6 * scale, (program, name, check)


def test_a_gradient_penalty_and_a_newton_step():
    W = np.array([[0.3, -1.2], [0.8, 0.5]])
    x = np.array([1.0, -2.0])
    penalty = analyze("loss = sum(tanh(W @ x)^2)\nsum(grad(loss, W)^2)", W=W, x=x)
    for name in ("W", "x"):
        check = penalty.check(name)
        assert check.difference <= 1e-7 * max(1.0, float(np.max(np.abs(check.gradient))))
    # one Newton step for x^3 - 2 = 0 from x = 1: 1 - (1 - 2)/3
    newton = "f = (x^3 - 2)^2 / 2\nx - grad(f, x)/grad(grad(f, x), x)"
    step = value(newton, x=1.5)
    f1, f2 = (1.5 ** 3 - 2) * 3 * 1.5 ** 2, 3 * 1.5 ** 2 * 3 * 1.5 ** 2 + (1.5 ** 3 - 2) * 6 * 1.5
    assert step == pytest.approx(1.5 - f1 / f2, rel=1e-14)


def test_grad_is_shaped_like_its_name_and_zero_where_f_does_not_depend_on_it():
    W = np.arange(6.0).reshape(2, 3) / 10
    g = value("grad(sum(W @ x), W)", W=W, x=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, np.tile([1.0, 2.0, 3.0], (2, 1)))
    assert np.shape(value("grad(sum(y * y), x) + 0 * x", x=np.ones(3), y=2.0)) == (3,)
    np.testing.assert_array_equal(value("grad(sum(y * y), x)", x=np.ones(3), y=2.0),
                                  np.zeros(3))
    # with respect to a name the program assigned: the gradient at that node
    assert value("h = x * x\ngrad(sin(h), h)", x=0.5) == pytest.approx(math.cos(0.25))


@pytest.mark.parametrize("source, error, fragment", [
    ("grad(x * [1, 2], x)", ShapeError, "needs a number f"),
    ("grad(x, 2)", UsageError, "with respect to a name"),
    ("grad(x, pi)", UsageError, "with respect to a name"),
    ("grad(x)", Exception, "takes 2 arguments"),
    ("data y\ngrad(x * y, y)", UsageError, "y is data"),
    ("scatter(x, 1, 3)", UsageError, "`scatter` is made by grad(...), not written"),
    ("grad(sqrt(x - 1), x)", DomainError,
     "the derivative is not defined here: 1 / (2 * sqrt(x - 1)) needs (2 * sqrt(x - 1)) != 0"),
])
def test_grad_mistakes_are_typed_errors_at_the_call(source, error, fragment):
    with pytest.raises(error) as raised:
        build(source, {"x": 1.0, "y": 2.0})
    assert fragment in raised.value.reason
    assert raised.value.span is not None


WORKED = "(sin(x2)+1)/(x2+exp(x1))+x1*x2"
# d²f/dx1², d²f/dx1dx2, d²f/dx2² of the worked example at x1 = 1.5, x2 = 0.5, by hand:
# with u = 1 + sin x2, w = x2 + e^x1, f = u/w + x1 x2.
_U, _W, _E = 1 + math.sin(0.5), 0.5 + math.exp(1.5), math.exp(1.5)
WORKED_HESSIAN = [[-_U * _E / _W ** 2 + 2 * _U * _E ** 2 / _W ** 3,
                   1 - math.cos(0.5) * _E / _W ** 2 + 2 * _U * _E / _W ** 3],
                  [1 - math.cos(0.5) * _E / _W ** 2 + 2 * _U * _E / _W ** 3,
                   -math.sin(0.5) / _W - 2 * math.cos(0.5) / _W ** 2 + 2 * _U / _W ** 3]]


def test_gad_grad_order_2_prints_the_worked_example_hessian_checked():
    result = gad("grad", WORKED, "x1=1.5", "x2=0.5", "--order", "2", "--json", "--check")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["inputs"] == ["x1", "x2"]
    for row, first in enumerate(("x1", "x2")):
        for column, second in enumerate(("x1", "x2")):
            assert data["hessian"][first][second] == pytest.approx(
                WORKED_HESSIAN[row][column], rel=1e-13)
            assert data["check"][first][second]["agrees"]
    table = gad("grad", WORKED, "x1=1.5", "x2=0.5", "--order", "2").stdout
    assert "0.9487785711446157" in table and "Hessian d²f/d(row) d(column) by reverse" in table


def test_gad_grad_order_n_lists_derivatives_with_their_graphs_sizes():
    result = gad("grad", "tanh(x)", "x=0.7", "--order", "6", "--json", "--check")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["derivatives"]
    assert [row["order"] for row in rows] == [1, 2, 3, 4, 5, 6]
    for row in rows:
        assert row["value"] == pytest.approx(tanh_derivative(row["order"], 0.7), rel=1e-12)
        assert row["check"]["agrees"]
    nodes = [row["nodes"] for row in rows]
    assert nodes == sorted(nodes) and nodes[0] < nodes[-1]  # the graph grows with the order
    text = gad("grad", "tanh(x)", "x=0.7", "--order", "3").stdout
    assert "d³f/dx³" in text and "graph nodes" in text


@pytest.mark.parametrize("arguments, fragment", [
    (["x*y", "x=1", "y=2", "--order", "3"], "a function of one number"),
    (["x*y", "x=1", "y=2", "--order", "2", "--mode", "forward"], "by reverse mode"),
    (["x*[1, 2]", "x=1", "--order", "2"], "taken of a number"),
    (["sin(x)", "x=1", "--order", "2", "--fd-method", "complex"], "first derivatives only"),
    (["sin(x)", "x=1", "--order", "13"], "13"),
    (["sum(x^3)", "x=[1, 2]", "--order", "3"], "x has shape (2,)"),
])
def test_orders_that_cannot_be_given_are_refused_with_a_reason(arguments, fragment):
    result = gad("grad", *arguments)
    assert result.exit_code == 2, result.stdout
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_the_gradient_graph_is_drawn_traced_and_its_paths_sum_to_the_second_derivative(
        tmp_path):
    source = "grad(tanh(x), x)"
    paths = json.loads(gad("paths", source, "x=1", "--wrt", "x", "--json").stdout)
    assert sum(path["product"] for path in paths["paths"]) == pytest.approx(
        tanh_derivative(2, 1.0), rel=1e-15)
    dot = gad("graph", source, "x=1", "-f", "dot").stdout
    assert "cluster" in dot and "backward · grad(tanh(x), x)" in dot
    assert gad("graph", source, "x=1", "-o", tmp_path / "page.html").exit_code == 0
    trace = gad("trace", source, "x=1").stdout
    assert "1 - (tanh(x) * tanh(x))" in trace and "1 - tanh(x)^2" in trace


@pytest.mark.parametrize("entry, slot", [case for case in second_order_cases()
                                         if case.values[1] == 0])
def test_hessian_vector_products_by_duals_equal_the_hessian_times_v(entry, slot):
    """Forward over reverse on duals, with no graph made, against reverse over reverse."""
    rng = np.random.default_rng(sum(map(ord, entry.name)) + 3)
    operands = next(sample_points(entry, rng, count=1))
    op = bound(entry, dict(entry.sample_statics), operands)
    names = [f"a{index}" for index in range(len(operands))
             if (entry.name, index) not in NOT_DIFFERENTIATED]
    written = op.written(tuple(f"a{index}" for index in range(len(operands))),
                         as_operator=op.operator is not None)
    values = {f"a{index}": operand for index, operand in enumerate(operands)}
    values["c"] = rng.normal(size=np.shape(op.value(*operands)))[()]
    analysis = analyze(f"sum({written} * c)", values, data_names=["c"] + [
        f"a{index}" for index in range(len(operands)) if f"a{index}" not in names])
    direction = {name: rng.normal(size=np.shape(values[name]))[()] for name in names}
    product = hessian_vector_product(analysis.evaluated, direction)
    expected = analysis.hessian(names, check=False).matrix @ np.concatenate(
        [np.ravel(direction[name]) for name in names])
    found = np.concatenate([np.ravel(product[name]) for name in names])
    np.testing.assert_allclose(found, expected, rtol=1e-10, atol=1e-12, err_msg=written)


def test_a_hessian_vector_product_carries_the_adjoints_tangent_through_every_reduction():
    """sum(x*x)^2: the outer square's adjoint has a tangent, which `sum` must pass on."""
    x = np.array([1.0, 2.0])
    for source in ("sum(x*x)^2", "logsumexp(x*x)^2", "mean(x*x)^2"):
        analysis = analyze(source, x=x)
        product = hessian_vector_product(analysis.evaluated, {"x": x})["x"]
        np.testing.assert_allclose(product, analysis.hessian(check=False).matrix @ x,
                                   rtol=1e-12, err_msg=source)
    product = analyze("sum(x*x)^2", x=x).hessian_vector_product({"x": x})["x"]
    np.testing.assert_allclose(product, [60.0, 120.0])  # 8 x xᵀ v + 4 |x|² v, by hand


def test_grad_of_a_vector_times_a_batch_of_matrices():
    v, A = np.array([1.0, 2.0]), np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.5, 1.0], [2.0, -1.0]]])
    expected = sum(2 * A[b] @ (v @ A[b]) for b in range(2))  # d/dv Σ_b |v A_b|²
    np.testing.assert_allclose(value("grad(sum((v @ A)^2), v)", v=v, A=A), expected)
    assert analyze("sum((v @ A)^2)", v=v, A=A).hessian(["v"]).agrees


def test_where_passes_no_derivative_through_its_condition_at_any_order():
    report = analyze("sum(where(x, y, 2*y)^2)", x=np.array([1.0, 0.0]),
                     y=np.array([0.5, 3.0])).hessian(check=True)
    assert report.agrees
    np.testing.assert_array_equal(report.blocks["y"]["x"], np.zeros((2, 2)))
    np.testing.assert_array_equal(report.blocks["x"]["y"], np.zeros((2, 2)))


def test_the_sweeps_texts_name_an_assigned_input_by_its_name():
    trace = gad("trace", "x = 0.5\ngrad(sin(x)*x, x)").stdout
    assert "x * cos(x)" in trace and "(x = 0.5)" not in trace
