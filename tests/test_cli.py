"""The `gad` command through typer's runner: exit codes, stdout and stderr separately."""

import json
import re

import pytest
from typer.testing import CliRunner

from graphviz_ad import display
from tests.conftest import WORKED, gad

runner = CliRunner()




def test_grad_prints_value_and_checked_gradients():
    result = gad("grad", WORKED, "x1=1.5", "x2=0.5")
    assert result.exit_code == 0, result.stderr
    assert "f = 1.0469726768804155" in result.stdout
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
             if line.startswith("│")}
    assert "0.23283374747559749" in lines["x1"] and "✓" in lines["x1"]
    assert "1.6165488003791766" in lines["x2"] and "✓" in lines["x2"]
    assert result.stderr == ""


def test_grad_json_is_the_only_output():
    result = gad("grad", WORKED, "x1=1.5", "x2=0.5", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["value"] == 1.0469726768804155
    assert data["gradient"] == {"x1": 0.23283374747559749, "x2": 1.6165488003791766}
    assert data["check"]["x2"]["agrees"] is True
    assert abs(data["check"]["x2"]["finite_difference"] - 1.6165488003791766) < 1e-9


def test_grad_json_arrays_are_nested_lists():
    result = gad("grad", "sum(A @ v)", "A=[[1,2],[3,4]]", "v=[1,1]", "--json", "--no-check")
    data = json.loads(result.stdout)
    assert data == {"value": 10.0, "mode": "reverse",
                    "gradient": {"A": [[1.0, 1.0], [1.0, 1.0]], "v": [4.0, 6.0]}, "check": None}


def test_wrt_limits_inputs_and_forward_mode_agrees():
    result = gad("grad", WORKED, "x1=1.5", "x2=0.5", "--wrt", "x2", "--mode", "forward",
                 "--json")
    assert json.loads(result.stdout)["gradient"] == {"x2": 1.6165488003791766}


def test_program_from_a_file_and_from_stdin():
    from_file = gad("grad", "samples/seed.gad", "--json", "--no-check")
    from_stdin = gad("grad", "-", "x1=1.5", "x2=0.5", "--json", "--no-check", input=WORKED)
    assert json.loads(from_file.stdout)["gradient"] == json.loads(from_stdin.stdout)["gradient"]
    assert "f = 1.0469726768804155" in gad("grad", "samples/seed.gad").stdout


def test_command_line_value_overrides_a_program_default():
    result = gad("grad", "samples/seed.gad", "x1=0", "--json", "--no-check")
    assert json.loads(result.stdout)["gradient"]["x1"] != 0.23283374747559749


def test_file_with_bom_and_crlf(tmp_path):
    path = tmp_path / "p.gad"
    path.write_bytes("\ufeffx = 2\r\ny = x * x\r\n".encode())
    assert json.loads(gad("grad", str(path), "--json").stdout)["gradient"] == {"x": 4.0}


@pytest.mark.parametrize("arguments, fragments", [
    (["grad", "sinn(x)", "x=1"], ["error[name]: unknown function `sinn`", "1 | sinn(x)",
                                  "  | ^^^^", "hint: did you mean `sin`?"]),
    (["grad", "x +* 2", "x=1"], ["error[syntax]", "    ^"]),
    (["grad", "log(x)", "x=-1"], ["log(x) needs x > 0; here x = -1"]),
    (["grad", "x*y + z"], ["no value for x, y, z", "x=1.0 y=1.0 z=1.0"]),
    (["paths", "x", "x=[1,2]"], ["a path's product needs a single number",
                                 "sum(...) or mean(...)", "gad grad prints the Jacobian"]),
    (["grad", "x", "x=abc"], ["the value of x must be a number or an array"]),
    (["grad", "x", "x=[1,"], ["the value of x is not a number or an array", "1 | x=[1,", "  |   ^"]),
    (["grad", "x", "x"], ["expected NAME=VALUE, got `x`"]),
    (["grad", "x", "x=1", "--wrt", "y"], ["`y` is not an input of the program"]),
    (["grad", "[1, 2]", "x=[1, [2]]"], ["error"]),
])
def test_user_errors_exit_2_with_a_message_and_no_traceback(arguments, fragments):
    result = gad(*arguments)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_user_text_with_rich_markup_is_printed_literally():
    result = gad("grad", "[bold]x", "x=1")
    assert result.exit_code == 2
    assert "[bold]x" in result.stderr


def test_unused_value_is_a_warning_on_stderr():
    result = gad("grad", "x*2", "x=1", "y=3", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["gradient"] == {"x": 2.0}
    assert "warning: y is given a value but the program does not use it" in result.stderr


def test_ops_lists_every_table_entry():
    from graphviz_ad.engine.ops import TABLE

    result = gad("ops")
    assert result.exit_code == 0
    for op in TABLE:
        assert op.signature in result.stdout
    assert "[x = max]/ties" in result.stdout  # formulas with brackets are not taken as markup


def test_help_pages():
    assert "grad" in gad("--help").stdout
    assert "--wrt" in gad("grad", "--help").stdout


def test_version():
    from graphviz_ad import __version__

    result = gad("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"graphviz-ad {__version__}"


def test_expression_may_start_with_a_minus_and_typos_in_options_are_named():
    assert json.loads(gad("grad", "-x^2", "x=3", "--json").stdout)["gradient"] == {"x": -6.0}
    result = gad("grad", "x", "x=1", "--wrtt", "x")
    assert result.exit_code == 2 and "no such option: --wrtt" in result.stderr


def test_shell_completion_is_offered_for_gad():
    from typer.testing import CliRunner

    from graphviz_ad.cli import app

    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="gad")
    assert result.exit_code == 0, (result.output, repr(result.exception))
    assert "complete -o default -F _gad_completion gad" in result.stdout
    assert "--install-completion" in CliRunner().invoke(app, ["--help"]).stdout


def strict_json(text: str):
    """JSON as RFC 8259 has it: NaN and Infinity, which Python writes by default, refused."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


OVERFLOWING = ("exp(x) * y", "x=710", "y=nan")


@pytest.mark.parametrize("arguments", [
    ["grad", *OVERFLOWING, "--json"],
    ["grad", "exp(x)", "x=710", "--json"],  # a tolerance of inf
    ["grad", "exp(x)", "x=[710, 1]", "--json", "--mode", "forward"],
    ["eval", *OVERFLOWING, "--json"],
    ["paths", *OVERFLOWING, "--json"],
    ["paths", *OVERFLOWING, "--wrt", "x", "--json"],
    ["trace", *OVERFLOWING, "--json"],
    ["graph", *OVERFLOWING, "--format", "json"],
    ["graph", *OVERFLOWING, "--wrt", "x", "--format", "json"],
])
def test_json_output_is_strict_json_with_inf_and_nan_as_strings(arguments):
    result = gad(*arguments)
    assert result.exit_code == 0, result.stderr
    text = json.dumps(strict_json(result.stdout))
    assert '"inf"' in text or '"nan"' in text


def test_grad_json_writes_an_infinite_tolerance_as_a_string():
    check = strict_json(gad("grad", "exp(x)", "x=710", "--json").stdout)["check"]["x"]
    assert check == {"finite_difference": "nan", "difference": "nan", "tolerance": "inf",
                     "agrees": False, "kinks": []}


def test_the_pages_embedded_json_is_strict(tmp_path):
    page = tmp_path / "page.html"
    result = gad("graph", *OVERFLOWING, "-o", str(page), "--renderer", "graphviz-pure")
    assert result.exit_code == 0, result.stderr
    blocks = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>',
                        page.read_text(), re.DOTALL)
    assert blocks
    assert any('"inf"' in block for block in blocks)
    for block in blocks:
        strict_json(block)


def test_torch_json_is_strict(tmp_path):
    pytest.importorskip("torch", reason="PyTorch is not installed")
    model = tmp_path / "model.py"
    model.write_text("import torch\n\ndef f(x, y):\n    return torch.exp(x) * y\n")
    for extra in ([], ["--paths"], ["--check"]):
        result = gad("torch", str(model), "x=710", "y=2", "--json", *extra)
        assert result.exit_code == (1 if extra == ["--check"] else 0), result.stderr
        assert '"inf"' in json.dumps(strict_json(result.stdout))


def test_a_float_that_escaped_jsonable_is_still_written_as_strict_json():
    data = {"a": [1.0, float("inf"), {"b": (float("nan"), -float("inf"))}], "c": 2}
    assert display.json_text(data) == '{"a": [1.0, "inf", {"b": ["nan", "-inf"]}], "c": 2}'
    assert data["a"][1] == float("inf")  # the caller's data is left as it was


def test_every_picture_and_drawing_option_has_its_command_line_option():
    """A field added to PictureOptions or DrawOptions without an option would silently keep
    its default on the command line; one without a field would fail at the first command."""
    from dataclasses import fields

    from graphviz_ad.command_options import PICTURE_PARAMETERS
    from graphviz_ad.render.formats import DrawOptions, PictureOptions

    declared = {name for name, _, _ in PICTURE_PARAMETERS}
    wanted = {field.name for options in (PictureOptions, DrawOptions) for field in fields(options)}
    assert declared == wanted - {"wrt", "top"}  # each command declares these two itself


def test_gad_torch_draws_without_computing_a_gradient_report_nobody_sees(monkeypatch):
    pytest.importorskip("torch")
    import graphviz_ad.gradients

    def never(*arguments, **options):
        raise AssertionError("a gradient report was computed")

    monkeypatch.setattr(graphviz_ad.gradients, "gradient_report", never)
    result = gad("torch", "samples/torch_seed.py", "x1=1.5", "x2=0.5", "c=1", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph")


def test_an_expression_that_starts_with_a_minus_is_never_read_as_options(tmp_path, monkeypatch):
    # click read `-x + no_grad(x)` as short options, the `o` of no_grad as `-o _grad(x)`.
    monkeypatch.chdir(tmp_path)
    result = gad("eval", "-x + no_grad(x)", "x=2", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["value"] == 0.0
    assert gad("graph", "-x + no_grad(x)", "x=2", "-f", "dot").exit_code == 0
    assert list(tmp_path.iterdir()) == []  # no stray file
    assert json.loads(gad("grad", "-x*3", "x=1", "--json").stdout)["gradient"] == {"x": -3.0}
    refused = gad("grad", "-x + foo(x)", "x=1")
    assert refused.exit_code == 2 and "1 | -x + foo(x)\n  |      ^^^" in refused.stderr
