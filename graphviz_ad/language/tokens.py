"""A total tokenizer: every character becomes part of a token or a ParseError at its position.

Fast on the common case, careful on the rest. One `findall` splits the whole text into tokens,
each with the spaces and comments before it, and their positions are running sums of lengths:
no Python work per token. Whole-list checks (every character covered, no Python keyword, no
over-long token, `==`, brackets that match) then tell whether anything is wrong; if so, a walk
through the text token by token finds the first fault and raises it, so every message and
position is the walk's.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from itertools import accumulate
from operator import add, itemgetter, sub

from graphviz_ad.errors import LimitError, ParseError, Span

MAX_SOURCE_CHARS = 5_000_000
MAX_NUMBER_CHARS = 400

NUMBER = "number"
NAME = "name"
OPERATOR = "operator"
SEPARATOR = "separator"
END = "end"

_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_OPERATOR = r"\*\*|[-+*/^@()\[\],=;:]"
# A comment runs to the end of its line; a byte that is not UTF-8 (a lone surrogate, PEP 383)
# ends it, to be reported.
_COMMENT = r"\#[^\n\ud800-\udfff]*"
_SPACE = rf"[ \t\r]+|{_COMMENT}"

# The fast split: (spaces and comments, token) pairs, the last token the end (""). A comment
# runs to the end of its line and is never backtracked into. A number that runs into a letter
# or a point (`2x`, `1.2.3`, `1j`) matches nothing: the text is not covered, and the walk says why.
_SPLIT = re.compile(rf"((?:[ \t\r]+|{_COMMENT}(?![^\n]))*)"
                    rf"({_NUMBER}(?![\w.])|{_NAME}|{_OPERATOR}|\n|\Z)")
# Brackets and newlines outside comments, in order: for matching, and for newlines inside them.
_MARKS = re.compile(rf"{_COMMENT}|([()\[\]\n])")

# The careful walk, one token at a time.
_TOKEN = re.compile(
    rf"""
    (?P<space>{_SPACE})
  | (?P<number>{_NUMBER})
  | (?P<name>{_NAME})
  | (?P<operator>{_OPERATOR})
  | (?P<newline>\n)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")", "]"}
_KEYWORDS = frozenset(keyword.kwlist)
_NUMBER_HEADS = frozenset("0123456789.")

# Characters that mean the user typed something from a bigger language, with what to say about it.
_FOREIGN = {
    "'": ("strings are not part of the language", "values are numbers or arrays like [1, 2]"),
    '"': ("strings are not part of the language", "values are numbers or arrays like [1, 2]"),
    "<": ("comparisons are not part of the language", None),
    ">": ("comparisons are not part of the language", None),
    "!": ("comparisons and negation are not part of the language", None),
    "%": ("`%` is not an operator here", "the operators are + - * / ^ ** @"),
    "&": ("boolean operators are not part of the language", None),
    "|": ("boolean operators are not part of the language", "|x| is written abs(x)"),
    "~": ("`~` is not an operator here", "the operators are + - * / ^ ** @"),
    "{": ("braces are not part of the language", "arrays are written [1, 2]"),
    "}": ("braces are not part of the language", "arrays are written [1, 2]"),
    ".": ("attribute access is not part of the language", "functions are called by name: sin(x)"),
}
# What to write instead of an attribute from PyTorch or numpy: `x.T`, `x.data`.
_ATTRIBUTES = {"T": "transpose is written transpose(x)", "mT": "transpose is written transpose(x)",
               "data": "x.data is written detach(x)", "detach": "x.detach() is written detach(x)",
               "sum": "x.sum(1) is written sum(x, 1)", "mean": "x.mean(1) is written mean(x, 1)",
               "reshape": "x.reshape(2, 3) is written reshape(x, [2, 3])"}

# Modules whose functions a user may call as in Python (`np.exp(x)`); here a function is called
# by its own name.
_MODULES = frozenset({"np", "numpy", "torch", "math", "F"})
_LONGEST_MODULE = max(map(len, _MODULES))
_NAME_BEFORE = re.compile(r"[A-Za-z_]\w*\Z")
_ATTRIBUTE_CHAIN = re.compile(r"(?:\.[A-Za-z_]\w*)+")
_SHOWN_CALL = 40  # characters of a call shown in the hint, at most


def _module_call(source: str, dot: int) -> str | None:
    """The hint for `np.exp(x)`, `torch.nn.functional.relu(z)`: the call without the module
    (`exp(x)`), when the name before the dot at `dot` is such a module; else None."""
    # One character more than the longest module name: `xnp.exp` shows as `xnp`, not `np`.
    module = _NAME_BEFORE.search(source, max(0, dot - _LONGEST_MODULE - 1), dot)
    chain = _ATTRIBUTE_CHAIN.match(source, dot)
    if not module or module.group() not in _MODULES or not chain \
            or (module.start() and source[module.start() - 1] == "."):
        return None
    name = chain.group().rsplit(".", 1)[1]
    if not source.startswith("(", chain.end()):
        return f"names have no module here: write {name}, without `{module.group()}.`"
    call, depth = name + "(...)", 0
    for end in range(chain.end(), min(len(source), chain.end() + _SHOWN_CALL)):
        depth += {"(": 1, ")": -1}.get(source[end], 0)
        if depth == 0:
            call = name + source[chain.end():end + 1]
            break
    return (f"functions are called by their own names, without `{module.group()}.`: write "
            f"{call} (gad ops lists them)")


