"""The trace: the Wengert list in evaluation order and the backward sweep in engine order."""

import json

import pytest
from typer.testing import CliRunner

from graphviz_ad import analyze
from graphviz_ad.cli import app
from graphviz_ad.engine.trace import backward_steps, forward_steps, trace_names


def seed():
    with open("samples/seed.gad") as handle:
        return analyze(handle.read())


def test_forward_trace_of_the_worked_example():
    steps = forward_steps(seed().graph)
    assert [f"{step.name} = {step.expression}" for step in steps] == [
        "x1 = input", "x2 = input", "v1 = sin(x2)", "n = 1 + v1", "v2 = exp(x1)",
        "d = x2 + v2", "v3 = n / d", "v4 = x1 * x2", "f = v3 + v4"]
    assert [step.source for step in steps][2:4] == ["sin(x2)", "1 + sin(x2)"]


def test_backward_sweep_ends_in_the_gradient_and_follows_engine_order():
    analysis = seed()
    names = trace_names(analysis.graph)
    steps = backward_steps(analysis.graph)
    assert [(names[step.target], names[step.via], step.formula) for step in steps] == [
        ("v3", "f", "1"), ("v4", "f", "1"), ("x1", "v4", "x2"), ("x2", "v4", "x1"),
        ("n", "v3", "1/d"), ("d", "v3", "-n/d^2"), ("x2", "d", "1"), ("v2", "d", "1"),
        ("x1", "v2", "exp(x1)"), ("v1", "n", "1"), ("x2", "v1", "cos(x2)")]
    finals = {names[step.target]: float(step.total) for step in steps}
    assert finals["x1"] == pytest.approx(0.23283374747559749, abs=1e-15)
    assert finals["x2"] == pytest.approx(1.6165488003791766, abs=1e-15)
    for step in steps:
        assert float(step.contribution) == pytest.approx(float(step.adjoint) * float(step.local))


def test_reassigned_names_fall_back_to_numbered_names():
    analysis = analyze("y = x*2\ny = y + 1\ny*y", x=1.0)
    assert [step.name for step in forward_steps(analysis.graph)] == ["x", "v1", "v2", "f"]


def test_numbered_names_never_collide_with_the_programs():
    analysis = analyze("v2 = sin(x) * cos(x); v2 + v1", x=1.0, v1=2.0)
    steps = forward_steps(analysis.graph)
    assert [f"{step.name} = {step.expression}" for step in steps] == [
        "x = input", "v3 = sin(x)", "v4 = cos(x)", "v2 = v3 * v4", "v1 = input", "f = v2 + v1"]


def test_powers_are_written_as_the_program_wrote_them():
    analysis = analyze("x^2 + pow(x, 3)", x=2.0)
    assert [step.expression for step in forward_steps(analysis.graph)][1:3] == [
        "x ^ 2", "pow(x, 3)"]


def test_trace_command():
    runner = CliRunner()
    result = runner.invoke(app, ["trace", "samples/seed.gad"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "adj(x2) += adj(v1) · cos(x2)" in result.stdout
    assert "df/dx2 = 1.6165488003791766" in result.stdout
    data = json.loads(runner.invoke(app, ["trace", "samples/seed.gad", "--json"]).stdout)
    assert data["forward"][2] == {"name": "v1", "id": 3, "expression": "sin(x2)",
                                  "kind": "operation", "value": 0.479425538604203,
                                  "source": "sin(x2)"}
    assert {key: data["backward"][-1][key] for key in ("target", "via", "target_id", "via_id")} \
        == {"target": "x2", "via": "v1", "target_id": 1, "via_id": 3}
    assert data["backward"][-1]["total"] == 1.6165488003791766
    assert data["gradient"] == {"x1": 0.23283374747559749, "x2": 1.6165488003791766}


def test_the_output_has_the_name_every_other_view_gives_it():
    analysis = analyze("x*f + f", x=1.0, f=2.0)
    steps = forward_steps(analysis.graph)
    assert [f"{step.name} = {step.expression}" for step in steps] == [
        "x = input", "f = input", "v1 = x * f", "g = v1 + f"]
    result = CliRunner().invoke(app, ["trace", "sin(x) * 2", "x=0"], env={"COLUMNS": "120"})
    assert "f = v1 * 2" in result.stdout
    assert "backward: adjoints from the output down, adj(f) = 1" in result.stdout
    assert "adj(v1) += adj(f) · 2" in result.stdout
    assert result.stdout.rstrip().endswith("gradient: df/dx = 2.0")


def test_an_output_that_is_an_input_keeps_the_inputs_name_in_the_steps():
    result = CliRunner().invoke(app, ["trace", "x", "x=3"], env={"COLUMNS": "120"})
    assert "adj(x) = 1" in result.stdout
    assert result.stdout.rstrip().endswith("gradient: df/dx = 1.0")
