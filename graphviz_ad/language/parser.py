"""A Pratt parser from tokens to a syntax tree; recursion only in nesting depth, which is guarded.

It reads the tokenizer's parallel lists directly (texts and positions; a token's kind is told by
its text), so the common path makes no token objects: about one node per few tokens, and a span
per node.
"""

from __future__ import annotations

from graphviz_ad import collector
from graphviz_ad.errors import LimitError, ParseError, Span
from graphviz_ad.language.syntax import (ArrayLiteral, Assign, Binary, Call, Data, Expr, Index,
                                         Keyword, Name, Number, Program, Slice, Statement, Unary)
from graphviz_ad.language.tokens import END, NAME, SEPARATOR, kind_of, tokenize

MAX_NESTING = 200
DATA = "data"  # starts a data declaration when a name follows it; elsewhere an ordinary name

# Binding powers, read as a precedence chart: (left power, right power).
# Right power below left power makes an operator right-associative.
INFIX = {
    "+": (10, 11),
    "-": (10, 11),
    "*": (20, 21),
    "/": (20, 21),
    "@": (20, 21),
    "^": (40, 39),
    "**": (40, 39),
}
PREFIX = {"-": 30, "+": 30}
CANONICAL = {"**": "^"}
_DIGITS = frozenset("0123456789.")
_tuple = tuple.__new__  # Span(a, b) without NamedTuple's Python-level __new__: one per node
_SEPARATORS = (";", "\n")


