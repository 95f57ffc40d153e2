"""NAME=@file values: .npy, .npz members, .csv, .json and standard input; never a pickle."""

import io
import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from graphviz_ad import reading, value_files
from graphviz_ad.api import load
from graphviz_ad.cli import app
from graphviz_ad.errors import InputValueError, LimitError, UsageError
from graphviz_ad.value_files import read_value
from tests.conftest import gad

runner = CliRunner()


def test_npy_npz_csv_and_json_give_float64_arrays(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    np.savez(tmp_path / "w.npz", W1=np.eye(2), b=np.ones(2))
    np.savez(tmp_path / "one.npz", only=np.array([1.5, 2.5]))
    (tmp_path / "m.csv").write_text("# a header, as a comment\n1, 2\n\n3,4.5\n")
    (tmp_path / "col.csv").write_text("0\n1\n1\n")
    (tmp_path / "row.csv").write_text("1,2,3\n")
    (tmp_path / "w.json").write_text(json.dumps({"W": [[1, 2], [3, 4]], "s": 2.5}))
    (tmp_path / "v.json").write_text("[1, NaN, -Infinity]")
    for reference, expected in [
        ("a.npy", [[0, 1, 2], [3, 4, 5]]), ("w.npz:W1", [[1, 0], [0, 1]]),
        ("one.npz", [1.5, 2.5]), ("m.csv", [[1, 2], [3, 4.5]]), ("col.csv", [[0], [1], [1]]),
        ("row.csv", [1, 2, 3]), ("w.json:W", [[1, 2], [3, 4]]), ("w.json:s", 2.5),
    ]:
        value = read_value(str(tmp_path / reference))
        assert np.asarray(value).dtype == np.float64
        np.testing.assert_array_equal(value, expected)
    assert type(read_value(str(tmp_path / "w.json:s"))) is np.float64
    np.testing.assert_array_equal(read_value(str(tmp_path / "v.json")), [1, np.nan, -np.inf])


@pytest.mark.parametrize("name, content, reference, error, fragment", [
    ("bad.csv", "1,2\n3,abc\n", "bad.csv", InputValueError,
     "bad.csv, line 2, column 2: `abc` is not a number"),
    ("empty.csv", "1,,2\n", "empty.csv", InputValueError,
     "empty.csv, line 1, column 2: an empty cell is not a number"),
    ("ragged.csv", "1,2\n3\n", "ragged.csv", InputValueError,
     "ragged.csv, line 2: 1 cell, where the rows before have 2"),
    ("nothing.csv", "# just a comment\n", "nothing.csv", InputValueError,
     "nothing.csv has no numbers"),
    ("ragged.json", "[[1, 2], [3]]", "ragged.json", InputValueError,
     "ragged.json: element [1] has 1 element where 2 elements were expected"),
    ("text.json", '[1, "two"]', "text.json", InputValueError,
     'text.json: element [1] is "two", not a number'),
    ("bool.json", "[true]", "bool.json", InputValueError,
     "bool.json: element [0] is true, not a number"),
    ("bools.json", "[1, true, false]", "bools.json", InputValueError,
     "bools.json: element [1] is true, not a number"),
    ("nested.json", '[[1, 2], [3, false], [true, "x"]]', "nested.json", InputValueError,
     "nested.json: element [1][1] is false, not a number"),
    ("first.json", '[[1, "x"], [2]]', "first.json", InputValueError,
     'first.json: element [0][1] is "x", not a number'),
    ("broken.json", "[1, 2", "broken.json", InputValueError, "broken.json is not JSON"),
    ("deep.json", "[" * 40 + "1" + "]" * 40, "deep.json", LimitError,
     "deep.json nests deeper than 32 levels"),
    ("keys.json", '{"a": 1, "b": 2}', "keys.json", InputValueError,
     "keys.json holds several arrays (a, b): say which"),
    ("keys.json", '{"a": 1, "b": 2}', "keys.json:c", InputValueError,
     "keys.json has no array `c` (it has: a, b)"),
    ("list.json", "[1]", "list.json:a", InputValueError,
     "list.json holds one array, not an object with `a`"),
    ("x.txt", "1", "x.txt", InputValueError, "`.txt` is not one of .npy, .npz, .csv, .json"),
    ("x.npy", "not numpy", "x.npy", InputValueError, "x.npy is not a .npy file numpy can read"),
    ("x.npz", "not a zip", "x.npz", InputValueError, "x.npz is not a .npz file numpy can read"),
])
def test_a_bad_value_file_is_a_typed_error_that_says_where(tmp_path, name, content, reference,
                                                           error, fragment):
    (tmp_path / name).write_text(content)
    with pytest.raises(error) as caught:
        read_value(str(tmp_path / reference))
    assert fragment in caught.value.reason


def test_object_arrays_are_refused_without_unpickling(tmp_path, monkeypatch):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    monkeypatch.setattr("pickle.loads", lambda *_: pytest.fail("unpickled"))
    with pytest.raises(InputValueError, match="holds object values, not numbers"):
        read_value(str(tmp_path / "o.npy"))


def test_complex_and_text_arrays_are_refused(tmp_path):
    np.save(tmp_path / "c.npy", np.array([1j]))
    np.save(tmp_path / "s.npy", np.array(["a"]))
    with pytest.raises(InputValueError, match="holds complex numbers"):
        read_value(str(tmp_path / "c.npy"))
    with pytest.raises(InputValueError, match="holds <U1 values, not numbers"):
        read_value(str(tmp_path / "s.npy"))


def _npy_header(shape) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return stream.getvalue()


def test_a_header_promising_a_huge_array_is_refused_before_any_is_made(tmp_path):
    (tmp_path / "huge.npy").write_bytes(_npy_header((10**6, 10**6)))
    with pytest.raises(LimitError, match="has 1,000,000,000,000 elements; the limit is "
                                         "10,000,000"):
        read_value(str(tmp_path / "huge.npy"))


def test_a_header_promising_more_than_the_file_holds_is_refused(tmp_path):
    (tmp_path / "short.npy").write_bytes(_npy_header((100,)) + b"\0" * 80)
    with pytest.raises(InputValueError, match="is cut short: its header promises 100 elements"):
        read_value(str(tmp_path / "short.npy"))


def test_files_past_the_byte_limit_are_refused(tmp_path, monkeypatch):
    np.save(tmp_path / "a.npy", np.zeros(100))
    np.savez_compressed(tmp_path / "a.npz", a=np.zeros(100))  # a small archive, a large member
    monkeypatch.setattr(reading, "MAX_VALUE_FILE_BYTES", 500)
    with pytest.raises(LimitError, match="a.npy has 928 bytes; the limit is 500"):
        read_value(str(tmp_path / "a.npy"))
    with pytest.raises(LimitError, match="a.npz:a has 928 bytes; the limit is 500"):
        read_value(str(tmp_path / "a.npz:a"))


def test_tables_past_the_element_limit_are_refused(tmp_path, monkeypatch):
    (tmp_path / "m.csv").write_text("1,2\n3,4\n")
    (tmp_path / "m.json").write_text("[[1, 2], [3, 4]]")
    monkeypatch.setattr(value_files, "MAX_ELEMENTS", 3)
    for name in ("m.csv", "m.json"):
        with pytest.raises(LimitError, match="has 4 elements; the limit is 3"):
            read_value(str(tmp_path / name))


def test_a_value_file_feeds_the_program_and_errors_point_at_the_argument(tmp_path):
    np.save(tmp_path / "X.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    analysis = load("data X; sum(X @ w)", [f"X=@{tmp_path / 'X.npy'}", "w=[1, 1]"])
    assert analysis.value == 10
    assert analysis.gradient("w").tolist() == [4, 6]
    with pytest.raises(UsageError) as caught:
        load("sum(X)", [f"X=@{tmp_path / 'missing.npy'}"])
    assert caught.value.reason.startswith("cannot read ")
    assert caught.value.source == f"X=@{tmp_path / 'missing.npy'}"
    assert caught.value.span.start == 2


def test_standard_input_gives_one_value_told_by_its_content(monkeypatch):
    for data, expected in [(b"[[1, 2]]", [[1, 2]]), (b"1,2\n3,4\n", [[1, 2], [3, 4]])]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        np.testing.assert_array_equal(read_value("-"), expected)
    stream = io.BytesIO()
    np.save(stream, np.array([7.0]))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stream.getvalue())))
    np.testing.assert_array_equal(read_value("-"), [7.0])


