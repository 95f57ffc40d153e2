"""Jacobians of array outputs, `gad eval`, and the finite-difference check as a gate."""

import json

import numpy as np
import pytest

from graphviz_ad.api import analyze
from graphviz_ad.gradients import CheckSettings
from graphviz_ad.errors import CheckError, LimitError, ShapeError, UsageError
from tests.conftest import gad





def softmax_jacobian(z):
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    return np.diag(s) - np.outer(s, s)


def test_the_jacobian_of_an_array_output_by_either_mode_is_the_derivative():
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = np.array([0.5, -1.0])
    analysis = analyze("softmax(W @ x)", W=W, x=x)
    expected_x = softmax_jacobian(W @ x) @ W  # d softmax / d z · d z / d x
    np.testing.assert_allclose(analysis.gradient("x", "reverse"), expected_x, atol=1e-15)
    np.testing.assert_allclose(analysis.gradient("x", "forward"), expected_x, atol=1e-15)
    expected_W = np.einsum("ij,k->ijk", softmax_jacobian(W @ x), x)  # out × rows × columns
    np.testing.assert_allclose(analysis.gradient("W", "reverse"), expected_W, atol=1e-15)
    assert analysis.check("W").agrees and analysis.check("x", "forward").agrees


def test_auto_mode_takes_the_fewer_sweeps():
    wide = analyze("x * 2", x=[1.0, 2.0, 3.0])           # 3 outputs, 3 inputs: reverse
    tall = analyze("[x, x^2, x^3, x^4]", x=2.0)         # 4 outputs, 1 input: forward
    report = tall.gradient_report()
    assert (wide.gradient_report().mode, report.mode, report.sweeps) == ("reverse", "forward", 1)
    np.testing.assert_allclose(report.rows[0].gradient, [1, 4, 12, 32])
    assert "Jacobians df/d(input), of shape output + input, by forward mode: 1 tangent sweep, " \
           "one per input element" in report.note
    assert analyze("x^2", x=3.0).gradient_report().mode == "reverse"


def test_grad_prints_a_jacobian_and_its_json_is_nested_lists():
    result = gad("grad", "A @ v", "A=[[1, 2], [3, 4]]", "v=[1, 1]", "--json")
    data = json.loads(result.stdout)
    assert data["value"] == [3.0, 7.0]
    assert data["gradient"]["v"] == [[1.0, 2.0], [3.0, 4.0]]
    assert data["gradient"]["A"] == [[[1.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]]]
    assert data["check"]["A"]["agrees"]
    table = gad("grad", "A @ v", "A=[[1, 2], [3, 4]]", "v=[1, 1]").stdout
    assert "Jacobian" in table and "2 backward sweeps, one per output element" in table


def test_eval_prints_a_value_without_a_gradient():
    result = gad("eval", "transpose(W) @ v", "W=[[1, 2], [3, 4]]", "v=[1, -1]")
    assert result.exit_code == 0
    assert result.stdout.strip() == "[-2.0, -2.0]"
    assert json.loads(gad("eval", "sum(x)", "x=[1, 2]", "--json").stdout) == {"value": 3.0}


@pytest.mark.parametrize("method", ["central", "forward", "complex"])
def test_every_method_checks_a_smooth_gradient(method):
    analysis = analyze("sum(log_softmax(W @ x) * [1, 0, 0]) + sin(x[0])^3",
                       W=[[1.0, 2.0], [3.0, 4.0], [0.5, 0.1]], x=[0.3, -0.7])
    check = analysis.check("x", settings=CheckSettings(method))
    assert check.agrees
    limit = {"central": 1e-8, "forward": 1e-6, "complex": 1e-14}[method]
    assert check.difference < limit


def test_the_complex_step_is_refused_through_an_operation_without_complex_numbers():
    analysis = analyze("relu(x) + sin(y)", x=1.0, y=1.0)
    assert analysis.check("y", settings=CheckSettings("complex")).agrees  # relu is not on y's way
    with pytest.raises(UsageError, match="the complex step needs every operation that depends "
                                         r"on x to take complex numbers, and relu \(`relu\(x\)`\)"):
        analysis.check("x", settings=CheckSettings("complex"))


def test_a_larger_step_or_a_tighter_tolerance_changes_the_verdict():
    analysis = analyze("exp(3 * x)", x=1.0)
    assert analysis.check("x").agrees
    assert not analysis.check("x", settings=CheckSettings(step=1e-2)).agrees
    assert not analysis.check("x", settings=CheckSettings(rtol=1e-14, atol=0)).agrees


