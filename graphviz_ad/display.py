"""The one number formatter (exact or short, scalars and arrays, JSON, counts) and path texts."""

from __future__ import annotations

import decimal
import functools
import json
import math
import os
import re
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

SHORT_DIGITS = 6


def number(value: float, digits: int | None = None) -> str:
    """`repr` precision (round-trips exactly) when digits is None, else `digits` significant."""
    value = float(value) + 0.0  # -0.0 prints as 0.0
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if digits is None:
        return repr(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def shortest(value: float) -> str:
    """The fewest significant digits that read back as exactly `value` (`1`, `-0.5`,
    `1.0000001`): a number in an error message must not look like the boundary it missed."""
    value = float(value) + 0.0
    if math.isnan(value) or math.isinf(value):
        return str(value)
    for digits in range(1, 17):
        text = f"{value:.{digits}g}"
        if float(text) == value:
            return text
    return f"{value:.17g}"


def value(item: Any, digits: int | None = None) -> str:
    """A scalar or an array (as nested brackets), each element through `number`."""
    if np.ndim(item) == 0:
        return number(item, digits)
    return np.array2string(np.asarray(item), separator=", ", max_line_width=72,
                           formatter={"float_kind": lambda element: number(element, digits)})


MAX_SHOWN_ELEMENTS = 12  # an array with more is shown by its shape and range
SHOWN_WHOLE = 4  # a summary shows an array of at most this many elements whole
# A range is found a chunk of this many elements at a time, so that the maximum reads from cache
# what the minimum has just read from memory (256 KB of float32).
RANGE_CHUNK = 1 << 16


# An array past this many elements is reduced in parts on every core, each in a thread (numpy
# lets go of the GIL while it reduces): GPT-2's embedding's range and block sums, 31 ms on one
# core of the 2-core machine, took 19 on two.
PARALLEL_ELEMENTS = 1 << 22


@functools.cache
def _threads():
    from concurrent.futures import ThreadPoolExecutor  # 3 ms to import: only when first used

    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="graphviz-ad")


def in_parallel(function: Callable[[Any], Any], parts: Iterable[Any]) -> list[Any]:
    """`function` of each part, on every core."""
    return list(_threads().map(function, parts))


def array_range(item: Any) -> tuple[Any, Any]:
    """The least and greatest element of a non-empty array (nan if it holds one), in one pass
    over its memory in any layout, as `array.min()` and `array.max()` give them; never writes."""
    array = np.asarray(item)
    if array.size <= RANGE_CHUNK:
        return array.min(), array.max()
    parts = min(os.cpu_count() or 1, array.shape[0])
    if array.size > PARALLEL_ELEMENTS and parts > 1:
        found = in_parallel(_chunked_range, np.array_split(array, parts, axis=0))
        # min and max of what each part found: a nan in one part is the range's nan
        return np.min([least for least, _ in found]), np.max([greatest for _, greatest in found])
    return _chunked_range(array)


def _chunked_range(array: np.ndarray) -> tuple[Any, Any]:
    lows, highs = [], []
    for chunk in np.nditer(array, flags=["external_loop", "buffered"], order="K",
                           buffersize=RANGE_CHUNK):
        lows.append(chunk.min())
        highs.append(chunk.max())
    return np.min(lows), np.max(highs)


