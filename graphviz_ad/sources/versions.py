"""A framework's release read from its version, and a too old one refused (torch, jax)."""

from __future__ import annotations

import re

from graphviz_ad.errors import UsageError


def release(version: str) -> tuple[int, int]:
    """`2.15.0+cu132` -> (2, 15); a version printed in another shape -> (0, 0)."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def require_release(package: str, version: str, oldest: tuple[int, int]) -> None:
    """A release older than the oldest supported is refused with the command that fixes it,
    rather than failing later somewhere inside the importer."""
    found = release(version)
    if found != (0, 0) and found < oldest:
        least = ".".join(map(str, oldest))
        raise UsageError(f"graphviz-ad needs {package} {least} or newer; this is {package} "
                         f"{version}", None,
                         f"upgrade it: pip install --upgrade '{package}>={least}'")
