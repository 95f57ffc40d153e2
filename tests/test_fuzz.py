"""Random text and token sequences through every command: exit 0, 1 or 2, never a traceback.

`make test` runs a short campaign; `make fuzz` the same properties with far more examples.
"""

import time

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from graphviz_ad.cli import app

runner = CliRunner()
SECONDS_PER_RUN = 10.0

FRAGMENTS = ["x", "y", "1", "0", "-1", "2.5", "1e308", "1e-320", "+", "-", "*", "/", "^", "**",
             "@", "(", ")", "[", "]", ",", "=", ";", "\n", " ", "sin", "log", "sqrt", "max",
             "sum", "detach", "no_grad", "pi", "e", "relu", "[1, 2]", "[[1, 2], [3, 4]]", "#",
             "x.y", "'s'", "lambda", "\u0430", "\u200b", "\x00", "==", "9^9^9"]
VALUES = st.lists(st.sampled_from(["x=1", "y=-2", "x=[1,2]", "y=[[1],[2]]", "x=0", "y=nan",
                                   "x=inf", "z=", "=3", "x=[1,", "y=1e400", "x"]), max_size=3)
COMMANDS = [["grad"], ["grad", "--json"], ["grad", "--mode", "forward"], ["paths"],
            ["paths", "--wrt", "x", "--json"], ["trace", "--json"], ["graph", "-o", "-"],
            ["grad", "--strict"]]


def check(command, source, values):
    started = time.perf_counter()
    result = runner.invoke(app, command[:1] + [source] + values + command[1:])
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
