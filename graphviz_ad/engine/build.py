"""From a parsed program and input values to an evaluated graph: name resolution and inputs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from graphviz_ad import collector, display
from graphviz_ad.engine.annotated import BACKWARD_GROUP, CUT, DATA, INPUT
from graphviz_ad.engine.graph import MAX_NODES, Graph, GraphBuilder, as_value
from graphviz_ad.engine.grouping import Grouping
from graphviz_ad.engine.differentiate import gradient
from graphviz_ad.engine.ops import (AXIS, BINARY_OPERATORS, CALLABLE, CONSTANTS, FUNCTIONS, GRAD,
                                    INDEX_KEY, INDEX_OP, NO_GRAD, OPS, PREFIX_OPERATORS,
                                    REDUCING, SHAPE, Op, Static)
from graphviz_ad.errors import (ArityError, GadError, InputValueError, LimitError,
                                MissingInputError, ShapeError, Span, UnknownNameError,
                                UsageError)
from graphviz_ad.language import parse
from graphviz_ad.language.syntax import (ArrayLiteral, Assign, Binary, Call, Data, Expr, Index,
                                         Name, Number, Program, Slice, Unary, children)


# Names a command-line value may use beside the constants, in any case (`NaN`, `-Inf`). In a
# program they stay ordinary names, free to be inputs; a program writes 1e999 for inf.
NON_FINITE = {"nan": float("nan"), "inf": float("inf")}
MAX_ARRAY_DEPTH = 32  # numpy allows 64 dimensions; no real array nests this deep
# What of a program's text surely makes a node, counted before the text is tokenized, so that a
# program past MAX_NODES is refused in a second, not once its tokens, tree and graph are made
# (1.4 GB): each binary operator (`op`), and each number that an operator follows (`literal`:
# a constant, its own node, as in `x + 1 + 1 + ...`); and what to step over (comments, a
# number's exponent sign). After a value, + and - are binary; anywhere else they are signs.
_OPERATORS = re.compile(r"(?P<literal>(?<![\w.])(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
                        r"[ \t]*(?:\*\*|[*/^@+-]))"
                        r"|(?P<skip>#[^\n]*|[0-9][0-9.]*[eE][-+])"
                        r"|(?P<op>\*\*|[*/^@]|[\w.)\]][ \t]*[-+])")


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
            raise LimitError(f"arrays nest deeper than {MAX_ARRAY_DEPTH} levels", expr.span,
                             f"write it with {MAX_ARRAY_DEPTH} levels of brackets or fewer: an "
                             f"array has at most {MAX_ARRAY_DEPTH} dimensions")
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
    """Walks statements iteratively (post-order with an explicit stack), appending graph nodes
    and grouping them as it goes (engine/grouping.py)."""

    def __init__(self, program: Program, values: Mapping[str, Any],
                 data_names: Iterable[str] = ()):
        self.program = program
        self.values = values
        self.data_names = set(data_names) | declared_data(program)
        self.builder = GraphBuilder(program.source)
        self.bindings: dict[str, int] = {}
        self.grouping = Grouping(self.builder)

    def run(self) -> int:
        node = -1
        made: list[int] = []  # the first node each statement made
        for statement in self.program.statements:
            made.append(len(self.builder.kinds))
            if isinstance(statement, Assign):
                node = self.assign(statement)
            elif isinstance(statement, Data):
                node = self.declare(statement, node)
            else:
                node = self.expression(statement)
                self.grouping.statement(made[-1])
        self.grouping.finish(self.program, made)
        if node < 0:
            raise UsageError("the program only declares data: it has no value to compute",
                             Span(0, len(self.program.source)), "end it with an expression")
        return node

    def declare(self, statement: Data, node: int) -> int:
        """`data X = [...]` binds X to a data leaf; `data X, y` only marks the names."""
        for name, span in zip(statement.names, statement.name_spans):
            _check_assignable(name, span)
        if statement.value is None:
            return node
        name = statement.names[0]
        default = literal_value(statement.value)
        if default is None:
            raise UsageError("a data value is a number or an array written in the program",
                             statement.value.span, "give it on the command line (X=@batch.npy), "
                             "or stop a gradient with detach(...)")
        node = self.builder.data(name, self.values.get(name, default), statement.span)
        self.bindings[name] = node
        return node

    def leaf_input(self, name: str, value: Any, span: Span) -> int:
        """A free name's leaf: data when declared so, else an input with a gradient."""
        if name in self.data_names:
            return self.builder.data(name, value, span)
        return self.builder.input(name, value, span)

    def assign(self, statement: Assign) -> int:
        name = statement.name
        _check_assignable(name, statement.name_span)
        default = literal_value(statement.value)
        if default is not None and name not in self.bindings:
            node = self.leaf_input(name, self.values.get(name, default), statement.span)
            if self.builder.kinds[node] == INPUT:
                self.grouping.assigned_input(node)
        else:
            first = len(self.builder.kinds)
            node = self.expression(statement.value)
            self.grouping.statement(first, name)
        self.bindings[name] = node
        if self.builder.kinds[node] not in (INPUT, DATA):
            self.builder.name(node, name)
        return node

    def expression(self, root: Expr) -> int:
        results: list[int] = []
        # Entries are (node, None) before a node's children are evaluated, and (node, how to
        # combine them: its children, and a call's op and static parameters) after.
        stack: list[tuple[Expr, tuple | None]] = [(root, None)]
        while stack:
            expr, resolved = stack.pop()
            if resolved is None:
                leaf = self.leaf(expr)
                if leaf is not None:
                    results.append(leaf)
                    continue
                resolved = resolve_call(expr) if isinstance(expr, Call) \
                    else (None, evaluated_children(expr), None)
                stack.append((expr, resolved))
                for child in reversed(resolved[1]):
                    stack.append((child, None))
                continue
            count = len(resolved[1])
            arguments = tuple(results[len(results) - count:])
            del results[len(results) - count:]
            results.append(self.combine(expr, arguments, resolved))
        return results[0]

    def leaf(self, expr: Expr) -> int | None:
        """The node of a leaf expression, or None when its children must be evaluated first."""
        if type(expr) is Binary:  # the most common node, first
            return None
        if isinstance(expr, Number):
            return self.builder.constant(np.float64(float(expr.text)), expr.text, expr.span)
        if isinstance(expr, Name):
            return self.name(expr)
        if isinstance(expr, ArrayLiteral) or (isinstance(expr, Unary) and expr.operator == "-"
                                              and isinstance(expr.operand, Number)):
            # A literal is one constant node, as written: `-2` and `[1, -pi]` are not negations;
            # an array with names in it (`[a, 2*b]`) stacks its elements.
            value = literal_value(expr)
            if value is None:
                return None
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
            if call.keywords:
                raise UsageError(f"`{NO_GRAD}` takes no parameters by name",
                                 call.keywords[0].name_span)
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
        return None  # resolved (and its mistakes raised) before its arguments are evaluated

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
        node = self.leaf_input(name, self.values[name], expr.span)
        self.bindings[name] = node
        return node

    def combine(self, expr: Expr, arguments: tuple[int, ...], resolved: tuple) -> int:
        entry, kids, settings = resolved
        written = tuple(child.span for child in kids)
        if isinstance(expr, Binary):
            op = BINARY_OPERATORS[expr.operator]
        elif isinstance(expr, Unary):
            if expr.operator == "+":
                return arguments[0]
            op = PREFIX_OPERATORS[expr.operator]
        elif isinstance(expr, Call) and expr.function == GRAD:
            return self.gradient(expr, *arguments)
        elif isinstance(expr, Call):
            op = self.bound(entry, settings, arguments, expr.span)
        elif isinstance(expr, Index):
            op = self.bound(OPS[INDEX_OP], {INDEX_KEY: index_key(expr)}, arguments, expr.span)
        else:
            assert isinstance(expr, ArrayLiteral), expr  # the parser makes no other composite
            op = self.bound(OPS["stack"], {}, arguments, expr.span)
        return self.builder.apply(op, arguments, expr.span, written)

    def gradient(self, call: Call, output: int, wrt: int) -> int:
        """`grad(f, x)`: the backward sweep from f to x, appended as nodes (in a group named
        after the call, so a picture tells the backward pass from the forward one)."""
        source = self.program.source
        text = display.abbreviate(source[call.span.start:call.span.end], display.MAX_TITLE)
        return gradient(self.builder, output, wrt, call.span, f"{BACKWARD_GROUP}{text}")

    def bound(self, entry: Op, settings: dict[str, Any], arguments: tuple[int, ...],
              span: Span) -> Op:
        """The op for this node: its static parameters fixed, its arguments' shapes known."""
        if not entry.statics and not entry.variadic and entry.derive is None:
            return entry
        shapes = tuple(np.shape(self.builder.values[argument]) for argument in arguments)
        try:
            return entry.bind(settings, shapes)
        except ValueError as error:
            raise ShapeError(f"`{self.program.source[span.start:span.end]}`: {error}",
                             span) from None


