"""The groups of a program's nodes, made as the evaluator (engine/build.py) makes the nodes.

Groups are for folding (engine/fold.py): a picture too large to read draws a group as one box,
whose edges carry the total derivatives through it. A statement is a group (`n`, `n (2)` for a
second statement assigning n). Above that the grouping is by √n, so that any program folds to
a few boxes at some depth: a sum of SUM_RUN_MIN_TERMS terms or more is grouped in runs of about
√(terms) terms (`terms 1-13`), a product of as many factors likewise (`factors 1-13`), a
program of more than BLOCK_MIN_STATEMENTS statements in blocks of about √(statements)
consecutive statements named by their lines (`lines 1-9`), and runs or blocks of those again
while there are many. An input a statement assigns (`w = 0.37`) joins
the innermost group holding all its uses, so weights written at the top fold with the
statements that use them. A node's group path, outermost first, is in the builder's `groups`.
"""

from __future__ import annotations

import math
from typing import Iterable

from graphviz_ad.engine.annotated import BACKWARD_GROUP, DATA, INPUT, common_path
from graphviz_ad.engine.graph import NodeLists
from graphviz_ad.language.syntax import Program

# A sum of this many terms or more is grouped into runs of about √(terms) terms each, so that a
# picture of it can fold (`terms 1-13`) like a statement; so is a product of as many factors
# (`factors 1-13`).
SUM_RUN_MIN_TERMS = 16
CHAINS = {"add": "terms", "sub": "terms", "mul": "factors", "div": "factors"}
# A program of more statements than this is grouped into blocks of about √(statements)
# consecutive statements (`lines 1-9`), one level above the statements' own groups; so are
# more runs of terms than this, and more blocks or runs, again, until at most this many remain.
BLOCK_MIN_STATEMENTS = 24