@pytest.mark.parametrize("settings, reason", [
    ({"method": "secant"}, "unknown finite-difference method `secant`"),
    ({"step": 0.0}, "the step must be a finite number above 0, got 0.0"),
    ({"rtol": float("nan")}, "the rtol must be a finite number above 0, got nan"),
    ({"atol": -1.0}, "the atol must be a finite number above 0, got -1.0"),
])
def test_check_settings_are_validated(settings, reason):
    with pytest.raises(UsageError) as caught:
        CheckSettings(**settings)
    assert caught.value.reason == reason


def test_a_failed_check_at_a_kink_says_what_the_engine_did_there():
    report = analyze("relu(x - 1) + max(x, y)", x=1.0, y=1.0).gradient_report()
    assert [row.check.agrees for row in report.rows] == [False, True]
    assert report.rows[0].check.kinks == (
        "relu is not differentiable at 0; the engine uses PyTorch's convention relu'(0) = 0 "
        "(at `relu(x - 1)`)",
        "max is not differentiable where its arguments are equal; the engine splits the "
        "gradient evenly, as PyTorch does (at `max(x, y)`)")
    with pytest.raises(CheckError, match="the gradient of x disagrees with finite differences"):
        report.require_agreement()


def test_check_exits_1_on_a_failure_and_0_otherwise():
    failed = gad("grad", "relu(x - 1)", "x=1", "--check")
    assert failed.exit_code == 1
    assert "✗ x: relu is not differentiable at 0" in failed.stdout
    assert "error[check]: the gradient of x disagrees" in failed.stderr
    assert gad("grad", "relu(x - 1)", "x=1").exit_code == 0
    assert gad("grad", "relu(x - 1)", "x=2", "--check").exit_code == 0
    assert gad("grad", "relu(x - 1)", "x=1", "--check", "--json").exit_code == 1