def test_standard_input_is_read_once():
    result = runner.invoke(app, ["grad", "-", "X=@-"], input="sum(X)")
    assert result.exit_code == 2
    assert "standard input can be read once: the program and X cannot all come from it" \
        in result.stderr
    result = runner.invoke(app, ["grad", "sum(X*Y)", "X=@-", "Y=@-"], input="[1]")
    assert "standard input can be read once: X and Y cannot all come from it" in result.stderr


def test_the_command_line_reads_a_csv_batch(tmp_path):
    (tmp_path / "y.csv").write_text("0, 1\n")  # one line: a vector
    result = runner.invoke(app, ["grad", "data y; cross_entropy(Z, y)", "Z=[[1, 2], [0, 0]]",
                                 f"y=@{tmp_path / 'y.csv'}", "--json"])
    assert result.exit_code == 0, result.stderr
    gradient = np.array(json.loads(result.stdout)["gradient"]["Z"])
    softmax = np.exp([1, 2]) / np.exp([1, 2]).sum()
    np.testing.assert_allclose(gradient, [(softmax - [1, 0]) / 2, [0.25, -0.25]])


@pytest.mark.parametrize("shape, error, fragment", [
    ((-1,), InputValueError,
     "is damaged: its header gives it the shape (-1,), with a negative dimension"),
    ((2, -3), InputValueError, "the shape (2, -3), with a negative dimension"),
    ((-2, -3), InputValueError, "the shape (-2, -3), with a negative dimension"),
    ((0, 10**12), LimitError, ("has the shape (0, 1000000000000): no elements, but its other "
                               "dimensions make 1,000,000,000,000; the limit is 10,000,000")),
    ((0, 10**4000, 10**4000), LimitError, ("the shape (0, ≈ 1.000e+4000, ≈ 1.000e+4000): no "
                                           "elements, but its other dimensions make "
                                           "≈ 1.000e+8000")),
    ((10**20, 10**20), LimitError, "has ≈ 1.000e+40 elements; the limit is 10,000,000"),
])
def test_a_header_with_an_impossible_shape_is_refused_before_any_array_is_made(
        tmp_path, shape, error, fragment):
    (tmp_path / "odd.npy").write_bytes(_npy_header(shape))
    with pytest.raises(error) as caught:
        read_value(str(tmp_path / "odd.npy"))
    assert fragment in caught.value.reason


