"""Every op-table entry's partials against central finite differences, inside its domain."""

import numpy as np
import pytest

from graphviz_ad.engine.ops import OPS, TABLE

SAMPLES_PER_OP = 7


def sample_points(op, rng):
    shapes = op.sample_shapes or ((),) * op.arity
    ranges = op.sample if len(op.sample) == op.arity else op.sample * op.arity
    for _ in range(SAMPLES_PER_OP):
        yield [rng.uniform(low, high, size=shape) for (low, high), shape in zip(ranges, shapes)]


def numeric_jacobian(op, operands, slot, step=1e-6):
    """d value / d operands[slot] by central differences, shape out.shape + argument.shape."""
    point = np.asarray(operands[slot], dtype=float)
    out_shape = np.shape(op.value(*operands))
    jacobian = np.zeros(out_shape + point.shape)
    for index in np.ndindex(*point.shape):
        up, down = point.copy(), point.copy()
        up[index] += step
        down[index] -= step
        moved_up = list(operands)
        moved_down = list(operands)
        moved_up[slot], moved_down[slot] = up[()], down[()]
        jacobian[(...,) + index] = (op.value(*moved_up) - op.value(*moved_down)) / (2 * step)
    return jacobian


def engine_jacobian(op, operands, slot):
    """The same Jacobian from the table's partial, pulled back through each output element."""
    out = op.value(*operands)
    local = op.partials[slot].rule(*operands, out)
    jacobian = np.zeros(np.shape(out) + np.shape(operands[slot]))
    for index in np.ndindex(*np.shape(out)):
        seed = np.zeros(np.shape(out))
        seed[index] = 1.0
        jacobian[index] = op.linear_map.pullback(slot, local, seed[()], operands[slot])
    return jacobian


@pytest.mark.parametrize("op", [op for op in TABLE if not op.stops_gradient], ids=lambda op: op.name)
def test_partials_match_finite_differences(op):
    rng = np.random.default_rng(sum(map(ord, op.name)))
    for operands in sample_points(op, rng):
        assert np.all(op.domain(*operands)) if op.domain else True
        for slot in range(op.arity):
            expected = numeric_jacobian(op, operands, slot)
            actual = engine_jacobian(op, operands, slot)
            np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7,
                                       err_msg=f"{op.name} slot {slot} at {operands}")


def test_every_entry_is_described_and_has_a_formula_per_argument():
    for op in TABLE:
        assert op.description
        assert len(op.partials) == op.arity
        for partial in op.partials:
            assert partial.formula.format(*op.parameters)
        assert bool(op.domain) == bool(op.domain_text), op.name


@pytest.mark.parametrize("name, operands, slot, expected", [
    ("relu", (0.0,), 0, 0.0),
    ("relu", (2.0,), 0, 1.0),
    ("abs", (0.0,), 0, 0.0),
    ("abs", (-3.0,), 0, -1.0),
    ("max", (1.0, 1.0), 0, 0.5),
    ("max", (1.0, 1.0), 1, 0.5),
    ("min", (2.0, 2.0), 1, 0.5),
    ("max", (3.0, 1.0), 0, 1.0),
    ("min", (3.0, 1.0), 0, 0.0),
    # A nan is neither smaller nor equal: both sides get all of the gradient (PyTorch).
    ("max", (float("nan"), 1.0), 0, 1.0),
    ("max", (float("nan"), 1.0), 1, 1.0),
    ("max", (1.0, float("nan")), 0, 1.0),
    ("min", (float("nan"), 1.0), 0, 1.0),
    ("min", (1.0, float("nan")), 0, 1.0),
    ("min", (1.0, float("nan")), 1, 1.0),
    ("relu", (float("nan"),), 0, 1.0),
    ("pow", (-2.0, 2.0), 0, -4.0),
    ("pow", (0.0, 2.0), 1, 0.0),
    ("sigmoid", (1000.0,), 0, 0.0),
    ("sigmoid", (-1000.0,), 0, 0.0),
    ("softplus", (1000.0,), 0, 1.0),
    ("tanh", (1000.0,), 0, 0.0),
    ("clip", (1.0, 1.0, 2.0), 0, 1.0),   # at a bound the gradient goes to x
    ("clip", (1.0, 1.0, 2.0), 1, 0.0),
    ("clip", (0.5, 1.0, 2.0), 1, 1.0),
    ("clip", (3.0, 1.0, 2.0), 2, 1.0),
    ("clip", (3.0, 1.0, 2.0), 0, 0.0),
])
def test_pytorch_conventions_at_kinks_and_extremes(name, operands, slot, expected):
    op = OPS[name]
    operands = tuple(np.float64(value) for value in operands)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = op.value(*operands)
        assert op.partials[slot].rule(*operands, out) == expected


def test_stable_functions_stay_finite_at_large_arguments():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert OPS["sigmoid"].value(np.float64(-1000.0)) == 0.0
        assert OPS["sigmoid"].value(np.float64(1000.0)) == 1.0
        assert OPS["softplus"].value(np.float64(1000.0)) == 1000.0
