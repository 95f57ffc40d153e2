"""Array programs end to end: indexing, stacking names, axes, and data that has no gradient."""

from pathlib import Path

import numpy as np
import pytest

from graphviz_ad.api import analyze, load
from graphviz_ad.engine.annotated import DATA, INPUT
from graphviz_ad.errors import MissingInputError, ParseError, UsageError

ROOT = Path(__file__).resolve().parent.parent


def test_index_scatters_its_gradient_back():
    analysis = analyze("sum(W[:, 1] * [2, 3]) + x[0]^2 + sum(x[1:3])", W=[[1, 2], [3, 4]],
                       x=[5, 6, 7, 8])
    assert analysis.value == 2 * 2 + 3 * 4 + 25 + 13
    assert analysis.gradient("W").tolist() == [[0, 2], [0, 3]]
    assert analysis.gradient("x").tolist() == [10, 1, 1, 0]


def test_an_array_of_names_stacks_them_and_splits_the_gradient():
    analysis = analyze("v = [a, 2*b, 1]; sum(v * [1, 10, 100])", a=3, b=4)
    assert analysis.value == 3 + 80 + 100
    assert analysis.gradient("a") == 1
    assert analysis.gradient("b") == 20
    assert analysis.graph.labels[analysis.graph.args[analysis.graph.output][0]] == "*"


def test_nested_arrays_of_names_make_a_matrix():
    analysis = analyze("M = [[a, 0], [0, a^2]]; sum(M @ [1, 1])", a=3)
    assert analysis.value == 12
    assert analysis.gradient("a") == 1 + 6


def test_axis_reductions_by_position_and_by_name_agree():
    x = [[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]]
    by_position = analyze("sum(sum(x, 1) * [1, 2]) + sum(mean(x, 0))", x=x)
    by_name = analyze("sum(sum(x, axis=1) * [1, 2]) + sum(mean(x, axis=0))", x=x)
    assert by_position.value == by_name.value == 8 + 14 + 7.5
    expected = np.array([[1, 1, 1], [2, 2, 2]]) + 0.5
    np.testing.assert_array_equal(by_position.gradient("x"), expected)
    np.testing.assert_array_equal(by_name.gradient("x"), expected)


def test_max_reduces_with_one_argument_and_splits_ties():
    analysis = analyze("sum(max(x, axis=1) * [1, 2]) + max(x)", x=[[1.0, 5.0, 5.0], [4.0, 0.0,
                                                                                    3.0]])
    assert analysis.value == 5 + 8 + 5
    # each tie takes half: of the row maximum (weight 1) and of the overall maximum
    np.testing.assert_array_equal(analysis.gradient("x"), [[0, 1, 1], [2, 0, 0]])


def test_max_of_two_arguments_stays_elementwise():
    assert analyze("maximum(x, 1)", x=0.5).value == 1.0
    assert analyze("minimum(x, -1) + max(x, 0.25) + min(x, y)", x=0.5, y=2.0).value == 0.0
    W = [[1.0, 4.0], [3.0, 2.0]]
    np.testing.assert_array_equal(analyze("sum(maximum(W, 2.0))", W=W).gradient("W"),
                                  [[0.0, 1.0], [1.0, 0.5]])  # a tie splits, as torch.maximum


@pytest.mark.parametrize("source, reason, hint", [
    ("mean(max(W, 1))", "`max` of two arguments compares them elementwise, but numpy and "
                        "PyTorch read max(x, 1) as a reduction along axis 1",
     "write max(x, axis=1) to reduce along axis 1, or maximum(x, 1) to compare elementwise"),
    ("sum(min(W, -1.0))", "`min` of two arguments compares them elementwise, but numpy and "
                          "PyTorch read min(x, -1) as a reduction along axis -1",
     "write min(x, axis=-1) to reduce along axis -1, or minimum(x, -1) to compare "
     "elementwise"),
])
def test_max_or_min_with_a_whole_number_second_argument_names_both_readings(source, reason,
                                                                            hint):
    with pytest.raises(UsageError) as refused:
        analyze(source, W=[[1.0, 4.0], [3.0, 2.0]])
    assert (refused.value.reason, refused.value.hint) == (reason, hint)
    assert source[refused.value.span.start:refused.value.span.end] in ("1", "-1.0")
    assert analyze(source.replace(", ", ", axis=").replace(".0", ""),
                   W=[[1.0, 4.0], [3.0, 2.0]]).value in (3.5, 3.0)


