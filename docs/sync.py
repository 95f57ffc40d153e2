"""Regenerate the parts of docs/ that come from the code (run `make docs`; a test checks them)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


# One example per error class: the command line, as a user would type it after `gad`.
ERROR_EXAMPLES = [
    ("ParseError", ["grad", "x +* 2", "x=1"]),
    ("UnknownNameError", ["grad", "sinn(x) * y", "x=1", "y=2"]),
    ("MissingInputError", ["grad", "x * y + z", "x=1"]),
    ("ArityError", ["grad", "max(x)", "x=1"]),
    ("DomainError", ["grad", "log(x - 1)", "x=0.5"]),
    ("ShapeError", ["grad", "x * 2", "x=[1, 2]"]),
    ("InputValueError", ["grad", "x * 2", "x=abc"]),
    ("LimitError", ["grad", "(" * 201 + "x" + ")" * 201, "x=1"]),
    ("UsageError", ["grad", "sin + x", "x=1"]),
    ("NumericError", ["grad", "exp(x) * 2", "x=710", "--strict"]),
    ("WriteError", ["graph", "x * 2", "x=1", "-o", "/proc/gad.dot"]),
    ("RenderError", ["graph", "x * 2", "x=1", "-o", "x.pdf", "--renderer", "dot"]),
]


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
        result = runner.invoke(app, arguments, env=env, catch_exceptions=False)
        shown = " ".join(shlex.quote(argument) for argument in arguments)
        if len(shown) > 90:
            shown = shown[:60] + " …"
        doc = (error.__doc__ or "").strip().splitlines()[0]
        blocks.append(f"### {name}\n\n{doc} Exit status {result.exit_code}.\n\n"
                      f"```\n$ gad {shown}\n{result.stderr.rstrip()}\n```")
    return "\n\n".join(blocks)


def generated_sections() -> dict[str, tuple[Path, str]]:
    from graphviz_ad.report.ops import ops_markdown

    return {"ops": (DOCS / "language.md", ops_markdown()),
            "errors": (DOCS / "errors.md", error_examples())}


def synced(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- {name}:begin/end --> markers")
    return pattern.sub(lambda match: match.group(1) + body + "\n" + match.group(2), text)


def main() -> int:
    for name, (path, body) in generated_sections().items():
        text = path.read_text()
        path.write_text(synced(text, name, body))
        print(f"{path.relative_to(DOCS.parent)}: {name} section regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
