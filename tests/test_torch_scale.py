"""Tracing large PyTorch computations: values shared, not copied, and kept as they were used;
what the backward pass carries caught, not pulled again; a trace past its node budget refused
while the function runs (issue 17, "Numbers to reach"; bench/torch_scale.py measures them)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

from graphviz_ad import api  # noqa: E402 (after the skip)
from graphviz_ad.errors import LimitError, UsageError  # noqa: E402
from graphviz_ad.sources import torch_graph, torch_pulls  # noqa: E402


def node_labelled(graph, label):
    return graph.labels.index(label)


def test_a_parameter_value_is_torchs_memory_not_a_copy():
    layer = torch.nn.Linear(64, 32)
    analysis = api.trace_torch(lambda x: layer(x).sum(), torch.ones(3, 64))
    weight = analysis.graph.values[node_labelled(analysis.graph, "layer.weight")]
    assert np.shares_memory(weight, layer.weight.detach().numpy())
    assert not weight.flags.writeable


def test_values_changed_in_place_later_keep_the_value_they_had_when_used():
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def f():
        y = w * 2
        y.mul_(3)  # a seen write into an activation's memory: its first version is copied
        total = (y + w).sum()
        with torch.no_grad():
            w.add_(10.0)  # an update of the parameter after its use
            w.data.mul_(2)  # through .data, which has a version counter of its own
        return total

    graph = api.trace_torch(f).graph
    doubled = next(node for node, label in enumerate(graph.labels) if label == "*")
    np.testing.assert_array_equal(graph.values[doubled], [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(graph.values[node_labelled(graph, "w")], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(w.detach().numpy(), [22.0, 24.0, 26.0])


def test_a_write_the_recorder_cannot_see_is_refused_not_drawn_changed():
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def f():
        y = w * 2
        total = y.sum()
        with torch._C.DisableTorchFunction():  # torch code that bypasses every mode
            y.add_(1)
        return total

    with pytest.raises(UsageError, match="changed in place during the call"):
        api.trace_torch(f)


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 2, 3, padding=1, dtype=torch.float64)
        self.norm = torch.nn.LayerNorm([2, 5, 5], dtype=torch.float64)

    def forward(self, x):
        x = x + self.conv(x)  # x feeds the convolution and the sum
        return (x + self.norm(x)).relu().sum()


def test_what_a_foreign_op_carries_is_caught_in_the_backward_pass_and_equals_its_pull(
        monkeypatch):
    model, image = Residual(), torch.randn(1, 2, 5, 5, dtype=torch.float64)
    engine_calls = []
    pull_grad = torch_pulls.pull_grad
    monkeypatch.setattr(torch_pulls, "pull_grad",
                        lambda *arguments: engine_calls.append(1) or pull_grad(*arguments))
    caught = api.trace_torch(model, image).graph
    assert engine_calls == []  # no pull after torch's own backward pass
    monkeypatch.setattr(torch_graph, "_catch_carried", lambda nodes, caught: [])
    pulled = api.trace_torch(model, image).graph
    assert engine_calls  # the same parts, pulled through each op's backward
    assert len(caught.carried) == len(pulled.carried)
    for mine, theirs in zip(caught.carried, pulled.carried):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)


def test_pulls_seed_torchs_engine_without_torch_autograd_grads_shape_check(monkeypatch):
    """torch.autograd.grad given a seed imports sympy (about a second, once); the pulls do not
    call it with one."""
    seeded = []
    grad = torch.autograd.grad

    def watched(*arguments, **options):
        seeded.append(options.get("grad_outputs") is not None)
        return grad(*arguments, **options)

    monkeypatch.setattr(torch.autograd, "grad", watched)
    model, image = Residual(), torch.randn(1, 2, 5, 5, dtype=torch.float64)
    analysis = api.trace_torch(model, image)
    analysis.render("dot", expand_all=True)
    analysis.picture()
    assert not any(seeded)


def loop_of(steps, done):
    x = torch.tensor(1.0, requires_grad=True)

    def loop():
        y = x
        for _ in range(steps):
            y = y + x
            done.append(1)
        return y

    return loop


def test_a_loop_past_the_node_budget_is_refused_after_the_same_work_however_long(
        monkeypatch):
    monkeypatch.setattr(torch_graph, "MAX_TRACE_NODES", 200)
    work = []
    for steps in (1_000, 4_000):
        done: list = []
        with pytest.raises(LimitError, match="more than 200 nodes") as refused:
            api.trace_torch(loop_of(steps, done))
        assert "fewer loop iterations" in refused.value.hint
        work.append(len(done))
    assert work[0] == work[1] < 200


def test_a_loop_within_the_node_budget_is_traced(monkeypatch):
    monkeypatch.setattr(torch_graph, "MAX_TRACE_NODES", 200)
    analysis = api.trace_torch(loop_of(150, []))
    assert float(analysis.gradient("x")) == 151.0


@pytest.mark.parametrize("tensor", [torch.randn(64, 48), torch.randn(5, dtype=torch.float64),
                                    torch.tensor([1.0, float("nan"), 2.0, 3.0, 4.0]),
                                    torch.randn(3), torch.full((10,), -0.0)])
def test_a_recorded_tensor_is_summarized_by_torch_as_display_would(tensor):
    from graphviz_ad import display
    from graphviz_ad.sources.torch_ops import summary_of

    value, ranges = tensor.numpy(), display.Ranges()
    assert summary_of(tensor, value, ranges) == display.summary(value)
    if value.size > display.SHOWN_WHOLE:  # the range torch found is the one a picture shows
        found = ranges.of(value)
        assert np.array_equal(found, display.array_range(value), equal_nan=True)
        assert [type(end) for end in found] == [value.dtype.type] * 2
