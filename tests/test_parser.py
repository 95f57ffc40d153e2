"""Parser golden cases as S-expressions, and error positions."""

import pytest

from graphviz_ad.errors import LimitError, ParseError
from graphviz_ad.language import MAX_NESTING, parse, to_sexpr


def sexpr(source: str) -> str:
    return " | ".join(to_sexpr(statement) for statement in parse(source).statements)


@pytest.mark.parametrize("source, expected", [
    ("1+2*3", "(+ 1 (* 2 3))"),
    ("1*2+3", "(+ (* 1 2) 3)"),
    ("a-b-c", "(- (- a b) c)"),
    ("a/b/c", "(/ (/ a b) c)"),
    ("-x^2", "(- (^ x 2))"),
    ("-x**2", "(- (^ x 2))"),
    ("2^x^2", "(^ 2 (^ x 2))"),
    ("2**-x", "(^ 2 (- x))"),
    ("-x*y", "(* (- x) y)"),
    ("+x", "(+ x)"),
    ("--x", "(- (- x))"),
    ("(a+b)*c", "(* (+ a b) c)"),
    ("A@x+b", "(+ (@ A x) b)"),
    ("sin(x)", "(sin x)"),
    ("max(a, b+1)", "(max a (+ b 1))"),
    ("f()", "(f)"),
    ("[1, 2]", "[1 2]"),
    ("[[1, 2], [3, 4]]", "[[1 2] [3 4]]"),
    ("[-1, .5, 1e-3, 2.]", "[(- 1) .5 1e-3 2.]"),
    ("(sin(x2)+1)/(x2+exp(x1))+x1*x2", "(+ (/ (+ (sin x2) 1) (+ x2 (exp x1))) (* x1 x2))"),
    ("x = 1; y = x*2\nsum(y)", "(= x 1) | (= y (* x 2)) | (sum y)"),
    ("x = 1 # comment\n\n;; y", "(= x 1) | y"),
    ("[1,\n 2]", "[1 2]"),
    ("x[0]", "(index x 0)"),
    ("W[:, 1]", "(index W (: _ _ _) 1)"),
    ("x[1:3]", "(index x (: 1 3 _))"),
    ("x[::-1]", "(index x (: _ _ (- 1)))"),
    ("-x[0]^2", "(- (^ (index x 0) 2))"),
    ("f(x)[1, :2]", "(index (f x) 1 (: _ 2 _))"),
    ("[a, b][0]", "(index [a b] 0)"),
    ("sum(x, axis=1)", "(sum x (axis 1))"),
    ("concat(a, b, axis=-1)", "(concat a b (axis (- 1)))"),
    ("data X = [1, 2]", "(data X [1 2])"),
    ("data X, y", "(data X y)"),
    ("data = 3", "(= data 3)"),
    ("f(a,\n  b)", "(f a b)"),
    ("  x \r\n", "x"),
])
def test_golden(source, expected):
    assert sexpr(source) == expected


@pytest.mark.parametrize("source, column, reason", [
    ("x +* 2", 3, "expected a number, a name or `(`, found `*`"),
    ("2x", 0, "a number cannot run into `x`"),
    ("1j", 0, "complex numbers are not supported"),
    ("x.y", 1, "attribute access is not part of the language"),
    ("x[]", 2, "an index needs at least one item"),
    ("x[1:2:3:4]", 7, "expected `]` to close the index, found `:`"),
    ("x: 1", 1, "`:` is only part of a slice, as in x[1:3]"),
    ("f(x: 1)", 3, "`:` is only part of a slice, as in x[1:3]"),
    ("[1:2]", 2, "`:` is only part of a slice, as in x[1:3]"),
    ("'a'", 0, "strings are not part of the language"),
    ("x == 1", 2, "comparisons are not part of the language"),
    ("x < 1", 2, "comparisons are not part of the language"),
    ("lambda", 0, "`lambda` is a Python keyword, not part of this language"),
    ("import os", 0, "`import` is a Python keyword, not part of this language"),
    ("sum(axis=1, x)", 12, "an argument by position cannot follow one by name"),
    ("(x", 0, "`(` is never closed"),
    ("x)", 1, "`)` closes nothing"),
    ("[1, 2)", 5, "`)` does not match `[`"),
    ("x y", 2, "expected an operator or the end of the statement, found `y`"),
    ("(a)(b)", 3, "only functions can be called"),
    ("1 = x", 2, "only a name can be assigned to"),
    ("x = y = 1", 6, "only a name can be assigned to"),
    ("x = ", 4, "the value for x is missing after `x =`"),
    ("x =; y", 3, "the value for x is missing after `x =`"),
    ("", 0, "the program is empty"),
    ("# only a comment", 0, "the program is empty"),
    ("x\u200b", 1, "non-ASCII character U+200B (ZERO WIDTH SPACE)"),
    ("\u0430", 0, "non-ASCII character U+0430 (CYRILLIC SMALL LETTER A)"),
    ("a\x00", 1, "unexpected character U+0000"),
    ("[]", 0, "an array needs at least one element"),
])
def test_error_positions(source, column, reason):
    with pytest.raises(ParseError) as caught:
        parse(source)
    assert caught.value.reason == reason
    assert caught.value.span.start == column
    assert caught.value.source == source


