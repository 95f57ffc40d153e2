"""Input values from files (NAME=@file): .npy, .npz members, .csv and .json, as float64 arrays.

Nothing is unpickled (`allow_pickle` is never on): a .npy header is read and checked (a numeric
dtype, at most MAX_ELEMENTS elements, that many bytes present) before any array is made, and a
.npz member is read the same way, with its size bounded. Every problem is a typed error that
names the file and, for a table, the line and column.
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from graphviz_ad import display, reading
from graphviz_ad.engine.build import MAX_ARRAY_DEPTH
from graphviz_ad.engine.graph import MAX_ELEMENTS
from graphviz_ad.errors import InputValueError, LimitError

NPY, NPZ, CSV, JSON = ".npy", ".npz", ".csv", ".json"
FORMATS = (NPY, NPZ, CSV, JSON)
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
# Only these files have members: `@weights.npz:W1`, `@weights.json:W1`.
_MEMBER = re.compile(r"(?P<path>.+\.(?:npz|json)):(?P<key>[^:/\\]+)", re.IGNORECASE)


def read_value(reference: str) -> Any:
    """The value `@reference` names: `file.npy`, `file.npz:key`, `file.csv`, `file.json`,
    `file.json:key`, or `-` for standard input (its format told by its first bytes)."""
    path, key = split_reference(reference)
    if reading.is_standard_input(path):
        data = reading.read_standard_input_bytes(reading.MAX_VALUE_FILE_BYTES)
        return _parse(data, _sniff(data), key, reading.STANDARD_INPUT)
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise _unknown_format(path, suffix)
    data = reading.read_file(Path(path), path, reading.MAX_VALUE_FILE_BYTES)
    return _parse(data, suffix, key, path)


def _unknown_format(path: str, suffix: str) -> InputValueError:
    """What a value file's suffix is not: a format, or a format whose members can be named."""
    named, _, _ = suffix.partition(":")
    if named in FORMATS:  # `batch.npy:W`
        return InputValueError(f"@{path}: a {named} file holds one array, with no members to "
                               "name after `:`", None,
                               "name a member only in .npz and .json files: @weights.npz:W")
    found = f"`{Path(path).suffix}` is not one of" if suffix else "it has none of"
    return InputValueError(f"@{path}: the format is told by the suffix, and {found} "
                           f"{', '.join(FORMATS)}", None,
                           "save arrays with numpy.save, or write them as CSV or JSON")


def split_reference(reference: str) -> tuple[str, str | None]:
    """`weights.npz:W1` -> (`weights.npz`, `W1`); `batch.npy` -> (`batch.npy`, None)."""
    match = _MEMBER.fullmatch(reference)
    return (match.group("path"), match.group("key")) if match else (reference, None)


def _sniff(data: bytes) -> str:
    if data.startswith(NPY_MAGIC):
        return NPY
    if data.startswith(ZIP_MAGIC):
        return NPZ
    return JSON if data.lstrip()[:1] in (b"[", b"{") else CSV


def _parse(data: bytes, suffix: str, key: str | None, shown: str) -> Any:
    if key is not None and suffix not in (NPZ, JSON):
        raise InputValueError(f"{shown} is a {suffix} file, which has no members like `{key}`")
    if suffix == NPY:
        value = _npy(data, shown)
    elif suffix == NPZ:
        value = _npz(data, key, shown)
    elif suffix == CSV:
        value = _csv(reading.decode(data, shown), shown)
    else:
        value = _json(reading.decode(data, shown), key, shown)
    return value[()] if value.ndim == 0 else value


