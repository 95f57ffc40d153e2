"""Shared fixtures and hypothesis profiles."""

import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from graphviz_ad.cli import app

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
WORKED = "(sin(x2)+1)/(x2+exp(x1))+x1*x2"
WORKED_VALUES = {"x1": 1.5, "x2": 0.5}
_RUNNER = CliRunner()


def gad(*arguments, input=None, env=None, columns=120):
    """`gad ARGUMENTS...` in this process, as a user types it (paths and numbers as text), in a
    terminal `columns` wide; the result has exit_code, stdout and stderr."""
    return _RUNNER.invoke(app, [str(argument) for argument in arguments], input=input,
                          env={"COLUMNS": str(columns), **(env or {})})


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


# The browser tests (test_page.py, test_torch_page.py): Playwright drives the system Chromium,
# skipped where either is missing; a browser is never downloaded.
LAUNCH_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); browsers are never "
                    "downloaded at run time")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable,
                                              args=LAUNCH_ARGUMENTS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser):
    """Opens a page file; afterwards, fails on any console error, script error, dialog, or
    request for anything but the file."""
    opened = []

    def open_file(path: Path, width: int = 1400, height: int = 820):
        problems: list[str] = []
        page = browser.new_page(viewport={"width": width, "height": height})
        url = path.resolve().as_uri()
        page.on("console", lambda message: message.type in ("error", "warning")
                and problems.append(f"console {message.type}: {message.text}"))
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"),
                                          dialog.dismiss()))
        page.on("request", lambda request: request.url != url
                and problems.append(f"request: {request.url}"))
        page.goto(url)
        assert page.evaluate("window.gadPage !== undefined"), problems
        opened.append((page, problems))
        return page

    yield open_file
    for page, problems in opened:
        page.close()
        assert problems == []
