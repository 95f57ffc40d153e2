"""The syntax tree: frozen nodes with spans, and an iterative S-expression printer for golden tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from graphviz_ad.errors import Span


@dataclass(frozen=True, slots=True)
class Number:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    operator: str
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    operator: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    function_span: Span
    arguments: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ArrayLiteral:
    elements: tuple[Expr, ...]
    span: Span


Expr = Union[Number, Name, Unary, Binary, Call, ArrayLiteral]


@dataclass(frozen=True, slots=True)
class Assign:
    name: str
    name_span: Span
    value: Expr
    span: Span


Statement = Union[Assign, Expr]


@dataclass(frozen=True, slots=True)
class Program:
    statements: tuple[Statement, ...]
    source: str


def children(node: Expr | Assign) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, in source order."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, (Call, ArrayLiteral)):
        return node.arguments if isinstance(node, Call) else node.elements
    if isinstance(node, Assign):
        return (node.value,)
    return ()


def to_sexpr(node: Statement) -> str:
    """`1+2*3` -> `(+ 1 (* 2 3))`; arrays print as `[1 2]`. Iterative, so deep trees print."""
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
        if isinstance(item, ArrayLiteral):
            head, close = "[", "]"
        elif isinstance(item, Call):
            head, close = f"({item.function} ", ")"
        elif isinstance(item, Assign):
            head, close = f"(= {item.name} ", ")"
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