@pytest.mark.parametrize("opener, closer", [("(", ")"), ("sin(", ")"), ("[", "]"),
                                             ("x[", "]"), ("-", ""), ("2^", "")])
def test_nesting_is_limited_at_exactly_the_levels_it_names(opener, closer):
    """200 nested brackets are 200 levels: allowed; the 201st is refused, at that bracket's
    content, by a message naming the same 200."""
    def nested(depth):
        return opener * depth + "1" + closer * depth

    assert MAX_NESTING == 200
    parse(nested(MAX_NESTING))
    with pytest.raises(LimitError) as refused:
        parse(nested(MAX_NESTING + 1))
    assert refused.value.reason == ("the expression nests deeper than 200 levels (brackets, "
                                    "unary minus and operators' right sides add one each)")
    assert refused.value.span.start == len(opener) * (MAX_NESTING + 1)
    assert refused.value.hint == "split it into assignments: inner = (...), then use inner"


def test_each_operator_s_right_side_is_a_level():
    parse("1 + (" * 100 + "1" + ")" * 100)
    with pytest.raises(LimitError):
        parse("1 + (" * 101 + "1" + ")" * 101)
    parse(" + ".join(["(1)"] * 1000))  # siblings, not nested


def test_long_flat_sum_parses_without_recursion():
    program = parse("+".join(["x"] * 50_000))
    assert to_sexpr(program.statements[0]).count("x") == 50_000


def test_hundred_thousand_statements_parse():
    source = "v0 = x\n" + "\n".join(f"v{i} = v{i - 1} + x" for i in range(1, 100_000))
    assert len(parse(source).statements) == 100_000


def test_spans_cover_the_written_text():
    (statement,) = parse("f = (a + b) * c").statements
    assert statement.value.left.span.start == 4  # the parentheses belong to the operand
    assert statement.value.span.end == 15


def test_a_clean_program_is_never_walked_token_by_token(monkeypatch):
    from graphviz_ad.language import tokens

    monkeypatch.setattr(tokens, "_walk", lambda source: pytest.fail("walked"))
    program = parse("x = [1,\n  2]  # a list\ny = f(x, axis=-1)[0]; z = y ** 2 # last")
    assert [to_sexpr(statement) for statement in program.statements] == [
        "(= x [1 2])", "(= y (index (f x (axis (- 1))) 0))", "(= z (^ y 2))"]


@pytest.mark.parametrize("source, expected", [
    ("x  # a == b, a comment", ["x"]),       # `==` in a comment: a false alarm, then tokens
    ("a" * 500 + " + 1", ["(+ " + "a" * 500 + " 1)"]),  # a long name is not a long number
    ("x #", ["x"]),
    ("x\n# the end", ["x"]),
    ("f(a,\n\n b)\ng", ["(f a b)", "g"]),
    ("x \t\r\n ", ["x"]),
])
def test_the_fast_tokenizer_agrees_where_it_has_to_look_twice(source, expected):
    assert [to_sexpr(statement) for statement in parse(source).statements] == expected


def test_token_positions_count_characters_past_spaces_and_comments():
    from graphviz_ad.language.tokens import tokenize

    tokens = tokenize("ab  # c\n 1.5e3*x")
    assert list(zip(tokens.texts, tokens.starts, tokens.ends)) == [
        ("ab", 0, 2), ("\n", 7, 8), ("1.5e3", 9, 14), ("*", 14, 15), ("x", 15, 16),
        ("", 16, 16)]
