"""Typed errors for user mistakes, each with the source span it points at, and the caret excerpt."""

from __future__ import annotations

from typing import NamedTuple

from graphviz_ad.text import printable

USAGE_EXIT = 2
FAILURE_EXIT = 1


class Span(NamedTuple):
    """Half-open character range [start, end) in the source text (a tuple: the parser makes
    one per node, and a tuple is made several times faster than a frozen dataclass)."""

    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(min(self.start, other.start), max(self.end, other.end))


class GadError(Exception):
    """A problem the user can fix: reason, optional span into `source`, optional hint."""

    exit_code = USAGE_EXIT
    title = "error"

    def __init__(self, reason: str, span: Span | None = None, hint: str | None = None,
                 source: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.span = span
        self.hint = hint
        self.source = source
        self.origin: str | None = None  # the file the source was read from, if any

    def with_source(self, source: str) -> GadError:
        if self.source is None:
            self.source = source
        return self


class ParseError(GadError):
    """The text is not in the language: a character, a token or a construct it does not have."""

    title = "syntax"


class UnknownNameError(GadError):
    """A function name that the op table does not have, or a --wrt that is not an input."""

    title = "name"


class MissingInputError(GadError):
    """Free names with no value; every such name is listed."""

    title = "missing input"


class ArityError(GadError):
    """A function called with the wrong number of arguments."""

    title = "arity"


class DomainError(GadError):
    """A value outside a function's domain, shown in the program's own terms."""

    title = "domain"


class ShapeError(GadError):
    """Shapes that do not broadcast or multiply, or an output that is not one number."""

    title = "shape"


class InputValueError(GadError):
    """A command-line value that is not NAME=number or NAME=array."""

    title = "value"


class LimitError(GadError):
    """A documented limit was hit: the error names it.

    Its hint says what to do instead; where a limit has no better one, the hint points at the
    table of every limit, which no raise relies on (tests/test_messages.py)."""

    title = "limit"
    TABLE_HINT = "`gad docs errors` (Limits and budgets) lists every limit and what it bounds"

    def __init__(self, reason: str, span: Span | None = None, hint: str | None = None,
                 source: str | None = None):
        super().__init__(reason, span, hint or self.TABLE_HINT, source)


class UsageError(GadError):
    """A valid text used wrongly: a function as a value, an assignment to a constant, a bad
    output file or option."""

    title = "usage"


class NumericError(GadError):
    """inf or nan under --strict: the input was valid but the arithmetic failed."""

    exit_code = FAILURE_EXIT
    title = "numeric"


class CheckError(GadError):
    """--check: a gradient disagreed with its finite difference (the table shows which)."""

    exit_code = FAILURE_EXIT
    title = "check"


class WriteError(GadError):
    """The output file could not be written (permissions, a full disk, a special folder)."""

    exit_code = FAILURE_EXIT
    title = "write"


class RenderError(GadError):
    """The renderer is missing, failed, hung, or printed nothing or garbage."""

    exit_code = FAILURE_EXIT
    title = "render"


EXCERPT_WIDTH = 76


def excerpt(source: str, span: Span, origin: str | None = None) -> str:
    """The source line holding `span`, numbered, with carets under the span (rustc's layout).

    Positions count characters, not bytes; a span running past its line is cut at the line end,
    and a long line is shown as a window around the fault.
    """
    start = max(0, min(span.start, len(source)))
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    if line_end == -1:
        line_end = len(source)
    line = source[line_start:line_end].rstrip("\r")
    line_number = source.count("\n", 0, line_start) + 1
    column = start - line_start
    width = max(1, min(span.end, line_start + len(line)) - start)
    shown, offset = line, column
    if len(line) > EXCERPT_WIDTH:
        left = max(0, min(column - EXCERPT_WIDTH // 3, len(line) - EXCERPT_WIDTH))
        shown = line[left:left + EXCERPT_WIDTH]
        offset = column - left
        width = min(width, EXCERPT_WIDTH - offset)
        if left > 0:
            shown = "…" + shown[1:]
        if left + EXCERPT_WIDTH < len(line):
            shown = shown[:-1] + "…"
    shown = printable(shown)  # one character for one, so the carets stay under the fault
    gutter = " " * len(str(line_number))
    where = f"{printable(origin)}, " if origin else ""
    return (f"{gutter}--> {where}line {line_number}, column {column + 1}\n"
            f"{gutter} |\n"
            f"{line_number} | {shown}\n"
            f"{gutter} | {' ' * offset}{'^' * width}")
