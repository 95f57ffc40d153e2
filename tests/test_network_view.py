"""The network view: dense layers recognised, drawn as neurons in columns, each weight a line
whose colour, width, tooltip and label carry its value and its gradient; anything else refused."""

import re
from pathlib import Path

import numpy as np
import pytest
from test_palette import DEFICIENCIES, MIN_DISTANCE, lab, linear_rgb

from graphviz_ad.api import analyze, load
from graphviz_ad.errors import UsageError
from graphviz_ad.render.network import (LABELLED_LINES, MAX_NEURONS, NEGATIVE, POSITIVE,
                                        network_of, weight_colour)
from graphviz_ad.style import LIGHT, THEMES
from tests.conftest import gad

SMALL = "samples/network_2_3_1.gad"
DEEP = "samples/network_2_4_3_1.gad"


def dot_of(analysis, **options) -> str:
    return analysis.draw("dot", view="network", **options).data.decode()


def lines(dot: str) -> dict[tuple[str, str], str]:
    """Each weight's line, `l0_1 -> l1_2`, with its attributes."""
    return {(tail, head): attributes for tail, head, attributes in
            re.findall(r"(l\d+_\d+) -> (l\d+_\d+) \[(.*?)\]\n", dot, re.S)
            if "invis" not in attributes}


def test_the_documents_2_3_1_model_is_three_columns_with_a_line_per_weight():
    dot = dot_of(load(SMALL))
    assert "Input layer ∈ ℝ²" in dot and "Hidden layer ∈ ℝ³ · tanh" in dot
    assert "Output layer ∈ ℝ¹" in dot
    assert sorted(set(re.findall(r"\b(l\d+_\d+) \[", dot))) == \
        ["l0_0", "l0_1", "l1_0", "l1_1", "l1_2", "l2_0"]
    assert len(lines(dot)) == 3 * 2 + 1 * 3


def test_each_line_carries_its_weight_and_the_hand_derived_gradient():
    analysis = load(SMALL)
    x, t = np.array([1.0, -0.5]), 0.3
    W1 = np.array([[0.5, -0.2], [0.1, 0.4], [-0.3, 0.8]])
    b1, W2, b2 = np.array([0.1, 0.3, 0.05]), np.array([1.0, -1.0, 0.5]), 0.2
    h = np.tanh(W1 @ x + b1)
    error = 2 * (W2 @ h + b2 - t)  # d loss / d y
    grad_W2 = error * h
    grad_W1 = np.outer(error * W2 * (1 - h ** 2), x)
    drawn = lines(dot_of(analysis))
    # W2[0, 1] is the line from hidden neuron 1 to the output neuron.
    tooltip = drawn[("l1_1", "l2_0")]
    assert "W2[0, 1] = -1" in tooltip and f"dloss/dW2[0, 1] = {grad_W2[1]:.3g}" in tooltip
    # W1[2, 0] is the line from input neuron 0 to hidden neuron 2.
    assert f"dloss/dW1[2, 0] = {grad_W1[2, 0]:.3g}" in drawn[("l0_0", "l1_2")]
    assert np.allclose(analysis.gradient("W1"), grad_W1)


def test_json_of_the_network_view_gives_its_layers_with_exact_numbers():
    import json

    x, t = np.array([1.0, -0.5]), 0.3
    W1 = np.array([[0.5, -0.2], [0.1, 0.4], [-0.3, 0.8]])
    b1, W2 = np.array([0.1, 0.3, 0.05]), np.array([1.0, -1.0, 0.5])
    h = np.tanh(W1 @ x + b1)
    error = 2 * (W2 @ h + 0.2 - t)
    data = json.loads(load(SMALL).draw("json", view="network").data)
    assert data["view"] == "network" and data["output"] == "loss"
    assert [(layer["name"], layer["width"], layer["activation"]) for layer in data["layers"]] == \
        [("x", 2, ""), ("h", 3, "tanh"), ("y", 1, "")]
    hidden = data["layers"][1]
    np.testing.assert_allclose(hidden["values"], h, rtol=1e-15)
    np.testing.assert_allclose(hidden["grads"], error * W2, rtol=1e-14)
    assert hidden["weights"]["name"] == "W1" and hidden["weights"]["value"] == W1.tolist()
    np.testing.assert_allclose(hidden["weights"]["grad"], np.outer(error * W2 * (1 - h ** 2), x),
                               rtol=1e-14)
    assert hidden["bias"]["value"] == b1.tolist()


