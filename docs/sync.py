"""Regenerate the parts of docs/ that come from the code (run `make docs`; a test checks them)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

DOCS = Path(__file__).resolve().parent


# One example per error class: the command line, as a user would type it after `gad`.
ERROR_EXAMPLES = [
    ("ParseError", ["grad", "x +* 2", "x=1"]),
    ("UnknownNameError", ["grad", "sinn(x) * y", "x=1", "y=2"]),
    ("MissingInputError", ["grad", "x * y + z", "x=1"]),
    ("ArityError", ["grad", "clip(x, 0)", "x=1"]),
    ("DomainError", ["grad", "log(x - 1)", "x=0.5"]),
    ("ShapeError", ["grad", "sum(x * y)", "x=[1, 2]", "y=[1, 2, 3]"]),
    ("InputValueError", ["grad", "x * 2", "x=abc"]),
    ("LimitError", ["grad", "(" * 201 + "x" + ")" * 201, "x=1"]),
    ("UsageError", ["grad", "sin + x", "x=1"]),
    ("NumericError", ["grad", "exp(x) * 2", "x=710", "--strict"]),
    ("CheckError", ["grad", "relu(x - 1)", "x=1", "--check"]),
    ("WriteError", ["graph", "x * 2", "x=1", "-o", "graph.dot"]),  # on a full disk, below
    ("RenderError", ["graph", "x * 2", "x=1", "-o", "x.pdf", "--renderer", "dot"]),
]


@contextmanager
def _full_disk() -> Iterator[None]:
    """Every file write fails as on a full disk, the same on every system (a real full device
    such as Linux's /dev/full exists only on some)."""
    import errno
    from unittest import mock

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with tempfile.TemporaryDirectory() as folder, mock.patch("tempfile.mkstemp",
                                                             side_effect=full):
        previous = os.getcwd()
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(previous)


def error_examples() -> str:
    """Each example run through the real command, with its exit status and message."""
    import os
    import shlex

    from typer.testing import CliRunner

    import graphviz_ad.errors as errors
    from graphviz_ad.cli import app

    runner = CliRunner()
    blocks = []
    for name, arguments in ERROR_EXAMPLES:
        error = getattr(errors, name)
        # The render example must fail the same way everywhere: no `dot` on PATH.
        env = {"PATH": os.devnull} if name == "RenderError" else None
        with _full_disk() if name == "WriteError" else nullcontext():
            result = runner.invoke(app, arguments, env=env, catch_exceptions=False)
        shown = " ".join(shlex.quote(argument) for argument in arguments)
        if len(shown) > 90:
            shown = shown[:60] + " …"
        doc = (error.__doc__ or "").strip().splitlines()[0]
        blocks.append(f"### {name}\n\n{doc} Exit status {result.exit_code}.\n\n"
                      f"```\n$ gad {shown}\n{result.stderr.rstrip()}\n```")
    return "\n\n".join(blocks)


# Every limit and budget: where its constant lives, what it bounds, and what happens past it
# (a test checks that every MAX_*, *_LIMIT, *_BUDGET and EXACT_COUNT_* constant is named in
# docs/errors.md: here, or in its hand-written table of input, output and renderer limits).
LIMITS = [
    ("graphviz_ad.language.tokens", "MAX_SOURCE_CHARS", "characters of program text (from a "
     "file or standard input: `MAX_PROGRAM_BYTES` bytes, above)", "refused", 2),
    ("graphviz_ad.language.tokens", "MAX_NUMBER_CHARS", "characters of one number literal",
     "refused", 2),
    ("graphviz_ad.language.parser", "MAX_NESTING",
     "levels of nesting in an expression: one for each bracket around it (parentheses, a "
     "call's, an array's or an index's), each unary minus or plus, and each operator's right "
     "side that holds the next operator (a chain of powers `x^x^…^x`, not `a + b + c`, whose "
     "left side holds the rest)", "refused", 2),
    ("graphviz_ad.engine.build", "MAX_ARRAY_DEPTH", "levels of nesting of an array literal",
     "refused", 2),
    ("graphviz_ad.engine.graph", "MAX_NODES",
     "nodes of a graph: counted first from the program's binary operators and the numbers they "
     "follow (each makes a node), before it is parsed, then by the builder as it makes them",
     "refused", 2),
    ("graphviz_ad.engine.graph", "MAX_ELEMENTS",
     "elements of one array, checked before it is made", "refused", 2),
    ("graphviz_ad.engine.graph", "MAX_HELD_ELEMENTS",
     "elements of all arrays of a graph together (200 MB of float64), checked before each is "
     "made; the backward pass holds at most as much again in adjoints and again in local "
     "derivatives, so a run at the budget peaks near 700 MB", "refused", 2),
    ("graphviz_ad.engine.check", "WORK_BUDGET",
     "element evaluations of the finite-difference check, all inputs together: two replays "
     "per input element, each replay costing, for each operation after the input, the numbers "
     "it reads or writes, whichever are more (a matrix product's multiply-adds where more), "
     "plus OPERATION_COST; about 2 s",
     "that input's check is skipped: `skipped` in the table with a note, "
     "`\"check\": {\"x\": {\"skipped\": \"reason\"}}` in JSON; later inputs that still fit "
     "are checked", 0),
    ("graphviz_ad.engine.check", "WORK_BUDGET",
     "element evaluations of `--mode forward` for one input: one tangent sweep per element",
     "refused", 2),
    ("graphviz_ad.engine.check", "WORK_BUDGET",
     "element evaluations of a Jacobian by reverse mode (an array output): one backward sweep "
     "per output element, counted as the replays are, before any sweep", "refused", 2),
    ("graphviz_ad.engine.check", "WORK_BUDGET",
     "element evaluations of a Hessian (`gad grad --order 2`): one backward sweep of the "
     "gradient's graph per input element and, when checked, two replays and two backward "
     "sweeps of the function per input element, counted before any sweep", "refused", 2),
    ("graphviz_ad.command_options", "MAX_ORDER",
     "the order of `gad grad --order N`: each derivative's graph is the previous one's "
     "gradient graph, about 3 times larger (tanh's 12th: 181,266 nodes, 7 s)", "refused", 2),
    ("graphviz_ad.render.network", "MAX_NEURONS", "neurons drawn by `--view network`",
     "refused, with a hint to draw the graph view (`--view forward`)", 2),
    ("graphviz_ad.engine.defaults", "ENUMERATION_LIMIT",
     "paths listed by `--all`, and the largest `--top` (paths, graph, explain)",
     "refused", 2),
    ("graphviz_ad.engine.paths", "MAX_LISTED_EDGES",
     "edges of the paths listed at once, bounded before listing by (paths) × (longest path)",
     "refused, naming the largest `--top` that fits", 2),
    ("graphviz_ad.engine.paths", "MAX_LISTING_WORK",
     "elements of work pulling the listed paths' products back (`gad paths`, `gad torch "
     "--paths`, `gad graph --wrt`), bounded before listing by (paths) × (the heaviest path): "
     "on each edge its producer's and consumer's elements and the call, EDGE_WORK for a "
     "traced model's backward function (the page's estimate, with its own budget)",
     "refused, naming the largest `--top` that fits, or when no path fits, groups to "
     "`--fold`", 2),
    ("graphviz_ad.engine.paths", "MAX_SUMMARY_VISITS",
     "node visits to summarize every input's paths (`gad paths` and `gad explain` without "
     "`--wrt`): the nodes after each input, summed", "refused", 2),
    ("graphviz_ad.engine.paths", "EXACT_COUNT_BITS",
     "bits of exact path counts held at once while counting", "the count is estimated", 0),
    ("graphviz_ad.engine.paths", "EXACT_COUNT_WORK",
     "bits of all exact path counts made while counting",
     "the count is estimated: `≈ 9.990e+30102` in tables, `\"~9.99001e+30102\"` in JSON", 0),
    ("graphviz_ad.options", "MAX_CHECK_RUNS",
     "runs of a traced PyTorch function by `gad torch --check` (two per number, central "
     "differences)", "that input's check is skipped, and `--check` fails saying so", 0),
    ("graphviz_ad.options", "DEFAULT_MAX_BOXES",
     "boxes of a picture before its groups fold (`--max-boxes`)",
     "groups fold, deepest and largest first, with a note", 0),
    ("graphviz_ad.options", "MAX_CHAIN",
     "boxes in a row (the longest chain) of a picture that had to fold",
     "every group below one depth folds, the deepest depth that fits both budgets, with a "
     "note", 0),
    ("graphviz_ad.engine.fold", "MAX_JACOBIAN_ELEMENTS",
     "numbers of a folded group's total derivative stored whole (output size × producer "
     "size)", "kept as its action, a sweep inside the group (labelled Jᵀ·1)", 0),
    ("graphviz_ad.engine.fold", "MAX_JACOBIAN_ROWS",
     "output elements of a folded group whose total derivative is stored whole (one sweep "
     "each)", "kept as its action", 0),
    ("graphviz_ad.options", "DEFAULT_MAX_NODES",
     "nodes laid out by `gad graph` and `gad explain -o` (the default of `--max-nodes`), "
     "counted after folding, `--compact` and `--only-paths` before the picture is built",
     "refused, the hint naming only options that would draw fewer", 2),
    ("graphviz_ad.options", "LARGE_PICTURE",
     "nodes of a picture drawn plainly", "edge labels go beside the edges (xlabel), and "
     "leaves used more than `FANOUT_LIMIT` times are drawn once per use", 0),
    ("graphviz_ad.render.picture", "FANOUT_LIMIT", "uses of one leaf in a large picture",
     "one copy of the leaf per use, with a note", 0),
    ("graphviz_ad.render.picture", "MAX_EXPORT_NODES",
     "nodes written as DOT or JSON by `gad graph` (no layout; about 450 bytes a node), "
     "counted before the picture is built", "refused", 2),
    ("graphviz_ad.report.trace", "MAX_TRACE_ROWS", "rows of `gad trace`'s tables", "refused",
     2),
    ("graphviz_ad.report.trace", "MAX_TRACE_STEPS", "steps of `gad trace --json`", "refused",
     2),
    ("graphviz_ad.display", "MAX_SOURCE_TEXT",
     "characters of a node's source text in tooltips, the trace, JSON and messages",
     "the middle is cut: `x + x + …+ x`", 0),
    ("graphviz_ad.display", "MAX_TITLE",
     "characters of a drawn node title and of a literal's or `no_grad(...)`'s label",
     "the middle is cut", 0),
    ("graphviz_ad.engine.graph", "MAX_ELEMENTS_SHOWN",
     "elements of an array named by a domain error", "the rest are counted", 0),
    ("graphviz_ad.display", "MAX_SHOWN_ELEMENTS", "elements of an array shown in full in a table",
     "its shape and range instead", 0),
    ("graphviz_ad.sources.pytorch", "MAX_NAMED_ITEMS",
     "things in a list, tuple or dict that a traced function takes or reads, looked into for "
     "tensors and modules to name (`models['net']`)", "the container is not looked into", 0),
    ("graphviz_ad.sources.torch_graph", "MAX_TRACE_NODES",
     "nodes of a traced or imported PyTorch computation (`gad torch`, `trace_torch`, "
     "`from_torch`), counted as they are made: a Python loop of a million scalar steps stops "
     "in about 1.5 s (docs/performance.md)", "refused while the function still runs, the hint "
     "naming what to trace instead", 2),
    ("graphviz_ad.sources.jaxpr", "MAX_JAX_NODES",
     "nodes of an imported JAX computation (`gad jax`, `trace_jax`, `from_jaxpr`), a scan's or "
     "while loop's steps unrolled, counted as they are made", "refused, the hint naming what "
     "to trace instead", 2),
    ("graphviz_ad.sources.jax_import", "MAX_NAMED_ITEMS",
     "leaves of a global or closure variable looked into for the names of a JAX function's "
     "constants (`X`, `data.y`)", "the variable is not looked into", 0),
    ("graphviz_ad.sources.pytorch", "MAX_TEXT",
     "characters of an argument's text inside its consumer's text (`gad torch`)",
     "the argument's label instead", 0),
    ("graphviz_ad.display", "MAX_CHAIN_ITEMS", "steps of a path shown in a table or legend",
     "repeats are folded (`1 ×60`), then the middle is cut", 0),
    ("graphviz_ad.render.dot", "MAX_EDGE_COLOURS", "path colours drawn on one edge",
     "one grey stands for the rest", 0),
]


def limits_table() -> str:
    """The limits as a Markdown table, values read from the code's own text (nothing is
    imported: `graphviz_ad.sources.pytorch` needs torch)."""
    import ast
    import importlib.util

    lines = ["| limit | value | bounds | past it | exit status |", "|---|---|---|---|---|"]
    for module, name, bounds, past, status in LIMITS:
        tree = ast.parse(Path(importlib.util.find_spec(module).origin).read_text())
        value = next(ast.literal_eval(node.value) for node in tree.body
                     if isinstance(node, ast.Assign) and len(node.targets) == 1
                     and getattr(node.targets[0], "id", None) == name)
        lines.append(f"| `{name}` | {value:,} | {bounds} | {past} | {status} |")
    return "\n".join(lines)


# Files whose ```-blocks that start with `$ gad ...` show real output, regenerated by running
# the command (100 columns wide); errors.md has its own generator above.
EXAMPLE_FILES = ("README.md", "docs/language.md", "docs/chain-rule.md", "docs/numerics.md")
EXAMPLE = re.compile(r"(```\n\$ gad (?P<command>[^\n]*)\n)(?P<output>.*?)(```)", re.DOTALL)


def run_example(command: str) -> str:
    """What `gad COMMAND` prints, standard output then standard error, lines right-trimmed."""
    import shlex

    from typer.testing import CliRunner

    from graphviz_ad.cli import app

    arguments = shlex.split(command.split("  #")[0])
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "100"}, catch_exceptions=False)
    text = result.stdout + result.stderr
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines()) + "\n"


