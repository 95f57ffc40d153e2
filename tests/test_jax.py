"""JAX graphs drawn our way, read from the jaxpr: the worked example, stop_gradient, an MLP, a
scan RNN, jit inside, a derivative's graph, random programs, each against JAX's own gradient."""

import json
import sys
import types

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is not installed: the jax tests skip")
jnp = jax.numpy

from hypothesis import given, settings, strategies as st  # noqa: E402

from graphviz_ad import api  # noqa: E402 (after the skip)
from graphviz_ad.engine.annotated import OPERATION  # noqa: E402
from graphviz_ad.jax_api import from_jaxpr, trace_jax  # noqa: E402
from graphviz_ad.sources.jax_compat import x64  # noqa: E402
from tests.conftest import ROOT, gad  # noqa: E402



@pytest.fixture(autouse=True, scope="module")
def _float64():
    """JAX in float64 for these tests."""
    with x64(True):
        yield


@pytest.fixture(scope="module")
def samples(_float64):
    """The jax samples, imported in float64 (their arrays too)."""
    sys.path.insert(0, str(ROOT / "samples"))
    try:
        import jax_detach, jax_jit, jax_mlp, jax_rnn, jax_seed  # noqa: E401
    finally:
        sys.path.remove(str(ROOT / "samples"))
    return types.SimpleNamespace(seed=jax_seed, detach=jax_detach, mlp=jax_mlp, rnn=jax_rnn,
                                 jit=jax_jit)


@pytest.fixture(scope="module")
def mlp(samples):
    return trace_jax(samples.mlp.loss, samples.mlp.PARAMS)


@pytest.fixture(scope="module")
def rnn(samples):
    return trace_jax(samples.rnn.rnn, samples.rnn.W0, samples.rnn.U0, samples.rnn.H0)


def test_the_worked_example_equals_gad_grad_to_the_last_digit(samples):
    traced = trace_jax(samples.seed.f, 1.5, 0.5)
    ours = api.analyze("(1+sin(x2))/(x2+exp(x1))+x1*x2", {"x1": 1.5, "x2": 0.5})
    assert traced.value == ours.value == 1.0469726768804155
    assert traced.gradient("x1") == ours.gradient("x1") == 0.23283374747559749
    assert traced.gradient("x2") == ours.gradient("x2") == 1.6165488003791766
    products = sorted(float(path.product) for path in traced.paths("x2").paths)
    assert products == sorted(float(path.product) for path in ours.paths("x2").paths)
    assert products[0] == pytest.approx(-0.05961284871) and products[2] == 1.5
    assert products[1] == pytest.approx(0.1761616491)
    jaxs = jax.grad(samples.seed.f, (0, 1))(1.5, 0.5)
    assert float(jaxs[1]) == pytest.approx(1.6165488003791766, rel=1e-15)


def test_stop_gradient_is_a_cut_as_detach_is(samples):
    x = jnp.array([1.0, 1.0])
    plain = trace_jax(samples.detach.plain, x)
    stopped = trace_jax(samples.detach.with_stop_gradient, x)
    assert plain.gradient("x").tolist() == [3.0, 3.0]
    assert stopped.gradient("x").tolist() == [2.0, 2.0]
    graph = stopped.graph
    cut = [node for node in range(len(graph)) if graph.is_cut(node)]
    assert [graph.labels[node] for node in cut] == ["detach"]
    assert not graph.requires_grad[cut[0]]


def test_the_mlp_has_jax_gradients_grouped_by_scope(mlp, samples):
    expected = jax.grad(samples.mlp.loss)(samples.mlp.PARAMS)
    assert mlp.inputs == ["params.layer1.b", "params.layer1.W", "params.layer2.b",
                          "params.layer2.W"]
    assert mlp.value == pytest.approx(float(samples.mlp.loss()), rel=1e-15)
    for layer in ("layer1", "layer2"):
        for name in ("W", "b"):
            np.testing.assert_allclose(mlp.gradient(f"params.{layer}.{name}"),
                                       expected[layer][name], rtol=1e-12, atol=1e-15)
    groups = set(mlp.graph.groups.values())
    assert {("layer1",), ("layer2",), ("cross_entropy",)} <= groups
    assert "relu" in mlp.graph.labels  # jax.nn.relu's custom_jvp is our relu
    assert mlp.notes == []