def _check_assignable(name: str, span: Span) -> None:
    if name in CALLABLE:
        raise UsageError(f"`{name}` is a function and cannot be assigned to", span,
                         "choose another name")
    if name in CONSTANTS:
        raise UsageError(f"`{name}` is a constant and cannot be assigned to", span,
                         "choose another name")


def declared_data(program: Program) -> set[str]:
    """Every name a `data` statement declares: data wherever it is used."""
    return {name for statement in program.statements if isinstance(statement, Data)
            for name in statement.names}


def _check_arity(call: Call, arity: int) -> None:
    if len(call.arguments) != arity:
        expected = f"{arity} argument" + ("s" if arity != 1 else "")
        raise ArityError(f"`{call.function}` takes {expected}, got {len(call.arguments)}",
                         call.span)


NO_SETTINGS: dict[str, Any] = {}


def table_entry(call: Call) -> Op | None:
    """The op a call names: `max(x)` and `max(x, axis=0)` (one argument) reduce."""
    if call.function in REDUCING and len(call.arguments) == 1:
        return REDUCING[call.function]
    return FUNCTIONS.get(call.function)


def evaluated_children(expr: Expr) -> tuple[Expr, ...]:
    """The sub-expressions that become nodes: not an axis, a shape or an index, which are
    static parameters of the op."""
    if type(expr) is Binary:
        return (expr.left, expr.right)
    if isinstance(expr, Call):
        entry = table_entry(expr)
        if entry is None or entry.variadic:  # grad(f, x) too: f and x are nodes
            return expr.arguments
        return expr.arguments[:entry.arity]
    if isinstance(expr, Index):
        return (expr.target,)
    return children(expr)


