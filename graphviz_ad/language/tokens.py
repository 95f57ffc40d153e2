"""A total tokenizer: every character becomes part of a token or a ParseError at its position."""

from __future__ import annotations

import keyword
import re
import unicodedata
from typing import NamedTuple

from graphviz_ad.errors import LimitError, ParseError, Span

MAX_SOURCE_CHARS = 5_000_000
MAX_NUMBER_CHARS = 400

NUMBER = "number"
NAME = "name"
OPERATOR = "operator"
SEPARATOR = "separator"
END = "end"


class Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r]+|\#[^\n\ud800-\udfff]*)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator>\*\*|[-+*/^@()\[\],=;])
  | (?P<newline>\n)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")", "]"}

# Characters that mean the user typed something from a bigger language, with what to say about it.
_FOREIGN = {
    "'": ("strings are not part of the language", "values are numbers or arrays like [1, 2]"),
    '"': ("strings are not part of the language", "values are numbers or arrays like [1, 2]"),
    "<": ("comparisons are not part of the language", None),
    ">": ("comparisons are not part of the language", None),
    "!": ("comparisons and negation are not part of the language", None),
    "%": ("`%` is not an operator here", "the operators are + - * / ^ ** @"),
    "&": ("boolean operators are not part of the language", None),
    "|": ("boolean operators are not part of the language", None),
    "~": ("`~` is not an operator here", "the operators are + - * / ^ ** @"),
    "{": ("braces are not part of the language", "arrays are written [1, 2]"),
    "}": ("braces are not part of the language", "arrays are written [1, 2]"),
    ":": ("`:` is not part of the language", "write one statement per line, or separate them with ;"),
    ".": ("attribute access is not part of the language", "functions are called by name: sin(x)"),
}


def _foreign_character(source: str, position: int) -> ParseError:
    char = source[position]
    span = Span(position, position + 1)
    if char in _FOREIGN:
        reason, hint = _FOREIGN[char]
        if char == "!" and source.startswith("=", position + 1):
            reason = "comparisons are not part of the language"
        return ParseError(reason, span, hint)
    code = f"U+{ord(char):04X}"
    if "\udc80" <= char <= "\udcff":  # how Python passes on a byte that is not UTF-8 (PEP 383)
        return ParseError(f"byte 0x{ord(char) - 0xdc00:02x} is not UTF-8 text", span,
                          "give the program as UTF-8 text")
    if ord(char) > 127:
        name = unicodedata.name(char, "unnamed character")
        return ParseError(f"non-ASCII character {code} ({name})", span,
                          "names use only the ASCII letters A-Z, a-z, digits and _")
    return ParseError(f"unexpected character {code}" if not char.isprintable()
                      else f"unexpected character `{char}`", span,
                      "the language has numbers, names, + - * / ^ ** @, calls and [arrays]")


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens; newlines outside brackets become `;` separators."""
    if len(source) > MAX_SOURCE_CHARS:
        raise LimitError(f"the program has {len(source):,} characters; the limit is "
                         f"{MAX_SOURCE_CHARS:,}", Span(0, 0))
    tokens: list[Token] = []
    open_brackets: list[Token] = []
    length = len(source)
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        if kind == "space":
            continue
        text = match.group()
        position, end = match.span()
        if kind == "name":
            if keyword.iskeyword(text):
                raise ParseError(f"`{text}` is a Python keyword, not part of this language",
                                 Span(position, end),
                                 "the language has expressions, assignments and function calls")
            tokens.append(Token(NAME, text, position, end))
        elif kind == "operator":
            if text == "=" and source.startswith("==", position):
                raise ParseError("comparisons are not part of the language",
                                 Span(position, position + 2))
            if text in _OPENERS:
                open_brackets.append(Token(OPERATOR, text, position, end))
            elif text in _CLOSERS:
                if not open_brackets or _OPENERS[open_brackets[-1].text] != text:
                    raise ParseError(f"`{text}` closes nothing" if not open_brackets else
                                     f"`{text}` does not match `{open_brackets[-1].text}`",
                                     Span(position, end))
                open_brackets.pop()
            tokens.append(Token(SEPARATOR if text == ";" else OPERATOR, text, position, end))
        elif kind == "number":
            if end < length and (source[end].isalnum() or source[end] in "_."):
                bad = Span(position, end + 1)
                if source[end] in "jJ":
                    raise ParseError("complex numbers are not supported", bad)
                if source[end] == ".":
                    raise ParseError("a number has at most one decimal point", bad)
                raise ParseError(f"a number cannot run into `{source[end]}`", bad,
                                 f"write {text}*{source[end]} for a product")
            if len(text) > MAX_NUMBER_CHARS:
                raise LimitError(f"a number of {len(text):,} characters; the limit is "
                                 f"{MAX_NUMBER_CHARS}", Span(position, end))
            tokens.append(Token(NUMBER, text, position, end))
        elif kind == "newline":
            if not open_brackets:
                tokens.append(Token(SEPARATOR, "\n", position, end))
        else:
            raise _foreign_character(source, position)
    if open_brackets:
        opener = open_brackets[-1]
        raise ParseError(f"`{opener.text}` is never closed", opener.span,
                         f"add `{_OPENERS[opener.text]}`")
    tokens.append(Token(END, "", length, length))
    return tokens
