"""Imports point down the pipeline: language -> engine -> views -> cli. Read from the sources."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "graphviz_ad"
MODULES = sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


# The one text-cleaning step: a leaf every layer may use (it imports nothing of ours).
SHARED = {"graphviz_ad.text"}
FORBIDDEN = {
    "language": ("numpy", "rich", "typer", "graphviz", "graphviz_ad.engine", "graphviz_ad.api",
                 "graphviz_ad.report", "graphviz_ad.render", "graphviz_ad.cli"),
    "engine": ("rich", "typer", "graphviz", "graphviz_ad.api", "graphviz_ad.report",
               "graphviz_ad.render", "graphviz_ad.cli", "subprocess", "os", "pathlib"),
    "text": ("numpy", "rich", "typer", "graphviz", "graphviz_ad."),
    "errors": ("numpy", "rich", "typer", "graphviz", "graphviz_ad."),
    "display": ("rich", "typer", "graphviz", "graphviz_ad."),
    "api": ("rich", "typer", "graphviz_ad.cli", "subprocess"),
    "report": ("typer", "graphviz", "graphviz_ad.cli", "graphviz_ad.render"),
    "render": ("typer", "rich", "graphviz_ad.cli", "graphviz_ad.report"),
    "reading": ("numpy", "rich", "typer", "graphviz", "graphviz_ad.engine", "graphviz_ad.api",
                "graphviz_ad.report", "graphviz_ad.render", "graphviz_ad.cli"),
    "writing": ("numpy", "rich", "typer", "graphviz", "graphviz_ad.engine", "graphviz_ad.api",
                "graphviz_ad.report", "graphviz_ad.render", "graphviz_ad.cli"),
    "value_files": ("rich", "typer", "graphviz", "graphviz_ad.api", "graphviz_ad.report",
                    "graphviz_ad.render", "graphviz_ad.cli"),
    "signals": ("numpy", "rich", "typer", "graphviz", "graphviz_ad."),
    "records": ("rich", "typer", "graphviz", "graphviz_ad.report", "graphviz_ad.render",
                "graphviz_ad.cli"),
    # Importers make annotated graphs; the facade, the views and the CLI are above them.
    "sources": ("rich", "typer", "graphviz", "graphviz_ad.api", "graphviz_ad.report",
                "graphviz_ad.render", "graphviz_ad.cli", "subprocess"),
}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_module_imports_respect_the_pipeline(path):
    forbidden = FORBIDDEN.get(layer(path), ())
    for name in imported(path) - SHARED:
        for prefix in forbidden:
            assert not (name == prefix.rstrip(".") or name.startswith(prefix.rstrip(".") + ".")
                        or (prefix.endswith(".") and name.startswith(prefix))), \
                f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_only_the_cli_imports_typer_and_nothing_imports_the_cli(path):
    names = imported(path)
    if path.stem not in ("cli", "command_options"):
        assert "typer" not in names
    if path.stem != "cli":
        assert "graphviz_ad.command_options" not in names
    if path.stem not in ("__main__",):
        assert "graphviz_ad.cli" not in names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_module_opens_with_a_one_line_docstring(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, path
    assert docstring.splitlines()[0].endswith("."), path


def test_user_text_is_never_evaluated():
    for path in MODULES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile"), path
        # gad torch runs the user's Python file by design; it reads its shape with ast first
        if path.relative_to(PACKAGE) != Path("sources/script.py"):
            assert "import ast" not in path.read_text(), path


# The doors: every source enters as an annotated graph through the facade, every view reads only
# that graph (and the path and trace views over it), and only the format table knows formats.
NEUTRAL_ENGINE = ("graphviz_ad.engine.annotated", "graphviz_ad.engine.linear",
                  "graphviz_ad.engine.paths", "graphviz_ad.engine.trace")
OP_TABLE_VIEWS = ("report/ops.py",)  # `gad ops` lists the op table itself


@pytest.mark.parametrize("path", [path for path in MODULES if layer(path) in ("report", "render")],
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_views_read_the_annotated_graph_not_engine_internals(path):
    if str(path.relative_to(PACKAGE)) in OP_TABLE_VIEWS:
        return
    for name in imported(path):
        if name.startswith("graphviz_ad.engine"):
            assert name in NEUTRAL_ENGINE, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_only_the_facade_builds_an_analysis(path):
    if path.name == "api.py":
        return
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", "")
            assert called != "Analysis", f"{path.name} builds an Analysis"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_only_the_format_table_lists_formats(path):
    from graphviz_ad.render.formats import FORMATS

    if path.relative_to(PACKAGE) == Path("render/formats.py"):
        return
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            names = {element.value for element in node.elts
                     if isinstance(element, ast.Constant) and element.value in FORMATS}
            assert len(names) < 2, f"{path.name} lists formats {sorted(names)}"


def test_the_command_line_stays_thin():
    # 300 before `gad torch`, a command with the picture and folding options of `gad graph`.
    assert len((PACKAGE / "cli.py").read_text().splitlines()) <= 340
