"""Never a silently wrong sum: traced PyTorch functions whose path products sum to torch's
gradient, or are refused with the reason (issue 17, item 4)."""

import runpy
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

from graphviz_ad import api  # noqa: E402 (after the skip)
from graphviz_ad.engine.annotated import CONSTANT, INPUT  # noqa: E402
from graphviz_ad.errors import UsageError  # noqa: E402
from tests.conftest import gad





def leaf(value):
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def torch_gradient(function, value):
    """torch's own gradient of the summed result, in float64."""
    x = leaf(value)
    (gradient,) = torch.autograd.grad(function(x).sum(), [x])
    return gradient.numpy()


def assert_paths_sum_to_torchs_gradient(function, value):
    """The traced gradient is torch's, every path of x is listed, and their products sum to
    it; returns the paths."""
    analysis = api.trace_torch(function, leaf(value))
    expected = torch_gradient(function, value)
    np.testing.assert_allclose(analysis.gradient("x"), expected, rtol=1e-13, atol=1e-15)
    summary = analysis.paths("x", None)
    assert summary.rest_count == 0
    np.testing.assert_allclose(summary.shown_sum, expected, rtol=1e-12, atol=1e-14)
    assert all(analysis.graph.kinds[node] != INPUT or analysis.graph.labels[node] == "x"
               for node in range(len(analysis.graph)))  # no leaf1 for a computed tensor
    return analysis, summary


