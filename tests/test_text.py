"""What we show: values never read as markup, control characters replaced, Graphviz escapes
literal, any terminal encoding, numbers never cut, nan and inf in arrays, no numpy warnings."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rich.cells import cell_len

from graphviz_ad.errors import Span, excerpt
from graphviz_ad.text import encodable, printable
from tests.conftest import gad

ROOT = Path(__file__).resolve().parent.parent
HAS_DOT = shutil.which("dot") is not None
RENDERERS = ["graphviz-pure", pytest.param("dot", marks=[
    pytest.mark.system_dot, pytest.mark.skipif(not HAS_DOT, reason="needs a system `dot`")])]
REPLACED = "\ufffd"
# A comment inside brackets is part of the literal's text, so it reaches every view.
HOSTILE = "sum([1, # \x1b[31mRED\x07 \\N\\G\\\"\\\\\\l [bold]b[/] :smile:\x7f\r\n 2]) * x"




def gad_process(*arguments, input=None, env=None):
    """The real command in a child process: real argv bytes and a real output encoding."""
    return subprocess.run([sys.executable, "-m", "graphviz_ad", *arguments], input=input,
                          capture_output=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "COLUMNS": "100", **(env or {})})


def test_printable_replaces_each_unsafe_character_by_one():
    assert printable("a\x1b[2Jb\x00c\x7f\x9b\u202e\udcff") == "a\ufffd[2Jb\ufffdc" + REPLACED * 4
    assert printable("tab\there\r\nline é ✓") == "tab here \nline é ✓"
    assert printable("plain text") == "plain text"


def test_encodable_spells_glyphs_in_ascii_only_where_needed():
    assert encodable("x → y · 2 ✓ ✗ 2×3 ᵀ … \ufffd é", "ascii") == \
        "x -> y * 2 ok no 2x3 ^T ... ? ?"
    assert encodable("1 · 2 ✓", "latin-1") == "1 · 2 ok"
    assert encodable("x → y", "utf-8") == "x → y"


@pytest.mark.parametrize("arguments, shown", [
    (["grad", "sum(x)", "x=[1e999, 1]", "--no-check"], "[inf, 1.0]"),
    (["grad", "sum(exp(v))", "v=[1000, 1]", "--no-check"], "[inf, 2.718281828459045]"),
    (["grad", "sum(x)", "x=[nan, 1]", "--no-check"], "[nan, 1.0]"),
    (["trace", "sum(x)", "x=[nan, 1]"], "[nan, 1]"),
    (["paths", "sum(x*x)", "x=[1e999, 1]", "--wrt", "x"], "[inf, 1]"),
    (["paths", "sum(x*x)", "x=[nan, 1]"], "[nan, 2.0]"),
])
def test_values_in_brackets_are_shown_not_read_as_markup(arguments, shown):
    result = gad(*arguments)
    assert result.exit_code == 0, result.stderr
    assert shown in result.stdout


def test_a_comment_with_markup_escapes_and_emoji_codes_shows_as_typed_in_trace():
    # Wide enough for the source column to keep `[bold]b[/] :smile:` on one line (the step
    # column shows the literal's label, cut short at display.MAX_TITLE).
    result = gad("trace", HOSTILE, "x=1", columns=120)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\x7f" not in result.stdout
    assert f"sum([1, # {REPLACED}[31mRED{REPLACED} \\N\\G\\\"\\\\\\l" in result.stdout
    assert f"[bold]b[/] :smile:{REPLACED}" in result.stdout


def test_dot_on_standard_output_has_no_control_characters():
    result = gad("graph", HOSTILE, "x=1", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert not set(result.stdout) & ({chr(code) for code in range(32)} - {"\n", "\t"} | {"\x7f"})
    assert f"{REPLACED}[31mRED" in result.stdout


@pytest.mark.parametrize("renderer", RENDERERS)
def test_svg_parses_and_shows_graphviz_escapes_as_typed(tmp_path, renderer):
    output = tmp_path / "picture.svg"
    result = gad("graph", HOSTILE, "x=1", "-o", str(output), "--renderer", renderer)
    assert result.exit_code == 0, result.stderr
    tree = ElementTree.parse(output)  # control characters would make it unparsable XML
    link = "{http://www.w3.org/1999/xlink}title"
    tooltips = [element.attrib[link] for element in tree.iter() if link in element.attrib]
    typed = f"{REPLACED}[31mRED{REPLACED} \\N\\G\\\"\\\\\\l [bold]b[/]"
    assert any(tooltip.startswith(f"sum([1, # {typed}") for tooltip in tooltips), tooltips
    texts = [element.text or "" for element in tree.iter() if element.tag.endswith("text")]
    # The constant's plain label, cut in the middle past display.MAX_TITLE characters.
    label = f"[1, # {REPLACED}[31mRED{REPLACED}…/] :smile:{REPLACED}"
    assert any(text.startswith(label) for text in texts), texts


def test_error_messages_and_echoed_arguments_replace_control_characters():
    result = gad("grad", "x", "x\x1b]0;title\x07")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert f"expected NAME=VALUE, got `x{REPLACED}]0;title{REPLACED}`" in result.stderr


def test_excerpt_keeps_carets_under_the_fault_past_a_control_character():
    source = "x # \x1b[2J\x00\n+* 1"
    assert excerpt(source, Span(11, 12)).splitlines()[2:] == ["2 | +* 1", "  |  ^"]
    shown = excerpt("\x1b\x00 +* 1", Span(4, 5)).splitlines()
    assert shown[2:] == [f"1 | {REPLACED}{REPLACED} +* 1", "  |     ^"]


def test_ascii_terminal_gets_ascii_glyphs_and_exit_0():
    environment = {"PYTHONIOENCODING": "ascii"}
    grad = gad_process("grad", "samples/seed.gad", env=environment)
    assert grad.returncode == 0, grad.stderr
    assert b"| x1    |   1.5 | 0.23283374747559749 |    0.232833747469 | 6.3e-12 ok |" \
        in grad.stdout
    assert b"h = 1e-6*max(1, |x|)" in grad.stdout
    paths = gad_process("paths", "samples/seed.gad", "--wrt", "x2", env=environment)
    assert paths.returncode == 0 and b"x2 -> sin -> + -> / -> +" in paths.stdout
    ops = gad_process("ops", env=environment)
    assert ops.returncode == 0, ops.stderr
    assert b"d/dx = y^T" in ops.stdout and b"Traceback" not in ops.stderr


def test_standard_input_that_is_not_utf8_is_a_usage_error():
    result = gad_process("grad", "-", "x=1", input=b"x \xff",
                         env={"PYTHONIOENCODING": "utf-8:strict"})
    assert result.returncode == 2
    assert b"error[usage]: standard input is not UTF-8 text: byte 2 (0xff) cannot be decoded" \
        in result.stderr


@pytest.mark.parametrize("program, column", [(b"x\xff", 2), (b"sum([1, # \xff\n 2]) * x", 11)])
def test_a_command_line_byte_that_is_not_utf8_is_refused_where_it_is(program, column):
    result = gad_process(b"graph", program, b"x=1")
    assert result.returncode == 2, result.stderr
    stderr = result.stderr.decode()
    assert "error[syntax]: byte 0xff is not UTF-8 text" in stderr
    assert f"line 1, column {column}\n" in stderr
    assert "internal error" not in stderr


def test_an_output_name_that_is_not_utf8_is_written_and_named_with_a_replacement(tmp_path):
    output = os.fsencode(tmp_path) + b"/picture\xff.dot"
    result = gad_process(b"graph", b"x*2", b"x=1", b"-o", output)
    assert result.returncode == 0, result.stderr
    assert Path(os.fsdecode(output)).read_text().startswith("digraph")
    assert f"wrote {tmp_path}/picture{REPLACED}.dot".encode() in result.stderr


COMMANDS = [("grad", "samples/seed.gad"), ("grad", "samples/network.gad"),
            ("paths", "samples/seed.gad", "--wrt", "x2"), ("paths", "samples/network.gad"),
            ("paths", "samples/network.gad", "--wrt", "W1"), ("trace", "samples/seed.gad"),
            ("explain", "samples/seed.gad"), ("ops",)]


@pytest.mark.parametrize("columns", [20, 40, 80])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command))
def test_tables_fit_the_terminal_and_never_cut_a_value(command, columns):
    result = gad(*command, columns=columns)
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= columns
    if "samples/seed.gad" in command and command[0] != "trace" and columns >= 40:
        assert "1.6165488003791766" in result.stdout  # whole, on one line


def test_a_narrow_terminal_drops_decorative_columns_before_cutting_numbers():
    wide, narrow = gad("grad", "samples/seed.gad"), gad("grad", "samples/seed.gad", columns=40)
    assert "finite difference" in wide.stdout and "0.232833747469" in wide.stdout
    assert "0.232833747469" not in narrow.stdout
    assert "│x1   │0.23283374747559749│ 6.3e-12 ✓│" in narrow.stdout
    wide_paths = gad("paths", "samples/seed.gad", "--wrt", "x2")
    narrow_paths = gad("paths", "samples/seed.gad", "--wrt", "x2", columns=40)
    assert "share" in wide_paths.stdout and "share" not in narrow_paths.stdout
    assert "-0.05961284871" in narrow_paths.stdout


@pytest.mark.parametrize("value, expected", [
    ("[nan, inf]", ["nan", "inf"]),
    ("[-inf, NaN, +Inf]", ["-inf", "nan", "inf"]),
    ("[[inf], [1]]", [["inf"], [1.0]]),
    ("-inf", "-inf"),
    ("nan", "nan"),
])
def test_command_line_arrays_accept_nan_and_inf_like_scalars(value, expected):
    program = "x" if value in ("-inf", "nan") else "sum(x * 1)"
    result = gad("trace", program, f"x={value}", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["forward"][0]["value"] == expected


def test_in_a_program_nan_and_inf_stay_names():
    assert json.loads(gad("grad", "nan * 2", "nan=3", "--json").stdout)["gradient"] == \
        {"nan": 2.0}
    result = gad("grad", "x + inf", "x=1")
    assert result.exit_code == 2 and "no value for inf" in result.stderr


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("arguments", [
    ["paths", "sum(x*x)", "x=[1e308, -1e308]", "y=[nan, 1]"],
    ["trace", "sum(x*x)", "x=[1e308, -1e308]"],
    ["trace", "sum(tanh(x)*y)", "x=[inf, 1]", "y=[inf, 1]"],
    ["trace", "sum(x*1e308*1e308)", "x=nan"],
    ["trace", "sum(no_grad(x*y)*x)", "x=inf", "y=[1e308, -1e308]"],
    ["paths", "sum(x*x*x*y)", "x=[nan, 1]", "y=[1e308, -1e308]", "--wrt", "x"],
    ["graph", "sum(x*x*x*y)", "x=[nan, 1]", "y=[1e308, -1e308]", "--wrt", "x", "-o", "-"],
    ["explain", "sum(exp(v)) + sum(v*v)", "v=[1000, nan]"],
])
def test_non_finite_values_raise_no_numpy_warning(arguments):
    result = gad(*arguments)
    assert result.exit_code == 0, result.stderr
    assert "internal error" not in result.stderr and "RuntimeWarning" not in result.stderr


def test_numpy_warnings_never_reach_the_commands_standard_error():
    result = gad_process("trace", "sum(tanh(x)*y) + sum(x*1e308*1e308)", "x=[inf, 1]",
                         "y=[inf, 1]")
    assert result.returncode == 0, result.stderr
    assert b"RuntimeWarning" not in result.stderr and b"encountered" not in result.stderr


def test_each_warning_is_said_once():
    result = gad("grad", "exp(v) + exp(v) + sqrt(x) + sqrt(x)", "v=1000", "x=0", "--no-check")
    assert result.exit_code == 0
    assert result.stderr.count("warning: `exp(v)` overflows to inf") == 1
    assert result.stderr.count("the local derivative of `sqrt(x)` with respect to `x`") == 1
