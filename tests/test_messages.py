"""What messages and headings say: domain errors with every telling digit, and the output's name."""

import numpy as np
import pytest
from typer.testing import CliRunner

from graphviz_ad import analyze, display
from graphviz_ad.cli import app
from graphviz_ad.engine.annotated import output_name
from graphviz_ad.engine.graph import GraphBuilder
from graphviz_ad.errors import DomainError


def domain_reason(source, **values):
    with pytest.raises(DomainError) as caught:
        analyze(source, values)
    return caught.value.reason


@pytest.mark.parametrize("value, text", [
    (1.0, "1"), (-0.5, "-0.5"), (1.0000001, "1.0000001"), (2.0000001, "2.0000001"),
    (0.1 + 0.2, "0.30000000000000004"), (-1e-300, "-1e-300"), (1 + 2**-52, "1.0000000000000002"),
    (-0.0, "0"), (float("nan"), "nan"), (float("-inf"), "-inf"), (123456789.0, "123456789"),
])
def test_shortest_number_reads_back_as_the_same_float(value, text):
    assert display.shortest(value) == text


@pytest.mark.parametrize("source, values, reason", [
    ("asin(x)", {"x": 1.0000001}, "asin(x) needs -1 <= x <= 1; here x = 1.0000001"),
    ("acos(x)", {"x": -1 - 2**-52}, "acos(x) needs -1 <= x <= 1; here x = -1.0000000000000002"),
    ("x^y", {"x": -2, "y": 2.0000001},
     "x^y needs x > 0, or a whole-number y (with x != 0 when y < 0); here x = -2, y = 2.0000001"),
    ("log(x)", {"x": -1e-300}, "log(x) needs x > 0; here x = -1e-300"),
    ("sqrt(x - 1)", {"x": 1 - 2**-53}, "sqrt(x - 1) needs (x - 1) >= 0; here x - 1 = -1.1102230246251565e-16"),
])
def test_domain_error_shows_the_digits_that_put_the_value_outside(source, values, reason):
    assert domain_reason(source, **values) == reason


def test_domain_error_names_a_repeated_argument_once():
    assert domain_reason("x^x", x=-0.5) == \
        "x^x needs x > 0, or a whole-number x (with x != 0 when x < 0); here x = -0.5"
    assert domain_reason("(x - 1)^(x - 1)", x=0.5) == (
        "(x - 1)^(x - 1) needs (x - 1) > 0, or a whole-number (x - 1) (with (x - 1) != 0 when "
        "(x - 1) < 0); here (x - 1) = -0.5")


@pytest.mark.parametrize("source, values, reason", [
    ("0^y", {"y": -1}, "0^y needs y >= 0; here y = -1"),
    ("0.0^y", {"y": -0.5}, "0.0^y needs y >= 0; here y = -0.5"),
    ("(-2)^y", {"y": 0.5}, "(-2)^y needs a whole-number y; here y = 0.5"),
    ("pow(-2, y)", {"y": 1.5}, "pow(-2, y) needs a whole-number y; here y = 1.5"),
    ("x^-1", {"x": 0}, "x^-1 needs x != 0; here x = 0"),
    ("x^0.5", {"x": -1}, "x^0.5 needs x >= 0; here x = -1"),
    ("x^-0.5", {"x": 0}, "x^-0.5 needs x > 0; here x = 0"),
])
def test_a_literal_base_or_exponent_states_the_rule_for_that_case(source, values, reason):
    assert domain_reason(source, **values) == reason


@pytest.mark.parametrize("source, reason", [
    ("log(0)", "log(0) is outside the domain: log(x) needs x > 0"),
    ("1/0 + x", "1/0 is outside the domain: x / y needs y != 0"),
    ("x/0", "x/0 is outside the domain: x / y needs y != 0"),
    ("0^-1", "0^-1 is outside the domain: x ^ y needs x > 0, or a whole-number y "
             "(with x != 0 when y < 0)"),
    ("pow(-8, 0.5)", "pow(-8, 0.5) is outside the domain: pow(x, y) needs x > 0, or a "
                     "whole-number y (with x != 0 when y < 0)"),
])
def test_literal_arguments_alone_outside_the_domain_state_the_general_rule(source, reason):
    assert domain_reason(source, x=1) == reason


