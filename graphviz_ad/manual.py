"""The documentation, shipped in the wheel, for `gad docs TOPIC`: each page of docs/ by name.

A wheel carries the pages as package data (graphviz_ad/docs, pyproject's hatch config); a source
checkout reads the repository's docs/ beside the package.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from graphviz_ad.errors import UsageError

PACKAGE = Path(__file__).resolve().parent


def folder() -> Path:
    """The wheel's copy of the pages, else the source tree's."""
    shipped = PACKAGE / "docs"
    return shipped if shipped.is_dir() else PACKAGE.parent / "docs"


def topics() -> dict[str, str]:
    """Each page's name (its file's, `chain-rule`) and its title (its first heading)."""
    found = {}
    for page in sorted(folder().glob("*.md")):
        heading = next((line.lstrip("# ").strip() for line in page.read_text("utf-8").splitlines()
                        if line.startswith("# ")), page.stem)
        found[page.stem] = heading
    return found


def contents() -> str:
    """The list of pages, for `gad docs` alone."""
    known = topics()
    width = max(map(len, known), default=0)
    return "\n".join(["gad docs TOPIC prints a page of the documentation:", ""]
                     + [f"  {name:<{width}}  {title}" for name, title in known.items()])


def page(topic: str) -> str:
    """The page named `topic` (`torch`, or `docs/torch.md` as the help texts write it)."""
    name = Path(topic).stem.lower()
    known = topics()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        raise UsageError(f"no documentation on `{topic}`", None,
                         f"did you mean `{close[0]}`?" if close
                         else f"the topics are {', '.join(known)}")
    return (folder() / f"{name}.md").read_text("utf-8")