def kind_of(text: str) -> str:
    """A token's kind, told by its text: the end is the empty text."""
    if not text:
        return END
    if text[0] in _NUMBER_HEADS:
        return NUMBER
    if text[0].isalpha() or text[0] == "_":
        return NAME
    return SEPARATOR if text in (";", "\n") else OPERATOR


class Tokens:
    """The tokens as parallel lists: texts, start and end positions; the last is the end ("")."""

    __slots__ = ("texts", "starts", "ends")

    def __init__(self, texts: list[str], starts: list[int], ends: list[int]):
        self.texts = texts
        self.starts = starts
        self.ends = ends

    def __len__(self) -> int:
        return len(self.texts)

    def kind(self, index: int) -> str:
        return kind_of(self.texts[index])


def tokenize(source: str) -> Tokens:
    """Split `source` into tokens; newlines outside brackets become `;`-like separators."""
    if len(source) > MAX_SOURCE_CHARS:
        raise LimitError(f"the program has {len(source):,} characters; the limit is "
                         f"{MAX_SOURCE_CHARS:,}", Span(0, 0),
                         "give large arrays as value files, X=@data.npy, rather than as text")
    pairs = _SPLIT.findall(source)
    if len(pairs) > 1 and not pairs[-2][1]:
        pairs.pop()  # the end matched after trailing spaces, then once more, empty
    spaces = list(map(itemgetter(0), pairs))  # not zip(*pairs): 20 times slower here
    texts = list(map(itemgetter(1), pairs))
    lengths = list(map(len, texts))
    ends = list(accumulate(map(add, map(len, spaces), lengths)))
    starts = list(map(sub, ends, lengths))
    inner = None
    if (ends[-1] != len(source) or not _KEYWORDS.isdisjoint(texts)
            or max(lengths) > MAX_NUMBER_CHARS or "==" in source
            or (inner := _newlines_in_brackets(source)) is None):
        # Something may be wrong. If the walk finds nothing after all (a long name, `==` in a
        # comment), every character was covered and the tokens stand.
        _walk(source)
        inner = _newlines_in_brackets(source)
    if inner:  # a newline inside brackets does not end a statement
        kept = [index for index, start in enumerate(starts) if start not in inner]
        return Tokens([texts[index] for index in kept], [starts[index] for index in kept],
                      [ends[index] for index in kept])
    return Tokens(texts, starts, ends)


def _newlines_in_brackets(source: str) -> set[int] | None:
    """Where the newlines inside brackets are (usually nowhere); None if the brackets do not
    match. The first pass walks the bracket and newline characters alone, as one string."""
    open_brackets: list[str] = []
    inside = 0
    for mark in "".join(_MARKS.findall(source)):
        if mark in _OPENERS:
            open_brackets.append(mark)
        elif mark in _CLOSERS:
            if not open_brackets or _OPENERS[open_brackets.pop()] != mark:
                return None
        elif open_brackets:
            inside += 1
    if open_brackets:
        return None
    positions: set[int] = set()
    depth = 0
    for match in _MARKS.finditer(source) if inside else ():
        mark = match.group(1)
        if mark in _OPENERS:
            depth += 1
        elif mark in _CLOSERS:
            depth -= 1
        elif mark == "\n" and depth:
            positions.add(match.start())
    return positions


def _foreign_character(source: str, position: int) -> ParseError:
    char = source[position]
    span = Span(position, position + 1)
    if char in _FOREIGN:
        reason, hint = _FOREIGN[char]
        if char == "!" and source.startswith("=", position + 1):
            reason = "comparisons are not part of the language"
        after_value = position > 0 and (source[position - 1].isalnum()
                                         or source[position - 1] in "_)]")
        if char == "'" and after_value:
            return ParseError("`'` is not an operator here", span,
                              "transpose is written transpose(x)")
        if char == "." and after_value:
            attribute = re.match(r"[A-Za-z_]\w*", source[position + 1:])
            module = _module_call(source, position)
            if module:
                hint = module
            elif attribute and attribute.group() in _ATTRIBUTES:
                hint = _ATTRIBUTES[attribute.group()]
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


def _walk(source: str) -> None:
    """Token by token, in order: raise the first fault in `source`, if it has one."""
    open_brackets: list[tuple[str, int]] = []
    length = len(source)
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        text = match.group()
        position, end = match.span()
        if kind == "name" and keyword.iskeyword(text):
            raise ParseError(f"`{text}` is a Python keyword, not part of this language",
                             Span(position, end),
                             "the language has expressions, assignments and function calls")
        if kind == "operator":
            if text == "=" and source.startswith("==", position):
                raise ParseError("comparisons are not part of the language",
                                 Span(position, position + 2))
            if text in _OPENERS:
                open_brackets.append((text, position))
            elif text in _CLOSERS:
                if not open_brackets or _OPENERS[open_brackets[-1][0]] != text:
                    raise ParseError(f"`{text}` closes nothing" if not open_brackets else
                                     f"`{text}` does not match `{open_brackets[-1][0]}`",
                                     Span(position, end))
                open_brackets.pop()
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
                                 f"{MAX_NUMBER_CHARS}", Span(position, end),
                                 "write it with an exponent, such as 1.2345e+300: float64 "
                                 "keeps 17 significant digits")
        elif kind == "other":
            raise _foreign_character(source, position)
    if open_brackets:
        opener, position = open_brackets[-1]
        raise ParseError(f"`{opener}` is never closed", Span(position, position + 1),
                         f"add `{_OPENERS[opener]}`")
