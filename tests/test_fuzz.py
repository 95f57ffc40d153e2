"""Random text, token sequences and bytes through every command: exit 0, 1 or 2, never a
traceback, never a numpy warning.

`make test` runs a short campaign; `make fuzz` the same properties with far more examples.
"""

import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from graphviz_ad.cli import app

runner = CliRunner()
SECONDS_PER_RUN = 10.0
# A numpy warning is an exception here, so it shows as an internal error and fails the check.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

FRAGMENTS = ["x", "y", "1", "0", "-1", "2.5", "1e308", "1e-320", "+", "-", "*", "/", "^", "**",
             "@", "(", ")", "[", "]", ",", "=", ";", "\n", " ", "sin", "log", "sqrt", "max",
             "sum", "detach", "no_grad", "pi", "e", "relu", "[1, 2]", "[[1, 2], [3, 4]]", "#",
             "x.y", "'s'", "lambda", "\u0430", "\u200b", "\x00", "==", "9^9^9"]
VALUES = st.lists(st.sampled_from(["x=1", "y=-2", "x=[1,2]", "y=[[1],[2]]", "x=0", "y=nan",
                                   "x=inf", "z=", "=3", "x=[1,", "y=1e400", "x"]), max_size=3)
COMMANDS = [["grad"], ["grad", "--json"], ["grad", "--mode", "forward"], ["paths"],
            ["paths", "--wrt", "x", "--json"], ["trace", "--json"], ["graph", "-o", "-"],
            ["grad", "--strict"]]


def check(command, source, values, input=None):
    started = time.perf_counter()
    result = runner.invoke(app, command[:1] + [source] + values + command[1:], input=input)
    elapsed = time.perf_counter() - started
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2), (command, source, values, output)
    assert "Traceback (most recent call last)" not in output, output
    assert "internal error (a bug in graphviz-ad)" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert elapsed < SECONDS_PER_RUN, (command, source, elapsed)


@given(st.sampled_from(COMMANDS), st.text(max_size=40), VALUES)
def test_random_text_ends_cleanly(command, source, values):
    check(command, source or " ", values)


@given(st.sampled_from(COMMANDS), st.lists(st.sampled_from(FRAGMENTS), max_size=20), VALUES)
def test_random_token_sequences_end_cleanly(command, fragments, values):
    check(command, "".join(fragments) or " ", values)