@pytest.mark.parametrize("source, values, reason", [
    ("sum(log(x))", {"x": [1, -2, 3]}, "log(x) needs x > 0; here x[1] = -2"),
    ("sum(log(x))", {"x": [1, -2, 3, -4, 5, -6, -7, 0]},
     "log(x) needs x > 0; here x[1] = -2, x[3] = -4, x[5] = -6 and 2 more elements"),
    ("sum(log(x))", {"x": [-1, -2, -3, -4]},
     "log(x) needs x > 0; here x[0] = -1, x[1] = -2, x[2] = -3 and 1 more element"),
    ("sum(sqrt(W))", {"W": [[1, 4], [9, -1e-300]]}, "sqrt(W) needs W >= 0; here W[1, 1] = -1e-300"),
    ("sum(x^y)", {"x": [-1, 2, -3], "y": 0.5},
     "x^y needs x > 0, or a whole-number y (with x != 0 when y < 0); here x[0] = -1, x[2] = -3, "
     "y = 0.5"),
    # x (3,) broadcast against y (2, 3): each element is named by its own index, once.
    ("sum(x^y)", {"x": [-1, 2, 3], "y": [[2, 2, 2], [0.5, 1, 1]]},
     "x^y needs x > 0, or a whole-number y (with x != 0 when y < 0); here x[0] = -1, "
     "y[1, 0] = 0.5"),
    ("sum(1 / (x - 1))", {"x": [2, 1, 3]}, "1 / (x - 1) needs (x - 1) != 0; here (x - 1)[1] = 0"),
    # x = ±inf is inside clip's domain: only the bounds are compared
    ("sum(clip(x, lo, hi))", {"x": [1e999, 2, -1e999], "lo": [1, 2, 3], "hi": [0, 3, 1]},
     "clip(x, lo, hi) needs lo <= hi; here lo[0] = 1, lo[2] = 3, hi[0] = 0, hi[2] = 1"),
])
def test_array_domain_error_names_the_elements_outside_with_their_index(source, values, reason):
    assert domain_reason(source, **values) == reason


def test_domain_error_inside_no_grad_gives_the_value_of_the_name():
    assert domain_reason("no_grad(log(x)) + x", x=-1) == "log(x) needs x > 0; here x = -1"


def test_domain_error_without_source_text_names_inputs_by_their_name():
    builder = GraphBuilder()
    base = builder.constant(0.0, "0")
    exponent = builder.input("y", -1.0)
    with pytest.raises(DomainError) as caught, np.errstate(all="ignore"):
        builder.apply("pow", (base, exponent))
    assert caught.value.reason == "pow(0, y) needs y >= 0; here y = -1"


