"""What an importer of another framework's computation hands the facade: `Imported`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from graphviz_ad.engine.annotated import AnnotatedGraph


@dataclass(frozen=True)
class Imported:
    """An imported graph, what a user should know about how it was made, and, for a traced
    call, finite differences of an input's gradient by calling the function again:
    `finite_difference(name, method, step)`."""

    graph: AnnotatedGraph
    notes: tuple[str, ...]
    finite_difference: Callable[[str, str, float], Any] | None = None
