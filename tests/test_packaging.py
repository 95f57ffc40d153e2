"""The package finds its bundled renderer through its metadata, and ships what its tests need."""

import shutil
from pathlib import Path

import pytest

from graphviz_ad.render import backend

ROOT = Path(__file__).resolve().parent.parent


def test_graphviz_pure_is_found_with_its_scripts_folder_off_path(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *arguments, **options: None)
    renderer = backend.find_renderer("auto", "svg")
    assert renderer.name == backend.PURE
    assert Path(renderer.executable).name.startswith("graphviz-pure")
    assert Path(renderer.executable).is_file()


def test_the_source_distribution_includes_what_the_tests_read():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for needed in ("tests", "samples", "docs", "LICENSE", "Makefile", "graphviz_ad"):
        assert needed in included
    assert project["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
