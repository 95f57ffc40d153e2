"""Every op-table entry's partials against central finite differences, inside its domain, and
(where PyTorch is installed) against torch float64."""

import numpy as np
import pytest

from graphviz_ad.engine.ops import FUNCTIONS, OPS, REDUCING, TABLE

SAMPLES_PER_OP = 7


def cases():
    """Each differentiable entry with its defaults, and with its sample static parameters."""
    for op in TABLE:
        if op.stops_gradient:
            continue
        if not any(static.required for static in op.statics):
            yield pytest.param(op, {}, id=op.name)
        if op.sample_statics:
            yield pytest.param(op, dict(op.sample_statics), id=f"{op.name}-static")


def sample_points(op, rng, count=SAMPLES_PER_OP):
    arity = len(op.sample_shapes) if op.variadic else op.arity
    shapes = op.sample_shapes or ((),) * arity
    ranges = op.sample if len(op.sample) == arity else op.sample * arity
    for _ in range(count):
        point = []
        for sample, shape in zip(ranges, shapes):
            low, high = sample[:2]
            if sample[2:] == ("whole",):  # whole numbers in [low, high), as floats
                point.append(rng.integers(low, high, size=shape) * 1.0)
            else:
                point.append(rng.uniform(low, high, size=shape))
        yield [value[()] for value in point]


def bound(op, settings, operands):
    return op.bind(settings, tuple(np.shape(operand) for operand in operands))


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


def pushed(op, operands, slot, tangent):
    """The forward-mode image of a tangent, at the output's shape."""
    out = op.value(*operands)
    local = op.partials[slot].rule(*operands, out)
    return np.broadcast_to(op.linear_map.pushforward(slot, local, tangent), np.shape(out))


@pytest.mark.parametrize("entry, settings", list(cases()))
def test_partials_match_finite_differences(entry, settings):
    rng = np.random.default_rng(sum(map(ord, entry.name)))
    for operands in sample_points(entry, rng):
        op = bound(entry, settings, operands)
        assert np.all(op.domain(*operands)) if op.domain else True
        for slot in range(op.arity):
            expected = numeric_jacobian(op, operands, slot)
            actual = engine_jacobian(op, operands, slot)
            np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7,
                                       err_msg=f"{op.name} slot {slot} at {operands}")
            tangent = rng.normal(size=np.shape(operands[slot]))
            forward = np.tensordot(expected, tangent, axes=np.ndim(tangent))
            np.testing.assert_allclose(pushed(op, operands, slot, tangent[()]), forward,
                                       rtol=1e-6, atol=1e-7,
                                       err_msg=f"{op.name} slot {slot}: forward mode")


def test_cross_entropy_with_class_indices_matches_finite_differences():
    logits = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    for target in (np.array([2.0, 0.0]), np.array([1.0, 1.0])):
        op = bound(OPS["cross_entropy"], {}, [logits, target])
        np.testing.assert_allclose(engine_jacobian(op, [logits, target], 0),
                                   numeric_jacobian(op, [logits, target], 0), atol=1e-8)
        assert engine_jacobian(op, [logits, target], 1).tolist() == [0.0, 0.0]
    # one sample: logits (C,) and a class index ()
    assert np.isclose(OPS["cross_entropy"].value(np.array([1.0, 2.0, 3.0]), np.float64(2.0)),
                      np.log(np.exp(1) + np.exp(2) + np.exp(3)) - 3.0)


def test_every_entry_is_described_and_has_a_formula_per_argument():
    for op in TABLE:
        assert op.description
        assert len(op.partials) == op.arity
        for slot in range(len(op.partials)):
            assert op.formula(slot, op.parameters)
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


def test_maximum_and_minimum_are_the_elementwise_max_and_min():
    assert FUNCTIONS["maximum"] is OPS["max"] and FUNCTIONS["minimum"] is OPS["min"]
    assert REDUCING["max"] is OPS["amax"] and "maximum" not in REDUCING


def test_stable_functions_stay_finite_at_large_arguments():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert OPS["sigmoid"].value(np.float64(-1000.0)) == 0.0
        assert OPS["sigmoid"].value(np.float64(1000.0)) == 1.0
        assert OPS["softplus"].value(np.float64(1000.0)) == 1000.0


@pytest.mark.parametrize("name, settings, shapes", [
    ("concat", {"axis": 1}, ((2, 3), (2, 1), (2, 2))),
    ("concat", {}, ((4,), (1,))),
    ("stack", {"axis": -1}, ((2, 3), (2, 3))),
    ("stack", {}, ((), ())),
    ("matmul", {}, ((3,), (3,))),
    ("matmul", {}, ((3,), (2, 3, 4))),
    ("matmul", {}, ((2, 1, 2, 3), (4, 3, 2))),
    ("matmul", {}, ((2, 3), (3, 2))),
    ("transpose", {}, ((2, 3),)),
    ("transpose", {}, ((3,),)),
    ("index", {"key": (slice(None, None, -2),)}, ((5,),)),
    ("index", {"key": (1, 2)}, ((3, 4),)),
    ("index", {"key": (slice(1, None), 0)}, ((3, 4, 2),)),
    ("reshape", {"shape": (6,)}, ((2, 3),)),
    ("amax", {}, ((3, 4),)),
    ("logsumexp", {"axis": 0}, ((3,),)),
    ("softmax", {}, ((5,),)),
    ("mse", {}, ((), ())),
])
def test_more_shapes_match_finite_differences(name, settings, shapes):
    entry = OPS[name]
    rng = np.random.default_rng(len(shapes))
    operands = [rng.uniform(-2, 2, size=shape)[()] for shape in shapes]
    op = bound(entry, settings, operands)
    for slot in range(op.arity):
        expected = numeric_jacobian(op, operands, slot)
        np.testing.assert_allclose(engine_jacobian(op, operands, slot), expected, atol=1e-7)
        tangent = rng.normal(size=np.shape(operands[slot]))
        np.testing.assert_allclose(pushed(op, operands, slot, tangent[()]),
                                   np.tensordot(expected, tangent, axes=np.ndim(tangent)),
                                   atol=1e-7)