def test_an_empty_array_within_the_bound_is_read_and_a_negative_shape_exits_2(tmp_path):
    (tmp_path / "empty.npy").write_bytes(_npy_header((0, 10**7)))
    assert read_value(str(tmp_path / "empty.npy")).shape == (0, 10**7)
    (tmp_path / "negative.npy").write_bytes(_npy_header((-1,)))
    result = runner.invoke(app, ["grad", "sum(x)", f"x=@{tmp_path / 'negative.npy'}"])
    assert result.exit_code == 2
    assert "with a negative dimension" in result.stderr and "internal" not in result.stderr


def test_a_header_shape_numpy_accepts_is_read_as_it_says(tmp_path):
    """`(True,)` passes numpy's header check and is one element: read from the header we
    checked, not parsed again."""
    header = _npy_header((1,))
    padded = header.replace(b"(1,), }", b"(True,), }").replace(b"       \n", b"    \n")
    assert len(padded) == len(header)
    (tmp_path / "true.npy").write_bytes(padded + np.float64(2.5).tobytes())
    np.testing.assert_array_equal(read_value(str(tmp_path / "true.npy")), [2.5])


def test_fortran_order_and_big_endian_arrays_keep_their_values(tmp_path):
    matrix = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.save(tmp_path / "f.npy", matrix)
    np.save(tmp_path / "b.npy", np.arange(4, dtype=">i4"))
    np.testing.assert_array_equal(read_value(str(tmp_path / "f.npy")), matrix)
    np.testing.assert_array_equal(read_value(str(tmp_path / "b.npy")), [0, 1, 2, 3])


@pytest.mark.parametrize("reference", ["a\0b.npy", "a\0b.json:W", "dir\0/x.csv"])
def test_a_value_file_path_with_a_nul_is_a_usage_error(tmp_path, reference):
    with pytest.raises(UsageError, match="holds a NUL character, which no file name can"):
        load("sum(x)", [f"x=@{tmp_path / reference}"])


def test_a_csv_keeps_its_shape_where_dropping_an_axis_would_change_a_number(tmp_path):
    """Lines are rows: a column saved from a (3, 1) array is (3, 1) again, so it broadcasts
    against a row as the array did; one line is a vector and one cell a number, which broadcast
    as (1, m) and (1, 1) would."""
    column = np.array([[1.0], [2.0], [3.0]])
    np.savetxt(tmp_path / "column.csv", column, delimiter=",")
    np.savetxt(tmp_path / "row.csv", column.T, delimiter=",")
    (tmp_path / "cell.csv").write_text("# one number\n4\n")
    assert read_value(str(tmp_path / "column.csv")).shape == (3, 1)
    assert read_value(str(tmp_path / "row.csv")).shape == (3,)
    assert read_value(str(tmp_path / "cell.csv")) == 4.0
    analysis = load("sum(c * [10, 20])", [f"c=@{tmp_path / 'column.csv'}"])
    assert analysis.value == float(np.sum(column * [10, 20])) == 180.0
    assert analysis.gradient("c").tolist() == [[30.0], [30.0], [30.0]]
    # A column read as a vector would give 1 + 4 + 9 = 14 here.
    assert load("sum(r * c)", [f"r=@{tmp_path / 'row.csv'}", f"c=@{tmp_path / 'column.csv'}"]
                ).value == float(np.sum(column.T * column)) == 36.0


@pytest.mark.parametrize("reference, reason, hint", [
    ("@{folder}/values", "the format is told by the suffix, and it has none of .npy, .npz, "
                         ".csv, .json", "save arrays with numpy.save"),
    ("@{folder}/a.npy:W", "a .npy file holds one array, with no members to name after `:`",
     "name a member only in .npz and .json files: @weights.npz:W"),
])
def test_a_value_file_s_suffix_is_named_as_written(tmp_path, reference, reason, hint):
    result = gad("grad", "sum(x*x)", "x=" + reference.format(folder=tmp_path))
    assert result.exit_code == 2
    assert reason in " ".join(result.stderr.split())
    assert f"hint: {hint}" in result.stderr
