"""The syntax tree: nodes with spans, and an iterative S-expression printer for golden tests.

Nodes are slotted dataclasses, not frozen ones: a frozen dataclass sets each field through
object.__setattr__, which made building the tree a third of the parse. Nothing changes a node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from graphviz_ad.errors import Span


@dataclass(slots=True)
class Number:
    text: str
    span: Span


@dataclass(slots=True)
class Name:
    name: str
    span: Span


@dataclass(slots=True)
class Unary:
    operator: str
    operand: Expr
    span: Span


@dataclass(slots=True)
class Binary:
    operator: str
    left: Expr
    right: Expr
    span: Span


@dataclass(slots=True)
class Keyword:
    """`axis=1` in a call: a static parameter given by name."""

    name: str
    name_span: Span
    value: Expr
    span: Span


@dataclass(slots=True)
class Call:
    function: str
    function_span: Span
    arguments: tuple[Expr, ...]
    span: Span
    keywords: tuple[Keyword, ...] = ()


@dataclass(slots=True)
class ArrayLiteral:
    elements: tuple[Expr, ...]
    span: Span


@dataclass(slots=True)
class Slice:
    """`a:b:c` inside an index; each part may be left out."""

    start: Expr | None
    stop: Expr | None
    step: Expr | None
    span: Span


@dataclass(slots=True)
class Index:
    """`x[0]`, `W[:, 1]`, `x[1:3]`: a target and one item per axis."""

    target: Expr
    items: tuple[Expr | Slice, ...]
    span: Span


Expr = Union[Number, Name, Unary, Binary, Call, ArrayLiteral, Index]


@dataclass(slots=True)
class Assign:
    name: str
    name_span: Span
    value: Expr
    span: Span


@dataclass(slots=True)
class Data:
    """`data X = [[1, 2]]` or `data X, y`: names whose values are data, with no gradient."""

    names: tuple[str, ...]
    name_spans: tuple[Span, ...]
    value: Expr | None
    span: Span


Statement = Union[Assign, Data, Expr]


@dataclass(slots=True)
class Program:
    statements: tuple[Statement, ...]
    source: str


def children(node: Expr | Assign | Slice | Keyword) -> tuple:
    """The direct sub-expressions of a node, in source order (keywords, index items and slice
    parts included)."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Call):
        return node.arguments + node.keywords
    if isinstance(node, ArrayLiteral):
        return node.elements
    if isinstance(node, Index):
        return (node.target,) + node.items
    if isinstance(node, Slice):
        return tuple(part for part in (node.start, node.stop, node.step) if part is not None)
    if isinstance(node, (Assign, Keyword)):
        return (node.value,)
    if isinstance(node, Data):
        return () if node.value is None else (node.value,)
    return ()


def to_sexpr(node: Statement) -> str:
    """`1+2*3` -> `(+ 1 (* 2 3))`; arrays print as `[1 2]`, `x[1:, 0]` as `(index x (: 1 _ _)
    0)` and `sum(x, axis=1)` as `(sum x (axis 1))`. Iterative, so deep trees print."""
    parts: list[str] = []
    # Each stack entry is either a node to open or a literal string to emit.
    stack: list[Statement | str] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        if isinstance(item, Number):
            parts.append(item.text)
            continue
        if isinstance(item, Name):
            parts.append(item.name)
            continue
        if isinstance(item, Slice):
            start, stop, step = (part if part is not None else "_"
                                 for part in (item.start, item.stop, item.step))
            stack.extend([")", step, " ", stop, " ", start, "(: "])
            continue
        if isinstance(item, ArrayLiteral):
            head, close = "[", "]"
        elif isinstance(item, Index):
            head, close = "(index ", ")"
        elif isinstance(item, Keyword):
            head, close = f"({item.name} ", ")"
        elif isinstance(item, Call):
            head, close = f"({item.function} ", ")"
        elif isinstance(item, Assign):
            head, close = f"(= {item.name} ", ")"
        elif isinstance(item, Data):
            head, close = f"(data {' '.join(item.names)} ", ")"
        else:
            head, close = f"({item.operator} ", ")"
        parts.append(head)
        stack.append(close)
        kids = children(item)
        for index in range(len(kids) - 1, -1, -1):
            stack.append(kids[index])
            if index:
                stack.append(" ")
    return "".join(parts).replace(" )", ")")
