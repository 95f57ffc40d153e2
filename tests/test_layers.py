"""The package's import graph, read from the sources: every module sits on a floor, imports only
from its own floor or those below, and no two modules import each other, however indirectly."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "graphviz_ad"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = ("graphviz_ad",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(path): path for path in MODULES}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside a function (a lazy import is still an
    arrow): `from graphviz_ad.engine import ops` counts as graphviz_ad.engine.ops."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names
                         if f"{node.module}.{alias.name}" in NAMES)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names.add("importlib.import_module")  # an arrow no reader of imports can follow
    return names


def ours(path: Path) -> set[str]:
    """The package's modules that `path` imports (a package's own __init__ excluded when only
    its submodules are named)."""
    names = {name for name in imported(path) if name in NAMES} - {module_name(path)}
    return {name for name in names
            if not any(other.startswith(name + ".") for other in names)}


# Floors, lowest first: a module may import modules of its own floor or lower ones, and each row
# names what else it must not import. Every module of the package matches exactly one row.
FLOORS = [
    ("leaves", ("graphviz_ad.text", "graphviz_ad.errors", "graphviz_ad.collector",
                "graphviz_ad.style", "graphviz_ad.signals", "graphviz_ad.display",
                "graphviz_ad.engine.defaults"), ("numpy", "rich", "typer", "graphviz")),
    ("choices", ("graphviz_ad.options",), ("numpy", "rich", "typer", "graphviz", "subprocess")),
    ("language", ("graphviz_ad.language",), ("numpy", "rich", "typer", "graphviz")),
    ("engine", ("graphviz_ad.engine",), ("rich", "typer", "graphviz", "subprocess", "os",
                                          "pathlib")),
    ("files", ("graphviz_ad.reading", "graphviz_ad.writing", "graphviz_ad.value_files",
               "graphviz_ad.arguments"), ("rich", "typer", "graphviz")),
    ("sources", ("graphviz_ad.sources",), ("rich", "typer", "graphviz", "subprocess")),
    ("records", ("graphviz_ad.records", "graphviz_ad.gradients"), ("rich", "typer", "graphviz")),
    ("render", ("graphviz_ad.render",), ("typer", "rich")),
    ("facade", ("graphviz_ad.api", "graphviz_ad.torchviz_dot", "graphviz_ad"),
     ("rich", "typer", "subprocess")),
    ("report", ("graphviz_ad.report",), ("typer", "graphviz")),
    ("command line", ("graphviz_ad.command_options", "graphviz_ad.cli", "graphviz_ad.__main__"),
     ()),
]
# The exceptions a row's third-party rule allows, each for a reason.
ALLOWED = {
    ("graphviz_ad.display", "numpy"),  # arrays are what it shows
}


def floor_of(name: str) -> int:
    """The floor of the row naming `name` most closely (engine.defaults is a leaf of the
    engine's)."""
    matches = [(len(prefix), index) for index, (_, prefixes, _) in enumerate(FLOORS)
               for prefix in prefixes
               if name == prefix or (prefix != "graphviz_ad" and name.startswith(prefix + "."))]
    assert matches, f"{name} is on no floor of tests/test_layers.py"
    return max(matches)[1]


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_module_imports_only_from_its_floor_or_below(name):
    floor = floor_of(name)
    above = [other for other in ours(NAMES[name]) if floor_of(other) > floor]
    assert above == [], f"{name} ({FLOORS[floor][0]}) imports from above: {above}"
    assert "importlib.import_module" not in imported(NAMES[name]), \
        f"{name} imports by a computed name, which no import graph sees"
    for forbidden in FLOORS[floor][2]:
        if (name, forbidden) in ALLOWED:
            continue
        assert not any(other == forbidden or other.startswith(forbidden + ".")
                       for other in imported(NAMES[name])), f"{name} imports {forbidden}"


def test_the_import_graph_has_no_circle():
    # Depth-first, iteratively: a module met again while still on the stack closes a circle.
    edges = {name: sorted(ours(path)) for name, path in NAMES.items()}
    state: dict[str, str] = {}
    for start in edges:
        if start in state:
            continue
        stack = [(start, iter(edges[start]))]
        state[start] = "open"
        while stack:
            name, pending = stack[-1]
            for other in pending:
                if state.get(other) == "open":
                    circle = [entry for entry, _ in stack]
                    circle = circle[circle.index(other):] + [other]
                    pytest.fail("a circle of imports: " + " -> ".join(circle))
                if other not in state:
                    state[other] = "open"
                    stack.append((other, iter(edges[other])))
                    break
            else:
                state[name] = "done"
                stack.pop()


def test_the_floors_name_no_module_that_is_gone():
    for _, prefixes, _ in FLOORS:
        for prefix in prefixes:
            assert prefix in NAMES or any(
                name.startswith(prefix + ".") for name in NAMES), prefix


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
# Folding and listing paths are views over the annotated graph too: they read nothing else.
NEUTRAL_ENGINE = ("graphviz_ad.engine.annotated", "graphviz_ad.engine.linear",
                  "graphviz_ad.engine.paths", "graphviz_ad.engine.trace",
                  "graphviz_ad.engine.fold")
OP_TABLE_VIEWS = ("report/ops.py",)  # `gad ops` lists the op table itself


@pytest.mark.parametrize("path", [path for path in MODULES
                                  if FLOORS[floor_of(module_name(path))][0] in ("report", "render")],
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


def test_the_command_line_stays_thin_and_the_facade_only_opens_doors():
    assert len((PACKAGE / "cli.py").read_text().splitlines()) < 300
    assert len((PACKAGE / "api.py").read_text().splitlines()) < 350