def resolve_call(call: Call) -> tuple[Op, tuple[Expr, ...], dict[str, Any]]:
    """The table entry a call names, its arguments, and its static parameters' values; every
    mistake in how it is called is an error here."""
    if call.function == GRAD:
        return _resolve_gradient(call)
    entry = table_entry(call)
    if entry is None and call.function in OPS and call.function != INDEX_OP:
        raise UsageError(f"`{call.function}` is made by grad(...), not written",
                         call.function_span, "x[1:3] picks elements; grad(f, x) scatters a "
                         "gradient back to them")
    if entry is None:
        raise UnknownNameError(f"unknown function `{call.function}`", call.function_span,
                               suggest(call.function, CALLABLE) or "`gad ops` lists the functions")
    if call.function in REDUCING and len(call.arguments) == 2:
        _refuse_axis_lookalike(call, entry)
    if not entry.statics and not entry.variadic and not call.keywords \
            and len(call.arguments) == entry.arity:  # sin(x), max(a, b): the common case
        return entry, call.arguments, NO_SETTINGS
    positional = [static for static in entry.statics if not static.keyword_only]
    operands = evaluated_children(call)
    extra = call.arguments[len(operands):]
    if entry.variadic and not operands:
        raise ArityError(f"`{call.function}` takes at least one argument", call.span,
                         f"for example {call.function}(a, b, axis=0)")
    by_name = {keyword.name for keyword in call.keywords}
    least = entry.arity + sum(static.required and static.name not in by_name
                              for static in positional)
    most = entry.arity + len(positional)
    if not entry.variadic and not least <= len(call.arguments) <= most:
        expected = f"{least}" if least == most else f"{least} or {most}" \
            if most == least + 1 else f"{least} to {most}"
        raise ArityError(f"`{call.function}` takes {expected} argument"
                         f"{'s' if most != 1 else ''}, got {len(call.arguments)}", call.span,
                         f"it is written {entry.signature}" if entry.statics else None)
    given: dict[str, Expr] = {static.name: expr for static, expr in zip(positional, extra)}
    statics = {static.name: static for static in entry.statics}
    for keyword in call.keywords:
        if keyword.name not in statics:
            names = ", ".join(statics)
            raise UsageError(f"`{call.function}` has no parameter `{keyword.name}`",
                             keyword.name_span,
                             f"its parameters by name: {names}" if names else
                             "pass its arguments by position: " + entry.signature)
        if keyword.name in given:
            raise UsageError(f"the {keyword.name} of `{call.function}` is given twice",
                             keyword.name_span)
        given[keyword.name] = keyword.value
    for static in entry.statics:
        if static.required and static.name not in given:
            raise ArityError(f"`{call.function}` needs its {static.name}", call.span,
                             f"it is written {entry.signature}")
    settings = {name: static_value(statics[name], expr, call.function)
                for name, expr in given.items()}
    return entry, operands, settings


