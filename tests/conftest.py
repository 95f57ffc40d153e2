"""Shared fixtures and hypothesis profiles."""

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
WORKED = "(sin(x2)+1)/(x2+exp(x1))+x1*x2"
WORKED_VALUES = {"x1": 1.5, "x2": 0.5}


@pytest.fixture(autouse=True)
def _run_from_the_repository(monkeypatch):
    """Tests name samples relative to the repository, wherever pytest was started."""
    monkeypatch.chdir(ROOT)


# For a fake renderer drawing PNG: the first run lays out (-Tdot), and gets this layout back.
FAKE_LAYOUT = ('case "$*" in *-Tdot*) cat > /dev/null; '
               'echo \'digraph { graph [bb="0,0,144,72"]; }\'; exit 0;; esac\n')


def fake_dot(folder: Path, script: str) -> dict:
    """A `dot` on PATH that runs `script`; returns the environment that finds it."""
    path = folder / "dot"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}