def with_examples(text: str) -> str:
    return EXAMPLE.sub(lambda match: match.group(1) + run_example(match.group("command"))
                       + match.group(4), text)


def formats_markdown() -> str:
    """The format table of render/formats.py, for docs/pictures.md."""
    from graphviz_ad.render.formats import TABLE

    lines = ["| format | suffixes | what it is | written by |", "|---|---|---|---|"]
    for entry in TABLE:
        suffixes = " ".join(f"`.{suffix}`" for suffix in entry.suffixes)
        writers = ", ".join(entry.renderers) or "graphviz-ad itself (no layout)"
        lines.append(f"| `{entry.name}` | {suffixes} | {entry.description} | {writers} |")
    return "\n".join(lines)


def generated_sections() -> dict[str, tuple[Path, str]]:
    from graphviz_ad.report.ops import ops_markdown

    return {"ops": (DOCS / "language.md", ops_markdown()),
            "errors": (DOCS / "errors.md", error_examples()),
            "formats": (DOCS / "pictures.md", formats_markdown()),
            "limits": (DOCS / "errors.md", limits_table())}


def synced(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- {name}:begin/end --> markers")
    return pattern.sub(lambda match: match.group(1) + body + "\n" + match.group(2), text)


def main() -> int:
    os.chdir(DOCS.parent)  # examples name files relative to the repository
    for name, (path, body) in generated_sections().items():
        text = path.read_text()
        path.write_text(synced(text, name, body))
        print(f"{path.relative_to(DOCS.parent)}: {name} section regenerated")
    for relative in EXAMPLE_FILES:
        path = DOCS.parent / relative
        path.write_text(with_examples(path.read_text()))
        print(f"{relative}: examples rerun")
    return 0


if __name__ == "__main__":
    sys.exit(main())
