"""What differs between torch releases (sources/torch_compat.py), on the torch installed here.

CI runs these on the newest torch the registry serves and on the oldest supported (make
test-torch-oldest), so each feature test is exercised on both sides of a change.
"""

import re
import runpy
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

from graphviz_ad import api  # noqa: E402 (after the skip)
from graphviz_ad.errors import UsageError  # noqa: E402
from graphviz_ad.sources import torch_compat  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def leaf(value):
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def test_the_oldest_torch_is_stated_once_and_agrees_everywhere():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads TOML")
    oldest = ".".join(map(str, torch_compat.OLDEST_TORCH))
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["torch"]
    assert extra == [f"torch>={oldest}"]
    tested = re.search(r"^OLDEST_TORCH := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
    assert torch_compat.release(tested) == torch_compat.OLDEST_TORCH
    assert f"torch {oldest}" in (ROOT / "docs" / "torch.md").read_text()


@pytest.mark.parametrize("version, release", [
    ("2.15.0+cu132", (2, 15)), ("2.5.1", (2, 5)), ("2.10.0a0+git1234", (2, 10)), ("dev", (0, 0))])
def test_release_reads_the_versions_torch_prints(version, release):
    assert torch_compat.release(version) == release


def test_a_torch_older_than_the_oldest_is_refused_with_the_upgrade(monkeypatch):
    monkeypatch.setattr(torch, "__version__", "2.1.2")
    with pytest.raises(UsageError) as raised:
        api.trace_torch(lambda x: x * 2, leaf(1.0))
    assert "needs torch 2.5 or newer" in str(raised.value)
    assert "pip install --upgrade" in raised.value.hint


# x² with the wrong derivative 3x, in the old style: forward(ctx, x)
Square = runpy.run_path(str(ROOT / "samples" / "torch_custom.py"))["Square"]


class Cube(torch.autograd.Function):
    """The newer style: forward without ctx, setup_context apart."""

    @staticmethod
    def forward(x):
        return x ** 3

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


@pytest.mark.parametrize("function, label, gradient", [
    (lambda x: Square.apply(x) + 1, "Square", 4.5),
    (lambda x: Cube.apply(x) * 2, "Cube", 13.5),
])
def test_a_custom_function_is_one_node_on_every_torch(function, label, gradient):
    analysis = api.trace_torch(function, leaf(1.5))
    assert label in analysis.graph.labels
    assert "mul" not in analysis.graph.labels[:analysis.graph.labels.index(label)]
    assert analysis.gradient("x") == pytest.approx(gradient, rel=1e-15)


def test_inside_custom_forward_is_true_only_there():
    seen = []

    class Probe(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(torch_compat.inside_custom_forward())
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad

    Probe.apply(leaf(1.0))
    with torch.no_grad():
        seen.append(torch_compat.inside_custom_forward())
    assert seen == [True, False]


def test_input_metadata_gives_each_output_shape_and_dtype():
    first, second = torch.split(leaf([1.0, 2.0, 3.0]), [1, 2])
    metadata = torch_compat.input_metadata(first.grad_fn)
    assert metadata == [((1,), torch.float64), ((2,), torch.float64)]


def test_clamp_at_a_bound_sums_to_torchs_gradient_whatever_its_rule():
    x = leaf([1.0, 0.0, 3.0, 2.0])
    analysis = api.trace_torch(lambda x: torch.clamp(x, 1.0, 2.0) * 3, x)
    torch.clamp(x, 1.0, 2.0).mul(3).sum().backward()
    assert np.array_equal(analysis.gradient("x"), x.grad.numpy())
    paths = analysis.paths("x", top=None)
    assert np.array_equal(paths.shown_sum, x.grad.numpy())
    assert ("clip" in analysis.graph.labels) == torch_compat.CLAMP_IS_OURS


class Doubled(torch.autograd.Function):
    """2x, its forward decorated as mixed-precision code decorates it."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu")
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_a_decorated_custom_forward_is_told_and_checked():
    analysis = api.trace_torch(lambda x: Doubled.apply(x).sum(), leaf([1.0, 2.0]))
    report = analysis.gradient_report(["x"], check=True)
    assert report.rows[0].gradient.tolist() == [2.0, 2.0]
    report.require_agreement()