def test_a_lines_colour_and_width_show_the_weights_sign_and_size():
    drawn = lines(dot_of(load(SMALL)))
    largest_positive, largest_negative = drawn[("l1_0", "l2_0")], drawn[("l1_1", "l2_0")]
    assert f'color="{POSITIVE.lower()}"' in largest_positive and "penwidth=4.00" in largest_positive
    assert f'color="{NEGATIVE.lower()}"' in largest_negative and "penwidth=4.00" in largest_negative
    assert weight_colour(0.0) == LIGHT.weight_zero
    half = drawn[("l1_2", "l2_0")]  # W2[0, 2] = 0.5 of the largest, 1
    assert f'color="{weight_colour(0.5)}"' in half and "penwidth=2.30" in half


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES)
@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_negative_and_positive_weights_stay_apart_for_colour_blind_readers(deficiency, theme):
    matrix = np.array(DEFICIENCIES[deficiency])
    for share in (1.0, 0.5):
        seen = [lab(matrix @ linear_rgb(weight_colour(sign * share, theme)))
                for sign in (1, -1)]
        assert np.linalg.norm(seen[0] - seen[1]) >= MIN_DISTANCE, (deficiency, share)


def test_edge_labels_print_the_weight_or_its_name_or_its_value_and_grad():
    analysis = load(SMALL)
    grad = analysis.gradient("W2")[0, 1]
    line = ("l1_1", "l2_0")
    assert "<TD>-1</TD>" in lines(dot_of(analysis))[line]
    assert "<TD>W2[0, 1]</TD>" in lines(dot_of(analysis, edge_labels="formula"))[line]
    assert f"<TD>-1<BR/>grad {grad:.3g}</TD>" in \
        lines(dot_of(analysis, edge_labels="both"))[line]


def test_past_the_labelled_lines_values_are_printed_only_when_asked_for():
    width = LABELLED_LINES // 2 + 1  # 2 inputs: 2·width + width lines, past the budget
    analysis = analyze("sum(v @ tanh(W @ x))", W=np.full((width, 2), 0.5), x=[1.0, 2.0],
                       v=np.ones((1, width)))
    assert "taillabel" not in dot_of(analysis)
    both = lines(dot_of(analysis, edge_labels="both"))
    assert len(both) == 3 * width and all("taillabel" in line for line in both.values())


def test_graphviz_pure_gets_titles_in_the_glyphs_its_font_has():
    from graphviz_ad.render.compose import picture
    from graphviz_ad.render.formats import DrawOptions, PictureOptions, dot_source

    drawn = picture(load(SMALL), PictureOptions())
    pure = dot_source(drawn, DrawOptions(view="network"), "graphviz-pure")
    assert "Input layer in ℝ²" in pure and "∈" not in pure
    assert "Input layer ∈ ℝ²" in dot_source(drawn, DrawOptions(view="network"), "dot")


def test_the_columns_follow_rankdir():
    assert "rankdir=LR" in dot_of(load(SMALL))
    assert "rankdir=TB" in dot_of(load(SMALL), rankdir="TB")


def test_the_deeper_model_numbers_its_hidden_layers_and_shows_biases_on_neurons():
    dot = dot_of(load(DEEP))
    for title in ("Input layer ∈ ℝ²", "Hidden layer 1 ∈ ℝ⁴ · tanh",
                  "Hidden layer 2 ∈ ℝ³ · tanh", "Output layer ∈ ℝ¹"):
        assert title in dot
    assert len(lines(dot)) == 4 * 2 + 3 * 4 + 1 * 3
    assert "b -0.2" in dot and "bias b1[1] = -0.2" in dot


