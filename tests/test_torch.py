"""PyTorch graphs drawn our way: the document's cases, with torch's own values and gradients."""

import json
import math
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")
nn = torch.nn

from graphviz_ad import api  # noqa: E402 (after the skip)
from graphviz_ad.engine.annotated import CONSTANT, CUT, INPUT  # noqa: E402
from tests.conftest import gad


WORKED = "(sin(x2)+c)/(x2+exp(x1))+x1*x2"
POINT = {"x1": 1.5, "x2": 0.5, "c": 1.0}




def leaf(value):
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def worked(x1, x2, c):
    return (torch.sin(x2) + c) / (x2 + torch.exp(x1)) + x1 * x2


def test_the_worked_example_has_torchs_gradients_identical_to_gad_grad():
    leaves = {name: leaf(value) for name, value in POINT.items()}
    traced = api.trace_torch(worked, **leaves)
    ours = api.analyze(WORKED, POINT)
    worked(**leaves).backward()
    for name, expected in (("x1", 0.2328), ("x2", 1.6165), ("c", 0.2007)):
        assert round(float(traced.gradient(name)), 4) == expected
        assert traced.gradient(name) == ours.gradient(name) == leaves[name].grad.item()
    assert traced.value == ours.value


def test_path_products_of_the_traced_example_equal_gad_paths():
    traced = api.trace_torch(worked, **{name: leaf(value) for name, value in POINT.items()})
    ours = api.analyze(WORKED, POINT)
    for name in POINT:
        assert [path.product for path in traced.paths(name).paths] == \
            [path.product for path in ours.paths(name).paths]
        assert [traced.graph.labels[node] for node in traced.paths(name).paths[0].nodes] == \
            [ours.graph.labels[node] for node in ours.paths(name).paths[0].nodes]


def test_gad_torch_prints_what_gad_grad_and_gad_paths_print():
    values = [f"{name}={value}" for name, value in POINT.items()]
    traced = gad("torch", "samples/torch_seed.py", *values, "--json")
    assert traced.exit_code == 0, traced.stderr
    ours = gad("grad", WORKED, *values, "--json", "--no-check")
    assert json.loads(traced.stdout) == json.loads(ours.stdout)
    traced_paths = json.loads(gad("torch", "samples/torch_seed.py", *values, "--paths",
                                  "--wrt", "x2", "--json").stdout)
    our_paths = json.loads(gad("paths", WORKED, *values, "--wrt", "x2", "--json").stdout)
    assert [path["product"] for path in traced_paths["paths"]] == \
        [path["product"] for path in our_paths["paths"]]


def test_torch_checks_its_own_gradient_of_the_examples():
    leaves = tuple(leaf(value) for value in POINT.values())
    assert torch.autograd.gradcheck(worked, leaves)


@pytest.mark.parametrize("function, gradient", [
    ("plain", [3.0, 3.0]), ("with_detach", [2.0, 2.0]), ("with_data", [2.0, 2.0]),
    ("with_no_grad", [1.0, 1.0]),
])
def test_detach_data_and_no_grad_cut_the_gradient_as_in_torch(function, gradient):
    result = gad("torch", f"samples/torch_detach.py:{function}", "x=[1,1]", "--json")
    assert json.loads(result.stdout)["gradient"] == {"x": gradient}


@pytest.mark.parametrize("function, cut_label", [("with_detach", "detach"), ("with_data", "data")])
def test_a_detached_branch_is_drawn_as_a_cut_edge(function, cut_label):
    picture = json.loads(gad("torch", f"samples/torch_detach.py:{function}", "x=[1,1]",
                             "-o", "-", "-f", "json").stdout)
    labels = {node["id"]: node["label"] for node in picture["nodes"]}
    cut = [edge for edge in picture["edges"] if edge["detached"]]
    assert [(labels[edge["source"]], labels[edge["target"]]) for edge in cut] == \
        [("x", cut_label)]
    dot = gad("torch", f"samples/torch_detach.py:{function}", "x=[1,1]", "-o", "-").stdout
    assert 'arrowhead=tee' in dot and 'label=" cut "' in dot


def test_a_value_made_under_no_grad_enters_as_a_cut_value():
    def loss(x):
        with torch.no_grad():
            y = x * 2
        return (y + x).sum()

    graph = api.trace_torch(loss, leaf([1.0, 1.0])).graph
    cut = [node for node in range(len(graph)) if graph.kinds[node] == CUT]
    assert len(cut) == 1 and graph.args[cut[0]] == ()
    assert np.array_equal(graph.values[cut[0]], [2.0, 2.0])
    assert "under torch.no_grad()" in graph.details[cut[0]]


def mlp_loss(model, inputs, targets):
    return nn.functional.mse_loss(model(inputs), targets)


@pytest.mark.parametrize("layers", [
    lambda: [nn.Linear(2, 3), nn.Linear(3, 1)],
    lambda: [nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 1)],
], ids=["two layers", "deeper"])
def test_every_parameter_gradient_of_an_mlp_is_torchs_grouped_by_layer(layers):
    torch.manual_seed(0)
    model = nn.Sequential(*layers()).double()
    inputs, targets = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 1,
                                                                          dtype=torch.float64)
    analysis = api.trace_torch(mlp_loss, model, inputs, targets)
    mlp_loss(model, inputs, targets).backward()
    graph = analysis.graph
    for name, parameter in model.named_parameters():
        node = graph.inputs[f"model.{name}"]
        assert np.array_equal(graph.adjoints[node], parameter.grad.numpy()), name
        assert graph.groups[node] == ("model", name.split(".")[0])
    linear = [node for node in range(len(graph)) if graph.labels[node] == "linear"]
    assert [graph.groups[node] for node in linear] == \
        [("model", str(index)) for index, layer in enumerate(model) if isinstance(layer,
                                                                                nn.Linear)]
    assert graph.kinds[graph.labels.index("inputs")] == CONSTANT  # data needs no gradient


