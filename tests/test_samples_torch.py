"""The array samples' gradients against PyTorch float64 (skipped without torch)."""

from pathlib import Path

import numpy as np
import pytest

from graphviz_ad.api import load

torch = pytest.importorskip("torch")
F = torch.nn.functional

ROOT = Path(__file__).resolve().parent.parent
BATCH = [f"X=@{ROOT / 'samples/data/X.npy'}", f"y=@{ROOT / 'samples/data/y.npy'}"]


def leaves(analysis):
    """Every input as a float64 tensor with a gradient, every data value without one."""
    graph = analysis.graph
    tensors = {name: torch.tensor(np.asarray(graph.values[node]), dtype=torch.float64,
                                  requires_grad=True) for name, node in graph.inputs.items()}
    tensors.update({name: torch.tensor(np.asarray(graph.values[node]), dtype=torch.float64)
                    for name, node in graph.data.items()})
    return tensors


def agree_with_torch(analysis, loss, tensors):
    assert analysis.value == pytest.approx(loss.item(), rel=1e-13)
    loss.backward()
    for name in analysis.inputs:
        np.testing.assert_allclose(analysis.gradient(name), tensors[name].grad.numpy(),
                                   rtol=1e-11, atol=1e-14, err_msg=name)


def test_the_softmax_regression_step_matches_torch():
    analysis = load(str(ROOT / "samples/softmax_step.gad"), BATCH)
    t = leaves(analysis)
    assert analysis.inputs == ["b", "W"] and sorted(analysis.graph.data) == ["X", "y"]
    agree_with_torch(analysis, F.cross_entropy(t["X"] @ t["W"] + t["b"], t["y"].long()), t)


def test_the_two_layer_network_on_a_batch_of_8_matches_torch():
    analysis = load(str(ROOT / "samples/mlp_batch.gad"))
    t = leaves(analysis)
    assert t["X"].shape == (8, 3)
    logits = torch.tanh(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    agree_with_torch(analysis, F.cross_entropy(logits, t["y"].long()), t)


def test_the_layer_norm_written_out_matches_torchs_layer_norm():
    analysis = load(str(ROOT / "samples/layer_norm.gad"))
    t = leaves(analysis)
    normed = F.layer_norm(t["x"], (4,), t["gamma"], t["beta"], eps=1e-5)
    agree_with_torch(analysis, F.mse_loss(normed, t["target"]), t)
