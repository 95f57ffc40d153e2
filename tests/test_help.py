"""Help that teaches: every command's --help ends with examples that run, and `gad docs` prints
the documentation a wheel ships."""

import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graphviz_ad import manual
from graphviz_ad.cli import app
from graphviz_ad.command_help import EXAMPLES
from tests.conftest import gad

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(page.stem for page in (ROOT / "docs").glob("*.md"))
COMMANDS = sorted(command.name or command.callback.__name__
                  for command in app.registered_commands)


def test_every_command_has_two_or_three_examples():
    assert sorted(EXAMPLES) == COMMANDS
    assert all(2 <= len(examples) <= 3 for examples in EXAMPLES.values())


@pytest.mark.parametrize("command", COMMANDS)
def test_help_ends_with_the_examples(command):
    result = gad(command, "--help", columns=200)
    assert result.exit_code == 0
    shown = result.stdout[result.stdout.index("Examples:"):]
    lines = [line.strip() for line in shown.splitlines() if line.strip()]
    assert lines == ["Examples:", *EXAMPLES[command]]


RUNNABLE = [(command, example) for command, examples in EXAMPLES.items()
            for example in examples
            if command != "torch" and " -o " not in example]


@pytest.mark.parametrize("command, example", RUNNABLE)
def test_each_example_runs(command, example):
    if command == "jax":  # an extra: make test runs on a machine without it too
        pytest.importorskip("jax", reason="JAX is not installed")
    words = shlex.split(example.split(" | ")[0])
    assert words[:2] == ["gad", command]
    result = gad(*words[1:])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()


def test_gad_docs_lists_the_pages_and_prints_one():
    listing = gad("docs").stdout
    assert all(f"  {name} " in listing for name in PAGES)
    assert "torch" in PAGES and "PyTorch graphs, drawn our way" in listing
    assert gad("docs", "torch").stdout == (ROOT / "docs" / "torch.md").read_text() + "\n"
    assert gad("docs", "docs/torch.md").exit_code == 0  # as a help text writes it


def test_an_unknown_topic_suggests_the_nearest():
    result = gad("docs", "torhc")
    assert result.exit_code == 2 and "did you mean `torch`?" in result.stderr


def test_the_help_points_to_gad_docs_not_to_the_repository():
    assert "gad docs torch" in gad("torch", "--help", columns=300).stdout


def test_an_installed_package_reads_its_own_copy(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "torch.md").write_text("# Shipped\n\ntext\n")
    monkeypatch.setattr(manual, "PACKAGE", tmp_path)
    assert manual.topics() == {"torch": "Shipped"} and manual.page("torch").endswith("text\n")


def test_the_wheel_ships_every_page(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", str(ROOT), "-w", str(tmp_path)], check=True,
                   timeout=120, capture_output=True)
    names = zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist()
    assert sorted(name[len("graphviz_ad/docs/"):-3] for name in names
                  if name.startswith("graphviz_ad/docs/")) == PAGES
    assert not any(name.endswith(".png") for name in names)
