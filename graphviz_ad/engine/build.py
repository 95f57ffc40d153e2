"""From a parsed program and input values to an evaluated graph: name resolution and inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from graphviz_ad.engine.annotated import CUT, INPUT
from graphviz_ad.engine.graph import Graph, GraphBuilder, as_value
from graphviz_ad.engine.ops import (BINARY_OPERATORS, CALLABLE, CONSTANTS, FUNCTIONS, NO_GRAD,
                                    PREFIX_OPERATORS)
from graphviz_ad.errors import (ArityError, GadError, InputValueError, LimitError,
                                MissingInputError, ShapeError, Span, UnknownNameError,
                                UsageError)
from graphviz_ad.language import parse
from graphviz_ad.language.syntax import (ArrayLiteral, Assign, Binary, Call, Expr, Name, Number,
                                         Program, Unary, children)


# Names a command-line value may use beside the constants, in any case (`NaN`, `-Inf`). In a
# program they stay ordinary names, free to be inputs; a program writes 1e999 for inf.
NON_FINITE = {"nan": float("nan"), "inf": float("inf")}
# A sum of this many terms or more is grouped into runs of about √(terms) terms each, so that a
# picture of it can fold (`terms 1-13`) like a statement.
SUM_RUN_MIN_TERMS = 16
SUM_OPS = ("add", "sub")
# A program of more statements than this is grouped into blocks of about √(statements)
# consecutive statements (`lines 1-9`), one level above the statements' own groups.
BLOCK_MIN_STATEMENTS = 24
MAX_ARRAY_DEPTH = 32  # numpy allows 64 dimensions; no real array nests this deep


@dataclass(frozen=True)
class Built:
    graph: Graph
    warnings: tuple[str, ...]


def suggest(name: str, candidates) -> str | None:
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def literal_value(expr: Expr, depth: int = 0, non_finite: bool = False) -> Any | None:
    """The value of a number, a constant, a signed one, or an array of them; None otherwise.
    With `non_finite` (a command-line value), `nan` and `inf` are numbers too."""
    if isinstance(expr, Number):
        return np.float64(float(expr.text))
    if isinstance(expr, Unary):
        inner = literal_value(expr.operand, depth, non_finite)
        if inner is None:
            return None
        return -inner if expr.operator == "-" else inner
    if isinstance(expr, Name) and expr.name in CONSTANTS:
        return np.float64(CONSTANTS[expr.name])
    if isinstance(expr, Name) and non_finite and expr.name.lower() in NON_FINITE:
        return np.float64(NON_FINITE[expr.name.lower()])
    if isinstance(expr, ArrayLiteral):
        if depth >= MAX_ARRAY_DEPTH:
            raise LimitError(f"arrays nest deeper than {MAX_ARRAY_DEPTH} levels", expr.span)
        rows = [literal_value(element, depth + 1, non_finite) for element in expr.elements]
        if any(row is None for row in rows):
            return None
        shapes = {np.shape(row) for row in rows}
        if len(shapes) != 1:
            raise ShapeError("the rows of this array have different lengths", expr.span)
        return np.array(rows, dtype=np.float64)
    return None


def parse_value(name: str, text: str) -> Any:
    """A command-line value (`1.5`, `-2`, `[1, 2]`, `pi`, `nan`, `[-inf, 1]`) as float64; errors
    point into `text`."""
    try:
        program = parse(text)
    except GadError as error:
        raise InputValueError(f"the value of {name} is not a number or an array: {error.reason}",
                              error.span, "write a number like 1.5 or an array like [1, 2]",
                              text) from None
    statement = program.statements[0]
    value = None if len(program.statements) > 1 or isinstance(statement, Assign) \
        else _literal_or_error(statement, text)
    if value is None:
        raise InputValueError(f"the value of {name} must be a number or an array of numbers",
                              Span(0, len(text)), "write a number like 1.5 or an array like [1, 2]",
                              text)
    return value


def _literal_or_error(expr: Expr, text: str) -> Any:
    try:
        return literal_value(expr, non_finite=True)
    except GadError as error:
        raise error.with_source(text)


class _Evaluator:
    """Walks statements iteratively (post-order with an explicit stack), appending graph nodes."""

    def __init__(self, program: Program, values: Mapping[str, Any]):
        self.program = program
        self.values = values
        self.builder = GraphBuilder(program.source)
        self.bindings: dict[str, int] = {}
        self.group_names: set[str] = set()

    def run(self) -> int:
        node = -1
        made: list[int] = []  # the first node each statement made
        for statement in self.program.statements:
            made.append(len(self.builder.kinds))
            if isinstance(statement, Assign):
                node = self.assign(statement)
            else:
                node = self.expression(statement)
                self.group_sums(made[-1], ())
        if len(made) > BLOCK_MIN_STATEMENTS:
            self.group_blocks(made)
        return node

    def group_blocks(self, made: list[int]) -> None:
        """Consecutive statements in blocks named by their lines (`lines 1-9`), with the inputs
        they assign or first use (folding keeps an input outside while others use it); while
        there are still more than BLOCK_MIN_STATEMENTS blocks, blocks of blocks above them."""
        statements, source = self.program.statements, self.program.source
        builder = self.builder
        lines, line, counted = [], 1, 0
        for statement in statements:  # counted from the previous statement on: linear
            line += source.count("\n", counted, statement.span.start)
            counted = statement.span.start
            lines.append(line)
        # Units are (first statement, end statement) ranges: statements, then blocks of them.
        units = [(index, index + 1) for index in range(len(statements))]
        bounds = made + [len(builder.kinds)]
        levels = []
        while len(units) > BLOCK_MIN_STATEMENTS:
            size = math.ceil(math.sqrt(len(units)))
            units = [(units[begin][0], units[min(begin + size, len(units)) - 1][1])
                     for begin in range(0, len(units), size)]
            levels.append(units)
        for level in levels:  # innermost first, so outer blocks are prepended last
            for first, end in level:
                block = (f"lines {lines[first]}-{lines[end - 1]}",)
                for node in range(bounds[first], bounds[end]):
                    builder.groups[node] = block + builder.groups.get(node, ())

    def assign(self, statement: Assign) -> int:
        name = statement.name
        if name in CALLABLE:
            raise UsageError(f"`{name}` is a function and cannot be assigned to",
                             statement.name_span, "choose another name")
        if name in CONSTANTS:
            raise UsageError(f"`{name}` is a constant and cannot be assigned to",
                             statement.name_span, "choose another name")
        default = literal_value(statement.value)
        if default is not None and name not in self.bindings:
            node = self.builder.input(name, self.values.get(name, default), statement.span)
        else:
            first = len(self.builder.kinds)
            node = self.expression(statement.value)
            self.group_sums(first, self.group(range(first, len(self.builder.kinds)), name))
        self.bindings[name] = node
        if self.builder.kinds[node] != INPUT:
            self.builder.name(node, name)
        return node

    def group(self, nodes: range, name: str) -> tuple[str, ...]:
        """The nodes a statement made form its group, named by the name it assigns (`n`, and
        `n (2)` for a second statement assigning n); inputs it met first stay outside."""
        group = name
        repeat = 1
        while group in self.group_names:
            repeat += 1
            group = f"{name} ({repeat})"
        self.group_names.add(group)
        kinds, groups = self.builder.kinds, self.builder.groups
        for node in nodes:
            if kinds[node] != INPUT:
                groups[node] = (group,)
        return (group,)

    def group_sums(self, first: int, prefix: tuple[str, ...]) -> None:
        """Long sums among the nodes from `first` on, in runs of terms: `terms 1-13`, ..."""
        builder = self.builder
        ops, args = builder.ops, builder.args

        def summing(node: int) -> bool:
            return node >= first and ops[node] is not None and ops[node].name in SUM_OPS

        left_of_a_sum = {args[node][0] for node in range(first, len(ops)) if summing(node)}
        for root in range(len(ops) - 1, first - 1, -1):  # outer sums before the sums in terms
            if not summing(root) or root in left_of_a_sum:
                continue
            links = [root]
            while summing(args[links[-1]][0]):
                links.append(args[links[-1]][0])
            links.reverse()  # links[k] adds term k + 2
            terms = len(links) + 1
            if terms < SUM_RUN_MIN_TERMS:
                continue
            start = _first_node(args, root, first)
            run = math.ceil(math.sqrt(terms))
            for begin in range(1, terms + 1, run):
                end = min(begin + run - 1, terms)
                last = links[end - 2]
                for node in range(start, last + 1):
                    if builder.kinds[node] != INPUT:
                        builder.groups[node] = builder.groups.get(node, prefix) + \
                            (f"terms {begin}-{end}",)
                start = last + 1

    def expression(self, root: Expr) -> int:
        results: list[int] = []
        # Entries are (node, visited): a node is visited after all its children are evaluated.
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            expr, visited = stack.pop()
            if not visited:
                leaf = self.leaf(expr)
                if leaf is not None:
                    results.append(leaf)
                    continue
                stack.append((expr, True))
                for child in reversed(children(expr)):
                    stack.append((child, False))
                continue
            count = len(children(expr))
            arguments = tuple(results[len(results) - count:])
            del results[len(results) - count:]
            results.append(self.combine(expr, arguments))
        return results[0]

    def leaf(self, expr: Expr) -> int | None:
        """The node of a leaf expression, or None when its children must be evaluated first."""
        if isinstance(expr, Number):
            return self.builder.constant(np.float64(float(expr.text)), expr.text, expr.span)
        if isinstance(expr, Name):
            return self.name(expr)
        if isinstance(expr, ArrayLiteral) or (isinstance(expr, Unary) and expr.operator == "-"
                                              and isinstance(expr.operand, Number)):
            # A literal is one constant node, as written: `-2` and `[1, -pi]` are not negations
            value = literal_value(expr)
            if value is None:
                raise UsageError("array elements must be numbers", _first_non_literal(expr),
                                 "give a variable array as an input value: x=[1, 2]")
            return self.builder.constant(value, self.program.source[expr.span.start:
                                                                    expr.span.end], expr.span)
        if isinstance(expr, Unary) and expr.operator == "+":
            return None
        if isinstance(expr, Call):
            return self.call_leaf(expr)
        return None

    def call_leaf(self, call: Call) -> int | None:
        if call.function == NO_GRAD:
            _check_arity(call, 1)
            argument = Program((call.arguments[0],), self.program.source)
            needed = free_names(argument)
            for name, span in needed.items():
                self.name(Name(name, span))  # its inputs are inputs of the graph, gradient 0
            inner = _Evaluator(argument, {})
            # Frozen, not literal: a domain error inside says what value the name had.
            inner.bindings = {name: inner.builder.constant(self.builder.values[node], name,
                                                           kind=CUT)
                              for name, node in self.bindings.items() if name in needed}
            value = inner.builder.values[inner.run()]
            return self.builder.constant(value, self.program.source[call.span.start:
                                                                    call.span.end],
                                         call.span, kind=CUT)
        op = FUNCTIONS.get(call.function)
        if op is None:
            raise UnknownNameError(f"unknown function `{call.function}`", call.function_span,
                                   suggest(call.function, CALLABLE)
                                   or "`gad ops` lists the functions")
        _check_arity(call, op.arity)
        return None

    def name(self, expr: Name) -> int:
        name = expr.name
        node = self.bindings.get(name)
        if node is not None:
            return node
        if name in CONSTANTS:
            return self.builder.constant(CONSTANTS[name], name, expr.span)
        if name in CALLABLE:
            raise UsageError(f"`{name}` is a function, not a value", expr.span,
                             f"call it: {name}(x)")
        node = self.builder.input(name, self.values[name], expr.span)
        self.bindings[name] = node
        return node

    def combine(self, expr: Expr, arguments: tuple[int, ...]) -> int:
        written = tuple(child.span for child in children(expr))
        if isinstance(expr, Unary):
            if expr.operator == "+":
                return arguments[0]
            op = PREFIX_OPERATORS[expr.operator]
        elif isinstance(expr, Binary):
            op = BINARY_OPERATORS[expr.operator]
        else:
            assert isinstance(expr, Call), expr  # the parser produces no other composite node
            op = FUNCTIONS[expr.function]
        return self.builder.apply(op, arguments, expr.span, written)


def _first_node(args, root: int, first: int) -> int:
    """The earliest node at or after `first` that `root` is computed from."""
    earliest, stack = root, [root]
    seen = {root}
    while stack:
        for argument in args[stack.pop()]:
            if argument >= first and argument not in seen:
                seen.add(argument)
                earliest = min(earliest, argument)
                stack.append(argument)
    return earliest


def _check_arity(call: Call, arity: int) -> None:
    if len(call.arguments) != arity:
        expected = f"{arity} argument" + ("s" if arity != 1 else "")
        raise ArityError(f"`{call.function}` takes {expected}, got {len(call.arguments)}",
                         call.span)


def _first_non_literal(expr: Expr) -> Span:
    stack = [expr]
    while stack:
        item = stack.pop()
        if literal_value(item) is None and not isinstance(item, ArrayLiteral):
            return item.span
        stack.extend(reversed(children(item)))
    return expr.span


def free_names(program: Program) -> dict[str, Span]:
    """Names used before any assignment binds them (the inputs), with their first span."""
    bound: set[str] = set()
    free: dict[str, Span] = {}
    for statement in program.statements:
        stack: list[Expr] = [statement.value if isinstance(statement, Assign) else statement]
        while stack:
            expr = stack.pop()
            if isinstance(expr, Name) and expr.name not in bound and expr.name not in CONSTANTS:
                free.setdefault(expr.name, expr.span)
            stack.extend(reversed(children(expr)))
        if isinstance(statement, Assign):
            bound.add(statement.name)
    return free


def build(source: str, values: Mapping[str, Any] | None = None) -> Built:
    """Parse `source`, bind `values` (numbers or arrays) to its inputs and evaluate the graph."""
    values = {name: as_value(value) for name, value in (values or {}).items()}
    program = parse(source)
    missing = {name: span for name, span in free_names(program).items()
               if name not in values and name not in CALLABLE}
    if missing:
        names = list(missing)
        example = " ".join(f"{name}=1.0" for name in names)
        raise MissingInputError(f"no value for {', '.join(names)}", missing[names[0]],
                                f"give values after the expression: {example}", source)
    evaluator = _Evaluator(program, values)
    try:
        with np.errstate(all="ignore"):
            output = evaluator.run()
    except GadError as error:
        raise error.with_source(source)
    graph = evaluator.builder.finish(output)
    if np.ndim(graph.values[graph.output]) != 0:
        raise ShapeError(f"the output has shape {np.shape(graph.values[graph.output])}; "
                         "a gradient needs a single number", graph.spans[graph.output],
                         "wrap it in sum(...) or mean(...)", source)
    warnings = tuple(f"{name} is given a value but the program does not use it"
                     for name in values if name not in graph.inputs)
    return Built(graph, warnings)