class _Parser:
    def __init__(self, source: str):
        self.source = source
        tokens = tokenize(source)
        self.texts = tokens.texts
        self.starts = tokens.starts
        self.ends = tokens.ends
        self.last = len(tokens) - 1  # the end token, which stays current once reached
        self.position = 0
        self.depth = 0

    def span(self, index: int) -> Span:
        return _tuple(Span, (self.starts[index], self.ends[index]))

    def describe(self, index: int) -> str:
        kind = kind_of(self.texts[index])
        if kind == END:
            return "the end of the input"
        if kind == SEPARATOR:
            return "the end of the statement"
        return f"`{self.texts[index]}`"

    def advance(self) -> int:
        index = self.position
        if index < self.last:
            self.position = index + 1
        return index

    def expect(self, text: str, context: str) -> int:
        index = self.position
        if self.texts[index] != text:
            raise ParseError(f"expected `{text}` {context}, found {self.describe(index)}",
                             self.span(index))
        return self.advance()

    def program(self) -> Program:
        statements: list[Statement] = []
        texts = self.texts
        while True:
            while texts[self.position] in _SEPARATORS:
                self.position += 1
            if self.position == self.last:
                break
            statements.append(self.statement())
            text = texts[self.position]
            if text not in _SEPARATORS and self.position != self.last:
                if text == ":":
                    raise _stray_colon(self.span(self.position), "write one statement per "
                                                                 "line, or separate them with ;")
                raise ParseError(f"expected an operator or the end of the statement, "
                                 f"found {self.describe(self.position)}", self.span(self.position),
                                 self.run_on_hint(statements[-1]))
        if not statements:
            raise ParseError("the program is empty", Span(0, len(self.source)),
                             'give an expression, for example "sin(x) * y"')
        return Program(tuple(statements), self.source)

    def run_on_hint(self, statement: Statement) -> str:
        """What a statement followed by more than an operator likely meant: `x 1` is x*1."""
        found = self.texts[self.position]
        if found == ",":
            return "several values are an array, [a, b], or a function's arguments, f(a, b)"
        written = self.source[statement.span.start:statement.span.end]
        if len(written) > 40 or "\n" in written:
            return "write * for a product; separate statements with ; or a newline"
        return f"write {written}*{found} for a product, or separate statements with ; or a newline"

    def statement(self) -> Statement:
        index = self.position
        first = self.texts[index]
        second = self.texts[index + 1] if index < self.last else ""
        if kind_of(first) == NAME:
            if first == DATA and kind_of(second) == NAME:
                return self.data()
            if second == "=":
                self.position = index + 2
                if self.texts[self.position] in _SEPARATORS or self.position == self.last:
                    raise ParseError(f"the value for {first} is missing after `{first} =`",
                                     self.span(self.position), f"write a number, an array or an "
                                                           f"expression after it: {first} = 1.5")
                value = self.expression(0, nested=False)
                statement: Statement = Assign(first, self.span(index), value,
                                              _tuple(Span, (self.starts[index], value.span.end)))
            else:
                statement = self.expression(0, nested=False)
        else:
            statement = self.expression(0, nested=False)
        if self.texts[self.position] == "=":
            raise ParseError("only a name can be assigned to", self.span(self.position),
                             "write name = expression, one assignment per statement")
        return statement

    def data(self) -> Data:
        """`data X = value`, or `data X, y` for names whose values come from the command line."""
        keyword = self.advance()
        names = [self.advance()]
        while self.texts[self.position] == ",":
            self.advance()
            index = self.advance()
            if kind_of(self.texts[index]) != NAME:
                raise ParseError(f"expected a name to declare as data, found "
                                 f"{self.describe(index)}", self.span(index))
            names.append(index)
        value = None
        end = self.ends[names[-1]]
        if self.texts[self.position] == "=":
            if len(names) > 1:
                raise ParseError("only one name can be given a value in a data declaration",
                                 self.span(self.position),
                                 "write data X = [...] and data y = [...]")
            self.advance()
            value = self.expression(0, nested=False)
            end = value.span.end
        return Data(tuple(self.texts[index] for index in names),
                    tuple(self.span(index) for index in names), value,
                    Span(self.starts[keyword], end))

    def expression(self, min_power: int, nested: bool = True) -> Expr:
        """An expression whose operators bind tighter than `min_power`: `nested` one level deeper
        than a statement's own expression, which is level 0, so that 200 nested brackets are
        200 levels. Each recursion is a level (a bracket, a unary operator, an operator's right
        side), which bounds the parser's frames at about three a level."""
        self.depth += nested
        if self.depth > MAX_NESTING:
            raise LimitError(f"the expression nests deeper than {MAX_NESTING} levels "
                             "(brackets, unary minus and operators' right sides add one each)",
                             self.span(self.position),
                             "split it into assignments: inner = (...), then use inner")
        left = self.prefix()
        texts = self.texts
        while True:
            text = texts[self.position]
            powers = INFIX.get(text)
            if powers is None:
                if text == "[":  # indexing binds tighter than any operator: -x[0] is -(x[0])
                    left = self.index(left)
                    continue
                if text == "(":
                    raise ParseError("only functions can be called", self.span(self.position),
                                     "write * for a product: (a)*(b)")
                break
            if powers[0] <= min_power:
                break
            self.position += 1
            right = self.expression(powers[1])
            left = Binary(CANONICAL.get(text, text), left, right,
                          _tuple(Span, (left.span.start, right.span.end)))
        self.depth -= nested
        return left

    def prefix(self) -> Expr:
        index = self.advance()
        text = self.texts[index]
        if text and text[0] in _DIGITS:
            return Number(text, _tuple(Span, (self.starts[index], self.ends[index])))
        if text and (text[0].isalpha() or text[0] == "_"):
            if self.texts[self.position] == "(":
                return self.call(index)
            return Name(text, _tuple(Span, (self.starts[index], self.ends[index])))
        if text in PREFIX:
            operand = self.expression(PREFIX[text])
            return Unary(text, operand, _tuple(Span, (self.starts[index], operand.span.end)))
        if text == "(":
            inner = self.expression(0)
            close = self.expect(")", "to close `(`")
            return _respan(inner, Span(self.starts[index], self.ends[close]))
        if text == "[":
            return self.array(index)
        raise ParseError(f"expected a number, a name or `(`, found {self.describe(index)}",
                         self.span(index))

    def call(self, name: int) -> Call:
        self.advance()
        texts = self.texts
        arguments: list[Expr] = []
        keywords: list[Keyword] = []
        if texts[self.position] == ")":
            self.advance()
        while texts[self.position - 1] != ")":
            index = self.position
            if kind_of(texts[index]) == NAME and texts[index + 1] == "=":
                self.position = index + 2
                value = self.expression(0)
                keywords.append(Keyword(texts[index], self.span(index), value,
                                        _tuple(Span, (self.starts[index], value.span.end))))
            elif keywords:
                raise ParseError("an argument by position cannot follow one by name",
                                 self.span(index), "put the arguments first: sum(x, axis=1)")
            else:
                arguments.append(self.expression(0))
            self.next_item(")", "to close the call")
        return Call(texts[name], self.span(name), tuple(arguments),
                    _tuple(Span, (self.starts[name], self.ends[self.position - 1])),
                    tuple(keywords))

    def next_item(self, closer: str, context: str) -> bool:
        """After an item of a call or an array: True past a comma (another item follows),
        False past the closer."""
        text = self.texts[self.position]
        if text == ",":
            self.advance()
            return True
        if text == ":":
            raise _stray_colon(self.span(self.position))
        self.expect(closer, context)
        return False

    def index(self, target: Expr) -> Index:
        self.advance()
        items: list[Expr | Slice] = []
        while True:
            items.append(self.index_item())
            if self.texts[self.position] == ",":
                self.advance()
                continue
            close = self.expect("]", "to close the index")
            return Index(target, tuple(items), Span(target.span.start, self.ends[close]))

    def index_item(self) -> Expr | Slice:
        """`2`, or a slice `a:b:c` with any part left out."""
        first = self.position
        if self.texts[first] == "]":
            raise ParseError("an index needs at least one item", self.span(first),
                             "x[0] picks the first element, x[1:3] a slice")
        parts: list[Expr | None] = []
        colons = 0
        while True:
            if self.texts[self.position] in (":", ",", "]"):
                parts.append(None)
            else:
                parts.append(self.expression(0))
            if self.texts[self.position] != ":" or colons == 2:
                break
            colons += 1
            self.advance()
        if colons == 0:
            if parts[0] is None:
                raise ParseError(f"expected an index, found {self.describe(self.position)}",
                                 self.span(self.position), "x[0, 1] picks one element, x[0, :] "
                                                           "a row")
            return parts[0]
        parts += [None] * (3 - len(parts))
        return Slice(parts[0], parts[1], parts[2],
                     Span(self.starts[first], self.ends[self.position - 1]))

    def array(self, opener: int) -> ArrayLiteral:
        elements: list[Expr] = []
        texts = self.texts
        if texts[self.position] == "]":
            self.advance()
        else:
            elements.append(self.expression(0))
            while self.next_item("]", "to close the array"):
                elements.append(self.expression(0))
        span = Span(self.starts[opener], self.ends[self.position - 1])
        if not elements:
            raise ParseError("an array needs at least one element", span)
        return ArrayLiteral(tuple(elements), span)


def _stray_colon(span: Span, hint: str = "a slice is written in an index: x[1:3]"
                 ) -> ParseError:
    return ParseError("`:` is only part of a slice, as in x[1:3]", span, hint)


def _respan(node: Expr, span: Span) -> Expr:
    """Parentheses widen a node's span so errors underline what the user bracketed."""
    return type(node)(*[span if field == "span" else getattr(node, field)
                        for field in node.__slots__])


def parse(source: str) -> Program:
    """Parse a program; raises ParseError or LimitError carrying the source text. The tree has
    no reference cycles: the cyclic garbage collector is paused while it is built."""
    try:
        with collector.paused():
            return _Parser(source).program()
    except (ParseError, LimitError) as error:
        raise error.with_source(source)