def test_paths_through_torchs_own_backward_functions_sum_to_the_gradient():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    inputs = torch.randn(4, 2, dtype=torch.float64)
    analysis = api.trace_torch(lambda x: model(x).pow(2).mean(), inputs)
    summary = analysis.paths("model.0.weight", None)
    assert summary.count == 1
    assert np.allclose(summary.paths[0].product, analysis.gradient("model.0.weight"), rtol=1e-12)
    data = json.loads(analysis.render("json", "model.0.weight"))
    assert data["path_count"] == 1


def test_a_folded_layer_carries_its_total_derivative_through_torchs_backward_functions():
    from graphviz_ad.engine.fold import fold
    from graphviz_ad.engine.paths import summarize

    analysis = api.load_torch("samples/torch_mlp.py:deep")
    graph = analysis.graph
    weight = graph.inputs["deeper.0.weight"]
    folding = fold(graph, [("deeper", "2"), ("deeper", "3")], keep=[weight])
    assert folding.folded == (("deeper", "2"), ("deeper", "3")) and not folding.refused
    summary = summarize(folding.graph, "deeper.0.weight", None)
    assert np.allclose(sum(path.product for path in summary.paths),
                       analysis.gradient("deeper.0.weight"), rtol=1e-12, atol=0)


def test_a_scalar_edge_of_an_op_our_table_lacks_carries_its_exact_local_derivative():
    y, x = leaf(0.5), leaf(2.0)
    graph = api.trace_torch(lambda y, x: torch.atan2(y, x), y, x).graph
    node = graph.labels.index("atan2")
    dy, dx = graph.local[node]
    assert math.isclose(dy, 2.0 / 4.25, rel_tol=1e-15)
    assert math.isclose(dx, -0.5 / 4.25, rel_tol=1e-15)
    assert graph.ops[node].backward_name == "Atan2Backward0"


def test_the_backward_view_shows_torchs_names():
    dot = gad("torch", "samples/torch_seed.py", "x1=1.5", "x2=0.5", "c=1", "--view",
              "backward", "-o", "-").stdout
    for name in ("SinBackward0", "ExpBackward0", "DivBackward0", "MulBackward0"):
        assert f"<B>{name}</B>" in dot
    forward = gad("torch", "samples/torch_seed.py", "x1=1.5", "x2=0.5", "c=1", "-o", "-").stdout
    assert "Backward0" not in forward and "<B>sin</B>" in forward


