"""Hostile and odd input through the command line: a clean message, the right exit status."""

import time
from pathlib import Path

import pytest

from tests.conftest import gad

ROOT = Path(__file__).resolve().parent.parent




@pytest.mark.parametrize("source, column, fragment", [
    ("x.real", 2, "attribute access"),
    ("x.T", 2, "attribute access is not part of the language"),
    ("x'", 2, "`'` is not an operator here"),
    ("'x' * 2", 1, "strings are not part of the language"),
    ("lambda x: x", 1, "`lambda` is a Python keyword"),
    ("[x for x in y]", 4, "`for` is a Python keyword"),
    ("max(x, key=y)", 8, "`max` has no parameter `key`"),
    ("import os", 1, "`import` is a Python keyword"),
    ("__import__('os')", 12, "strings are not part of the language"),
    ("if x: y", 1, "`if` is a Python keyword"),
    ("while x: y", 1, "`while` is a Python keyword"),
    ("x < y", 3, "comparisons are not part of the language"),
    ("x != y", 3, "comparisons are not part of the language"),
    ("True and x", 1, "`True` is a Python keyword"),
    ("x or y", 3, "`or` is a Python keyword"),
    ("2 + 3j", 5, "complex numbers are not supported"),
    ("ｘ + 1", 1, "non-ASCII character U+FF58 (FULLWIDTH LATIN SMALL LETTER X)"),
    ("𝑥 + 1", 1, "non-ASCII character U+1D465 (MATHEMATICAL ITALIC SMALL X)"),
    ("x + \u0443", 5, "non-ASCII character U+0443 (CYRILLIC SMALL LETTER U)"),
    ("x\u200b + 1", 2, "non-ASCII character U+200B (ZERO WIDTH SPACE)"),
    ("x + \u202ey", 5, "non-ASCII character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("x +\x00 y", 4, "unexpected character U+0000"),
])
def test_python_and_look_alikes_are_refused_at_their_position(source, column, fragment):
    result = gad("grad", source, "x=1", "y=2")
    assert result.exit_code == 2, result.stdout
    assert fragment in result.stderr
    assert f"column {column}\n" in result.stderr
    assert "Traceback" not in result.stderr


def test_huge_exponent_finishes_at_once_with_a_warning():
    started = time.perf_counter()
    result = gad("grad", "9^9^9 + x", "x=1")
    assert time.perf_counter() - started < 2
    assert result.exit_code == 0
    assert "`9^9^9` overflows to inf" in result.stderr


@pytest.mark.parametrize("source, fragment", [
    ("1" * 5000 + " + x", "a number of 5,000 characters; the limit is 400"),
    ("(" * 5000 + "x" + ")" * 5000, "nests deeper than 200 levels"),
    ("-" * 1000 + "x", "nests deeper than 200 levels"),
    ("2^" * 1000 + "x", "nests deeper than 200 levels"),
])
def test_resource_limits_are_named(source, fragment):
    result = gad("grad", source, "x=1")
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_array_size_limit():
    result = gad("grad", "sum(a * b)", "a=[" + ",".join(["[1]"] * 4000) + "]",
                 "b=[" + ",".join(["1"] * 4000) + "]")
    assert result.exit_code == 2
    assert "would make an array of 16,000,000 elements; the limit is 10,000,000" in result.stderr


def test_deepest_nesting_within_the_limit_works_through_the_cli():
    depth = 199
    result = gad("grad", "(" * depth + "x" + ")" * depth, "x=1", "--json", "--no-check")
    assert result.exit_code == 0, result.stderr


def test_whitespace_crlf_and_long_flat_sums_work(tmp_path):
    assert gad("grad", "  \n x * 2 \r\n ", "x=1", "--no-check").exit_code == 0
    assert gad("grad", " + ".join(["x"] * 5000), "x=1", "--no-check").exit_code == 0


def test_an_expression_too_long_to_be_a_file_name_is_an_expression():
    result = gad("grad", "+".join(["x"] * 300), "x=1", "--json", "--no-check")
    assert result.exit_code == 0, result.stderr


def test_input_file_decode_error_names_the_byte(tmp_path):
    path = tmp_path / "bad.gad"
    path.write_bytes(b"x = 1\ny = x \xff 2")
    result = gad("grad", path)
    assert result.exit_code == 2
    assert "byte 12 (0xff) cannot be decoded" in result.stderr


def test_input_file_size_limit(tmp_path):
    path = tmp_path / "big.gad"
    path.write_text("x" * 5_000_001)
    result = gad("grad", path)
    assert result.exit_code == 2 and "the limit is 5,000,000" in result.stderr


def test_strict_turns_warnings_into_exit_1():
    result = gad("grad", "sqrt(x)", "x=0", "--strict")
    assert result.exit_code == 1
    assert "the local derivative of `sqrt(x)` with respect to `x` is inf" in result.stderr


def test_nan_and_inf_values_are_accepted_with_warnings():
    result = gad("grad", "x * 2", "x=nan", "--json", "--no-check")
    assert result.exit_code == 0
    assert '"value": "nan"' in result.stdout and "input x is nan" in result.stderr
