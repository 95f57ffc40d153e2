"""One door in, one door out: any source's annotated graph is drawn, traced and path-traced the
same way, every format is written from the same picture, and notebooks need no system Graphviz."""

import json
import math
import shutil
from xml.etree import ElementTree

import numpy as np
import pytest

from graphviz_ad import api
from graphviz_ad.engine.annotated import INPUT, OPERATION, AnnotatedGraph, ForeignOp
from graphviz_ad.engine.linear import LinearMap
from graphviz_ad.render.formats import FORMATS, TABLE
from tests.conftest import gad





def imported_graph(linear_map=None) -> AnnotatedGraph:
    """What an importer of another framework would hand over: y = fused(a, b) = a·b + a at
    a = 2, b = 3, with an op our table does not know and the local derivatives it measured."""
    fused = ForeignOp("fused", 2, "a·b + a (FusedBackward0)",
                      **({"linear_map": linear_map} if linear_map else {}))
    a, b = np.float64(2.0), np.float64(3.0)
    return AnnotatedGraph(
        kinds=(INPUT, INPUT, OPERATION), ops=(None, None, fused), args=((), (), (0, 1)),
        values=(a, b, a * b + a), labels=("a", "b", "fused"), requires_grad=(True, True, True),
        inputs={"a": 0, "b": 1}, output=2, adjoints=(b + 1, a, np.float64(1.0)),
        local=((), (), (b + 1, a)), carried=(b + 1, a), sweep_order=(2,),
        details={2: "fused(a, b) in block.0"}, groups={2: ("block", "0")})


def test_a_graph_from_another_source_is_drawn_with_its_own_names_and_numbers():
    analysis = api.Analysis.from_graph(imported_graph())
    source = analysis.digraph("a").source
    assert "<B>fused</B>" in source and 'tooltip="fused(a, b) in block.0"' in source
    assert "grad 4" in source and 'label=" 4 [1] "' in source  # d fused / d a = b + 1, path 1
    data = json.loads(analysis.render("json", "a"))
    assert [node["label"] for node in data["nodes"]] == ["a", "b", "fused"]
    assert data["edges"][0]["local_derivative"] == 4.0 and data["path_count"] == 1


def test_paths_and_trace_of_another_source_read_its_record():
    analysis = api.Analysis.from_graph(imported_graph())
    summary = analysis.paths("b")
    assert summary.count == 1 and float(summary.paths[0].product) == 2.0
    trace = analysis.trace()
    assert [(step.target, step.via, float(step.total)) for step in trace.backward] == \
        [(0, 2, 4.0), (1, 2, 2.0)]
    assert trace.backward[0].formula == ""  # no formula is known for a foreign op


def test_the_trace_replays_the_recorded_sweep_and_never_pulls_back_again():
    def refuse(*arguments):
        raise AssertionError("the trace pulled a gradient back again")

    untouchable = LinearMap("untouchable", refuse, refuse)
    trace = api.Analysis.from_graph(imported_graph(untouchable)).trace()
    assert [float(step.contribution) for step in trace.backward] == [4.0, 2.0]


def test_checks_need_a_graph_the_engine_evaluated():
    from graphviz_ad.errors import UsageError

    with pytest.raises(UsageError, match="the check needs a graph the engine evaluated"):
        api.Analysis.from_graph(imported_graph()).check("a")


def test_the_engine_records_each_edge_once_in_sweep_order():
    analysis = api.analyze("(sin(x2)+1)/(x2+exp(x1))+x1*x2", x1=1.5, x2=0.5)
    graph = analysis.graph
    steps = list(graph.sweep())
    assert len(steps) == len(graph.carried)
    assert [step.via for step in steps] == sorted((step.via for step in steps), reverse=True)
    totals = {graph.labels[step.target]: step.total for step in steps}
    assert totals["x2"] == 1.6165488003791766 and totals["x1"] == 0.23283374747559749


def test_a_three_argument_function_is_one_table_entry_through_every_layer():
    result = gad("grad", "clip(x, lo, hi) * 2", "x=0.5", "lo=-1", "hi=1", "--json")
    data = json.loads(result.stdout)
    assert data["gradient"] == {"hi": 0.0, "lo": 0.0, "x": 2.0}
    assert all(check["agrees"] for check in data["check"].values())
    assert json.loads(gad("grad", "clip(x, lo, hi)", "x=3", "lo=-1", "hi=1", "--json",
                          "--no-check").stdout)["gradient"] == {"hi": 1.0, "lo": 0.0, "x": 0.0}
    dot = gad("graph", "clip(x, lo, hi)", "x=0.5", "lo=-1", "hi=1", "--edge-labels", "formula")
    for formula in ("(1 - step(lo - x))*(1 - step(x - hi))", "step(lo - x)", "step(x - hi)"):
        assert f'label=" {formula} "' in dot.stdout
    refused = gad("grad", "clip(x, 1, -1)", "x=0")
    assert refused.exit_code == 2
    assert "clip(x, 1, -1) is outside the domain: clip(x, lo, hi) needs lo <= hi" in \
        refused.stderr