class BasicBlock(nn.Module):
    """torchvision's ResNet block: two 3×3 convolutions, batch norms, an in-place ReLU and
    the identity added in place."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(8), BasicBlock(8))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.layer1(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    model = SmallResNet()
    image = torch.zeros(1, 3, 32, 32)
    return model, image, api.trace_torch(model, image)


def test_a_resnet_block_is_traced_with_torchs_gradients_grouped_by_module(resnet):
    model, image, analysis = resnet
    model.zero_grad()
    model(image).sum().backward()
    graph = analysis.graph
    for name, parameter in model.named_parameters():
        assert np.array_equal(graph.gradient(name), parameter.grad.numpy()), name
    assert "the result has shape 1×10: the gradients are those of its sum" in analysis.notes
    groups = set(graph.groups.values())
    assert {("layer1", "0", "conv1"), ("layer1", "1", "bn2"), ("fc",)} <= groups
    additions = [node for node in range(len(graph)) if graph.labels[node] == "+"]
    assert [graph.groups[node] for node in additions] == [("layer1", "0"), ("layer1", "1")]
    # relu_ and += make new versions of one tensor: each version is its own node
    consumers = graph.consumers()
    for node in additions:
        assert [graph.labels[argument] for argument in graph.args[node]] == ["batch_norm",
                                                                             "relu"]
        assert [graph.labels[user] for user, _ in consumers[node]] == ["relu"]


def test_a_resnet_block_is_drawn(resnet):
    _, _, analysis = resnet
    dot = analysis.render("dot", max_nodes=500).decode()
    assert dot.count("<B>conv2d</B>") == 5 and dot.count("<B>batch_norm</B>") == 5
    assert 'tooltip="conv2d(' in dot


def test_resnet_blocks_fold_into_boxes_whose_edges_keep_the_chain_rule(resnet):
    from graphviz_ad.engine.fold import fold
    from graphviz_ad.engine.paths import summarize

    _, _, analysis = resnet
    graph = analysis.graph
    weight = graph.inputs["conv1.weight"]
    folding = fold(graph, [("layer1", "0"), ("layer1", "1")], keep=[weight])
    assert folding.folded == (("layer1", "0"), ("layer1", "1")) and not folding.refused
    folded = folding.graph
    assert [folded.labels[node] for node in range(len(folded))
            if folded.kinds[node] == "group"] == ["layer1.0", "layer1.1"]
    summary = summarize(folded, "conv1.weight", None)
    assert summary.count == 1
    np.testing.assert_allclose(summary.paths[0].product, analysis.gradient("conv1.weight"),
                               rtol=1e-4, atol=1e-6)
    picture = analysis.picture(depth=1, apart=True)
    assert {node.title for node in picture.nodes if node.folded} >= {"layer1.0", "layer1.1"}


@pytest.mark.system_dot
def test_a_resnet_block_is_drawn_as_svg(resnet, tmp_path):
    _, _, analysis = resnet
    analysis.save(str(tmp_path / "resnet.svg"), renderer="dot", max_nodes=500)
    assert (tmp_path / "resnet.svg").read_text().count("conv2d") >= 5


def test_from_torch_walks_a_finished_output_with_named_parameters():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    loss = model(torch.randn(4, 2, dtype=torch.float64)).pow(2).mean()
    analysis = api.from_torch(loss, dict(model.named_parameters()))
    loss.backward()
    for name, parameter in model.named_parameters():
        assert np.array_equal(analysis.gradient(name), parameter.grad.numpy()), name
    assert analysis.value == loss.item()
    assert {"addmm", "tanh", "t", "pow", "mean"} <= set(analysis.graph.labels)


def test_from_torch_gives_the_worked_examples_values_and_gradients():
    leaves = {name: leaf(value) for name, value in POINT.items()}
    output = worked(**leaves)
    analysis = api.from_torch(output, leaves)
    ours = api.analyze(WORKED, POINT)
    assert analysis.notes == []  # every value is known: saved by torch or recomputed
    sine = analysis.graph.labels.index("sin")  # recomputed: SinBackward0 keeps only x2
    assert analysis.graph.values[sine] == math.sin(0.5)
    assert analysis.value == ours.value
    for name in POINT:
        assert analysis.gradient(name) == ours.gradient(name)


def test_from_torch_walks_a_deep_graph_without_recursion():
    x = leaf(0.5)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = torch.sin(y)
    analysis = api.from_torch(y, {"x": x})
    assert len(analysis.graph) == 3 * sys.getrecursionlimit() + 1
    assert analysis.gradient("x") == torch.autograd.grad(y, x)[0].item()


def test_from_torch_after_backward_says_how_to_keep_the_graph():
    x = leaf(0.5)
    y = torch.nn.functional.softplus(x) * x  # softplus is torch's alone: nothing to recompute
    y.backward()
    from graphviz_ad.errors import UsageError

    with pytest.raises(UsageError, match="backward\\(\\) has freed the graph") as raised:
        api.from_torch(y, {"x": x})
    assert "retain_graph=True" in raised.value.hint


def write(tmp_path, text, name="model.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, arguments, fragment", [
    ("import torch\ndef f(x):\n    return x * 2 +\n", ["x=1"], "raised SyntaxError"),
    ("import torch\ndef f(x):\n    raise ValueError('no')\n", ["x=1"],
     "raised ValueError in f: no"),
    ("import torch\ndef f(x):\n    return 1.0\n", ["x=1"], "it must return a floating-point"),
    ("import torch\ndef f(x):\n    return x\ndef g(x):\n    return x\n", ["x=1"],
     "defines 2 functions (f, g); which one?"),
    ("import torch\ndef f(x):\n    return x\n", ["y=1"], "`y` is not a parameter of f"),
    ("import torch\ndef f(x, w):\n    return x * w\n", ["x=1"], "f needs a value for w"),
])
def test_mistakes_in_the_users_file_are_messages_with_exit_2(tmp_path, text, arguments,
                                                             fragment):
    path = write(tmp_path, text)
    result = gad("torch", path, *arguments)
    assert result.exit_code == 2 and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_exception_in_the_users_code_points_at_its_line(tmp_path):
    path = write(tmp_path, "import torch\n\n\ndef f(x):\n    return torch.log(x) @ x\n")
    result = gad("torch", path, "x=1")
    assert result.exit_code == 2
    assert "line 5, column 5" in result.stderr and "return torch.log(x) @ x" in result.stderr


def test_the_file_runs_as_a_script_from_its_folder_without_its_main_block(tmp_path):
    write(tmp_path, "SCALE = 3.0\n", "helper.py")
    path = write(tmp_path, "import torch\nfrom helper import SCALE\n\n"
                           "def f(x):\n    return SCALE * x\n\n"
                           "if __name__ == '__main__':\n    raise SystemExit('ran main')\n")
    result = gad("torch", f"{path}:f", "x=2", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"value": 6.0, "mode": "reverse", "gradient": {"x": 3.0},
                                         "check": None}
    assert str(tmp_path) not in sys.path


def test_the_file_runs_with_float64_as_torchs_default_dtype(tmp_path):
    path = write(tmp_path, "import torch\nW = torch.tensor([0.1, 0.2])\n\n"
                           "def f(x):\n    return (W * x).sum()\n")
    result = gad("torch", path, "x=[1,1]", "--json")
    assert json.loads(result.stdout)["value"] == 0.1 + 0.2
    assert torch.get_default_dtype() == torch.float32


def test_the_picture_of_an_mlp_sample_is_written(tmp_path):
    result = gad("torch", "samples/torch_mlp.py:loss", "-o", tmp_path / "mlp.dot")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "mlp.dot").read_text()
    assert "model.0.weight" in text and "<B>mse_loss</B>" in text


def test_inputs_the_file_reads_are_named_and_those_without_gradient_are_constants():
    graph = api.load_torch("samples/torch_mlp.py:loss").graph
    assert set(graph.inputs) == {"model.0.weight", "model.0.bias", "model.1.weight",
                                 "model.1.bias"}
    assert graph.kinds[graph.labels.index("X")] == CONSTANT
    assert all(graph.kinds[node] == INPUT for node in graph.inputs.values())


def resnet18_layout(widths):
    """samples/torch_resnet.py's ResNet: torchvision's resnet18 layout at the given widths."""
    import runpy

    sample = runpy.run_path("samples/torch_resnet.py")
    torch.manual_seed(0)
    return sample["ResNet"](widths, 2, 10)


def test_the_resnet18_layout_folds_by_default_into_its_eight_blocks():
    from graphviz_ad.engine.fold import _members_by_path, longest_chain

    model = resnet18_layout((4, 8, 8, 8)).double()
    analysis = api.trace_torch(model, torch.rand(1, 3, 32, 32, dtype=torch.float64))
    assert len(analysis.graph) > 100  # past the budget of 60 boxes: it has to fold
    picture = analysis.picture()
    blocks = [f"layer{stage}.{block}" for stage in range(1, 5) for block in (0, 1)]
    # layer1's two blocks are alike; each later stage's first block downsamples
    assert [node.title for node in picture.nodes if node.folded] == \
        ["layer1.0 … layer1.1 × 2"] + blocks[2:]
    assert len(picture.nodes) <= 30
    assert any("folded 7 group(s) to draw at most 60 boxes, 20 in a row: layer1.0 … layer1.1 "
               "× 2, layer2.0" in note for note in picture.notes)
    assert [node.title for node in analysis.picture(apart=True).nodes if node.folded] == blocks
    folded = tuple(("layer" + name[5], name[-1]) for name in blocks)
    members = _members_by_path(analysis.graph, ())
    assert longest_chain(analysis.graph, members, folded) <= 20 < \
        longest_chain(analysis.graph, members, ())
    # each folded block's edge is the block's total derivative: the chain rule still holds
    gradient = analysis.gradient("conv1.weight")
    np.testing.assert_allclose(sum(np.asarray(path.product) for path in
                                   analysis.paths("conv1.weight", None, blocks).paths),
                               gradient, rtol=1e-10, atol=1e-12)


def deferred_rows(graph):
    from graphviz_ad.engine.annotated import DeferredRow

    rows = [row for row in graph.local if isinstance(row, DeferredRow)]
    return rows, sum(row.computed for row in rows)


def test_torchs_local_derivatives_are_computed_only_for_the_edges_a_picture_draws():
    model = resnet18_layout((4, 8, 8, 8)).double()
    analysis = api.trace_torch(model, torch.rand(1, 3, 32, 32, dtype=torch.float64))
    rows, traced = deferred_rows(analysis.graph)
    # 43 of the 69 ops are foreign (conv2d, batch_norm, linear, ...): none is computed by the
    # trace, which takes torch's adjoints for what the edges carried
    assert len(rows) == 43 and traced == 0
    picture = analysis.picture()
    # an SVG's edges between arrays show what the sweep carried along them: nothing is read
    assert deferred_rows(analysis.graph)[1] == 0
    assert all(edge.raw_local is not None for edge in picture.edges if not edge.no_gradient)
    _, computed = deferred_rows(analysis.graph)
    # read (as JSON and the page read them): the stem's and the head's drawn ops; the folded
    # blocks' insides are not read
    assert computed == 5
    everything = analysis.picture(expand_all=True)
    [edge.raw_local for edge in everything.edges]
    assert deferred_rows(analysis.graph)[1] == len(rows)


def test_a_group_pulled_through_by_torch_in_one_call_equals_our_sweep_through_it():
    from dataclasses import replace

    from graphviz_ad.engine.fold import fold

    model = resnet18_layout((4, 8, 8, 8)).double()
    analysis = api.trace_torch(model, torch.rand(1, 3, 32, 32, dtype=torch.float64))
    blocks = [("layer1", "0"), ("layer2", "0"), ("layer4", "1")]
    by_torch = fold(analysis.graph, blocks).graph
    by_sweep = fold(replace(analysis.graph, pull_through=None), blocks).graph
    groups = [node for node in range(len(by_torch)) if by_torch.kinds[node] == "group"]
    assert len(groups) == 3
    for node in groups:
        for slot in range(len(by_torch.args[node])):
            if by_torch.flows(node, slot):
                np.testing.assert_allclose(by_torch.local[node][slot],
                                           by_sweep.local[node][slot], rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(by_torch.carried, by_sweep.carried):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


class AddsItsInputs(nn.Module):
    def forward(self, a, b):
        return a * 1.0 + b


def test_a_group_whose_inputs_depend_on_each_other_is_summed_inside_the_group_only():
    from graphviz_ad.engine.fold import fold

    adds = AddsItsInputs()

    def loss(x):
        return adds(x, x * 2).sum()

    # 5,000 elements: past MAX_JACOBIAN_ROWS, the group is known by its action, Jᵀ·1
    x = torch.ones(5000, dtype=torch.float64, requires_grad=True)
    analysis = api.trace_torch(loss, x)
    np.testing.assert_array_equal(analysis.gradient("x"), np.full(5000, 3.0))
    folded = fold(analysis.graph, [("adds",)]).graph
    group = next(node for node in range(len(folded)) if folded.kinds[node] == "group")
    producers = [folded.labels[argument] for argument in folded.args[group]]
    assert producers == ["x", "*"]  # the number 1.0 is made in the module: it folds with it
    # through the group alone x counts once; torch's pull from the group's output would also
    # count the path through x * 2, which runs outside the group
    np.testing.assert_array_equal(folded.local[group][0], np.ones(5000))
    np.testing.assert_array_equal(folded.local[group][1], np.ones(5000))
    steps = list(folded.sweep())
    np.testing.assert_array_equal(steps[-1].total, np.full(5000, 3.0))


def test_a_model_changed_in_place_after_its_trace_is_a_typed_error_when_drawn():
    from graphviz_ad.errors import UsageError

    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    analysis = api.trace_torch(model, torch.ones(4, 2, dtype=torch.float64))
    with torch.no_grad():
        model[2].weight.add_(1.0)  # an optimizer step, say
    with pytest.raises(UsageError, match="torch cannot run the backward pass again: one of "
                                         "the variables needed for gradient computation has "
                                         "been modified by an inplace operation") as caught:
        analysis.draw("json", expand_all=True)  # JSON reads each edge's local derivative
    assert "draw the picture before the model changes" in caught.value.hint


def test_a_foreign_op_given_one_tensor_twice_carries_a_gradient_along_each_use():
    def loss(x):
        return torch.cat([x, x * 2, x]).pow(2).sum()

    analysis = api.trace_torch(loss, torch.tensor([1.0, 2.0], dtype=torch.float64,
                                                  requires_grad=True))
    graph = analysis.graph
    cat = graph.labels.index("cat")
    x = graph.inputs["x"]
    assert graph.args[cat][0] == graph.args[cat][2] == x
    assert all(graph.flows(cat, slot) for slot in range(3))
    np.testing.assert_array_equal(graph.gradient("x"), [12.0, 24.0])  # 2x + 8x + 2x
    paths = analysis.paths("x", None).paths
    assert len(paths) == 3
    np.testing.assert_array_equal(sum(np.asarray(path.product) for path in paths), [12.0, 24.0])
    picture = analysis.picture("x")
    into_cat = [edge for edge in picture.edges if edge.head == f"n{cat}"]
    # what each slot carries back: 2·cat's x, 2x, x parts
    assert [edge.label for edge in into_cat] == ["+= [2, 4]", "+= [4, 8]", "+= [2, 4]"]
    assert not any(edge.no_gradient for edge in into_cat)
    steps = [step for step in graph.sweep() if step.target == x]
    np.testing.assert_array_equal(steps[-1].total, [12.0, 24.0])


def test_from_torch_draws_the_values_torch_did_not_keep_as_not_kept_never_as_overflows():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    data = torch.rand(5, 3)
    out = model(data)
    analysis = api.from_torch(out.cumsum(dim=1).exp().mean(), dict(model.named_parameters()))
    graph = analysis.graph
    # torch keeps neither a batch norm's output (recomputed from its saved input and batch
    # statistics), nor a linear layer's (from its saved matrices), nor t(weight) (our
    # transpose); of a cumulative sum, only its axis
    with torch.no_grad():
        normed = model[1](model[0](data))
    np.testing.assert_allclose(graph.values[graph.labels.index("native_batch_norm")],
                               normed.numpy(), rtol=1e-6, atol=1e-6)
    last = max(node for node in range(len(graph)) if graph.labels[node] == "addmm")
    np.testing.assert_allclose(graph.values[last], out.detach().numpy(), rtol=1e-6, atol=1e-6)
    summed = graph.labels.index("cumsum")
    assert graph.unknown_values == {summed}
    assert np.isnan(graph.values[summed]).all() and graph.values[summed].shape == (5, 2)
    assert analysis.notes == ["torch did not keep the values of 1 of 15 nodes: they are drawn "
                              "with their shapes, as `value not kept`"]
    drawn = next(node for node in analysis.picture().nodes if node.title == "cumsum")
    assert drawn.value == "5×2 · value not kept" and drawn.raw_value is None
    assert drawn.adjoint.startswith("5×2 in [")
    data = json.loads(analysis.render("json"))
    exported = next(node for node in data["nodes"] if node["label"] == "cumsum")
    assert exported["value"] is None and exported["adjoint"] is not None


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_from_torch_recomputes_a_batch_norms_output_in_training_and_in_eval(training, affine):
    torch.manual_seed(1)
    norm = nn.BatchNorm2d(3, affine=affine)
    with torch.no_grad():
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
        if affine:
            norm.weight.uniform_(-1, 1)
            norm.bias.uniform_(-1, 1)
    norm.train(training)
    x = torch.rand(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    y = norm.double()(x * 2)
    analysis = api.from_torch((y * 1.5).sum(), {"x": x})
    graph = analysis.graph
    node = graph.labels.index("native_batch_norm")
    assert node not in graph.unknown_values
    np.testing.assert_allclose(graph.values[node], y.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_from_torch_recomputes_pooled_means_views_and_sums_along_axes():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    pooled = nn.functional.adaptive_avg_pool2d(torch.relu(x), 1)
    flat = torch.flatten(pooled, 1)
    rows = (flat * 2).sum(dim=-1)
    analysis = api.from_torch(rows.exp().mean(), {"x": x})
    graph = analysis.graph
    assert not graph.unknown_values and analysis.notes == []
    for label, expected in (("mean", pooled), ("view", flat), ("mul", flat * 2), ("sum", rows)):
        np.testing.assert_allclose(graph.values[graph.labels.index(label)],
                                   expected.detach().numpy(), rtol=1e-15)  # numpy's sums


def test_gad_torch_check_compares_torchs_gradients_with_finite_differences():
    result = gad("torch", "samples/torch_seed.py", "x1=1.5", "x2=0.5", "c=1", "--check",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["gradient"]["x2"] == 1.6165488003791766
    assert abs(data["check"]["x2"]["finite_difference"] - 1.6165488003791766) < 1e-9
    assert all(check["agrees"] for check in data["check"].values())
    assert set(data["check"]) == {"x1", "x2", "c"}


def test_gad_torch_check_finds_a_wrong_backward_and_exits_1(tmp_path):
    source = "samples/torch_custom.py:wrong"  # its backward says 3 x where x² has 2 x
    result = gad("torch", source, "x=[1, 2]", "--check")
    assert result.exit_code == 1
    assert "[3.0, 6.0]" in result.stdout and "✗" in result.stdout
    assert "error[check]: the gradient of x disagrees with finite differences (difference " \
           "2.0e+00" in result.stderr
    assert "look at the backward of a custom autograd.Function" in result.stderr
    # the custom Function is drawn as one op of its own, not as a no_grad value
    picture = json.loads(gad("torch", source, "x=[1, 2]", "-o", "-", "-f", "json").stdout)
    assert [node["label"] for node in picture["nodes"]] == ["x", "Square", "sum"]
    assert gad("torch", source, "x=[1, 2]").exit_code == 0  # unchecked, torch's word is taken
    assert gad("torch", "samples/torch_custom.py:right", "x=[1, 2]", "--check").exit_code == 0
    for drawn in (["-o", tmp_path / "wrong.svg"], ["--paths", "--wrt", "x"]):
        checked = gad("torch", source, "x=[1, 2]", "--check", *drawn)
        assert checked.exit_code == 1 and "error[check]" in checked.stderr


def test_the_check_runs_the_function_as_it_was_traced_dropout_masks_and_batch_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(8, 1)).double()
    data = torch.rand(6, 3, dtype=torch.float64)
    analysis = api.trace_torch(model, data)
    traced_mean = model[1].running_mean.clone()
    checks = analysis.checks(["0.weight", "4.bias", "1.weight"])
    for name, check in checks.items():
        assert check.agrees, (name, check.difference)
    # the running statistics are as the traced call left them, and torch's graph still works
    assert torch.equal(model[1].running_mean, traced_mean)
    analysis.picture(expand_all=True)


def test_the_check_of_a_torch_function_says_what_it_cannot_do():
    from graphviz_ad.gradients import CheckSettings
    from graphviz_ad.errors import UsageError

    model = nn.Linear(60, 40)  # float32, and 2,400 weights: 4,801 runs with the base run
    analysis = api.trace_torch(model, torch.rand(2, 60))
    assert analysis.checks(["bias"])["bias"].skipped == \
        "checking bias needs float64 throughout, and it is float32: make the model float64 " \
        "(model.double())"
    skipped = analysis.checks(["weight"])["weight"]
    assert skipped.skipped == "checking weight needs 4,801 runs of the function; the budget " \
                              "is 2,000"
    with pytest.raises(UsageError, match="the complex step needs a graph our engine"):
        analysis.checks(["bias"], settings=CheckSettings("complex"))


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


def test_a_custom_autograd_function_inside_a_graph_is_one_node_with_torchs_derivatives():
    x = leaf([1.0, 2.0])
    analysis = api.trace_torch(lambda x: Cube.apply(x * 2).sum(), x)
    graph = analysis.graph
    cube = graph.labels.index("Cube")
    assert [graph.labels[argument] for argument in graph.args[cube]] == ["*"]
    assert graph.kinds[cube] == "operation" and graph.requires_grad[cube]
    np.testing.assert_array_equal(graph.gradient("x"), [24.0, 96.0])  # 3 (2x)² · 2
    np.testing.assert_array_equal(graph.local[cube][0], [12.0, 48.0])  # Jᵀ·1 = 3 (2x)²
    assert analysis.checks(["x"])["x"].agrees


def test_the_unused_outputs_of_a_many_output_op_are_not_drawn_the_used_one_is():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, batch_first=True).double()
    data = torch.rand(2, 5, 3, dtype=torch.float64)

    def loss():
        return lstm(data)[0].pow(2).sum()

    analysis = api.trace_torch(loss)
    graph = analysis.graph
    assert [label for label in graph.labels if label.startswith("lstm[")] == ["lstm[0]"]
    lstm.zero_grad()
    loss().backward()
    for name, parameter in lstm.named_parameters():
        np.testing.assert_array_equal(graph.gradient(f"lstm.{name}"), parameter.grad.numpy())
    assert analysis.checks(["lstm.bias_hh_l0"])["lstm.bias_hh_l0"].agrees


@pytest.mark.parametrize("function", ["with_detach", "with_data", "with_no_grad"])
def test_the_check_holds_detached_and_no_grad_values_as_the_gradient_does(function):
    result = gad("torch", f"samples/torch_detach.py:{function}", "x=[1,1]", "--check",
                 "--json")
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)["check"]["x"]
    # perturbing x moves the cut value too, unless the check holds it: [3, 3] against [2, 2]
    assert check["agrees"] and check["difference"] < 1e-8


@pytest.mark.parametrize("function, expected", [
    (lambda x: (x * x).sum(), lambda x: 2 * x),  # our op, one tensor twice
    (lambda x: torch.where(x > 1.5, x, x * x).sum(), lambda x: np.where(x > 1.5, 1, 2 * x)),
    (lambda x: torch.cat([x, torch.sin(x)]).pow(2).sum(),  # a foreign op, one argument
     lambda x: 2 * x + 2 * np.sin(x) * np.cos(x)),            # computed from another
    (lambda x: torch.atan2(x, x * 1.5).sum(), lambda x: np.zeros_like(x)),
])
def test_path_products_and_the_recorded_sweep_sum_to_torchs_gradient(function, expected):
    x = leaf([1.0, 2.0, 3.0])
    analysis = api.trace_torch(function, x)
    gradient = expected(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(analysis.gradient("x"), gradient, atol=1e-15)
    products = sum(np.asarray(path.product) for path in analysis.paths("x", None).paths)
    np.testing.assert_allclose(products, gradient, atol=1e-14)
    np.testing.assert_allclose(list(analysis.graph.sweep())[-1].total, gradient, atol=1e-14)


def standardized_cube(x):
    with torch.no_grad():  # statistics held as constants: the gradient goes around them
        mean, spread = x.mean(0), x.std(0)
    count = spread.size(0)  # a call on a no_grad value that makes no number
    keep = x > mean
    scale = torch.ones(3, dtype=torch.float64) * 2  # a constant, then detached
    return ((((x - mean) / spread) ** 3) * keep * scale.detach()).sum() / count \
        + (x.detach() * x).sum()


def test_the_check_holds_each_cut_value_whatever_calls_come_between():
    x = leaf([[1.0, 2.0, 0.5], [3.0, 1.0, 2.5]])
    analysis = api.trace_torch(standardized_cube, x)
    x.grad = None
    standardized_cube(x).backward()
    np.testing.assert_array_equal(analysis.gradient("x"), x.grad.numpy())
    check = analysis.checks(["x"])["x"]
    assert check.agrees and check.difference < 1e-8
    np.testing.assert_array_equal(x.detach().numpy(), [[1.0, 2.0, 0.5], [3.0, 1.0, 2.5]])


def test_the_check_puts_back_the_buffers_of_a_model_it_reached_only_by_running():
    torch.manual_seed(0)
    models = {"net": nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)).double()}
    data = torch.rand(4, 2, dtype=torch.float64)

    def loss():
        return models["net"](data).pow(2).sum()

    analysis = api.trace_torch(loss)
    norm = models["net"][1]
    traced = (norm.running_mean.clone(), int(norm.num_batches_tracked))
    assert all(check.agrees for check in analysis.checks(list(analysis.inputs)).values())
    assert torch.equal(norm.running_mean, traced[0])
    assert int(norm.num_batches_tracked) == traced[1] == 1


def test_an_input_is_put_back_when_a_run_of_the_check_fails():
    calls = []

    def loss(x):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("only once")
        return (x * 2).sum()

    x = leaf([1.0, 2.0, 3.0])
    analysis = api.trace_torch(loss, x)
    with pytest.raises(RuntimeError, match="only once"):
        analysis.checks(["x"])
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0, 3.0])


def test_from_torch_leaves_unknown_what_our_op_of_the_same_name_would_compute_otherwise():
    a, b = leaf(np.ones((2, 2, 2))), leaf(np.full((2, 2, 2), 2.0))
    # our add has no alpha, our transpose swaps the last two axes: neither recomputes these,
    # nor anything computed from them
    for output, labels in ((torch.add(a, b, alpha=2), {"add"}),
                           (a.transpose(0, 1) * 1, {"transpose", "mul"}),
                           (torch.add(a, b), set())):
        graph = api.from_torch(output.sum(), {"a": a, "b": b}).graph
        assert {graph.labels[node] for node in graph.unknown_values} == labels
    graph = api.from_torch(torch.add(a, b).sum(), {"a": a, "b": b}).graph
    np.testing.assert_array_equal(graph.values[graph.labels.index("add")], np.full((2, 2, 2), 3))


def test_an_infinite_local_derivative_of_our_op_is_a_warning_before_any_picture():
    analysis = api.trace_torch(lambda x: torch.sqrt(x).sum(), leaf([0.0, 1.0]))
    assert analysis.notes == ["the local derivative of `sqrt(x)` with respect to `x = [0, 1]` "
                              "is inf"]


def test_a_tensor_handed_back_or_updated_in_place_under_no_grad_stays_an_input():
    linear = nn.Linear(2, 1).double()

    def loss(x):
        with torch.no_grad():
            x.contiguous()  # hands x back
            linear.weight.clamp_(-1, 1)  # a parameter updated in place
        return (linear(x) * x).sum()

    analysis = api.trace_torch(loss, leaf([[1.0, 2.0]]))
    assert set(analysis.inputs) == {"x", "linear.weight", "linear.bias"}


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


@pytest.mark.parametrize("function", [
    lambda x: torch.atan2(x, x[0]).sum(),  # an argument broadcast, computed from another
    lambda x: torch.atan2(x, x.sin().sum()).sum(),
    lambda x: Scale.apply(x, x.sin()).sum(),  # a custom Function, entangled arguments
    lambda x: Scale.apply(x, x).sum(),
])
def test_entangled_arguments_of_foreign_ops_keep_paths_and_sweep_equal_to_the_gradient(
        function):
    x = leaf([0.3, 0.7])
    analysis = api.trace_torch(function, x)
    function(x).backward()
    np.testing.assert_allclose(analysis.gradient("x"), x.grad.numpy(), rtol=1e-14)
    products = sum(np.asarray(path.product) for path in analysis.paths("x", None).paths)
    np.testing.assert_allclose(products, x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(list(analysis.graph.sweep())[-1].total, x.grad.numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("function", [lambda a, b: a.sum(0) + b,
                                      lambda a, b: a.mean(0) + b,
                                      lambda a, b: a[1] + b,
                                      lambda a, b: a.max(0).values + b])
def test_from_torch_sums_a_broadcast_arguments_gradient_back_to_its_shape(function):
    a, b = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([0.5, 0.25])
    output = function(a, b).sum()
    analysis = api.from_torch(output, {"a": a, "b": b})
    products = {name: sum(np.asarray(path.product) for path in analysis.paths(name, None).paths)
                for name in "ab"}
    output.backward()
    for name, tensor in (("a", a), ("b", b)):
        np.testing.assert_allclose(products[name], tensor.grad.numpy(), rtol=1e-14)


def added_in_place(x):
    with torch.no_grad():
        y = x * 2
        y.add_(1)
    return (y * x).sum()


def copied_into_a_buffer(x):
    buffer = torch.zeros(2, dtype=torch.float64)
    with torch.no_grad():
        buffer.copy_(x)
    return (buffer * x).sum()


def multiplied_in_a_second_block(x):
    with torch.no_grad():
        y = x * 2
    with torch.no_grad():
        y.mul_(x)
    return (y * x).sum()


def through_a_number(x):
    scale = x.sum().item()  # a Python number: a constant to the gradient
    return (x * scale).sum()


@pytest.mark.parametrize("function", [added_in_place, copied_into_a_buffer,
                                      multiplied_in_a_second_block, through_a_number])
def test_the_check_holds_values_changed_in_place_under_no_grad_and_numbers_from_item(function):
    x = leaf([1.0, 2.0])
    analysis = api.trace_torch(function, x)
    function(x).backward()
    np.testing.assert_array_equal(analysis.gradient("x"), x.grad.numpy())
    check = analysis.checks(["x"])["x"]
    assert check.agrees and check.difference < 1e-8, check.finite_difference


def test_a_function_that_makes_other_calls_when_run_again_is_refused_by_the_check():
    from graphviz_ad.errors import UsageError

    cache = {}

    def loss(x):
        if "scale" not in cache:  # filled on the first call only
            cache["scale"] = torch.ones(2, dtype=torch.float64) * 2
        return (x * x.detach() * cache["scale"]).sum()

    analysis = api.trace_torch(loss, leaf([1.0, 2.0]))
    with pytest.raises(UsageError, match="the function made other torch calls when called "
                                         "again"):
        analysis.checks(["x"])


def test_the_check_skips_a_float64_input_that_passes_through_float32():
    analysis = api.trace_torch(lambda x: (x.sin() * x).float().sum(), leaf([1.0, 2.0]))
    check = analysis.checks(["x"])["x"]
    assert check.skipped.startswith("checking x needs float64 throughout, and `")


def test_the_check_replays_a_named_generator_and_puts_every_input_back():
    generator = torch.Generator().manual_seed(3)
    embedding = nn.Embedding(4, 3, max_norm=1.0).double()
    with torch.no_grad():
        embedding.weight.mul_(3)  # rows longer than max_norm: each forward renormalises them

    def loss(x):
        mask = (torch.rand(2, generator=generator) > 0.3).double()
        return (embedding(torch.tensor([1, 2])).sum(1) * x * mask).sum()

    analysis = api.trace_torch(loss, leaf([1.0, 2.0]))
    state, weight = generator.get_state(), embedding.weight.detach().clone()
    checks = analysis.checks(["x", "embedding.weight"])
    assert checks["x"].agrees
    assert torch.equal(generator.get_state(), state)
    assert torch.equal(embedding.weight.detach(), weight)


def test_the_check_keeps_statistics_handed_to_functional_call_as_they_were():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)).double()
    parameters = dict(net.named_parameters())
    buffers = {name: buffer.clone() for name, buffer in net.named_buffers()}
    data = torch.rand(4, 2, dtype=torch.float64)

    def loss():
        return torch.func.functional_call(net, {**parameters, **buffers}, (data,)).pow(2).sum()

    analysis = api.trace_torch(loss)
    traced = {name: buffer.clone() for name, buffer in buffers.items()}
    assert analysis.checks(["net.2.bias"])["net.2.bias"].agrees
    for name, buffer in buffers.items():
        assert torch.equal(buffer, traced[name]), name


class ScaledByItsSum(torch.autograd.Function):
    """x · sum(x), whose backward forgets that the sum depends on x: wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.total = x.sum().item()
        return x * ctx.total

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.total