def test_a_layer_without_bias_or_activation_and_a_compact_picture_are_recognised():
    analysis = analyze("h = relu(W1 @ x); sum(W2 @ h)", x=[1.0, 2.0],
                       W1=[[1.0, 0.0], [0.0, -1.0]], W2=[[2.0, 3.0]])
    network = network_of(analysis.picture(compact=True))
    assert [len(layer.values) for layer in network.layers] == [2, 2, 1]
    assert [layer.activation for layer in network.layers] == ["", "relu", ""]
    assert network.layers[1].bias is None
    assert np.array_equal(network.layers[2].weights.grad, [[1.0, 0.0]])


@pytest.mark.parametrize("source, values, reason", [
    ("sin(x) * y", dict(x=1.0, y=2.0), "no product W @ x"),
    ("sum(W @ (x + 1))", dict(W=[[1.0, 2.0]], x=[1.0, 2.0]), "no product W @ x"),
    ("sum(W @ x) + sum(V @ x)", dict(W=[[1.0, 2.0]], V=[[3.0, 4.0]], x=[1.0, 2.0]),
     "2 chains"),
    ("h = tanh(W @ x); sum(V @ h + h)", dict(W=np.eye(2), V=np.ones((2, 2)), x=[1.0, 2.0]),
     "feeds the next layer and 1 other"),
    ("h = tanh(W @ x); sum(V @ (h^2))", dict(W=np.eye(2), V=np.ones((1, 2)), x=[1.0, 2.0]),
     "`V @ \\(h\\^2\\)` is a product outside"),
])
def test_what_is_not_a_chain_of_dense_layers_is_refused_with_the_graph_view_suggested(
        source, values, reason):
    with pytest.raises(UsageError, match=reason) as raised:
        dot_of(analyze(source, **values))
    assert "--view forward" in raised.value.hint


def test_more_than_the_budget_of_neurons_is_refused():
    width = MAX_NEURONS
    analysis = analyze("sum(W @ x)", W=np.ones((width, 2)), x=[1.0, 2.0])
    with pytest.raises(UsageError, match=f"{width + 2} neurons"):
        dot_of(analysis)


def test_wrt_and_the_page_are_refused_in_the_network_view():
    analysis = load(SMALL)
    with pytest.raises(UsageError, match="colours no paths"):
        dot_of(analysis, wrt="W1")
    with pytest.raises(UsageError, match="not the network view"):
        analysis.draw("html", view="network")


def test_the_command_line_draws_the_network_and_explains_a_refusal(tmp_path: Path):
    output = tmp_path / "network.svg"
    result = gad("graph", SMALL, "--view", "network", "-o", output)
    assert result.exit_code == 0, result.stderr
    svg = output.read_text()
    assert "Hidden layer ∈ ℝ³ · tanh" in svg and "dloss/dW2[0, 1]" in svg
    refused = gad("graph", "x*y", "x=1", "y=2", "--view", "network", "-o", tmp_path / "n.svg")
    assert refused.exit_code == 2 and "--view forward" in refused.stderr
    assert not (tmp_path / "n.svg").exists()


def test_a_traced_torch_sequential_of_linear_layers_draws_with_torchs_gradients(tmp_path):
    torch = pytest.importorskip("torch")
    import runpy

    output = tmp_path / "deep.svg"
    result = gad("torch", "samples/torch_mlp.py:deep", "--view", "network", "-o", output)
    assert result.exit_code == 0, result.stderr
    svg = output.read_text()
    for title in ("Input layer ∈ ℝ²", "Hidden layer 1 ∈ ℝ⁴ · tanh", "Hidden layer 2 ∈ ℝ³ · tanh",
                  "Output layer ∈ ℝ¹"):
        assert title in svg
    assert "its mean over the batch" in svg
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as gad torch runs a file of functions
    try:
        sample = runpy.run_path("samples/torch_mlp.py")
    finally:
        torch.set_default_dtype(default)
    model = sample["deeper"]
    torch.nn.functional.mse_loss(model(sample["X"]), sample["Y"]).backward()
    grad = model[4].weight.grad[0, 1].item()
    assert f"grad ddeep/ddeeper.4.weight[0, 1] = {grad:.3g}".replace("-", "&#45;") in svg