def test_a_scan_is_one_group_of_steps_and_folds_to_its_total_derivative(rnn, samples):
    model = samples.rnn
    expected = jax.grad(model.rnn, (0, 1, 2))(model.W0, model.U0, model.H0)
    for name, value in zip(("W", "U", "h0"), expected):
        np.testing.assert_allclose(rnn.gradient(name), value, rtol=1e-12, atol=1e-15)
    steps = {path for path in rnn.graph.groups.values() if path[0] == "scan(step)"}
    assert steps == {("scan(step)",)} | {("scan(step)", str(t)) for t in range(model.T)}
    folded = rnn.paths("h0", fold=["scan(step)"])
    np.testing.assert_allclose(sum(path.product for path in folded.paths),
                               rnn.gradient("h0"), rtol=1e-12, atol=1e-15)


def test_a_jit_inside_is_a_group_of_its_name(samples):
    traced = trace_jax(samples.jit.outer, 0.7)
    assert ("layer",) in set(traced.graph.groups.values())
    expected = float(jax.grad(samples.jit.outer)(0.7))
    assert traced.gradient("x") == pytest.approx(expected, rel=1e-13)


def test_a_function_returning_a_gradient_is_drawn_as_the_derivatives_graph(samples):
    traced = trace_jax(samples.jit.slope, 0.7)
    assert traced.value == pytest.approx(np.sin(1.4), rel=1e-15)  # 2 sin x cos x
    second = 2 * np.cos(1.4)
    assert traced.gradient("x") == pytest.approx(second, rel=1e-14)
    assert sum(path.product for path in traced.paths("x").paths) == pytest.approx(second,
                                                                                   rel=1e-14)
    named = jax.make_jaxpr(samples.jit.slope)(0.7).jaxpr.eqns[-1].source_info.name_stack
    if str(named):  # the releases that keep jvp and transpose in the name stack (0.7 on)
        assert any(part.startswith("backward · ") for path in traced.graph.groups.values()
                   for part in path)


def test_a_while_loop_unrolls_and_says_jax_cannot_differentiate_it():
    def grow(x):
        return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, jnp.sin(c[1])),
                                  (0, x))[1]

    traced = trace_jax(grow, 0.5)
    assert traced.graph.labels.count("sin") == 3
    s1, s2 = np.sin(0.5), np.sin(np.sin(0.5))
    assert traced.gradient("x") == pytest.approx(np.cos(s2) * np.cos(s1) * np.cos(0.5))
    assert any("JAX cannot differentiate" in note for note in traced.notes)


def test_from_jaxpr_names_the_inputs_in_order():
    closed = jax.make_jaxpr(lambda a, b: jnp.sum(jnp.tanh(a @ b)))(jnp.ones((2, 3)),
                                                                 jnp.ones(3) * 0.5)
    traced = from_jaxpr(closed, jnp.ones((2, 3)), jnp.ones(3) * 0.5)
    assert traced.inputs == ["x1", "x2"]
    np.testing.assert_allclose(traced.gradient("x2"), 2 * (1 - np.tanh(1.5) ** 2) * np.ones(3))
    assert OPERATION in traced.graph.kinds and "@" in traced.graph.labels


UNARY = [jnp.sin, jnp.tanh, jnp.exp, jnp.cos, jax.nn.sigmoid, jnp.log1p, jnp.expm1]
BINARY = [jnp.add, jnp.multiply, jnp.subtract, lambda a, b: a / (1.5 + jnp.cos(b)),
          jnp.maximum]