class Square(runpy.run_path(str(Path(__file__).resolve().parent.parent / "samples"
                              / "torch_custom.py"))["Square"]):
    """x², by samples/torch_custom.py's custom Function, its backward set right (2x)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


def double_backward(x):
    return torch.autograd.grad(torch.tanh(x), x, create_graph=True)[0]


def test_a_gradient_taken_inside_the_function_sums_to_torchs_once():
    analysis, summary = assert_paths_sum_to_torchs_gradient(double_backward, 0.5)
    assert float(analysis.gradient("x")) == pytest.approx(-0.7268619813835874, rel=1e-15)
    products = {tuple(analysis.graph.labels[node] for node in path.nodes): float(path.product)
                for path in summary.paths}
    # grad(tanh(x), x) = 1 - tanh(x)²: it reads x only through tanh, so the edge from x
    # straight into `grad` carries nothing
    assert products[("x", "tanh", "grad")] == pytest.approx(-0.7268619813835874, rel=1e-14)
    assert products[("x", "grad")] == pytest.approx(0.0, abs=1e-15)


def test_a_gradient_taken_inside_the_function_from_a_file(tmp_path):
    source = tmp_path / "inner.py"
    source.write_text("import torch\n\ndef f(x):\n"
                      "    return torch.autograd.grad(torch.tanh(x), x, create_graph=True)[0]\n")
    result = gad("torch", source, "x=0.5", "--paths", "--wrt", "x", "--json")
    assert result.exit_code == 0, result.output
    assert "-0.72686" in result.output and "-1.4537" not in result.output


def test_an_argument_computed_from_another_of_a_linear_layer_sums_to_the_gradient():
    # linear is several backward functions, so its own cannot be called alone: the
    # derivative on W's edge is its own, not the one through x as well
    def layer(x):
        weight = torch.sin(x).reshape(1, 3)
        return torch.nn.functional.linear(x, weight)

    assert_paths_sum_to_torchs_gradient(layer, [0.3, -1.2, 2.0])


def index_write(x):
    y = torch.sin(x) * 2
    z = torch.zeros(3, dtype=torch.float64)
    z[0] = y[-1] * 3
    return (z * z).sum() + z.sum()


def column_write(x):
    z = torch.stack([x, x * x])
    z[:, 1] = torch.cos(x[0])
    return (z ** 2).sum()


@pytest.mark.parametrize("function", [index_write, column_write])
def test_an_index_write_is_a_node(function):
    analysis, summary = assert_paths_sum_to_torchs_gradient(function, [0.1, 0.2, 0.3])
    assert "setitem" in analysis.graph.labels
    assert summary.count > 0


def test_index_write_gradient_is_torchs_and_not_zero():
    analysis, summary = assert_paths_sum_to_torchs_gradient(index_write, [0.1, 0.2, 0.3])
    gradient = analysis.gradient("x")
    assert gradient[:2].tolist() == [0.0, 0.0] and gradient[2] > 1
    # the zeros written into are a constant, not an input
    zeros = [node for node in range(len(analysis.graph))
             if analysis.graph.kinds[node] == CONSTANT and np.shape(analysis.graph.values[node])
             == (3,)]
    assert zeros and not np.any(analysis.graph.values[zeros[0]])


def test_an_in_place_add_into_a_new_tensor_takes_it_as_a_constant():
    def accumulate(x):
        z = torch.zeros(2, dtype=torch.float64)
        z.add_(x)
        return (z * z).sum()

    analysis, _ = assert_paths_sum_to_torchs_gradient(accumulate, [1.0, 2.0])
    assert analysis.graph.inputs.keys() == {"x"}


def test_a_write_into_a_view_is_refused_with_the_reason():
    def through_a_view(x):
        z = torch.zeros(3, dtype=torch.float64)
        z[0:2].copy_(x * 2)
        return (z * z).sum()

    with pytest.raises(UsageError, match="view") as error:
        api.trace_torch(through_a_view, leaf([1.0, 2.0]))
    assert "z[0:2] = y" in error.value.hint


def test_a_custom_function_fed_by_another_is_two_nodes():
    analysis, summary = assert_paths_sum_to_torchs_gradient(
        lambda x: Square.apply(Square.apply(x)), [1.0, 2.0])
    assert analysis.graph.labels.count("Square") == 2
    np.testing.assert_allclose(analysis.gradient("x"), [4.0, 32.0], rtol=1e-15)  # 4x³
    (path,) = summary.paths
    assert [analysis.graph.labels[node] for node in path.nodes] == ["x", "Square", "Square",
                                                                     "sum"]


def test_gad_torch_traces_a_custom_function_fed_by_another(tmp_path):
    source = tmp_path / "nested.py"
    source.write_text("import sys\nsys.path.insert(0, %r)\nfrom torch_custom import Square\n\n"
                      "def f(x):\n    return Square.apply(Square.apply(x)).sum()\n"
                      % str(Path("samples").resolve()))
    result = gad("torch", f"{source}:f", "x=[1,2]", "--paths", "--json")
    assert result.exit_code == 0, result.output
    assert "no inputs" not in result.output
    # samples/torch_custom.py's Square says 3x for 2x: torch's gradient is 3·x²·3x = 9x³
    assert "[9.0, 72.0]" in result.output.replace("\n", "").replace(" ", "").replace(",", ", ")


def test_a_complex_intermediate_is_refused_with_the_reason():
    def through_complex(x):
        return (x.to(torch.complex128) * (1 + 2j)).abs().sum()

    assert float(torch_gradient(through_complex, 1.0)) == pytest.approx(5 ** 0.5, rel=1e-15)
    with pytest.raises(UsageError, match="complex") as error:
        api.trace_torch(through_complex, leaf(1.0))
    assert error.value.hint


def test_gad_torch_refuses_a_complex_intermediate(tmp_path):
    source = tmp_path / "complex_abs.py"
    source.write_text("import torch\n\ndef f(x):\n"
                      "    return (x.to(torch.complex128) * (1 + 2j)).abs().sum()\n")
    result = gad("torch", source, "x=1", "--paths")
    assert result.exit_code == 2
    assert "complex" in result.output and "leaf1" not in result.output


def test_a_cut_value_changed_in_place_after_use_is_drawn_with_its_new_value():
    from test_torch import changed_in_place_after_use

    assert_paths_sum_to_torchs_gradient(changed_in_place_after_use, [1.0, 2.0, -0.5])


def test_a_tensor_computed_from_an_input_before_the_call_is_refused():
    weight = leaf([1.0, 2.0])
    twice = weight * 2  # torch's gradient of weight counts the way through twice

    with pytest.raises(UsageError, match="did not record"):
        api.trace_torch(lambda w, t: (w * t).sum(), weight, twice)


def test_the_safety_net_refuses_paths_that_cannot_sum_to_torchs_gradient(monkeypatch):
    # as before the fix: the edge from x into `grad` carries the path through tanh as well, so
    # x's products would sum to twice torch's gradient; the chain rule's own check finds it
    # before any path is listed
    from graphviz_ad.sources import pytorch

    monkeypatch.setattr(pytorch, "partial_pull", lambda total, *rest: total)
    with pytest.raises(UsageError, match="would not sum to torch's gradient") as error:
        api.trace_torch(double_backward, leaf(0.5))
    assert "-1.454" in str(error.value) and "-0.7269" in str(error.value)