def test_check_options_reach_the_check():
    result = gad("grad", "x^3", "x=2", "--fd-method", "forward", "--fd-step", "1e-4",
                 "--rtol", "1e-9", "--atol", "0", "--check", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    # forward differences are off by f''(x) h / 2, with f''(2) = 12 and h = 1e-4 · 2
    assert data["check"]["x"]["difference"] == pytest.approx(12 * 2e-4 / 2, rel=0.01)
    assert "finite differences: forward, h = 0.0001·max(1, |x|)" in gad(
        "grad", "x^3", "x=2", "--fd-method", "forward", "--fd-step", "1e-4").stdout


def test_a_jacobian_past_the_work_budget_is_refused_before_any_sweep(monkeypatch):
    import graphviz_ad.gradients

    analysis = analyze("x * 2", x=np.ones(50))
    monkeypatch.setattr(graphviz_ad.gradients, "WORK_BUDGET", 1_000)
    monkeypatch.setattr(graphviz_ad.gradients, "jacobian_rows",
                        lambda *arguments: pytest.fail("swept"))
    with pytest.raises(LimitError, match="the Jacobian by reverse mode needs 50 backward "
                                         "sweeps, .* the limit is 1,000"):
        analysis.gradient("x", "reverse")


def test_check_fails_the_run_when_a_check_was_skipped_past_its_budget(monkeypatch):
    import graphviz_ad.gradients

    monkeypatch.setattr(graphviz_ad.gradients, "WORK_BUDGET", 10)
    report = analyze("sum(x * x)", x=np.ones(5)).gradient_report()
    assert report.rows[0].check.skipped and not report.failures
    with pytest.raises(CheckError, match="the gradient of x was not checked: checking x needs"):
        report.require_agreement()


def test_the_value_of_an_array_output_says_to_use_output_value():
    with pytest.raises(ShapeError, match=r"the output has shape \(2,\); `value` needs a single"):
        analyze("x * 2", x=[1.0, 2.0]).value


@pytest.mark.parametrize("method, step", [("central", 1e-30), ("forward", 9e-16),
                                          ("central", 0.0)])
def test_a_step_that_cannot_move_x_is_refused_saying_what_to_write(method, step):
    from graphviz_ad.engine.check import finite_difference

    graph = analyze("sin(x)", x=1.0).evaluated
    with pytest.raises(UsageError) as refused:
        finite_difference(graph, "x", method, step)
    default = "1e-6" if method == "central" else "1e-8"
    assert refused.value.hint == (f"write --fd-step {default} (the default) or any step from "
                                  "1e-15 up; for a tiny step, --fd-method complex, which has "
                                  "no rounding to fear")


def test_the_smallest_step_still_moves_x_and_the_complex_step_has_no_floor():
    from graphviz_ad.engine.check import SMALLEST_STEP, finite_difference

    graph = analyze("x * 3", x=1.0).evaluated
    # at |x| = 1 the step 1e-15 is about 4.5 ulp: the difference is not 0/0
    assert abs(finite_difference(graph, "x", "central", SMALLEST_STEP) - 3.0) < 0.2
    assert finite_difference(graph, "x", "complex", 1e-30) == 3.0
    result = gad("grad", "sin(x)", "x=1", "--fd-step", "1e-30")
    assert result.exit_code == 2
    assert result.stderr.startswith("error[usage]: --fd-step 1e-30 is too small for central "
                                    "differences")


def test_a_jacobian_past_one_array_s_limit_is_refused_before_it_is_made(monkeypatch):
    import graphviz_ad.engine.check as check
    import graphviz_ad.engine.forward as forward

    graph = analyze("W @ x", W=np.ones((3, 4)), x=np.ones(4)).evaluated
    monkeypatch.setattr(check, "MAX_ELEMENTS", 3 * 3 * 4 - 1)  # d out / dW is 3 × 3 × 4
    np.testing.assert_array_equal(forward.forward_gradient(graph, "x"), np.ones((3, 4)))
    monkeypatch.setattr(check, "replay", lambda *arguments: pytest.fail("replayed"))
    monkeypatch.setattr(forward, "local_derivatives", lambda *arguments: pytest.fail("swept"))
    for compute in (forward.forward_gradient, check.finite_difference):
        with pytest.raises(LimitError) as refused:
            compute(graph, "W")
        assert refused.value.reason == ("the Jacobian with respect to W would have shape "
                                        "(3, 3, 4), 36 numbers; the limit is 35")
        assert refused.value.hint.startswith("reduce the output to one number, with sum(...)")


def test_an_empty_input_takes_no_sweeps_whatever_its_other_sizes():
    from graphviz_ad.engine.check import each_index, jacobian_zeros

    assert list(each_index((0, 10**12))) == []  # np.ndindex would first list 10**12 numbers
    assert list(each_index(())) == [()]
    assert list(each_index((2, 1))) == [(0, 0), (1, 0)]
    source = "sum(reshape(x[1:1], [0, 1000000000000]))"
    analysis = analyze(source, x=[1.0, 2.0])
    np.testing.assert_array_equal(analysis.gradient("x", "forward"), [0.0, 0.0])
    jacobian = analyze("reshape(x[1:1], [0, 1000000000000]) * 2", x=[1.0, 2.0])
    assert jacobian.gradient("x", "forward").shape == (0, 10**12, 2)
    with pytest.raises(LimitError, match="which numpy cannot make even empty"):
        jacobian_zeros((0, 10**12), (0, 10**12), "x")


def test_a_reverse_mode_jacobian_past_one_array_s_limit_is_refused(monkeypatch):
    import graphviz_ad.engine.check as check

    analysis = analyze("W @ x", W=np.ones((3, 4)), x=np.ones(4))
    monkeypatch.setattr(check, "MAX_ELEMENTS", 3 * 3 * 4 - 1)
    with pytest.raises(LimitError, match=r"the Jacobian with respect to W would have shape "
                                         r"\(3, 3, 4\), 36 numbers; the limit is 35"):
        analysis.gradient("W", "reverse")
    np.testing.assert_array_equal(analysis.gradient("x", "reverse"), np.ones((3, 4)))


def test_a_failed_check_without_a_kink_names_a_step_ten_times_smaller():
    # A central difference of x³ is 3x² + h²: with h = 1e-3 and tolerances of 1e-9 it fails
    # by truncation alone, which the hint's smaller step (or the complex step) would show.
    tight = {"rtol": 1e-9, "atol": 1e-9}
    report = analyze("x^3", x=1.0).gradient_report(settings=CheckSettings(step=1e-3, **tight))
    with pytest.raises(CheckError) as caught:
        report.require_agreement()
    assert caught.value.hint.startswith("try --fd-step 1e-4 or --fd-method complex: a "
                                        "truncation error shrinks with the step")
    assert not analyze("x^3", x=1.0).gradient_report(
        settings=CheckSettings("complex", **tight)).failures