class Grouping:
    """Writes the groups of the nodes a program's statements make into `nodes.groups`: call
    `statement` after each statement has made its nodes, `assigned_input` for each input a
    statement assigns, and `finish` once all are made."""

    def __init__(self, nodes: NodeLists):
        self.nodes = nodes
        self.statements_assigning: dict[str, int] = {}  # by name, so far: `n (3)` is the third
        self.assigned_inputs: list[int] = []  # `w = 0.37`

    def statement(self, first: int, name: str | None = None) -> None:
        """The nodes from `first` on, which one statement made: in its group when it assigns
        `name`, and their long sums and products in runs of terms or factors (inside it)."""
        prefix = () if name is None else self._assigning(range(first, len(self.nodes.kinds)),
                                                         name)
        self._chains(first, prefix)

    def assigned_input(self, node: int) -> None:
        self.assigned_inputs.append(node)

    def finish(self, program: Program, made: list[int]) -> None:
        """Blocks of the statements (`made`: the first node each made), when there are many;
        then each assigned input in the group of its uses."""
        if len(made) > BLOCK_MIN_STATEMENTS:
            self._blocks(program, made)
        self._inputs_with_their_uses()

    def _assigning(self, nodes: range, name: str) -> tuple[str, ...]:
        """The nodes a statement made form its group, named by the name it assigns (`n`, and
        `n (2)` for a second statement assigning n); inputs it met first stay outside."""
        repeat = self.statements_assigning.get(name, 0) + 1
        self.statements_assigning[name] = repeat
        group = name if repeat == 1 else f"{name} ({repeat})"
        kinds, groups = self.nodes.kinds, self.nodes.groups
        for node in nodes:
            if kinds[node] not in (INPUT, DATA):  # inside: a grad(...)'s sweep's groups
                groups[node] = (group,) + groups.get(node, ())
        return (group,)

    def _chains(self, first: int, prefix: tuple[str, ...]) -> None:
        """Long sums and products among the nodes from `first` on, in runs of terms or factors:
        `terms 1-13`, ..., and runs of those where there are many."""
        nodes = self.nodes
        ops, args = nodes.ops, nodes.args

        def chain(node: int) -> str | None:
            """`terms` for a sum, `factors` for a product, made from `first` on by the program:
            a grad(...)'s sweep is grouped by the statements it pulls back through."""
            if node < first or ops[node] is None or swept(node):
                return None
            return CHAINS.get(ops[node].name)

        def swept(node: int) -> bool:
            return any(part.startswith(BACKWARD_GROUP) for part in nodes.groups.get(node, ()))

        continued = {args[node][0] for node in range(first, len(ops))
                     if chain(node) is not None and chain(args[node][0]) == chain(node)}
        for root in range(len(ops) - 1, first - 1, -1):  # outer chains before those inside
            noun = chain(root)
            if noun is None or root in continued:
                continue
            links = [root]
            while chain(args[links[-1]][0]) == noun:
                links.append(args[links[-1]][0])
            links.reverse()  # links[k] adds (or multiplies by) term k + 2
            terms = len(links) + 1
            if terms < SUM_RUN_MIN_TERMS:
                continue
            start = _first_node(args, root, first)
            size = math.ceil(math.sqrt(terms))
            runs = [(begin, min(begin + size, terms + 1)) for begin in range(1, terms + 1, size)]
            # Runs of runs while there are many (a sum of 40,000 terms: 200 runs, in 14), each
            # run named with the runs around it, outermost first.
            outer = [()] * len(runs)
            for level in _nested(runs):
                index = 0
                for begin, end in level:
                    while index < len(runs) and runs[index][0] < end:
                        outer[index] += (f"{noun} {begin}-{end - 1}",)
                        index += 1
            for (begin, end), around in zip(runs, outer):
                last = links[end - 3]  # the link that takes in term end - 1
                path = tuple(reversed(around)) + (f"{noun} {begin}-{end - 1}",)
                for node in range(start, last + 1):
                    if nodes.kinds[node] not in (INPUT, DATA):
                        nodes.groups[node] = nodes.groups.get(node, prefix) + path
                start = last + 1

    def _blocks(self, program: Program, made: list[int]) -> None:
        """Consecutive statements in blocks named by their lines (`lines 1-9`), with the inputs
        they first use (an input a statement assigns moves afterwards to the group of its uses,
        `_inputs_with_their_uses`); while there are still more than BLOCK_MIN_STATEMENTS blocks,
        blocks of blocks above them."""
        statements, source = program.statements, program.source
        nodes = self.nodes
        lines, line, counted = [], 1, 0
        for statement in statements:  # counted from the previous statement on: linear
            line += source.count("\n", counted, statement.span.start)
            counted = statement.span.start
            lines.append(line)
        bounds = made + [len(nodes.kinds)]
        levels = _nested([(index, index + 1) for index in range(len(statements))])
        for level in levels:  # innermost first, so outer blocks are prepended last
            for first, end in level:
                block = (f"lines {lines[first]}-{lines[end - 1]}",)
                for node in range(bounds[first], bounds[end]):
                    nodes.groups[node] = block + nodes.groups.get(node, ())

    def _inputs_with_their_uses(self) -> None:
        """An input a statement assigns (`w = 0.37`) is in the innermost group that holds all
        its uses rather than in the block of the line that assigns it: weights written at the
        top fold with the statements that use them (an unused one stays where it is)."""
        with_their_uses(self.nodes, self.assigned_inputs)


def with_their_uses(nodes: NodeLists, leaves: Iterable[int]) -> None:
    """Each of `leaves` in the innermost group that holds all its uses (in none when its uses
    share no group; an unused one stays where it is): a layer's weights fold with the layer."""
    groups, chosen = nodes.groups, set(leaves)
    common: dict[int, tuple[str, ...]] = {}
    for node, arguments in enumerate(nodes.args):
        for argument in arguments:
            if argument in chosen:
                path = groups.get(node, ())
                common[argument] = common_path(common[argument], path) \
                    if argument in common else path
    for leaf, path in common.items():
        if path:
            groups[leaf] = path
        else:
            groups.pop(leaf, None)


def _nested(units: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """While there are more than BLOCK_MIN_STATEMENTS of the consecutive (first, end) ranges
    `units`, ranges of about √(their number) of them: each level of those, innermost first."""
    levels = []
    while len(units) > BLOCK_MIN_STATEMENTS:
        size = math.ceil(math.sqrt(len(units)))
        units = [(units[begin][0], units[min(begin + size, len(units)) - 1][1])
                 for begin in range(0, len(units), size)]
        levels.append(units)
    return levels


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