class SquaredTimes(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(x, c)
        return x * x * c

    @staticmethod
    def backward(ctx, grad):
        x, c = ctx.saved_tensors
        return grad * 2 * x * c, None


class ImplicitSine(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        with torch.enable_grad():  # an implicit layer's inner solve, say
            y = torch.sin(x.detach().requires_grad_())
        ctx.save_for_backward(x)
        return y.detach()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.cos(x)


def no_grad_into_a_custom_function(x):
    with torch.no_grad():
        c = x.abs() + 1
    return SquaredTimes.apply(x, c).sum()


def through_numpy(x):
    return (x * torch.from_numpy(x.detach().numpy() * 2)).sum()


def detached_in_place(x):
    y = x * 2
    y.detach_()
    return (y * x).sum()


def changed_in_place_after_use(x):
    with torch.no_grad():
        m = x * 2
    y = x + m
    with torch.no_grad():
        m.add_(x)
    return (y + x * m).sum()


@pytest.mark.parametrize("function", [
    no_grad_into_a_custom_function, lambda x: ImplicitSine.apply(x).sum(), through_numpy,
    detached_in_place, changed_in_place_after_use])
def test_the_check_agrees_where_torchs_gradient_holds_values_the_function_made(function):
    x = leaf([1.0, 2.0, -0.5])
    analysis = api.trace_torch(function, x)
    function(x).backward()
    np.testing.assert_allclose(analysis.gradient("x"), x.grad.numpy(), rtol=1e-14)
    check = analysis.checks(["x"])["x"]
    assert check.agrees and check.difference < 1e-8, check.finite_difference


def test_the_check_finds_a_custom_backward_that_forgets_a_number_its_forward_took():
    analysis = api.trace_torch(lambda x: ScaledByItsSum.apply(x).sum(), leaf([1.0, 2.0]))
    check = analysis.checks(["x"])["x"]
    assert not check.agrees and abs(check.difference - 3.0) < 1e-6


def test_the_check_skips_what_it_cannot_measure_and_leaves_grads_and_models_as_they_were():
    weight = leaf([1.0, 2.0])
    teacher = nn.Linear(1, 1, bias=False).double().requires_grad_(False)
    student = nn.Linear(1, 1, bias=False).double()
    state = {"scale": torch.tensor(1.5, dtype=torch.float64)}

    def loss(x):
        with torch.no_grad():
            weight.mul_(0.5)  # changed in place each call
            teacher.weight.mul_(0.5).add_(0.5 * student.weight)  # an EMA teacher
        state["scale"] = state["scale"] * 1.5  # state kept between calls
        total = (weight * x).sum() + (student(x[:1]) + teacher(x[:1])).sum()
        total.backward(retain_graph=True)  # the function runs a backward pass of its own
        return total * state["scale"]

    x = leaf([1.0, 2.0])
    analysis = api.trace_torch(loss, x)
    kept = (x.grad.clone(), teacher.weight.clone(), weight.detach().clone())
    checks = analysis.checks(["x", "weight"])
    assert checks["x"].skipped.startswith("the function gives ")
    assert checks["x"].skipped.endswith("when called again, not its traced "
                                        f"{float(analysis.output_value)!r}: it keeps state "
                                        "between calls")
    assert checks["weight"].skipped.startswith("the function gives ")
    assert torch.equal(x.grad, kept[0]) and torch.equal(teacher.weight, kept[1])
    assert torch.equal(weight.detach(), kept[2])


def test_a_nan_output_called_again_is_the_same_output_not_kept_state():
    analysis = api.trace_torch(lambda x, y: (x * y).sum(), leaf([1.0]), leaf([float("nan")]))
    check = analysis.checks(["x"])["x"]
    assert not check.skipped
    assert np.isnan(check.finite_difference).all()


def test_a_function_that_steps_an_optimizer_is_a_typed_error():
    from graphviz_ad.errors import UsageError

    model = nn.Linear(2, 1).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        loss = model(x).pow(2).sum()
        loss.backward()
        optimizer.step()
        return loss

    with pytest.raises(UsageError, match="torch could not run the backward pass after the "
                                         "function"):
        api.trace_torch(step, torch.ones(3, 2, dtype=torch.float64))


def test_a_calls_text_shows_only_the_keywords_set_to_other_than_their_defaults():
    logits, target = leaf([[1.0, 2.0], [0.5, -1.0]]), torch.tensor([1, 0])
    analysis = api.trace_torch(
        lambda logits: nn.functional.cross_entropy(logits, target, label_smoothing=0.1), logits)
    (text,) = [analysis.graph.details[node] for node in range(len(analysis.graph))
               if analysis.graph.labels[node] == "cross_entropy"]
    assert text.startswith("cross_entropy(logits, label_smoothing=0.1)")
    assert "None" not in text and "reduction" not in text


def test_an_empty_input_of_a_number_has_torch_s_empty_gradient():
    analysis = api.trace_torch(lambda e: e.sum() + 1.0, leaf([]))
    assert analysis.value == 1.0
    assert analysis.gradient("e").shape == (0,)
    assert analysis.gradient_report(check=False).note == "reverse mode"
