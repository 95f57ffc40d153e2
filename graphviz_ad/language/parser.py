"""A Pratt parser from tokens to a syntax tree; recursion only in nesting depth, which is guarded."""

from __future__ import annotations

from graphviz_ad.errors import LimitError, ParseError, Span
from graphviz_ad.language.syntax import (ArrayLiteral, Assign, Binary, Call, Data, Expr, Index,
                                         Keyword, Name, Number, Program, Slice, Statement, Unary)
from graphviz_ad.language.tokens import END, NAME, NUMBER, OPERATOR, SEPARATOR, Token, tokenize

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


def _describe(token: Token) -> str:
    if token.kind == END:
        return "the end of the input"
    if token.kind == SEPARATOR:
        return "the end of the statement"
    return f"`{token.text}`"


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.position = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        if token.kind != END:  # the end token stays current, so peek never runs off the list
            self.position += 1
        return token

    def expect(self, text: str, context: str) -> Token:
        token = self.peek()
        if token.text != text or token.kind not in (OPERATOR, SEPARATOR):
            raise ParseError(f"expected `{text}` {context}, found {_describe(token)}", token.span)
        return self.advance()

    def program(self) -> Program:
        statements: list[Statement] = []
        while True:
            while self.peek().kind == SEPARATOR:
                self.advance()
            if self.peek().kind == END:
                break
            statements.append(self.statement())
            token = self.peek()
            if token.kind not in (SEPARATOR, END):
                if token.text == ":":
                    raise _stray_colon(token, "write one statement per line, or separate them "
                                              "with ;")
                raise ParseError(f"expected an operator or the end of the statement, "
                                 f"found {_describe(token)}", token.span,
                                 "write * for a product; separate statements with ; or a newline")
        if not statements:
            raise ParseError("the program is empty", Span(0, len(self.source)),
                             'give an expression, for example "sin(x) * y"')
        return Program(tuple(statements), self.source)

    def statement(self) -> Statement:
        first = self.peek()
        second = self.tokens[self.position + 1] if first.kind != END else first
        if first.kind == NAME and first.text == DATA and second.kind == NAME:
            return self.data()
        if first.kind == NAME and second.kind == OPERATOR and second.text == "=":
            self.position += 2
            value = self.expression(0)
            statement: Statement = Assign(first.text, first.span, value,
                                          first.span.cover(value.span))
        else:
            statement = self.expression(0)
        token = self.peek()
        if token.kind == OPERATOR and token.text == "=":
            raise ParseError("only a name can be assigned to", token.span,
                             "write name = expression, one assignment per statement")
        return statement

    def data(self) -> Data:
        """`data X = value`, or `data X, y` for names whose values come from the command line."""
        keyword = self.advance()
        names = [self.advance()]
        while self.peek().text == "," and self.peek().kind == OPERATOR:
            self.advance()
            token = self.advance()
            if token.kind != NAME:
                raise ParseError(f"expected a name to declare as data, found {_describe(token)}",
                                 token.span)
            names.append(token)
        value = None
        end = names[-1].span
        if self.peek().text == "=" and self.peek().kind == OPERATOR:
            if len(names) > 1:
                raise ParseError("only one name can be given a value in a data declaration",
                                 self.peek().span, "write data X = [...] and data y = [...]")
            self.advance()
            value = self.expression(0)
            end = value.span
        return Data(tuple(token.text for token in names), tuple(token.span for token in names),
                    value, keyword.span.cover(end))

    def expression(self, min_power: int) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise LimitError(f"the expression nests deeper than {MAX_NESTING} levels",
                             self.peek().span, "split it into assignments")
        left = self.prefix()
        while True:
            token = self.peek()
            if token.kind != OPERATOR:
                break
            if token.text == "(":
                raise ParseError("only functions can be called", token.span,
                                 "write * for a product: (a)*(b)")
            if token.text == "[":  # indexing binds tighter than any operator: -x[0] is -(x[0])
                left = self.index(left)
                continue
            powers = INFIX.get(token.text)
            if powers is None or powers[0] <= min_power:
                break
            self.advance()
            right = self.expression(powers[1])
            left = Binary(CANONICAL.get(token.text, token.text), left, right,
                          left.span.cover(right.span))
        self.depth -= 1
        return left

    def prefix(self) -> Expr:
        token = self.advance()
        if token.kind == NUMBER:
            return Number(token.text, token.span)
        if token.kind == NAME:
            if self.peek().text == "(" and self.peek().kind == OPERATOR:
                return self.call(token)
            return Name(token.text, token.span)
        if token.kind == OPERATOR and token.text in PREFIX:
            operand = self.expression(PREFIX[token.text])
            return Unary(token.text, operand, token.span.cover(operand.span))
        if token.kind == OPERATOR and token.text == "(":
            inner = self.expression(0)
            close = self.expect(")", "to close `(`")
            return _respan(inner, token.span.cover(close.span))
        if token.kind == OPERATOR and token.text == "[":
            return self.array(token)
        raise ParseError(f"expected a number, a name or `(`, found {_describe(token)}",
                         token.span)

    def call(self, name: Token) -> Call:
        self.advance()
        arguments: list[Expr] = []
        keywords: list[Keyword] = []
        if self.peek().text == ")":
            self.advance()
        while self.tokens[self.position - 1].text != ")":
            token, following = self.peek(), self.tokens[self.position + 1]
            if token.kind == NAME and following.text == "=" and following.kind == OPERATOR:
                self.position += 2
                value = self.expression(0)
                keywords.append(Keyword(token.text, token.span, value,
                                        token.span.cover(value.span)))
            elif keywords:
                raise ParseError("an argument by position cannot follow one by name",
                                 token.span, "put the arguments first: sum(x, axis=1)")
            else:
                arguments.append(self.expression(0))
            if self.peek().text == ",":
                self.advance()
                continue
            if self.peek().text == ":":
                raise _stray_colon(self.peek())
            self.expect(")", "to close the call")
        close = self.tokens[self.position - 1]
        return Call(name.text, name.span, tuple(arguments), name.span.cover(close.span),
                    tuple(keywords))

    def index(self, target: Expr) -> Index:
        opener = self.advance()
        items: list[Expr | Slice] = []
        while True:
            items.append(self.index_item())
            if self.peek().text == ",":
                self.advance()
                continue
            close = self.expect("]", "to close the index")
            return Index(target, tuple(items), target.span.cover(close.span))

    def index_item(self) -> Expr | Slice:
        """`2`, or a slice `a:b:c` with any part left out."""
        first = self.peek()
        if first.text == "]" and first.kind == OPERATOR:
            raise ParseError("an index needs at least one item", first.span,
                             "x[0] picks the first element, x[1:3] a slice")
        parts: list[Expr | None] = []
        colons = 0
        while True:
            token = self.peek()
            if token.text in (":", ",", "]") and token.kind == OPERATOR:
                parts.append(None)
            else:
                parts.append(self.expression(0))
            if self.peek().text != ":" or colons == 2:
                break
            colons += 1
            self.advance()
        if colons == 0:
            return parts[0]
        parts += [None] * (3 - len(parts))
        last = self.tokens[self.position - 1]
        return Slice(parts[0], parts[1], parts[2], first.span.cover(last.span))

    def array(self, opener: Token) -> ArrayLiteral:
        elements = self.sequence("]", "to close the array")
        close = self.tokens[self.position - 1]
        if not elements:
            raise ParseError("an array needs at least one element", opener.span.cover(close.span))
        return ArrayLiteral(elements, opener.span.cover(close.span))

    def sequence(self, closer: str, context: str) -> tuple[Expr, ...]:
        items: list[Expr] = []
        if self.peek().text == closer:
            self.advance()
            return ()
        while True:
            items.append(self.expression(0))
            token = self.peek()
            if token.text == ",":
                self.advance()
                continue
            if token.text == ":":
                raise _stray_colon(token)
            self.expect(closer, context)
            return tuple(items)


def _stray_colon(token: Token, hint: str = "a slice is written in an index: x[1:3]"
                 ) -> ParseError:
    return ParseError("`:` is only part of a slice, as in x[1:3]", token.span, hint)


def _respan(node: Expr, span: Span) -> Expr:
    """Parentheses widen a node's span so errors underline what the user bracketed."""
    return type(node)(*[span if field == "span" else getattr(node, field)
                        for field in node.__slots__])


def parse(source: str) -> Program:
    """Parse a program; raises ParseError or LimitError carrying the source text."""
    try:
        return _Parser(source).program()
    except (ParseError, LimitError) as error:
        raise error.with_source(source)
