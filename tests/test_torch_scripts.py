"""The document's PyTorch scripts as written (samples/document/): `gad torch FILE.py` runs the
top-level code and draws what it calls backward() on or hands make_dot, and graphviz_ad.make_dot
stands in for torchviz's with one import line changed. The user's code stays the user's."""

import json
import runpy
import sys
import types
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

from graphviz_ad import api, make_dot  # noqa: E402 (after the skip)
from graphviz_ad.errors import UsageError  # noqa: E402
from graphviz_ad.sources.torch_compat import BACKWARD_IS_SEEN  # noqa: E402
from tests.conftest import gad

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = "samples/document"




def as_json(*arguments):
    result = gad(*arguments, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_worked_example_as_written_has_torchs_float32_gradients():
    found = as_json("torch", f"{DOCUMENT}/worked_example.py")
    # the script's own numbers: float32 tensors, as the document prints them
    x1, x2, c = (torch.tensor(value, requires_grad=True) for value in (1.5, 0.5, 1.0))
    y = (torch.sin(x2) + c) / (x2 + torch.exp(x1)) + x1 * x2
    y.backward()
    assert found["value"] == y.item()
    assert found["gradient"] == {"c": c.grad.item(), "x1": x1.grad.item(),
                                 "x2": x2.grad.item()}
    assert found["gradient"]["x2"] == pytest.approx(1.6165488003791766, rel=1e-6)


def test_the_scripts_prints_go_to_standard_error_apart_from_the_json():
    result = gad("torch", f"{DOCUMENT}/worked_example.py", "--json")
    assert "tensor(1.6165)" in result.stderr
    assert "tensor(" not in result.stdout
    json.loads(result.stdout)


def test_the_worked_examples_paths_sum_to_torchs_gradient():
    paths = api.load_torch(f"{DOCUMENT}/worked_example.py").paths("x2", top=None)
    products = sorted(float(path.product) for path in paths.paths)
    assert products == pytest.approx([-0.0596128487, 0.1761616491, 1.5], rel=1e-6)
    assert float(paths.shown_sum) == pytest.approx(float(paths.gradient), rel=1e-6)


@pytest.mark.parametrize("script, gradient", [
    ("detach", [2.0, 2.0]), ("data", [2.0, 2.0]), ("no_detach", [3.0, 3.0])])
def test_the_detach_variants_have_torchs_gradients_and_draw_the_cut(script, gradient, tmp_path):
    found = as_json("torch", f"{DOCUMENT}/{script}.py")
    assert found["value"] == 12.0
    assert found["gradient"] == {"x": gradient}
    result = gad("torch", f"{DOCUMENT}/{script}.py", "-o", tmp_path / "r.dot")
    assert result.exit_code == 0, result.output
    dot = (tmp_path / "r.dot").read_text()
    cut_edges = [line for line in dot.splitlines() if "->" in line and "dashed" in line]
    assert len(cut_edges) == (script != "no_detach")
    assert "[2.0, 2.0]" in result.stdout or "[3.0, 3.0]" in result.stdout  # -o prints the table


def test_a_script_that_draws_nothing_says_what_to_add():
    result = gad("torch", f"{DOCUMENT}/no_grad.py")
    assert result.exit_code == 2
    assert "calls neither .backward() nor make_dot()" in result.stderr
    assert "make_dot(y)" in result.stderr
    assert "Traceback" not in result.output


def test_naming_a_tensor_made_under_no_grad_says_it_has_no_history():
    result = gad("torch", f"{DOCUMENT}/no_grad.py:y")
    assert result.exit_code == 2
    assert "`y` has no gradient history" in result.stderr
    assert "no_grad" in result.stderr


@pytest.mark.parametrize("script", ["sequential", "deep"])
def test_the_sequential_models_have_the_scripts_names_and_gradients(script, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchviz", types.SimpleNamespace(make_dot=make_dot))
    torch.manual_seed(0)
    namespace = runpy.run_path(f"{DOCUMENT}/{script}.py")
    torch.manual_seed(0)
    found = as_json("torch", f"{DOCUMENT}/{script}.py")
    assert found["value"] == namespace["loss"].item()
    parameters = dict(namespace["model"].named_parameters())
    assert set(found["gradient"]) == {f"model.{name}" for name in parameters}
    for name, parameter in parameters.items():
        assert found["gradient"][f"model.{name}"] == parameter.grad.tolist(), name


SWAPPED = ["worked_example", "detach", "data", "no_detach", "sequential", "deep"]


@pytest.mark.parametrize("script", SWAPPED)
def test_changing_the_import_line_gives_our_picture(script, tmp_path):
    text = (ROOT / DOCUMENT / f"{script}.py").read_text()
    assert "from torchviz import make_dot" in text
    lines = text.replace("from torchviz import make_dot",
                         "from graphviz_ad import make_dot").splitlines()
    assert lines[-1].startswith("make_dot(")
    lines[-1] = "picture = " + lines[-1]
    swapped = tmp_path / f"{script}.py"
    swapped.write_text("\n".join(lines) + "\n")
    picture = runpy.run_path(str(swapped))["picture"]
    if ".backward()" in text and script != "worked_example":
        # plain torch freed a graph of ops not all ours (linear, mse_loss): said, with the way
        with pytest.raises(UsageError) as raised:
            picture.source
        assert "backward() has freed the graph" in str(raised.value)
        assert "retain_graph=True" in raised.value.hint
        lines = [line.replace(".backward()", ".backward(retain_graph=True)")
                 for line in lines]
        swapped.write_text("\n".join(lines) + "\n")
        picture = runpy.run_path(str(swapped))["picture"]
    rendered = picture.render(str(tmp_path / "graph"), format="svg")
    assert rendered == str(tmp_path / "graph.svg")
    assert (tmp_path / "graph").read_text().startswith("digraph")
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "grad" in svg
    assert picture._repr_mimebundle_()["image/svg+xml"].count("<svg") == 1
    assert picture.save(str(tmp_path / "again.gv")) == str(tmp_path / "again.gv")
    assert picture.source == (tmp_path / "again.gv").read_text()


def test_make_dot_names_leaves_by_params_and_keeps_torchvizs_default_format():
    x1, x2 = (torch.tensor(value, dtype=torch.float64, requires_grad=True)
              for value in (1.5, 0.5))
    picture = make_dot(x1 * x2 + torch.sin(x2), {"x1": x1, "x2": x2})
    assert picture.format == "pdf"
    assert picture.analysis.gradient("x2") == pytest.approx(1.5 + np.cos(0.5), rel=1e-15)
    assert "x1" in picture.source


def test_naming_a_tensor_draws_it_instead_of_the_last_backward(tmp_path):
    script = tmp_path / "two.py"
    script.write_text("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
                      "first = x * 3\nsecond = x ** 2\nsecond.backward()\n")
    assert as_json("torch", script)["gradient"] == {"x": 4.0}
    assert as_json("torch", f"{script}:first")["gradient"] == {"x": 3.0}
    result = gad("torch", f"{script}:third")
    assert result.exit_code == 2
    assert "tensors: first, second, x" in result.stderr


def test_a_script_takes_no_values_on_the_command_line():
    result = gad("torch", f"{DOCUMENT}/detach.py", "x=[2,2]")
    assert result.exit_code == 2
    assert "takes no NAME=VALUE" in result.stderr


def test_a_script_is_not_checked_and_says_why():
    result = gad("torch", f"{DOCUMENT}/worked_example.py", "--check")
    assert result.exit_code == 2, result.output
    assert "runs as a script, which is not called again" in result.stderr
    assert "gad torch FILE.py:NAME x=1 --check" in result.stderr


@pytest.mark.parametrize("body, reason", [
    ("    sys.exit(5)\n", "called sys.exit(5) in f"),
    ("    raise BaseException('stop')\n", "raised BaseException in f: stop"),
    ("    raise GeneratorExit()\n", "raised GeneratorExit in f"),
])
def test_exits_and_base_exceptions_in_the_users_code_are_errors_at_their_line(
        body, reason, tmp_path):
    script = tmp_path / "leaves.py"
    script.write_text("import sys\n\n\ndef f(x):\n" + body)
    result = gad("torch", script, "x=1")
    assert result.exit_code == 2, result.output
    assert reason in result.stderr
    assert "leaves.py, line 5" in result.stderr
    assert "Traceback" not in result.output


def test_a_warning_in_the_users_code_is_a_note_naming_its_line(tmp_path):
    script = tmp_path / "warns.py"
    script.write_text("import warnings\n\n\ndef f(x):\n"
                      "    warnings.warn('careful')\n    return x * 2\n")
    result = gad("torch", script, "x=1", "--json")
    assert result.exit_code == 0, result.output
    assert "warns.py:5: UserWarning: careful" in result.stderr
    assert json.loads(result.stdout)["gradient"] == {"x": 2.0}


def test_resnet18_as_the_document_writes_it_stays_float32(tmp_path):
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    result = gad("torch", f"{DOCUMENT}/resnet18.py", "-o", tmp_path / "r.dot")
    assert result.exit_code == 0, result.output
    assert "float32" not in result.stderr  # no dtype mismatch
    assert "resnet18.conv1.weight" in result.stdout
    assert "layer4" in (tmp_path / "r.dot").read_text()


@pytest.mark.parametrize("ending", [
    "from torchviz import make_dot as draw\ndraw(second)\n",
    "import torchviz\ntorchviz.make_dot(second)\n",
    "torch.autograd.backward([second])\n",
])
def test_a_script_draws_what_it_hands_make_dot_or_backward_however_named(ending, tmp_path):
    script = tmp_path / "named.py"
    script.write_text("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
                      "first = x * 3\nsecond = x ** 2\n" + ending)
    if "autograd" in ending and not BACKWARD_IS_SEEN:  # torch 2.5 hides it: said, with the way
        result = gad("torch", script)
        assert result.exit_code == 2 and "does not show gad torch.autograd.backward" in \
            result.stderr
        assert "y.backward()" in result.stderr
        return
    assert as_json("torch", script)["gradient"] == {"x": 4.0}


@pytest.mark.parametrize("target, values", [
    ("functions.py:lam", ["x=[1,2]"]),
    ("functions.py:imported", ["x=[1,2]"]),
    ("functions.py:model", ["input=[[1,2]]"]),
    ("functions.py:zero", []),
])
def test_a_named_callable_of_any_kind_is_called(target, values, tmp_path):
    (tmp_path / "callables_helper.py").write_text("def imported(x):\n    return (x * 3).sum()\n")
    (tmp_path / "functions.py").write_text(
        "import torch\nfrom callables_helper import imported\nlam = lambda x: (x * 3).sum()\n"
        "model = torch.nn.Linear(2, 1)\nw = torch.ones(2, requires_grad=True)\n"
        "zero = lambda: (w * 3).sum()\n")
    found = as_json("torch", tmp_path / target, *values)
    expected = {"x": [3.0, 3.0]} if "x=[1,2]" in values else \
        {"w": [3.0, 3.0]} if not values else None
    if expected is None:
        assert found["gradient"]["weight"] == [[1.0, 2.0]]  # d(w·x + b)/dw = x
        assert found["gradient"]["bias"] == [1.0]
        assert set(found["gradient"]) == {"input", "weight", "bias"}
    else:
        assert found["gradient"] == expected


def test_a_backward_of_something_else_leaves_a_file_of_functions_one(tmp_path):
    (tmp_path / "other.py").write_text(
        "class Tape:\n    def backward(self):\n        return 0\n\n\nTape().backward()\n\n\n"
        "def f(x):\n    return x * 5\n")
    assert as_json("torch", tmp_path / "other.py", "x=1")["gradient"] == {"x": 5.0}


def test_a_backward_seeded_with_other_than_ones_is_refused(tmp_path):
    script = tmp_path / "seeded.py"
    script.write_text("import torch\nx = torch.ones(2, requires_grad=True)\ny = x * x\n"
                      "y.backward(torch.tensor([1.0, 0.0]))\n")
    result = gad("torch", script)
    assert result.exit_code == 2
    assert "(y * v).sum().backward()" in result.stderr
    script.write_text(script.read_text().replace("[1.0, 0.0]", "[1.0, 1.0]"))
    assert as_json("torch", script)["gradient"] == {"x": [2.0, 2.0]}


def test_a_run_leaves_the_process_as_it_found_it(monkeypatch):
    sentinel = types.SimpleNamespace()
    monkeypatch.setitem(sys.modules, "torchviz", sentinel)
    path, dtype = list(sys.path), torch.get_default_dtype()
    api.load_torch(f"{DOCUMENT}/worked_example.py")
    api.load_torch("samples/torch_seed.py", ["x1=1.5", "x2=0.5", "c=1"])
    assert sys.modules["torchviz"] is sentinel
    assert sys.path == path and torch.get_default_dtype() == dtype
    assert "__gad__" not in sys.modules


def test_a_dot_renders_into_a_new_folder_and_refuses_a_jit_trace(tmp_path):
    from graphviz_ad.torchviz_dot import make_dot_from_trace

    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    written = make_dot(x * x, {"x": x}).render("g", directory=str(tmp_path / "new" / "dir"),
                                               format="svg")
    assert (tmp_path / "new" / "dir" / "g.svg").read_text().count("<svg") == 1
    assert written == str(tmp_path / "new" / "dir" / "g.svg")
    with pytest.raises(UsageError, match="carries no gradient"):
        make_dot_from_trace(None)


def test_a_training_loop_draws_its_last_loss_with_the_weights_it_used(tmp_path):
    script = tmp_path / "loop.py"
    script.write_text(
        "import torch\n\ntorch.manual_seed(0)\nmodel = torch.nn.Linear(2, 1)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.5)\nx = torch.tensor([[1.0, 2.0]])\n"
        "for step in range(3):\n    opt.zero_grad()\n    used = model.weight.detach().clone()\n"
        "    loss = (model(x) ** 2).sum()\n    loss.backward()\n    last = model.weight.grad\n"
        "    last = last.clone()\n    opt.step()\n")
    analysis = api.load_torch(str(script))
    torch.manual_seed(0)
    namespace = runpy.run_path(str(script))
    assert np.array_equal(analysis.gradient("model.weight"), namespace["last"].numpy())
    node = analysis.graph.inputs["model.weight"]
    assert np.array_equal(analysis.graph.values[node], namespace["used"].numpy())
    assert not np.array_equal(namespace["used"].numpy(), namespace["model"].weight.detach())


def test_a_weight_used_before_and_after_an_update_is_refused_not_split(tmp_path):
    def used_twice(w):
        first = (w * 2).sum()
        with torch.no_grad():
            w.mul_(3)
        return first + (w * w).sum()

    with pytest.raises(UsageError):
        api.trace_torch(used_twice, torch.tensor([1.0, 2.0], dtype=torch.float64,
                                                 requires_grad=True))


def test_a_torch_func_transform_inside_the_function_is_refused_with_its_reason(tmp_path):
    script = tmp_path / "transform.py"
    script.write_text("import torch\n\n\ndef f(x):\n"
                      "    return torch.func.grad(lambda t: (t ** 3).sum())(x).sum()\n")
    result = gad("torch", f"{script}:f", "x=[1,2]")
    assert result.exit_code == 2, result.output
    assert "inside a torch.func transform" in result.stderr
    assert "torch.autograd.grad" in result.stderr


def test_a_fault_of_ours_inside_the_users_call_is_not_blamed_on_them(tmp_path, monkeypatch):
    import operator

    from graphviz_ad.sources import pytorch

    # a builtin given the wrong arguments fails in C: the deepest frame is the recorder's own
    monkeypatch.setattr(pytorch.Nodes, "add", operator.neg)
    script = tmp_path / "plain.py"
    # (a call, not an operator: torch turns an operator's TypeError into NotImplemented)
    script.write_text("import torch\n\n\ndef f(x):\n    return torch.sin(x).sum()\n")
    result = gad("torch", f"{script}:f", "x=[1,2]")
    assert result.exit_code == 1, result.output
    assert "internal error" in result.stderr and "plain.py raised" not in result.stderr


def test_the_worked_example_after_a_plain_backward_is_computed_again_by_our_engine():
    x1, x2, c = (torch.tensor(value, requires_grad=True) for value in (1.5, 0.5, 1.0))
    y = (torch.sin(x2) + c) / (x2 + torch.exp(x1)) + x1 * x2
    y.backward()  # as the document does, before make_dot: torch frees its graph
    analysis = make_dot(y, {"x1": x1, "x2": x2, "c": c}).analysis
    assert analysis.value == 1.0469726768804155
    assert analysis.gradient("x2") == 1.6165488003791766
    assert analysis.gradient("x1") == 0.23283374747559749
    assert sorted(float(path.product) for path in analysis.paths("x2").paths) == \
        pytest.approx([-0.0596128487, 0.1761616491, 1.5], rel=1e-9)
    assert any("recomputed from the leaves" in note for note in analysis.notes)


def test_after_a_plain_backward_and_a_step_the_leaves_no_longer_give_the_value():
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.sin(x) * x
    y.backward()
    with torch.no_grad():
        x.sub_(0.1)  # an optimizer step: the leaf no longer gives y
    with pytest.raises(UsageError, match="backward\\(\\) has freed the graph"):
        make_dot(y, {"x": x}).source