def _resolve_gradient(call: Call) -> tuple[None, tuple[Expr, ...], dict[str, Any]]:
    """`grad(f, x)`: f any expression, x a name (an input or a name the program assigned)."""
    _check_arity(call, 2)
    if call.keywords:
        raise UsageError(f"`{GRAD}` takes no parameters by name", call.keywords[0].name_span,
                         "write grad(f, x)")
    wrt = call.arguments[1]
    if not isinstance(wrt, Name) or wrt.name in CONSTANTS:
        raise UsageError(f"`{GRAD}` differentiates with respect to a name", wrt.span,
                         "write grad(f, x) with x an input or a name the program assigned")
    return None, call.arguments, NO_SETTINGS


def _refuse_axis_lookalike(call: Call, elementwise: Op) -> None:
    """`max(W, 1)` compares elementwise here, but reduces along axis 1 in numpy and PyTorch:
    a whole number written as the second argument is refused, naming both readings."""
    axis = _whole_number(call.arguments[1])
    if axis is None:
        return
    name = call.function
    raise UsageError(f"`{name}` of two arguments compares them elementwise, but numpy and "
                     f"PyTorch read {name}(x, {axis}) as a reduction along axis {axis}",
                     call.arguments[1].span,
                     f"write {name}(x, axis={axis}) to reduce along axis {axis}, or "
                     f"{elementwise.aliases[0]}(x, {axis}) to compare elementwise")


def _whole_number(expr: Expr) -> int | None:
    value = literal_value(expr)
    if value is None or np.ndim(value) != 0 or value != np.floor(value) or abs(value) > 2**62:
        return None
    return int(value)


def static_value(static: Static, expr: Expr, function: str) -> Any:
    """The value of an axis or a shape, which the program must write as whole numbers."""
    if static.kind == AXIS:
        axis = _whole_number(expr)
        if axis is None:
            raise UsageError(f"the axis of `{function}` must be a whole number written in the "
                             "program, such as 0 or -1", expr.span)
        return axis
    assert static.kind == SHAPE, static  # the table's other kind, the index, is syntax
    sizes = expr.elements if isinstance(expr, ArrayLiteral) else (expr,)
    shape = tuple(_whole_number(size) for size in sizes)
    if None in shape:
        raise UsageError(f"the shape of `{function}` must be written in the program as whole "
                         "numbers, such as [2, 3] or [-1, 4]", expr.span)
    return shape


