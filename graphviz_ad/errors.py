"""Typed errors for user mistakes, each with the source span it points at, and the caret excerpt."""

from __future__ import annotations

from dataclasses import dataclass

USAGE_EXIT = 2
FAILURE_EXIT = 1


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in the source text."""

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

    def with_source(self, source: str) -> GadError:
        if self.source is None:
            self.source = source
        return self


class ParseError(GadError):
    title = "syntax error"


class UnknownNameError(GadError):
    title = "unknown name"


class MissingInputError(GadError):
    title = "missing input"


class ArityError(GadError):
    title = "wrong number of arguments"


class DomainError(GadError):
    title = "outside the domain"


class ShapeError(GadError):
    title = "shape error"


class InputValueError(GadError):
    title = "bad input value"


class LimitError(GadError):
    title = "limit exceeded"


class UsageError(GadError):
    title = "usage error"


class RenderError(GadError):
    """The renderer failed while running: not the user's input, so exit status 1."""

    exit_code = FAILURE_EXIT
    title = "render failed"


def excerpt(source: str, span: Span) -> str:
    """The source line holding `span`, with a caret line under the span.

    Positions count characters, not bytes; a span running past its line is cut at the line end.
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
    shown = line.replace("\t", " ")
    location = f"line {line_number}, column {column + 1}"
    return f"{location}\n  {shown}\n  {' ' * column}^{'~' * (width - 1)}"