def _npy(data: bytes, shown: str) -> np.ndarray:
    """An array from .npy bytes, its header checked before the array is made."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"version {version[0]}.{version[1]} is not read here")
    except ValueError as error:
        raise InputValueError(f"{shown} is not a .npy file numpy can read: {error}") from None
    _check_dtype(dtype, shown)
    shape = tuple(int(dimension) for dimension in shape)  # `(True,)` is a valid header
    _check_size(shape, shown)
    count = math.prod(shape)
    if len(data) - stream.tell() < count * dtype.itemsize:
        raise InputValueError(f"{shown} is cut short: its header promises {count:,} elements of "
                              f"{dtype.itemsize} bytes")
    # Made from the header already checked, not parsed a second time by np.load.
    flat = np.frombuffer(data, dtype, count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran else "C").astype(np.float64)


def _check_dtype(dtype: np.dtype, shown: str) -> None:
    if dtype.kind == "c":
        raise InputValueError(f"{shown} holds complex numbers; values are real numbers")
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise InputValueError(f"{shown} holds {dtype} values, not numbers", None,
                              "only numeric arrays are read (nothing is unpickled)")


def _check_size(shape: tuple[int, ...], shown: str) -> None:
    """At most MAX_ARRAY_DEPTH dimensions, none negative, and at most MAX_ELEMENTS elements
    counting each 0 as 1: an empty array's other dimensions are bounded as a full one's, so no
    operation on it (a sum along its empty axis, a transpose times itself) makes more."""
    if len(shape) > MAX_ARRAY_DEPTH:
        raise LimitError(f"{shown} has {len(shape)} dimensions; the limit is {MAX_ARRAY_DEPTH}",
                         None, f"reshape it to {MAX_ARRAY_DEPTH} dimensions or fewer before "
                         "saving it")
    if any(dimension < 0 for dimension in shape):
        raise InputValueError(f"{shown} is damaged: its header gives it the shape "
                              f"{_shape_text(shape)}, with a negative dimension", None,
                              "save the array again with numpy.save")
    count = math.prod(shape)
    spread = math.prod(max(dimension, 1) for dimension in shape)
    if count > MAX_ELEMENTS:
        raise LimitError(f"{shown} has {display.count(count)} elements; the limit is "
                         f"{MAX_ELEMENTS:,}", None,
                         "give a smaller array: a batch of its rows (X[:1000]) or a slice of it")
    if spread > MAX_ELEMENTS:
        raise LimitError(f"{shown} has the shape {_shape_text(shape)}: no elements, but its "
                         f"other dimensions make {display.count(spread)}; the limit is "
                         f"{MAX_ELEMENTS:,}", None,
                         "an empty array's dimensions are bounded as a full one's (gad docs errors)")


def _shape_text(shape: tuple[int, ...]) -> str:
    """`(0, 1000000000000)`; a dimension too long to print in full as `≈ 1.000e+5000`."""
    parts = [str(dimension) if abs(dimension) < 10 ** display.FULL_COUNT_DIGITS
             else ("-" if dimension < 0 else "") + display.count(abs(dimension))
             for dimension in shape]
    return f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"


def _npz(data: bytes, key: str | None, shown: str) -> np.ndarray:
    """One member of a .npz archive (`file.npz:key`; the key may be left out when there is one)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {name[:-len(NPY)]: name for name in archive.namelist() if name.endswith(NPY)}
    except zipfile.BadZipFile as error:
        raise InputValueError(f"{shown} is not a .npz file numpy can read: {error}") from None
    name = _member(members, key, shown)
    info = archive.getinfo(members[name])
    if info.file_size > reading.MAX_VALUE_FILE_BYTES:
        raise LimitError(f"{shown}:{name} has {info.file_size:,} bytes; the limit is "
                         f"{reading.MAX_VALUE_FILE_BYTES:,}", None,
                         f"save a smaller array in it, such as a batch of its rows: one value "
                         f"holds at most {MAX_ELEMENTS:,} elements")
    try:
        with archive.open(info) as member:
            content = member.read(reading.MAX_VALUE_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError) as error:  # a damaged or locked member
        raise InputValueError(f"{shown}:{name} cannot be read: {error}") from None
    if len(content) > reading.MAX_VALUE_FILE_BYTES:
        raise LimitError(f"{shown}:{name} has more than {reading.MAX_VALUE_FILE_BYTES:,} bytes",
                         None, f"save a smaller array in it, such as a batch of its rows: one "
                         f"value holds at most {MAX_ELEMENTS:,} elements")
    return _npy(content, f"{shown}:{name}")