def index_key(index: Index) -> tuple:
    """`x[1, 2:, ::-1]` as numpy's key (1, slice(2, None), slice(None, None, -1))."""
    key: list[Any] = []
    for item in index.items:
        parts = (item.start, item.stop, item.step) if isinstance(item, Slice) else (item,)
        numbers = []
        for part in parts:
            number = None if part is None else _whole_number(part)
            if part is not None and number is None:
                raise UsageError("an index must be a whole number written in the program, "
                                 "such as 0, -1 or 1:3", part.span,
                                 "to pick by a computed condition, use where(cond, x, y)")
            numbers.append(number)
        key.append(slice(*numbers) if isinstance(item, Slice) else numbers[0])
    return tuple(key)


def free_names(program: Program) -> dict[str, Span]:
    """Names used before any assignment binds them (the inputs), with their first span."""
    bound: set[str] = set()
    free: dict[str, Span] = {}
    for statement in program.statements:
        stack: list[Expr] = list(children(statement)) if isinstance(statement, (Assign, Data)) \
            else [statement]
        while stack:
            expr = stack.pop()
            if isinstance(expr, Name) and expr.name not in bound and expr.name not in CONSTANTS:
                free.setdefault(expr.name, expr.span)
            stack.extend(reversed(evaluated_children(expr)))
        if isinstance(statement, Assign):
            bound.add(statement.name)
        elif isinstance(statement, Data) and statement.value is not None:
            bound.add(statement.names[0])
    return free


def _refuse_many_operators(source: str, limit: int = MAX_NODES) -> None:
    """Refuse, before it is parsed, a program whose binary operators and the numbers they
    follow alone make more than `limit` nodes (each makes one), counted in one pass over the
    text. Inside `no_grad(...)` they are another graph's, so such a program is left to the
    builder. A text shorter than `limit`, or with fewer operator and digit characters, is not
    looked at."""
    if len(source) < limit or NO_GRAD in source or \
            sum(map(source.count, "+-*/^@0123456789")) < limit:
        return
    count = 0
    for match in _OPERATORS.finditer(source):
        kind = match.lastgroup
        if kind == "skip":
            continue
        count += 2 if kind == "literal" else 1
        if count >= limit:  # an operator ends the match: `**`, or one character
            end = match.end()
            raise LimitError(f"the graph would have more than {limit:,} nodes",
                             Span(end - (2 if match.group().endswith("**") else 1), end),
                             "write it with arrays, where one operation is one node: "
                             "sum(w * x) for w1*x1 + w2*x2 + ...", source=source)


def build(source: str, values: Mapping[str, Any] | None = None,
          data_names: Iterable[str] = ()) -> Built:
    """Parse `source`, bind `values` (numbers or arrays) to its inputs and evaluate the graph;
    `data_names` are data (no gradient) as if the program declared them."""
    with collector.paused():  # a program and its graph make no reference cycles
        return _build(source, values, data_names)


def _build(source: str, values: Mapping[str, Any] | None, data_names: Iterable[str]) -> Built:
    values = {name: as_value(value) for name, value in (values or {}).items()}
    _refuse_many_operators(source)
    program = parse(source)
    missing = {name: span for name, span in free_names(program).items()
               if name not in values and name not in CALLABLE}
    if missing:
        names = list(missing)
        example = " ".join(f"{name}=1.0" for name in names)
        raise MissingInputError(f"no value for {', '.join(names)}", missing[names[0]],
                                f"give values after the expression: {example}", source)
    evaluator = _Evaluator(program, values, data_names)
    try:
        with np.errstate(all="ignore"):
            output = evaluator.run()
    except GadError as error:
        raise error.with_source(source)
    graph = evaluator.builder.finish(output)
    used = set(graph.inputs) | set(graph.data)
    warnings = tuple(f"{name} is given a value but the program does not use it"
                     for name in values if name not in used)
    return Built(graph, warnings)
