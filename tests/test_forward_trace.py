"""Forward mode made visible: `gad trace --mode forward` steps one tangent sweep per input
element, node by node in evaluation order, each ending in that element's gradient; `gad explain`
says what each mode costs on the user's graph."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from graphviz_ad import analyze, records
from graphviz_ad.cli import app
from graphviz_ad.engine.forward import forward_gradient
from graphviz_ad.errors import LimitError

SEED = "samples/seed.gad"
WORKED = "(sin(x2)+1)/(x2+exp(x1))+x1*x2"
runner = CliRunner()


def gad(*arguments, status=0):
    result = runner.invoke(app, [str(argument) for argument in arguments],
                           env={"COLUMNS": "120"})
    assert result.exit_code == status, result.stdout + result.stderr
    return result


def worked():
    return analyze(WORKED, x1=1.5, x2=0.5)


def test_each_sweep_of_the_worked_example_ends_in_the_backward_sweeps_gradient_exactly():
    analysis = worked()
    trace = analysis.trace(mode="forward")
    results = {sweep.input: sweep.result for sweep in trace.tangents.sweeps}
    assert results == {"x1": 0.23283374747559749, "x2": 1.6165488003791766}
    assert results == {name: analysis.graph.gradient(name) for name in ("x1", "x2")}
    assert trace.gradients == results and trace.backward == []
    assert [sweep.steps[-1].tangent for sweep in trace.tangents.sweeps] == list(results.values())


def test_a_sweep_steps_each_node_its_tangent_reaches_in_evaluation_order():
    analysis = worked()
    names = analysis.trace(mode="reverse").names
    x2 = analysis.trace(mode="forward").tangents.sweeps[1]
    assert (x2.input, x2.index, x2.seeded) == ("x2", (), "x2")
    lines = [f"tan({names[step.node]}) = " + " + ".join(
        f"tan({names[term.argument]}) · {formula}" for term, formula in zip(step.terms,
                                                                           step.formulas))
             for step in x2.steps]
    assert lines == ["tan(v1) = tan(x2) · cos(x2)", "tan(v2) = tan(v1) · 1",
                     "tan(v4) = tan(x2) · 1", "tan(v5) = tan(v2) · 1/v4 + tan(v4) · -v2/v4^2",
                     "tan(v6) = tan(x2) · x1", "tan(f) = tan(v5) · 1 + tan(v6) · 1"]
    assert [step.node for step in x2.steps] == sorted(step.node for step in x2.steps)
    for step in x2.steps:
        assert step.tangent == sum(term.contribution for term in step.terms)
        for term in step.terms:
            assert term.contribution == term.tangent * term.local
    assert [float(step.tangent) for step in x2.steps] == pytest.approx(
        [np.cos(0.5), np.cos(0.5), 1.0, 0.11654880037917654, 1.5, 1.6165488003791766])


def test_each_terms_formula_is_the_one_the_backward_sweep_prints_on_that_edge():
    trace = analyze("y = tanh(x*w + b); y*y + log(w)", x=0.3, w=1.2, b=0.1).trace(
        mode=records.BOTH)
    backward = {(step.target, step.via, step.slot): step.formula for step in trace.backward}
    terms = [(term.argument, step.node, term.slot, formula)
             for sweep in trace.tangents.sweeps for step in sweep.steps
             for term, formula in zip(step.terms, step.formulas)]
    assert len(terms) > 10
    assert all(backward[tuple(edge)] == formula for *edge, formula in terms)


@pytest.mark.parametrize(("source", "values"), [
    ("sum(tanh(W @ x + b) * 2)", {"W": np.arange(6.0).reshape(2, 3) / 7, "x": np.ones(3),
                                  "b": np.array([0.1, -0.2])}),
    ("softmax(x)[1] + mean(x * x) + max(x)", {"x": np.array([0.3, -1.0, 2.0])}),
    ("z = detach(a) * a; sum(z / (a + 3))", {"a": np.array([[1.0, 2.0], [3.0, 4.0]])}),
])
def test_the_sweeps_are_forward_modes_own_and_agree_with_the_backward_sweep(source, values):
    analysis = analyze(source, values)
    trace = analysis.trace(mode="forward")
    for name in analysis.inputs:
        sweeps = [sweep for sweep in trace.tangents.sweeps if sweep.input == name]
        assert [sweep.index for sweep in sweeps] == list(np.ndindex(values[name].shape))
        own = forward_gradient(analysis.evaluated, name)
        assert np.array_equal(trace.gradients[name], own)  # the same sweep, to the last bit
        np.testing.assert_allclose(trace.gradients[name], analysis.graph.gradient(name),
                                   rtol=1e-13, atol=1e-15)


def test_an_array_inputs_sweeps_seed_one_element_each():
    trace = analyze("sum(W @ x)", W=np.array([[1.0, 2.0], [3.0, 4.0]]),
                    x=np.array([1.0, 2.0])).trace(mode="forward")
    assert [sweep.seeded for sweep in trace.tangents.sweeps] == [
        "W[0, 0]", "W[0, 1]", "W[1, 0]", "W[1, 1]", "x[0]", "x[1]"]
    seed = trace.tangents.sweeps[1].steps[0].terms[0].tangent
    assert np.array_equal(seed, [[0.0, 1.0], [0.0, 0.0]])
    assert np.array_equal(trace.gradients["W"], [[1.0, 2.0], [1.0, 2.0]])
    assert np.array_equal(trace.gradients["x"], [4.0, 6.0])
    assert trace.tangents.needed == {"W": 4, "x": 2}


def test_an_input_with_no_path_to_the_output_has_an_empty_sweep_and_a_zero_gradient():
    trace = analyze("x*2 + detach(y)", x=3.0, y=2.0).trace(mode="forward")
    assert [(sweep.input, len(sweep.steps), float(sweep.result))
            for sweep in trace.tangents.sweeps] == [("x", 2, 2.0), ("y", 0, 0.0)]
    text = gad("trace", "x*2 + detach(y)", "x=3", "y=2", "--mode", "forward").stdout
    assert "tan(f) = df/dy = 0.0: no path from y to the output" in text
    output_is_input = gad("trace", "x", "x=3", "--mode", "forward").stdout
    assert "tan(x) = df/dx = 1.0\n" in output_is_input


def test_gad_trace_mode_forward_prints_every_sweep_and_its_cost():
    text = gad("trace", SEED, "--mode", "forward").stdout
    assert "tangent sweep 1 of 2: tan(x1) = 1, tan(x2) = 0" in text
    assert "tangent sweep 2 of 2: tan(x2) = 1, tan(x1) = 0" in text
    assert "│ tan(v1) = tan(x2) · cos(x2) " in text and "1 · 0.877583" in text
    assert "tan(f) = df/dx1 = 0.23283374747559749\n" in text
    assert "tan(f) = df/dx2 = 1.6165488003791766\n" in text
    assert "adj(" not in text
    assert " ".join(text.split()).endswith(
        "gradient: df/dx1 = 0.23283374747559749, df/dx2 = 1.6165488003791766 forward mode: 2 "
        "tangent sweeps, one per input; reverse mode would need 1 backward sweep for all 2 "
        "gradients")
    assert gad("trace", SEED).stdout == gad("trace", SEED, "--mode", "reverse").stdout \
        == gad("trace", SEED, "--mode", "auto").stdout
    assert "tan(" not in gad("trace", SEED).stdout


def test_gad_trace_mode_forward_json_gives_the_same_steps():
    data = json.loads(gad("trace", SEED, "--mode", "forward", "--json").stdout)
    assert data["mode"] == "forward" and "backward" not in data
    assert data["gradient"] == {"x1": 0.23283374747559749, "x2": 1.6165488003791766}
    assert data["tangents"]["needed"] == {"x1": 1, "x2": 1}
    assert data["tangents"]["left_out"] == {} and data["tangents"]["note"] == ""
    x2 = data["tangents"]["sweeps"][1]
    assert {key: x2[key] for key in ("input", "id", "index", "seed", "result")} == {
        "input": "x2", "id": 1, "index": [], "seed": "x2", "result": 1.6165488003791766}
    assert x2["steps"][0] == {
        "name": "v1", "id": 3, "tangent": 0.8775825618903728,
        "terms": [{"argument": "x2", "argument_id": 1, "slot": 0, "formula": "cos(x2)",
                   "tangent": 1.0, "local": 0.8775825618903728,
                   "contribution": 0.8775825618903728}]}
    assert [step["name"] for step in x2["steps"]] == ["v1", "n", "d", "v3", "v4", "f"]
    assert data["forward"] == json.loads(gad("trace", SEED, "--json").stdout)["forward"]


def test_forward_modes_trace_is_refused_before_any_sweep_past_the_step_limit():
    analysis = analyze("sum(x * 2)", x=np.ones(5000))
    with pytest.raises(LimitError, match="forward mode's trace needs 5,000 tangent sweeps, one "
                                         "per input element, more than the limit of 10,000 "
                                         "steps") as raised:
        analysis.trace(10_000, "a hint", mode="forward")
    assert raised.value.hint == ("a hint; reverse mode gives every gradient in one backward "
                                 "sweep")
    assert len(analysis.trace(20_000, mode="forward").tangents.sweeps) == 5000


def test_forward_modes_trace_is_refused_past_the_work_budget(monkeypatch):
    monkeypatch.setattr(records, "WORK_BUDGET", 500)
    with pytest.raises(LimitError, match="more than the limit of 500 element evaluations"):
        worked().trace(mode="forward")


def test_the_command_line_refuses_a_forward_trace_too_long_for_a_table(tmp_path):
    values = tmp_path / "x.json"
    values.write_text(json.dumps([1.0] * 4000))
    result = gad("trace", "sum(x * 2)", f"x=@{values}", "--mode", "forward", status=2)
    assert "forward mode's trace needs 4,000 tangent sweeps" in result.stderr
    assert "--json prints up to 100,000 steps" in result.stderr


def test_explain_says_what_each_mode_costs_on_the_users_graph():
    text = " ".join(gad("explain", SEED, "--no-check").stdout.split())
    assert ("reverse mode: 1 backward sweep gives all 2 gradients; forward mode would need 2 "
            "tangent sweeps, one per input; a sweep visits at most the graph's 10 nodes and 12 "
            "edges") in text
    arrays = " ".join(gad("explain", "sum(W @ x) + c", "W=[[1,2],[3,4]]", "x=[1,2]", "c=1",
                          "--no-check").stdout.split())
    assert ("forward mode would need 7 tangent sweeps, one per input element (c: 1, W: 4, x: "
            "2)") in arrays
    one = " ".join(gad("explain", "sin(x)", "x=1", "--no-check").stdout.split())
    assert ("reverse mode: 1 backward sweep, forward mode: 1 tangent sweep; for one input "
            "number the two cost the same; a sweep visits at most the graph's 2 nodes and 1 "
            "edge") in one