def _member(members: dict, key: str | None, shown: str) -> str:
    """The member a key names; with no key, the only member there is."""
    from graphviz_ad.engine.build import suggest

    listed = ", ".join(members) or "none"
    if key is None:
        if len(members) != 1:
            raise InputValueError(f"{shown} holds several arrays ({listed}): say which",
                                  None, f"write @{shown}:{next(iter(members), 'key')}")
        return next(iter(members))
    if key not in members:
        raise InputValueError(f"{shown} has no array `{key}` (it has: {listed})", None,
                              suggest(key, members))
    return key


def _csv(text: str, shown: str) -> np.ndarray:
    """Comma-separated numbers, one row per line (blank lines and # comments skipped): lines
    of m cells are a matrix of that many rows and m columns, one column included, (3, 1) for
    three lines of one number. One line is a vector and one cell a number: they broadcast as
    (1, m) and (1, 1) do, so no number changes, where a column read as a vector would."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file: said below, not warned about
            table = np.loadtxt(io.StringIO(text), delimiter=",", comments="#",
                               dtype=np.float64, ndmin=2)
        if table.size:
            _check_size(table.shape, shown)
            if len(table) == 1:
                return table.reshape(-1) if table.shape[1] > 1 else table.reshape(())
            return table
    except ValueError:
        pass  # numpy's message has no file name: find the first bad cell ourselves
    width = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("#")[0].split(",")
        for column, cell in enumerate(cells, start=1):
            try:
                float(cell)
            except ValueError:
                what = "an empty cell" if not cell.strip() else f"`{cell.strip()[:20]}`"
                raise InputValueError(f"{shown}, line {number}, column {column}: {what} is not "
                                      "a number", None,
                                      "cells are numbers separated by commas; remove a header "
                                      "row, or start it with #") from None
        if width is not None and len(cells) != width:
            raise InputValueError(f"{shown}, line {number}: {_count(len(cells), 'cell')}, where "
                                  f"the rows before have {width}")
        width = len(cells)
    raise InputValueError(f"{shown} has no numbers" if width is None else
                          f"{shown} cannot be read as a table of numbers")


def _json(text: str, key: str | None, shown: str) -> np.ndarray:
    """A number or nested lists of numbers; an object of them with `file.json:key`."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise LimitError(f"{shown} nests deeper than {MAX_ARRAY_DEPTH} levels", None,
                         f"reshape the array to {MAX_ARRAY_DEPTH} dimensions or fewer before "
                         "writing it") from None
    except ValueError as error:
        raise InputValueError(f"{shown} is not JSON: {error}") from None
    if isinstance(value, dict):
        value = value[_member(value, key, shown)]
    elif key is not None:
        raise InputValueError(f"{shown} holds one array, not an object with `{key}`")
    return np.array(_rectangular(value, shown), dtype=np.float64)


def _rectangular(value: Any, shown: str) -> Any:
    """`value` when it is a number or equally long nested lists of numbers; else the first
    element that is not, by its position (`[2][0]`)."""
    shape: list[int] = []
    probe = value
    while isinstance(probe, list):
        if len(shape) >= MAX_ARRAY_DEPTH:
            raise LimitError(f"{shown} nests deeper than {MAX_ARRAY_DEPTH} levels", None,
                             f"reshape the array to {MAX_ARRAY_DEPTH} dimensions or fewer "
                             "before writing it")
        shape.append(len(probe))
        probe = probe[0] if probe else None
    _check_size(tuple(shape), shown)
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        depth = where.count("[")
        if depth < len(shape):
            if not isinstance(item, list) or len(item) != shape[depth]:
                found = _count(len(item), "element") if isinstance(item, list) \
                    else "a number"
                raise InputValueError(f"{shown}: element {where or 'at the top'} has {found} "
                                      f"where {_count(shape[depth], 'element')} were expected",
                                      None, "every row of an array has the same length")
            # Reversed, so that the first element comes off the stack first: a fault is named
            # by the first place it occurs, as the file is read.
            stack.extend((item[index], f"{where}[{index}]")
                         for index in range(len(item) - 1, -1, -1))
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise InputValueError(f"{shown}: element {where or 'at the top'} is "
                                  f"{json.dumps(item)[:30]}, not a number")
    return value


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("s" if number != 1 else "")
