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
from typer.testing import CliRunner

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

from graphviz_ad import api, make_dot  # noqa: E402 (after the skip)
from graphviz_ad.cli import app  # noqa: E402
from graphviz_ad.errors import UsageError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = "samples/document"
runner = CliRunner()


def gad(*arguments):
    return runner.invoke(app, [str(argument) for argument in arguments], env={"COLUMNS": "120"})


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
    if ".backward()" in text:  # plain torch freed the graph: said, with what to do instead
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
    assert picture._repr_svg_().count("<svg") == 1
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
    assert "not called again" in result.stdout + result.stderr


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
