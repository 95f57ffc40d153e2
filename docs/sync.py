"""Regenerate the parts of docs/ that come from the code (run `make docs`; a test checks them)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def generated_sections() -> dict[str, tuple[Path, str]]:
    from graphviz_ad.report.ops import ops_markdown

    return {"ops": (DOCS / "language.md", ops_markdown())}


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
