"""Every op-table entry and the samples against PyTorch in float64 (skipped without torch).

Values, and vector-Jacobian products with a random cotangent: what the backward sweep computes.
"""

import numpy as np
import pytest

from graphviz_ad.engine.ops import OPS, TABLE

from test_ops import bound, cases, sample_points

torch = pytest.importorskip("torch")
F = torch.nn.functional

from graphviz_ad.sources.torch_compat import CLAMP_IS_OURS  # noqa: E402 (after the skip)


def _reduced(function):
    """A torch reduction called as ours is: over everything when the axis is None."""
    return lambda x, axis=None: function(x) if axis is None else function(x, axis)


def _scattered(x, key, shape):
    """x written into zeros at `key`: autograd follows the in-place write."""
    spread = torch.zeros(shape, dtype=x.dtype)
    spread[key] = x
    return spread


TORCH = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "matmul": lambda x, y: x @ y,
    "neg": lambda x: -x, "sin": torch.sin, "cos": torch.cos, "tan": torch.tan,
    "sec": lambda x: 1 / torch.cos(x), "csc": lambda x: 1 / torch.sin(x),
    "cot": lambda x: 1 / torch.tan(x), "asin": torch.asin, "acos": torch.acos,
    "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh, "tanh": torch.tanh,
    "exp": torch.exp, "log": torch.log, "log2": torch.log2, "log10": torch.log10,
    "sqrt": torch.sqrt, "abs": torch.abs, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "softplus": F.softplus, "max": torch.maximum, "min": torch.minimum,
    "clip": lambda x, low, high: torch.clamp(x, low, high),
    "sum": _reduced(torch.sum), "mean": _reduced(torch.mean), "amax": _reduced(torch.amax),
    "amin": _reduced(torch.amin),
    "logsumexp": lambda x, axis=None: torch.logsumexp(
        x, tuple(range(x.ndim)) if axis is None else axis),
    "softmax": lambda x, axis=-1: torch.softmax(x, axis),
    "log_softmax": lambda x, axis=-1: torch.log_softmax(x, axis),
    "cross_entropy": F.cross_entropy, "mse": F.mse_loss,
    "transpose": lambda x: x.mT if x.ndim >= 2 else x,
    "reshape": lambda x, shape: x.reshape(shape),
    "broadcast_to": lambda x, shape: torch.broadcast_to(x, shape),
    "sum_to": lambda x, shape: x.sum_to_size(shape),
    "scatter": lambda x, key, shape: _scattered(x, key, shape),
    "index": lambda x, key: x[key],
    "concat": lambda *xs, axis=0: torch.cat(xs, axis),
    "stack": lambda *xs, axis=0: torch.stack(xs, axis),
    "where": lambda condition, x, y: torch.where(condition > 0.5, x, y),
    "sign": torch.sign,
    "step": lambda x: torch.heaviside(x, torch.zeros_like(x)),
}
# Slots torch does not differentiate: a condition, a step (heaviside has no derivative there).
NOT_DIFFERENTIATED = {("where", 0), ("step", 0)}


def test_every_differentiable_entry_has_a_torch_counterpart():
    assert {op.name for op in TABLE if not op.stops_gradient} == set(TORCH)


def compare(entry, settings, operands):
    op = bound(entry, settings, operands)
    out = op.value(*operands)
    tensors = [torch.tensor(np.asarray(operand), dtype=torch.float64,
                            requires_grad=(entry.name, slot) not in NOT_DIFFERENTIATED)
               for slot, operand in enumerate(operands)]
    expected = TORCH[entry.name](*tensors, **settings)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-14,
                               err_msg=f"{entry.name} value")
    if not expected.requires_grad:
        return
    cotangent = np.random.default_rng(0).normal(size=np.shape(out))
    slots = [slot for slot, tensor in enumerate(tensors) if tensor.requires_grad]
    grads = torch.autograd.grad(expected, [tensors[slot] for slot in slots],
                                torch.tensor(cotangent), allow_unused=True)
    for slot, grad in zip(slots, grads):
        local = op.partials[slot].rule(*operands, out)
        ours = op.linear_map.pullback(slot, local, cotangent[()], operands[slot])
        theirs = np.zeros(np.shape(operands[slot])) if grad is None else grad.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{entry.name} slot {slot}")


@pytest.mark.parametrize("entry, settings", list(cases()))
def test_ops_match_torch_float64(entry, settings):
    rng = np.random.default_rng(sum(map(ord, entry.name)) + 1)
    for operands in sample_points(entry, rng, count=3):
        compare(entry, settings, operands)


