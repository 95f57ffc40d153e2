"""Table cells and widths: user text cleaned and never read as markup; numbers never cut.

Rich narrows the widest column first and ends a cut word with "…", so on a narrow terminal a
gradient shows as `0.23…`. `Fitted` lays a table out for the width it is printed at instead:
no column is narrower than its longest word (a number, an array element); text wraps at
spaces, cell padding goes, and decorative columns are dropped, in that order, until the table
fits. Only where even that cannot fit are long words folded onto the next line, every digit
kept; nothing is ever cut with "…".
"""

from __future__ import annotations

from copy import copy
from dataclasses import replace
from typing import IO, NamedTuple, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from graphviz_ad.text import encodable, printable

UNLIMITED = 1_000_000
TIGHT = (0, 0)  # no padding in cells: the borders alone keep columns apart


def plain_console(stderr: bool = False, file: IO[str] | None = None) -> Console:
    """A console that reads no markup and no emoji codes: a `[` or a `:` printed is the user's."""
    return Console(stderr=stderr, file=file, highlight=False, markup=False, emoji=False)


def cell(text: str, style: str = "") -> Text:
    """Text for a table or a line: cleaned of control characters and never parsed as markup."""
    return Text(printable(text), style=style)


class Fitted:
    """A table laid out for the width and encoding it is printed with."""

    def __init__(self, table: Table, optional: Sequence[str] = ()):
        self.table = table
        self.optional = tuple(optional)  # headers of decorative columns, the first dropped first

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield fit(self.table, self.optional, console, options)


def fit(table: Table, optional: Sequence[str], console: Console,
        options: ConsoleOptions) -> Table:
    """A copy of `table` whose columns fit `options.max_width` without cutting a word.

    In order: the natural widths; text wrapped at spaces (then also in columns that prefer one
    line); the same without cell padding; then each decorative column dropped in turn and all
    that tried again. Last, rich narrows the widest columns and folds what does not fit.
    """
    columns = [_encodable(column, options.encoding) for column in table.columns] \
        if options.ascii_only else table.columns
    sizes = [_size(column, console, options) for column in columns]
    for dropped in range(len(optional) + 1):
        kept = [index for index, column in enumerate(columns)
                if column.header not in optional[:dropped]]
        fitted = _with_columns(table, [columns[index] for index in kept])
        longest = [sizes[index].longest for index in kept]
        for padding in (table.padding, TIGHT):
            fitted.padding = padding
            room = options.max_width - _overhead(fitted, console, options)
            if sum(longest) <= room:
                return fitted
            for minimum in ([sizes[index].lines for index in kept],
                            [sizes[index].words for index in kept]):
                if sum(minimum) <= room:
                    return _with_columns(fitted, [
                        replace(column, width=width, no_wrap=False)
                        for column, width in zip(fitted.columns,
                                                 _spread(minimum, longest, room))])
    return _with_columns(fitted, [replace(column, no_wrap=False) for column in fitted.columns])


def _with_columns(table: Table, columns: list[Column]) -> Table:
    fitted = copy(table)
    fitted.columns = [replace(column, _index=index, overflow="fold")
                      for index, column in enumerate(columns)]
    return fitted


def _encodable(column: Column, encoding: str) -> Column:
    """Glyphs such as → spelled in ASCII before layout, where the output cannot encode them."""
    def spelled(item):
        if isinstance(item, Text):
            respelled = item.copy()
            respelled.plain = encodable(item.plain, encoding)
            return respelled
        return encodable(item, encoding) if isinstance(item, str) else item

    return replace(column, header=spelled(column.header),
                   _cells=[spelled(item) for item in column.cells])


class Size(NamedTuple):
    lines: int    # the narrowest width that keeps lines whole where the column may not wrap
    words: int    # the narrowest width that keeps every word whole
    longest: int  # its longest line


def _size(column: Column, console: Console, options: ConsoleOptions) -> Size:
    wide = options.update_width(UNLIMITED)
    sizes = [Measurement.get(console, wide, item) for item in (column.header, *column.cells)]
    longest = max(size.maximum for size in sizes)
    words = max(size.minimum for size in sizes)
    return Size(longest if column.no_wrap else words, words, longest)


def _overhead(table: Table, console: Console, options: ConsoleOptions) -> int:
    """The width of the borders and the cell padding: a copy with headers alone, measured."""
    headers = _with_columns(table, [replace(column, _cells=[]) for column in table.columns])
    wide = options.update_width(UNLIMITED)
    return Measurement.get(console, wide, headers).maximum - sum(
        Measurement.get(console, wide, column.header).maximum for column in table.columns)


def _spread(minimum: list[int], maximum: list[int], room: int) -> list[int]:
    """Each column its minimum, and the room left shared in proportion to what each still wants."""
    wants = [most - least for least, most in zip(minimum, maximum)]
    spare = room - sum(minimum)
    total = sum(wants)
    widths = [least + spare * want // total for least, want in zip(minimum, wants)]
    for index in sorted(range(len(widths)), key=lambda index: -wants[index]):
        if sum(widths) >= room:
            break
        if widths[index] < maximum[index]:
            widths[index] += 1
    return widths