def test_clip_at_a_bound_follows_pytorch_clamp():
    analysis = api.analyze("clip(x, lo, hi)", x=1.0, lo=1.0, hi=2.0)
    assert (analysis.gradient("x"), analysis.gradient("lo"), analysis.gradient("hi")) == \
        (1.0, 0.0, 0.0)


@pytest.mark.parametrize("extra, fragment", [
    (["--only-paths"], "--only-paths needs --wrt"),
    (["--edge-labels", "both", "--top", "0"], "--top"),
])
def test_json_refuses_what_every_other_format_refuses(extra, fragment):
    for image_format in ("json", "dot"):
        result = gad("graph", "x*y", "x=1", "y=2", "-o", "-", "--format", image_format, *extra)
        assert result.exit_code == 2 and fragment in result.stderr, (image_format, result.stderr)


def test_json_is_the_picture_with_exact_numbers():
    compact = json.loads(gad("graph", "exp(sin(x))*y", "x=0.5", "y=2", "-f", "json",
                             "--compact").stdout)
    assert [node["label"] for node in compact["nodes"]] == ["x", "sin → exp", "y", "*"]
    folded = next(edge for edge in compact["edges"] if edge["target"] == "n2")
    exact = math.cos(0.5) * math.exp(math.sin(0.5))
    assert folded["local_derivative"] == pytest.approx(exact, rel=1e-15)
    formula = json.loads(gad("graph", "x*y", "x=3", "y=2", "-f", "json", "--edge-labels",
                             "formula").stdout)
    assert {edge["label"] for edge in formula["edges"]} == {"x", "y"}


def test_formats_are_listed_from_the_table_in_help_and_docs():
    from pathlib import Path

    help_text = " ".join(gad("graph", "--help").stdout.split())
    pictures = (Path(__file__).resolve().parent.parent / "docs/pictures.md").read_text()
    for entry in TABLE:
        assert entry.name in help_text
        assert f"| `{entry.name}` |" in pictures
        for suffix in entry.suffixes:
            assert f".{suffix}" in help_text


def test_an_unknown_format_is_named_with_the_table():
    result = gad("graph", "x*2", "x=1", "-o", "-", "--format", "gif")
    assert result.exit_code == 2
    assert f"choose one of {', '.join(FORMATS)}" in result.stderr


def test_save_writes_any_format_of_the_table(tmp_path):
    analysis = api.analyze("x*y", x=2.0, y=3.0)
    drawing = analysis.save(str(tmp_path / "g.svg"), wrt="x", compact=True)
    assert drawing.renderer in ("dot", "graphviz-pure") and drawing.nodes == 3
    ElementTree.fromstring((tmp_path / "g.svg").read_bytes())
    analysis.save(str(tmp_path / "g.json"))
    assert json.loads((tmp_path / "g.json").read_text())["output"] == "n2"


@pytest.fixture
def no_system_dot(monkeypatch):
    """PATH without Graphviz: only the PyPI wheels are there."""
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which",
                        lambda name, *rest, **options: None if name == "dot"
                        else real_which(name, *rest, **options))


def test_a_notebook_shows_the_picture_without_a_system_graphviz(no_system_dot):
    formatters = pytest.importorskip("IPython.core.formatters")
    analysis = api.analyze("(sin(x2)+1)/(x2+exp(x1))+x1*x2", x1=1.5, x2=0.5)
    shown, _ = formatters.DisplayFormatter().format(analysis)
    svg = ElementTree.fromstring(shown["image/svg+xml"].encode())
    assert svg.tag.endswith("svg")
    assert "1.047" in shown["image/svg+xml"]


def test_a_notebook_shows_a_large_graph_folded_and_a_refused_one_as_its_reason(no_system_dot):
    formatters = pytest.importorskip("IPython.core.formatters")
    source = " + ".join(f"x*{index}" for index in range(1, 120))
    analysis = api.analyze(source, x=1.0)
    shown, _ = formatters.DisplayFormatter().format(analysis)
    svg = shown["image/svg+xml"]
    ElementTree.fromstring(svg.encode())
    assert 0 < svg.count('class="node"') <= 60 < len(analysis.graph)  # folded to the budget
    refused = analysis.show(max_nodes=5, expand_all=True)._repr_mimebundle_()
    assert set(refused) == {"text/plain", "text/html"}
    assert refused["text/plain"].splitlines()[-1].startswith(
        "the picture would have 475 nodes, more than --max-nodes 5")


def test_a_missing_pytorch_is_a_message_with_the_install_command(monkeypatch):
    import sys

    for module in ("graphviz_ad.sources.pytorch", "graphviz_ad.sources.torch_output",
                   "graphviz_ad.sources.script"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` finds uninstalled
    result = gad("torch", "samples/torch_seed.py", "x1=1", "x2=1", "c=1")
    assert result.exit_code == 2
    assert "PyTorch is not installed" in result.stderr
    assert "pip install 'graphviz-ad[torch]'" in result.stderr


def test_pytorch_and_jax_are_imported_only_when_asked():
    import subprocess
    import sys

    checked = subprocess.run(
        [sys.executable, "-c", "import sys, graphviz_ad, graphviz_ad.api, graphviz_ad.cli; "
                               "print('torch' in sys.modules, 'jax' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert checked.stdout.strip() == "False False"