def test_a_shape_may_be_given_by_name():
    analysis = analyze("sum(reshape(x, shape=[2, 2]) @ [1, 2])", x=[1.0, 2.0, 3.0, 4.0])
    assert analysis.value == 5 + 11
    np.testing.assert_array_equal(analysis.gradient("x"), [1, 2, 1, 2])


def test_softmax_is_stable_and_sums_to_one():
    analysis = analyze("p = softmax(z); p[0] + 0 * sum(p)", z=[1000.0, 0.0, -1000.0])
    assert analysis.value == 1.0
    assert np.all(np.isfinite(analysis.gradient("z")))


def test_forward_mode_agrees_on_array_operations():
    source = ("h = relu(X @ W1); z = h @ W2; loss = cross_entropy(z, [1, 0]) "
              "+ sum(transpose(W1)[0]) + mse(concat(W2[0], W2[1], W2[2]), reshape(W2, [6]))")
    values = {"X": [[1.0, 2.0], [0.5, -1.0]], "W1": [[0.3, -0.2, 0.1], [0.4, 0.5, -0.6]],
              "W2": [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.5]]}
    analysis = analyze(source, values)
    for name in ("X", "W1", "W2"):
        np.testing.assert_allclose(analysis.gradient(name, "forward"), analysis.gradient(name),
                                   atol=1e-14)
        assert analysis.check(name).agrees


def test_data_has_no_gradient_and_is_drawn_as_data():
    analysis = analyze("data X = [[1, 2], [3, 4]]; data y\nsum((X @ w - y)^2)", w=[1, 1],
                       y=[1, 2])
    assert analysis.inputs == ["w"]
    assert set(analysis.graph.data) == {"X", "y"}
    assert analysis.graph.kinds[analysis.graph.data["X"]] == DATA
    assert not analysis.graph.requires_grad[analysis.graph.data["y"]]
    # residuals [2, 5] and [6, 5]: d/dw = 2 X^T r
    assert analysis.gradient("w").tolist() == [2 * (2 + 15), 2 * (4 + 20)]
    with pytest.raises(UsageError, match="`X` is data, which has no gradient"):
        analysis.gradient("X")
    picture = analysis.picture()
    assert [node.kind for node in picture.nodes if node.title in ("X", "y")] == [DATA, DATA]


def test_a_command_line_value_overrides_a_data_default():
    analysis = analyze("data X = [1, 2]; sum(X * w)", X=[10, 20], w=1)
    assert analysis.value == 30
    assert analysis.graph.kinds[analysis.graph.data["X"]] == DATA


def test_data_names_from_the_facade_are_data():
    analysis = analyze("sum(X @ w)", {"X": [[1, 2]], "w": [1, 1]}, data_names=["X"])
    assert analysis.inputs == ["w"]
    assert analysis.graph.kinds[analysis.graph.inputs["w"]] == INPUT


def test_data_without_a_value_is_a_missing_input():
    with pytest.raises(MissingInputError, match="no value for X"):
        analyze("data X; sum(X)")


@pytest.mark.parametrize("source, error, reason", [
    ("data X = 2 * y; X", UsageError,
     "a data value is a number or an array written in the program"),
    ("data X", UsageError, "the program only declares data: it has no value to compute"),
    ("data sin = 1; 2", UsageError, "`sin` is a function and cannot be assigned to"),
    ("data X, 1", ParseError, "expected a name to declare as data, found `1`"),
])
def test_data_declaration_mistakes(source, error, reason):
    with pytest.raises(error) as caught:
        analyze(source, y=1)
    assert caught.value.reason == reason


def test_a_name_called_data_is_still_a_name():
    assert analyze("data = 3; data * x", x=2).gradient("x") == 3


@pytest.mark.parametrize("name, values", [
    ("softmax_step", [f"X=@{ROOT / 'samples/data/X.npy'}", f"y=@{ROOT / 'samples/data/y.npy'}"]),
    ("mlp_batch", []),
    ("layer_norm", []),
])
def test_the_array_samples_check_and_draw(name, values):
    analysis = load(str(ROOT / "samples" / f"{name}.gad"), values)
    report = analysis.gradient_report()
    assert report.rows and not report.failures
    dot = analysis.render("dot").decode()
    assert "loss" in dot and ("cross_entropy" in dot or "mse" in dot)


def test_the_sample_batch_is_what_make_data_writes(tmp_path, monkeypatch):
    import runpy

    script = runpy.run_path(str(ROOT / "samples/make_data.py"))
    monkeypatch.setitem(script["main"].__globals__, "FOLDER", tmp_path)
    script["main"]()
    for name in ("X.npy", "y.npy"):
        np.testing.assert_array_equal(np.load(tmp_path / name),
                                      np.load(ROOT / "samples/data" / name))
