"""Random text, token sequences and bytes through every command: exit 0, 1 or 2, never a
traceback, never a numpy warning.

`make test` runs a short campaign; `make fuzz` the same properties with far more examples.
"""

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