def test_cli_domain_error_shows_the_unrounded_value():
    result = CliRunner().invoke(app, ["grad", "asin(x)", "x=1.0000001"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == \
        "error[domain]: asin(x) needs -1 <= x <= 1; here x = 1.0000001"


@pytest.mark.parametrize("source, values, name", [
    ("x * 2", {"x": 1}, "f"),
    ("y = x * 2", {"x": 1}, "y"),
    ("x + f", {"x": 1, "f": 2}, "g"),
    ("f + g + h", {"f": 1, "g": 2, "h": 3}, "f1"),
    ("f = x * 2; f + 1", {"x": 1}, "g"),  # f names another node
    ("x = x * 2; x", {"x": 1}, "f"),  # the program's name for it is an input's
])
def test_the_output_is_named_by_the_program_else_by_a_name_no_input_or_node_has(source, values,
                                                                             name):
    assert output_name(analyze(source, values).graph) == name


def test_an_input_named_f_leaves_the_gradient_readable_in_every_view():
    runner = CliRunner()
    grad = runner.invoke(app, ["grad", "x + 2*f", "x=1", "f=2", "--no-check"])
    assert grad.stdout.splitlines()[0].strip() == "g = 5.0"
    dot = runner.invoke(app, ["graph", "x + 2*f", "x=1", "f=2", "--wrt", "f"])
    assert "sum = dg/df = 2.0" in dot.stdout
    trace = runner.invoke(app, ["trace", "x + 2*f", "x=1", "f=2"], env={"COLUMNS": "120"})
    assert "gradient: dg/df = 2.0, dg/dx = 1.0" in trace.stdout
    paths = runner.invoke(app, ["paths", "x + 2*f", "x=1", "f=2", "--wrt", "f"])
    assert paths.stdout.startswith("paths from f to g: 1")


def stderr_of(*arguments):
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == 2, result.output
    return result.stderr


@pytest.mark.parametrize("source, hint", [
    ("np.exp(x)", "functions are called by their own names, without `np.`: write exp(x) "
                  "(gad ops lists them)"),
    ("1 + numpy.log(x * 2)", "functions are called by their own names, without `numpy.`: "
                             "write log(x * 2) (gad ops lists them)"),
    ("torch.nn.functional.relu(x)", "functions are called by their own names, without "
                                    "`torch.`: write relu(x) (gad ops lists them)"),
    ("y * math.sqrt(x)", "functions are called by their own names, without `math.`: write "
                         "sqrt(x) (gad ops lists them)"),
    ("F.softmax(" + "x + " * 20 + "x)", "functions are called by their own names, without "
                                       "`F.`: write softmax(...) (gad ops lists them)"),
    ("np.pi * x", "names have no module here: write pi, without `np.`"),
    ("x.sum(1)", "x.sum(1) is written sum(x, 1)"),   # a method, not a module
    ("anp.exp(x)", "functions are called by name: sin(x)"),
])
def test_a_call_written_with_a_module_is_answered_with_the_call_without_it(source, hint):
    error = stderr_of("grad", source, "x=1", "y=1").splitlines()
    assert error[0] == "error[syntax]: attribute access is not part of the language"
    assert error[-1] == f"hint: {hint}"


@pytest.mark.parametrize("source, hint", [
    ("x 1", "write x*1 for a product, or separate statements with ; or a newline"),
    ("z = sin(x) y", "write z = sin(x)*y for a product, or separate statements with ; or a "
                     "newline"),
    ("x, y", "several values are an array, [a, b], or a function's arguments, f(a, b)"),
])
def test_a_statement_that_runs_on_suggests_what_was_meant(source, hint):
    assert stderr_of("grad", source, "x=1", "y=1").splitlines()[-1] == f"hint: {hint}"


def test_a_missing_value_says_which_and_how_to_write_one():
    assert stderr_of("grad", "x=").splitlines() == [
        "error[syntax]: the value for x is missing after `x =`", " --> line 1, column 3",
        "  |", "1 | x=", "  |   ^", "hint: write a number, an array or an expression after it: "
                                   "x = 1.5"]
    assert stderr_of("grad", "x * 2", "x=").splitlines() == [
        "error[value]: the value for x is missing after `x=`", " --> line 1, column 3",
        "  |", "1 | x=", "  |   ^",
        'hint: write a number or an array right after the =, with no space: x=1.5 or '
        '"x=[1, 2]"']


@pytest.mark.parametrize("argument, hint", [
    ("x 1", "write x=1: = between the name and the value"),
    ("y", "give y a value: y=1.5"),
    ("1", 'name the input it is for: x=1 for an input x; an expression comes first, in quotes '
          'when it has spaces: gad grad "x * 2" x=1'),
])
def test_a_value_without_its_equals_sign_is_answered_with_the_likely_meaning(argument, hint):
    error = stderr_of("grad", "x * y", argument).splitlines()
    assert error == [f"error[value]: expected NAME=VALUE, got `{argument}`", f"hint: {hint}"]


def limit_error_raises():
    """Every `LimitError(...)` in the package: (file, function, whether it passes a hint other
    than None)."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "graphviz_ad"
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "LimitError":
                    hints = call.args[2:3] + [keyword.value for keyword in call.keywords
                                              if keyword.arg == "hint"]
                    hinted = any(not (isinstance(hint, ast.Constant) and hint.value is None)
                                 for hint in hints)
                    found.append((str(path.relative_to(package)), function.name, hinted))
    return found


def test_every_limit_error_carries_a_hint():
    """Each raise says what to do instead; none relies on the fallback, the table of limits."""
    raises = limit_error_raises()
    assert len(raises) > 25  # the scan sees the raises (29 when this was written)
    assert [(path, function) for path, function, hinted in raises if not hinted] == []
    from graphviz_ad.errors import LimitError

    assert LimitError("a limit").hint == LimitError.TABLE_HINT
    assert LimitError("a limit", None, "do this").hint == "do this"