# Bytes as they arrive in a program file, on standard input or on the command line: invalid
# UTF-8, control characters, NUL, a byte order mark, Graphviz escapes, comments, nan and inf.
BYTE_PIECES = st.one_of(
    st.binary(max_size=4),
    st.sampled_from([fragment.encode() for fragment in FRAGMENTS] + [
        b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x1b[31m", b"\x00", b"\r\n", b"\t",
        b"# ", b"\\N", b'\\"', b"[nan, inf]", b"\xc3\xa9", b"\xe2\x86\x92", b"[bold]", b":smile:"]))
PROGRAM_BYTES = st.lists(BYTE_PIECES, max_size=20).map(b"".join)
VALUE_BYTES = st.lists(st.tuples(st.sampled_from([b"x=", b"y=", b""]), PROGRAM_BYTES)
                       .map(b"".join), max_size=3)


def argument(data: bytes) -> str:
    """What Python makes of a command-line argument: a byte that is not UTF-8 becomes a lone
    surrogate (PEP 383)."""
    return os.fsdecode(data)


@given(st.sampled_from(COMMANDS), PROGRAM_BYTES, VALUE_BYTES)
def test_random_bytes_on_standard_input_end_cleanly(command, data, values):
    check(command, "-", [argument(value) for value in values], input=data)


@given(st.sampled_from(COMMANDS), PROGRAM_BYTES, VALUE_BYTES)
def test_random_bytes_on_the_command_line_end_cleanly(command, program, values):
    check(command, argument(program) or " ", [argument(value) for value in values])


@given(st.sampled_from(COMMANDS), PROGRAM_BYTES, VALUE_BYTES)
def test_random_bytes_in_a_program_file_end_cleanly(command, data, values):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "program.gad"
        path.write_bytes(data)
        check(command, str(path), [argument(value) for value in values])


def strict_json(text: str):
    """JSON as the standard defines it: no NaN, Infinity or -Infinity."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# Every option of every command, with values a user might type, right or wrong.
OPTION_VALUES = {
    "--wrt": ["x", "y", "zz", "", "x[0]"], "--top": ["1", "3", "0", "-1", "1e9", "x"],
    "--fold": ["1", "2", "x", ""], "--fd-method": ["central", "forward", "complex", "bogus"],
    "--fd-step": ["1e-6", "0", "-1", "1e-30", "nan", "inf", "1e300"],
    "--rtol": ["1e-5", "0", "-1", "nan"], "--atol": ["1e-5", "inf"],
    "--mode": ["auto", "reverse", "forward", "sideways"],
    "--edge-labels": ["value", "formula", "both", "none"],
    "--view": ["forward", "backward", "up"], "--rankdir": ["LR", "TB", "XX"],
    "--dpi": ["72", "0", "100000", "-3"], "--timeout": ["0.05", "5", "nan", "1e9"],
    "--max-nodes": ["1", "5", "150", "0"], "--max-boxes": ["1", "3", "0", "-2"],
    "--depth": ["0", "1", "-1", "99"], "--expand": ["x", "line 1", "", "*"],
    "--renderer": ["auto", "dot", "graphviz-pure", "paint"], "--format": ["dot", "json", "gif"],
}
FLAGS = ["--json", "--strict", "--check", "--no-check", "--all", "--only-paths", "--compact",
         "--expand-all"]
OUTPUTS = ["-", "picture.dot", "picture.json", "picture.gv", "picture.txt", "", "folder/",
           "missing/picture.dot"]
OPTION = st.one_of(
    st.sampled_from(sorted(OPTION_VALUES)).flatmap(
        lambda name: st.sampled_from(OPTION_VALUES[name]).map(lambda value: [name, value])),
    st.sampled_from(FLAGS).map(lambda flag: [flag]),
    st.sampled_from(OUTPUTS).map(lambda name: ["-o", name]))
PROGRAMS = ["x*y + sin(x)", "sum(x*x)", "y = x; y = y*2 + 1; y", "x/y", "log(x) + sqrt(y)",
            "detach(x)*y", "W @ x", "softmax(x)", "maximum(x, y)"]
VALUE_CHOICES = ["x=1.5", "y=0.5", "x=[1,2]", "y=[3,4]", "W=[[1,2],[3,4]]", "x=0", "y=-1",
                 "x=inf", "y=nan", "x=1e308"]


@given(st.sampled_from(["grad", "eval", "paths", "trace", "graph", "explain"]),
       st.sampled_from(PROGRAMS), st.lists(st.sampled_from(VALUE_CHOICES), max_size=3),
       st.lists(OPTION, max_size=4))
def test_random_options_end_cleanly_and_json_is_strict(command, program, values, options):
    with tempfile.TemporaryDirectory() as folder:
        given = [part for option in options for part in option]
        arguments = [str(Path(folder) / part) if previous == "-o" and part not in ("-", "")
                     else part for previous, part in zip(["", *given], given)]
        (Path(folder) / "folder").mkdir()
        started = time.perf_counter()
        result = runner.invoke(app, [command, program, *values, *arguments])
        output = result.stdout + result.stderr
        assert result.exit_code in (0, 1, 2), (command, program, values, arguments, output)
        assert "Traceback (most recent call last)" not in output, output
        assert "internal error (a bug in graphviz-ad)" not in output, output
        assert time.perf_counter() - started < SECONDS_PER_RUN
        if result.exit_code == 0 and "--json" in arguments and "-o" not in arguments:
            strict_json(result.stdout)
        for written in Path(folder).glob("*.json"):
            strict_json(written.read_text())


# Value files as they arrive: a .npy whose header lies, CSV and JSON with anything in them.
NPY_HEADERS = st.sampled_from([
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1000000000000), }",
    "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
    "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
    "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }",
    "{'descr': '<f8', 'shape': (2,), }", "not a dict",
    "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }"])


def npy_file(header: str, body: bytes) -> bytes:
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + body


VALUE_FILES = st.one_of(
    st.tuples(st.just(".npy"), st.builds(npy_file, NPY_HEADERS, st.binary(max_size=48))),
    st.tuples(st.just(".npy"), st.binary(max_size=64)),
    st.tuples(st.just(".csv"), PROGRAM_BYTES),
    st.tuples(st.just(".csv"), st.lists(st.lists(st.sampled_from(
        ["1", "-2.5", "nan", "inf", "", "x", "1e999", " 3 ", "true"]), max_size=4).map(
        ",".join), max_size=4).map("\n".join).map(str.encode)),
    st.tuples(st.just(".json"), PROGRAM_BYTES),
    st.tuples(st.just(".json"), st.recursive(
        st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=3)),
        lambda inner: st.lists(inner, max_size=3), max_leaves=8).map(
        lambda data: json.dumps(data).encode())),
    st.tuples(st.just(".npz"), st.binary(max_size=64)))


@given(st.sampled_from([["grad"], ["eval", "--json"], ["grad", "--mode", "forward", "--json"],
                        ["paths", "--wrt", "x"]]),
       st.sampled_from(["sum(x*x)", "x", "mean(x) + maximum(x, 0)", "W @ x"]), VALUE_FILES)
def test_random_value_files_end_cleanly(command, program, value_file):
    suffix, data = value_file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"value{suffix}"
        path.write_bytes(data)
        result = runner.invoke(app, [command[0], program, f"x=@{path}", "W=[[1,2],[3,4]]",
                                     *command[1:]])
        output = result.stdout + result.stderr
        assert result.exit_code in (0, 1, 2), (command, program, data, output)
        assert "Traceback (most recent call last)" not in output, output
        assert "internal error (a bug in graphviz-ad)" not in output, output
        if result.exit_code == 0 and "--json" in command:
            strict_json(result.stdout)