# XLA on a CPU flushes subnormal numbers to zero, so max(0, 1e-309) is a tie to JAX (half the
# gradient each) and not to numpy: such a point is refused (the paths would not sum to JAX's).
NUMBERS = st.floats(-1.5, 1.5, allow_subnormal=False)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 6), st.integers(0, 5),
                          st.integers(0, 5)), min_size=1, max_size=6),
       NUMBERS, NUMBERS)
def test_random_programs_have_jax_gradients(steps, a, b):
    def program(x, y):
        values = [x, y]
        for binary, unary, left, right in steps:
            first, second = values[left % len(values)], values[right % len(values)]
            values.append(BINARY[unary % len(BINARY)](first, second) if binary
                          else UNARY[unary](first))
        return jnp.sum(values[-1] * jnp.array([1.0, 2.0]))

    x, y = jnp.array([a, 0.3]), jnp.array([b, -0.2])
    traced = trace_jax(program, x, y)
    expected = jax.grad(program, (0, 1))(x, y)
    for name, value in zip(("x", "y"), expected):
        np.testing.assert_allclose(traced.gradient(name), value, rtol=1e-9, atol=1e-12)


def test_gad_jax_prints_the_gradients_and_paths_of_a_file():
    result = gad("jax", "samples/jax_seed.py", "x1=1.5", "x2=0.5", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gradient"] == {"x1": 0.23283374747559749,
                                                     "x2": 1.6165488003791766}
    paths = gad("jax", "samples/jax_seed.py", "x1=1.5", "x2=0.5", "--paths", "--wrt", "x2")
    assert paths.exit_code == 0 and "paths from x2 to f: 3" in paths.stdout


def test_gad_jax_takes_array_defaults_as_inputs_and_checks_them():
    result = gad("jax", "samples/jax_rnn.py", "--wrt", "h0", "--check")
    assert result.exit_code == 0, result.stderr
    assert "h0" in result.stdout and "✓" in result.stdout


def test_an_error_in_the_users_jax_code_points_at_its_line(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import jax.numpy as jnp\n\ndef f(x):\n    return jnp.dot(x, jnp.ones(3))\n")
    result = gad("jax", script, "x=[1,2]")
    assert result.exit_code == 2
    assert "raised TypeError in f" in result.stderr and "4 |" in result.stderr


def test_a_missing_jax_is_a_message_with_the_install_command(monkeypatch):
    for module in [name for name in sys.modules if name.startswith("graphviz_ad.sources.jax")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "jax", None)
    result = gad("jax", "samples/jax_seed.py", "x1=1", "x2=1")
    assert result.exit_code == 2
    assert "JAX is not installed" in result.stderr and "graphviz-ad[jax]" in result.stderr


def test_an_unrolled_loop_past_the_node_limit_is_refused(monkeypatch):
    from graphviz_ad.errors import LimitError
    from graphviz_ad.sources import jaxpr

    monkeypatch.setattr(jaxpr, "MAX_JAX_NODES", 40)

    def long(x):
        return jax.lax.scan(lambda c, _: (jnp.sin(c), None), x, None, length=50)[0]

    with pytest.raises(LimitError, match="more than 40 nodes"):
        trace_jax(long, 0.5)


def test_an_equinox_model_has_jax_gradients_named_by_its_paths(samples):
    pytest.importorskip("equinox", reason="Equinox is not installed")
    sys.path.insert(0, str(ROOT / "samples"))
    try:
        import jax_equinox
    finally:
        sys.path.remove(str(ROOT / "samples"))
    traced = trace_jax(jax_equinox.loss, jax_equinox.MODEL)
    expected = jax.grad(jax_equinox.loss)(jax_equinox.MODEL)
    for index, layer in enumerate(expected.layers):
        for name in ("weight", "bias"):
            np.testing.assert_allclose(traced.gradient(f"model.layers.{index}.{name}"),
                                       getattr(layer, name), rtol=1e-12, atol=1e-15)
    assert {"layers.0", "layers.1"} <= {path[0] for path in traced.graph.groups.values()}