class Ranges:
    """Each array's range (`array_range`) found once, however many labels show it: by the
    array's identity, forgotten when the array is (only weak references are held, so a
    temporary is not kept alive, nor its id mistaken for a later array's). For arrays that do
    not change while it is used: a graph's values, adjoints and local derivatives."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[weakref.ref, tuple[Any, Any]]] = {}

    def of(self, array: np.ndarray) -> tuple[Any, Any]:
        key = id(array)
        if key in self._found:
            return self._found[key][1]
        return self.keep(array, array_range(array))

    def keep(self, array: np.ndarray, found: tuple[Any, Any]) -> tuple[Any, Any]:
        """Remember `array`'s range, found elsewhere (torch finds a tensor's on every thread)."""
        key = id(array)
        self._found[key] = (weakref.ref(array, lambda _, found=self._found, key=key:
                                        found.pop(key, None)), found)
        return found


def summary(item: Any, digits: int | None = 4, limit: int = SHOWN_WHOLE,
            ranges: Ranges | None = None) -> str:
    """A number, an array of at most `limit` elements in full on one line, else its shape and
    range (`64×3×3×3 in [-0.19, 0.19]`, `ranged`), the range from `ranges` when given."""
    if np.ndim(item) == 0:
        return number(item, digits)
    if np.size(item) <= limit:
        return value(item, digits).replace("\n", "")
    array = np.asarray(item)
    return ranged(array, *(array_range(array) if ranges is None else ranges.of(array)))


def ranged(array: Any, least: Any, greatest: Any) -> str:
    """An array as its shape and range: `64×3×3×3 in [-0.19, 0.19]`; one whose elements are
    all equal says so (`zeros 1×64×112×112`, `ones 64`, `all 0.5, 3×4`): `in [0, 0]` would
    read as a range that happens to be narrow."""
    if least == greatest:
        named = {0: "zeros", 1: "ones"}.get(least)
        return f"{named} {shape(array)}" if named else f"all {number(least, 3)}, {shape(array)}"
    return f"{shape(array)} in [{number(least, 3)}, {number(greatest, 3)}]"


CARRIED = "+= "  # what starts an edge's label that says what the edge carries


def carried(part: Any, ranges: Ranges | None = None) -> str:
    """What an edge adds to its tail's grad (`+= 3×2 in [-0.2, 0.4], norm 0.61`): a number, a
    small array in full, else its shape, range and size (the 2-norm)."""
    text = summary(part, ranges=ranges)
    if np.size(part) > SHOWN_WHOLE and " in [" in text:
        text += f", norm {number(np.linalg.norm(np.ravel(part)), 3)}"
    return CARRIED + text


# A heatmap has at most this many cells a side: a larger array is drawn as the means of blocks.
HEAT_CELLS = 12


@dataclass(frozen=True)
class Heatmap:
    """An array as a small picture: rows of cells, each a level from -levels to levels (its
    number over the largest |number| of the grid, rounded); a vector as one row of bars."""

    cells: tuple[tuple[int, ...], ...]
    bars: bool
    scale: float  # the largest |number| of the grid: what the end levels stand for


def heatmap(item: Any, levels: int, cells: int = HEAT_CELLS,
            ranges: Ranges | None = None) -> Heatmap | None:
    """`item` as a Heatmap, or None where it would show nothing a text does not: a number, an
    array of one element, or whose elements are all equal or not all finite. Axes of size 1 are
    dropped; a vector is bars; an array of three or more axes is the mean over all but its last
    two (the channels of an image, and its batch); past `cells` a side, block means. The range
    comes from `ranges` when given (a graph's, which its text has found already), so that an
    array of zeros costs nothing more."""
    array = np.asarray(item)
    if array.size < 2 or array.dtype.kind not in "fiub":
        return None
    least, greatest = array_range(array) if ranges is None else ranges.of(array)
    if not (np.isfinite(least) and np.isfinite(greatest)) or least == greatest:
        return None
    array = array.squeeze()
    if array.ndim > 2:
        array = array.mean(axis=tuple(range(array.ndim - 2)), dtype=np.float64)
    grid = _grid_means(np.atleast_2d(array), cells).astype(np.float64, copy=False)
    scale = float(np.max(np.abs(grid)))
    if scale == 0.0 or grid.min() == grid.max():  # the means of channels that cancel
        return None
    rounded = np.rint(grid / scale * levels).astype(int)
    return Heatmap(tuple(tuple(int(level) for level in row) for row in rounded), array.ndim == 1,
                   scale)


def _grid_means(grid: np.ndarray, cells: int) -> np.ndarray:
    """`grid` in at most `cells` × `cells` blocks, each its mean: read in the array's own
    memory order (a transposed view, torch's weight.T, as its transpose)."""
    if grid.flags.f_contiguous and not grid.flags.c_contiguous:
        return _grid_means(grid.T, cells).T
    for axis in (0, 1):
        grid = _block_means(grid, axis, cells)
    return grid


def _block_means(grid: np.ndarray, axis: int, cells: int) -> np.ndarray:
    """`grid` with `axis` cut into `cells` blocks as even as can be, each its mean: a slice and
    a sum per block (numpy's reduceat crawls down a row-major array's first axis, 0.45 s on
    GPT-2's 50,257 × 768 embedding against 0.02 s). A float32 array is summed in float32: a
    heatmap's levels are a fifth of its scale apart, and converting each element to float64
    took 1.7 times as long."""
    size = grid.shape[axis]
    if size <= cells:
        return grid
    dtype = grid.dtype if grid.dtype in (np.float32, np.float64) else np.float64
    bounds = np.arange(cells + 1) * size // cells
    blocks = [grid[start:end] if axis == 0 else grid[:, start:end]
              for start, end in zip(bounds[:-1], bounds[1:])]

    def mean(block: np.ndarray) -> np.ndarray:
        return block.sum(axis=axis, dtype=dtype) / block.shape[axis]

    means = in_parallel(mean, blocks) if grid.size > PARALLEL_ELEMENTS else map(mean, blocks)
    return np.stack(list(means), axis=axis)


def brief(item: Any) -> str:
    """Exact numbers, unless an array is too large to read: then its shape and range."""
    return summary(item, None, MAX_SHOWN_ELEMENTS) if np.size(item) > MAX_SHOWN_ELEMENTS \
        else value(item)


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def superscript(number: int) -> str:
    """`²` for 2: the order of a derivative, d²f/dx²."""
    return str(number).translate(_SUPERSCRIPTS)


def shape(item: Any) -> str:
    return "×".join(str(size) for size in np.shape(item)) or "scalar"


def jsonable(item: Any, max_elements: int | None = None) -> Any:
    """Floats and nested lists; non-finite numbers as the strings "nan", "inf", "-inf". An
    array of more than `max_elements` numbers becomes its shape, least and greatest."""
    if np.ndim(item) == 0:
        element = float(item) + 0.0  # no -0.0
        return element if math.isfinite(element) else str(element)
    array = np.asarray(item)
    if max_elements is not None and array.size > max_elements:
        least, greatest = array_range(array)
        return {"shape": list(array.shape), "min": jsonable(least), "max": jsonable(greatest)}
    return [jsonable(element) for element in array]


def json_text(data: Any, **options: Any) -> str:
    """`data` as strict JSON (RFC 8259 has no NaN or Infinity, and strict parsers refuse them):
    a float that is not finite, wherever it is, is written as `jsonable` writes it."""
    try:
        return json.dumps(data, allow_nan=False, **options)
    except ValueError as error:
        if not str(error).startswith("Out of range float"):
            raise
        return json.dumps(_finite(data), allow_nan=False, **options)


def _finite(data: Any) -> Any:
    """A copy of JSON-ready `data` (dicts, lists, tuples, scalars) with each float that is not
    finite replaced by its `jsonable` string; walked with a stack, not recursion."""
    root = [data]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, float) and not math.isfinite(item):
            container[key] = jsonable(item)
        elif isinstance(item, dict):
            container[key] = copy = dict(item)
            stack.extend((copy, name) for name in copy)
        elif isinstance(item, (list, tuple)):
            container[key] = copy = list(item)
            stack.extend((copy, index) for index in range(len(copy)))
    return root[0]


MAX_CHAIN_ITEMS = 11


def runs(items: list[str], separator: str) -> str:
    """Repeats folded (`1 · 1 · 1` is `1 ×3`) and a long middle cut, so any path fits a row."""
    folded: list[str] = []
    index = 0
    while index < len(items):
        end = index
        while end + 1 < len(items) and items[end + 1] == items[index]:
            end += 1
        repeats = end - index + 1
        if repeats < 3:
            folded.extend(items[index:end + 1])
        else:
            folded.append(f"{items[index]} ×{repeats}")
        index = end + 1
    if len(folded) > MAX_CHAIN_ITEMS:
        hidden = len(folded) - MAX_CHAIN_ITEMS + 1
        half = (MAX_CHAIN_ITEMS - 1) // 2
        folded = folded[:half] + [f"… {hidden} more …"] + folded[len(folded) - half:]
    return separator.join(folded)


def path_chain(graph, path) -> str:
    """`x2 → sin → + → / → +`; where both arguments of a node are one node, the slot is said."""
    parts = [graph.labels[path.start]]
    for edge in path.edges:
        label = graph.labels[edge.consumer]
        if graph.args[edge.consumer].count(edge.producer) > 1:
            label += " (left)" if edge.slot == 0 else " (right)"
        parts.append(label)
    return runs(parts, " → ")


def factor(local: Any) -> str:
    if np.ndim(local) == 0:
        return number(local, SHORT_DIGITS)
    if np.size(local) <= 4:
        return value(local, 4)
    return f"[{shape(local)}]"


# Counts below 10^20 print in full (2^60 = 1,152,921,504,606,846,976); larger ones in short form.
FULL_COUNT_DIGITS = 20
# JSON numbers above 2^53 lose digits in many parsers (JavaScript's among them): larger counts
# are written as strings of decimal digits.
JSON_SAFE_INTEGER = 2 ** 53 - 1
_LOG10_2 = math.log10(2.0)


def count(value: Any) -> str:
    """A path count for tables: exact with commas when short, `2^14286` for a power of two,
    else `≈ 1.235e+4300`; an estimate (anything with a `log2` instead of an int) is `≈ ...`.

    Never converts a huge int to decimal (Python refuses above 4,300 digits, and the
    conversion is quadratic): the short form needs only the leading bits."""
    if not isinstance(value, int):
        return "≈ " + _scientific(value.log2, 4)
    if value < 10 ** FULL_COUNT_DIGITS:
        return f"{value:,}"
    if value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    return "≈ " + _scientific(_log2(value), 4)


def count_json(value: Any) -> int | str:
    """A path count for JSON: an integer up to 2^53 - 1, else its exact decimal digits as a
    string; an estimate as `~1.23457e+30102`."""
    if not isinstance(value, int):
        return "~" + _scientific(value.log2, 6)
    if value <= JSON_SAFE_INTEGER:
        return value
    # decimal converts exactly, in close to linear time, and is not bound by the int digit limit.
    return format(decimal.Decimal(value), "f")


def _log2(value: int) -> float:
    """log2 of a positive int of any size, from its leading 64 bits."""
    shift = max(0, value.bit_length() - 64)
    return math.log2(value >> shift) + shift


def _scientific(log2: float, digits: int) -> str:
    """2^log2 as `1.235e+4300`, with `digits` significant digits, for numbers beyond float."""
    if math.isinf(log2):
        return "inf" if log2 > 0 else "0"
    exponent = math.floor(log2 * _LOG10_2)
    mantissa = 10 ** (log2 * _LOG10_2 - exponent)
    text = f"{mantissa:.{digits - 1}f}"
    if text.startswith("10"):  # 9.9996 rounds up to the next power of ten
        exponent += 1
        text = f"{mantissa / 10:.{digits - 1}f}"
    return f"{text}e{exponent:+d}"


def other_paths(value: Any) -> str:
    return f"the other {count(value)} path" + ("s" if value != 1 else "")


# Source text shown for a node (tooltips, the trace, JSON, messages) and drawn titles are cut in
# the middle past these lengths, so output stays linear in the size of the graph.
MAX_SOURCE_TEXT = 100
MAX_TITLE = 32


def abbreviate(text: str, limit: int = MAX_SOURCE_TEXT, start: int = 0,
               end: int | None = None) -> str:
    """`text[start:end]` when it has at most `limit` characters, else its beginning and end
    around a `…`; only the characters shown are copied, however long the text."""
    end = len(text) if end is None else end
    if end - start <= limit:
        return text[start:end]
    head = (limit - 1) // 2
    return text[start:start + head] + "…" + text[end - (limit - 1 - head):end]


def path_factors(path) -> str:
    return runs([factor(local) for local in path.factors], " · ")


def atom(text: str) -> str:
    """`text` as one operand of a formula: bracketed unless it is a name, a number or one call."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9.][0-9.eE+-]*", text) or (
            text.startswith("(") and _one_bracket_pair(text)):
        return text
    call = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\(.*\))", text, re.DOTALL)
    if call and _one_bracket_pair(call.group(1)):
        return text
    return f"({text})"


def _one_bracket_pair(bracketed: str) -> bool:
    """`(a, b)` yes; `(a) + (b)` no."""
    depth = 0
    for index, char in enumerate(bracketed):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and index < len(bracketed) - 1:
            return False
    return depth == 0


def natural_key(name: str) -> tuple:
    """x2 before x10, and W among the w's rather than before every lower-case name."""
    parts = [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
             for part in re.split(r"(\d+)", name) if part]
    return (parts, name)
