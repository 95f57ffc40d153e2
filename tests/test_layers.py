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
                "graphviz_ad.tables",
                "graphviz_ad.engine.defaults"), ("numpy", "rich", "typer", "graphviz")),
    ("choices", ("graphviz_ad.options",), ("numpy", "rich", "typer", "graphviz", "subprocess")),
    ("language", ("graphviz_ad.language",), ("numpy", "rich", "typer", "graphviz")),
    ("engine", ("graphviz_ad.engine",), ("rich", "typer", "graphviz", "subprocess", "os",
                                          "pathlib")),
    ("files", ("graphviz_ad.reading", "graphviz_ad.writing", "graphviz_ad.value_files",
               "graphviz_ad.arguments", "graphviz_ad.manual"), ("rich", "typer", "graphviz")),
    ("sources", ("graphviz_ad.sources",), ("rich", "typer", "graphviz", "subprocess")),
    ("records", ("graphviz_ad.records", "graphviz_ad.gradients", "graphviz_ad.higher"),
     ("rich", "typer", "graphviz")),
    ("render", ("graphviz_ad.render",), ("typer", "rich")),
    ("facade", ("graphviz_ad.api", "graphviz_ad.notebook", "graphviz_ad.jax_api",
                "graphviz_ad.torchviz_dot", "graphviz_ad"),
     ("rich", "typer", "subprocess")),
    ("report", ("graphviz_ad.report",), ("typer", "graphviz")),
    ("command line", ("graphviz_ad.command_options", "graphviz_ad.command_help",
                      "graphviz_ad.framework_commands", "graphviz_ad.cli", "graphviz_ad.__main__"),
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


def floor_faults(name: str, path: Path, tree: ast.Module) -> list[str]:
    floor = floor_of(name)
    names = imported(path)
    faults = [f"imports {other} from the floor above ({FLOORS[floor_of(other)][0]})"
              for other in ours(path) if floor_of(other) > floor]
    if "importlib.import_module" in names:
        faults.append("imports by a computed name, which no import graph sees")
    faults += [f"imports {forbidden}" for forbidden in FLOORS[floor][2]
               if (name, forbidden) not in ALLOWED
               and any(other == forbidden or other.startswith(forbidden + ".") for other in names)]
    return faults


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


def docstring_faults(name: str, path: Path, tree: ast.Module) -> list[str]:
    docstring = ast.get_docstring(tree)
    return [] if docstring and docstring.splitlines()[0].endswith(".") else \
        ["does not open with a one-line docstring"]


def evaluation_faults(name: str, path: Path, tree: ast.Module) -> list[str]:
    """User text is never evaluated; gad torch runs the user's Python file by design, and reads
    its shape with ast first (sources/script.py alone)."""
    faults = [f"calls {node.func.id}" for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("eval", "exec", "compile")]
    if "ast" in imported(path) and name != "graphviz_ad.sources.script":
        faults.append("imports ast")
    return faults


# The doors: every source enters as an annotated graph through the facade, and every view reads
# only that graph and the views over it (folding, paths, the trace); `gad ops` lists the op
# table itself. Only the format table knows formats.
NEUTRAL_ENGINE = ("graphviz_ad.engine.annotated", "graphviz_ad.engine.linear",
                  "graphviz_ad.engine.paths", "graphviz_ad.engine.trace",
                  "graphviz_ad.engine.fold")
OP_TABLE_VIEWS = ("graphviz_ad.report.ops",)


def view_faults(name: str, path: Path, tree: ast.Module) -> list[str]:
    if FLOORS[floor_of(name)][0] not in ("report", "render") or name in OP_TABLE_VIEWS:
        return []
    return [f"reads {other}, an engine internal" for other in imported(path)
            if other.startswith("graphviz_ad.engine.") and other not in NEUTRAL_ENGINE]


def analysis_faults(name: str, path: Path, tree: ast.Module) -> list[str]:
    if name == "graphviz_ad.api":
        return []
    return ["builds an Analysis" for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", "")) == "Analysis"]


def format_faults(name: str, path: Path, tree: ast.Module) -> list[str]:
    from graphviz_ad.render.formats import FORMATS

    if name == "graphviz_ad.render.formats":
        return []
    listed = [sorted({element.value for element in node.elts
                      if isinstance(element, ast.Constant) and element.value in FORMATS})
              for node in ast.walk(tree) if isinstance(node, (ast.Tuple, ast.List, ast.Set))]
    return [f"lists formats {names}" for names in listed if len(names) > 1]


RULES = [floor_faults, docstring_faults, evaluation_faults, view_faults, analysis_faults,
         format_faults]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_every_module_keeps_the_rule(rule):
    faults = [f"{name}: {fault}" for name, path in NAMES.items()
              for fault in rule(name, path, ast.parse(path.read_text()))]
    assert faults == []


def test_the_command_line_stays_thin_and_the_facade_only_opens_doors():
    assert len((PACKAGE / "cli.py").read_text().splitlines()) < 300
    assert len((PACKAGE / "api.py").read_text().splitlines()) < 350
