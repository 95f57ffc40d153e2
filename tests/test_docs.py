"""The generated parts of docs/ match the code; the README's commands are the real ones."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["ops", "errors", "limits"])
def test_generated_doc_sections_are_current(name):
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import sync
    finally:
        sys.path.pop(0)
    path, body = sync.generated_sections()[name]
    text = path.read_text()
    assert sync.synced(text, name, body) == text, "run `make docs` to regenerate"


def test_readme_names_the_two_setup_commands_and_they_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)


def test_readme_links_resolve():
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).exists(), link


def test_every_error_class_is_documented_with_an_example():
    import graphviz_ad.errors as errors

    text = (ROOT / "docs" / "errors.md").read_text()
    classes = [name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, errors.GadError)
               and value is not errors.GadError]
    for name in classes:
        assert f"### {name}\n" in text, name
    assert "internal error" not in text.split("<!-- errors:begin -->")[1]


@pytest.mark.parametrize("relative", ["README.md", "docs/language.md", "docs/chain-rule.md",
                                      "docs/numerics.md"])
def test_printed_examples_match_what_the_tool_prints(relative, monkeypatch):
    import sys

    monkeypatch.chdir(ROOT)
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import sync
    finally:
        sys.path.pop(0)
    text = (ROOT / relative).read_text()
    assert sync.with_examples(text) == text, "run `make docs` to rerun the examples"