@pytest.mark.parametrize("name, settings, operands", [
    ("relu", {}, [np.array([0.0, -1.0, 2.0])]),
    ("abs", {}, [np.array([0.0, -1.0, 2.0])]),
    ("max", {}, [np.array([1.0, 2.0]), np.array([1.0, 3.0])]),
    ("amax", {}, [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])]),
    ("amax", {"axis": 1}, [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])]),
    ("amin", {"axis": 0}, [np.array([[1.0, 3.0], [1.0, 2.0]])]),
    ("clip", {}, [np.array([1.0, 0.0, 3.0]), np.float64(1.0), np.float64(2.0)]),
    ("sign", {}, [np.array([0.0, -2.0, 2.0])]),
    ("softmax", {"axis": 0}, [np.array([[1000.0, -1000.0], [999.0, 0.0]])]),
    ("logsumexp", {"axis": 1}, [np.array([[1000.0, -1000.0], [999.0, 0.0]])]),
    ("log_softmax", {}, [np.array([1000.0, -1000.0, 0.0])]),
    ("index", {"key": (slice(1, 3),)}, [np.arange(5.0)]),
    ("index", {"key": (slice(None), 1)}, [np.arange(6.0).reshape(2, 3)]),
    ("matmul", {}, [np.ones((4, 2, 3)), np.arange(12.0).reshape(3, 4)]),
    ("matmul", {}, [np.arange(3.0), np.ones((2, 3, 5))]),
])
def test_kinks_ties_and_extremes_match_torch(name, settings, operands):
    if name == "clip" and not CLAMP_IS_OURS:
        pytest.skip("this torch's clamp has another rule at a bound (docs/numerics.md); "
                    "test_torch_compat.py checks that the importer then uses torch's")
    compare(OPS[name], settings, operands)


def test_cross_entropy_with_class_indices_matches_torch():
    logits = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [0.0, 0.0, 0.0]])
    target = np.array([2.0, 0.0, 1.0])
    op = bound(OPS["cross_entropy"], {}, [logits, target])
    tensor = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(tensor, torch.tensor(target, dtype=torch.long))
    expected.backward()
    out = op.value(logits, target)
    assert np.isclose(out, expected.item(), rtol=1e-14)
    local = op.partials[0].rule(logits, target, out)
    np.testing.assert_allclose(op.linear_map.pullback(0, local, np.float64(1.0), logits),
                               tensor.grad.numpy(), rtol=1e-12)


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("logits, target", [
    ([[-INF, 0.0, 1.0]], [2.0]),               # a masked class that is not the target: 0.3133
    ([[-INF, 0.0, 1.0], [0.5, -INF, 2.0]], [1.0, 0.0]),
    ([[-INF, 0.0, 1.0]], [0.0]),               # the target masked: inf, as torch
    ([-INF, 0.0, 1.0], 2.0),                   # one sample: logits (C,), a class index ()
])
def test_cross_entropy_with_masked_classes_matches_torch(logits, target):
    logits, target = np.array(logits), np.array(target)[()]
    op = bound(OPS["cross_entropy"], {}, [logits, target])
    tensor = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(tensor, torch.tensor(target, dtype=torch.long))
    expected.backward()
    with np.errstate(all="ignore"):
        out = op.value(logits, target)
        local = op.partials[0].rule(logits, target, out)
    assert out == expected.item()
    np.testing.assert_allclose(op.linear_map.pullback(0, local, np.float64(1.0), logits),
                               tensor.grad.numpy(), rtol=1e-15, atol=0)


def test_cross_entropy_with_masked_probabilities_is_nan_as_in_torch():
    # 0 · log 0 is not taken as 0 by either: the value is nan, the gradients are not.
    with np.errstate(all="ignore"):
        compare(OPS["cross_entropy"], {}, [np.array([[-INF, 0.0, 1.0]]),
                                           np.array([[0.0, 0.5, 0.5]])])


@pytest.mark.parametrize("name, settings, operands", [
    ("clip", {}, [np.array([INF, -INF, 0.5]), np.float64(-1.0), np.float64(1.0)]),
    ("softmax", {}, [np.array([INF, 0.0])]),
    ("softmax", {"axis": 1}, [np.array([[INF, 0.0, 1.0], [-INF, -INF, 0.0]])]),
    ("log_softmax", {}, [np.array([INF, 0.0])]),
    ("logsumexp", {}, [np.array([INF, 0.0])]),
    ("logsumexp", {}, [np.array([-INF, -INF])]),
    ("mean", {}, [np.zeros(0)]),
    ("mean", {"axis": 1}, [np.zeros((2, 0))]),
    ("logsumexp", {}, [np.zeros(0)]),
    ("logsumexp", {"axis": 1}, [np.zeros((2, 0))]),
    ("softmax", {}, [np.zeros(0)]),
    ("log_softmax", {"axis": 0}, [np.zeros((0, 3))]),
    ("sum", {}, [np.zeros(0)]),
])
def test_infinities_and_empty_arrays_match_torch(name, settings, operands):
    with np.errstate(all="ignore"):  # inf - inf, log 0 and 0/0 are the point here
        compare(OPS[name], settings, operands)


def test_max_of_an_empty_array_is_refused_as_by_torch():
    with pytest.raises(RuntimeError):
        torch.amax(torch.zeros(0, dtype=torch.float64))
    with pytest.raises(ValueError, match="an empty array has no largest element"):
        OPS["amax"].value(np.zeros(0))
    with pytest.raises(ValueError, match="an empty array has no smallest element"):
        bound(OPS["amin"], {"axis": 0}, [np.zeros((0, 2))]).value(np.zeros((0, 2)))


def test_sign_and_abs_at_nan_differ_from_torch_as_documented():
    """docs/numerics.md: gad keeps sign(nan) and abs'(nan) nan; torch makes them 0."""
    x = torch.tensor([NAN], dtype=torch.float64, requires_grad=True)
    x.abs().sum().backward()
    assert torch.sign(x).item() == 0.0 and x.grad.item() == 0.0
    nan = np.float64(NAN)
    assert np.isnan(OPS["sign"].value(nan))
    assert np.isnan(OPS["abs"].partials[0].rule(nan, OPS["abs"].value(nan)))
