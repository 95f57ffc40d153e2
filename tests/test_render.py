"""Pictures: golden DOT for the samples, every format with each renderer, renderer faults."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from graphviz_ad import analyze
from graphviz_ad.cli import app
from graphviz_ad.render import backend
from graphviz_ad.render.backend import find_renderer
from tests.conftest import FAKE_LAYOUT, fake_dot, gad

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SAMPLES = {"seed": "x2", "detach": "x", "neuron": "w", "network": "W1", "fanout": "x"}
HAS_DOT = shutil.which("dot") is not None
system_dot = pytest.mark.skipif(not HAS_DOT, reason="needs a system Graphviz `dot`")
RENDERERS = ["graphviz-pure", pytest.param("dot", marks=[pytest.mark.system_dot, system_dot])]
runner = CliRunner()




def sample(name):
    return analyze((ROOT / "samples" / f"{name}.gad").read_text())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_dot_matches_golden(name):
    source = sample(name).digraph(SAMPLES[name]).source
    golden = GOLDEN / f"{name}.dot"
    if os.environ.get("GAD_UPDATE_GOLDEN"):
        golden.write_text(source)
    assert source == golden.read_text(), "run `make golden` after checking the pictures"


def test_dot_is_deterministic():
    first = sample("seed").digraph("x2").source
    assert first == sample("seed").digraph("x2").source
    assert first.count("n0 ") >= 1 and "n9 [" in first


def test_node_and_edge_styles_in_the_dot():
    source = sample("seed").digraph("x2").source
    assert 'n1 [label=<<TABLE' in source and 'fillcolor="#e2f3e7"' in source  # x2, green
    assert 'fillcolor="#f4e6d8"' in source                                     # the output
    assert 'tooltip="sin(x2)"' in source
    # paths 2 and 3 share the edge: blue and orange, the label in blue (readable on white),
    # tagged with both paths' numbers
    assert 'n7 -> n9 [color="#0072B2:#E69F00" fontcolor="#0072b2" label=" 1 [2,3] "' in source
    assert "grad 1.617" in source and "0.8776" in source


def test_detached_edge_is_drawn_cut():
    source = sample("detach").digraph().source
    cut = [line for line in source.splitlines() if "cut" in line and "->" in line]
    assert len(cut) == 1
    assert "arrowhead=tee" in cut[0] and "style=dashed" in cut[0]


def test_no_grad_constant_is_labelled_with_its_text():
    source = analyze("no_grad(x*x) + x", x=2.0).digraph().source
    assert "no_grad(x*x)" in source


def test_formula_labels_use_the_users_names():
    source = sample("seed").digraph(edge_labels="both").source
    assert 'label=" cos(x2) = 0.8776 "' in source
    assert 'label=" -n/d^2 = -0.05961 "' in source


def test_backward_view_reverses_arrows_only():
    forward = sample("seed").digraph().source
    backward = sample("seed").digraph(view="backward").source
    assert backward.count("dir=back") == forward.count("->")


def test_only_paths_keeps_the_nodes_on_paths_from_the_input():
    picture = sample("seed").picture("x1", only_paths=True)
    assert [node.title for node in picture.nodes] == ["x1", "exp", "+", "/", "*", "+"]


def test_compact_folds_chains_of_one_input_operations():
    analysis = analyze("tanh(exp(sin(x))) * y", x=0.3, y=2.0)
    picture = analysis.picture("x", compact=True)
    assert "sin → exp → tanh" in [node.title for node in picture.nodes]
    (chain_edge,) = [edge for edge in picture.edges if edge.tail == "n0"]
    assert chain_edge.paths == (0,)
    product = float(analysis.paths("x").paths[0].product) / 2.0  # without the * edge's y = 2
    assert chain_edge.label == f"{product:.4g}"


def test_paths_beyond_the_palette_share_one_colour_and_legend_row():
    source = "x0 = x\n" + "\n".join(f"x{i} = x{i - 1} + x{i - 1}" for i in range(1, 5))
    picture = analyze(source, x=1.0).picture("x")
    assert len(picture.legend) == 8  # seven colours and the rest
    assert picture.legend[-1].text == "the other 9 paths" and picture.legend[-1].product == "9"
    assert picture.legend_total == "sum = dx4/dx = 16.0"


def test_json_format_lists_nodes_edges_and_paths(tmp_path):
    out = tmp_path / "g.json"
    result = gad("graph", ROOT / "samples/seed.gad", "-o", out, "--wrt", "x2")
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["wrt"] == "x2" and data["path_count"] == 3
    sin = next(node for node in data["nodes"] if node["label"] == "sin")
    assert sin["source"] == "sin(x2)" and sin["value"] == 0.479425538604203
    edge = next(edge for edge in data["edges"] if edge["target"] == sin["id"])
    assert edge["local_derivative"] == 0.8775825618903728 and edge["paths"] == [1]


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_every_format_with_each_renderer(tmp_path, renderer, image_format):
    out = tmp_path / f"seed.{image_format}"
    result = gad("graph", ROOT / "samples/seed.gad", "-o", out, "--renderer", renderer,
                 "--wrt", "x2")
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    if image_format == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        root = ElementTree.fromstring(data)
        nodes = [group for group in root.iter("{http://www.w3.org/2000/svg}g")
                 if group.get("class") == "node"]
        assert len(nodes) == 11  # ten graph nodes and the legend
    assert not list(tmp_path.glob(".*.tmp"))


@system_dot
@pytest.mark.system_dot
def test_pdf_with_system_dot(tmp_path):
    out = tmp_path / "seed.pdf"
    assert gad("graph", ROOT / "samples/seed.gad", "-o", out).exit_code == 0
    assert out.read_bytes().startswith(b"%PDF-")


def test_pdf_without_system_dot_converts_graphviz_pures_svg(tmp_path):
    """With no `dot` on PATH, graphviz-pure lays out and svglib writes the PDF: one page the
    size of the SVG (920 x 375 points), its text still text."""
    pytest.importorskip("svglib")
    out = tmp_path / "seed.pdf"
    result = gad("graph", ROOT / "samples/seed.gad", "--wrt", "x2", "-o", out,
                 env={"PATH": str(tmp_path)})
    assert result.exit_code == 0, result.stderr
    assert "graphviz-pure" in result.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.count(b"/Type /Page\n") == 1
    box = [float(number) for number in re.search(rb"/MediaBox \[([^\]]*)\]", data).group(1).split()]
    assert box == [0, 0, 920, 375]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", out, "-"], capture_output=True, text=True).stdout
        assert "grad 1.617" in text and "paths from x2 to f" in text


def test_pdf_without_dot_or_svglib_names_the_extra(tmp_path, monkeypatch):
    from graphviz_ad.render import pdf

    monkeypatch.setattr(pdf, "find_spec", lambda name: None)
    result = gad("graph", ROOT / "samples/seed.gad", "-o", tmp_path / "seed.pdf",
                 env={"PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "needs svglib" in result.stderr and "graphviz-ad[pdf]" in result.stderr
    assert "apt install graphviz" in result.stderr
    assert not list(tmp_path.iterdir())


def test_graphviz_pure_is_found_without_path(tmp_path):
    assert find_renderer("graphviz-pure").name == "graphviz-pure"


@pytest.mark.parametrize("script, image_format, message", [
    ("sleep 30", "svg", "did not finish within 0.5 s and was stopped"),
    ("echo 'Error: syntax error in line 3' >&2; exit 1", "svg", "syntax error in line 3"),
    ("cat > /dev/null", "png", "the renderer printed nothing"),
    (FAKE_LAYOUT + "cat > /dev/null; echo garbage", "png", "not a PNG image"),
    ("cat > /dev/null; echo '<svg><g>'", "svg", "SVG does not parse"),
])
def test_renderer_faults_exit_1_and_leave_files_untouched(tmp_path, script, image_format,
                                                          message):
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    env = fake_dot(bin_folder, script)
    out = tmp_path / f"picture.{image_format}"
    out.write_bytes(b"old picture")
    result = gad("graph", ROOT / "samples/seed.gad", "-o", out, "--renderer", "dot",
                 "--timeout", "0.5", env=env)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_bytes() == b"old picture"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin", out.name]


@pytest.mark.parametrize("arguments, message", [
    (["-o", "{tmp}"], "is a directory"),
    (["-o", "{tmp}/missing/g.svg"], "does not exist"),
    (["-o", "{tmp}/g.svg", "--format", "png"], "ends in .svg but --format is png"),
    (["-o", "{tmp}/g.txt"], "cannot tell the format"),
    (["-o", "{tmp}/g.svg", "--format", "gif"], "unknown format `gif`"),
    (["-o", "{tmp}/g.svg", "--only-paths"], "--only-paths needs --wrt"),
    (["-o", "{tmp}/g.svg", "--max-nodes", "5"], "the picture would have 10 nodes"),
    (["-o", "{tmp}/g.svg", "--wrt", "x3"], "`x3` is not an input"),
])
def test_output_mistakes_exit_2_and_write_nothing(tmp_path, arguments, message):
    arguments = [argument.format(tmp=tmp_path) for argument in arguments]
    result = gad("graph", ROOT / "samples/seed.gad", *arguments)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_program_file_is_never_the_output(tmp_path):
    program = tmp_path / "p.dot"
    program.write_text("x*x")
    result = gad("graph", program, "x=1", "-o", program)
    assert result.exit_code == 2 and "the program file itself" in result.stderr
    assert program.read_text() == "x*x"


def test_a_value_file_is_never_the_output_however_it_is_named(tmp_path):
    """The same file by device and inode: by its name, `./`, a symbolic or a hard link, or as
    the file of a member (`@w.json:W`); for every command that writes a picture."""
    values = tmp_path / "in.json"
    values.write_text('{"W": [1, 2]}')
    (tmp_path / "link.json").symlink_to("in.json")
    os.link(values, tmp_path / "hard.json")
    (tmp_path / "model.py").write_text("def f(x):\n    return x.sum()\n")
    for command in (["graph", "sum(x)"], ["explain", "sum(x)"],
                    ["torch", str(tmp_path / "model.py")]):
        for output in ("in.json", "./in.json", "link.json", "hard.json"):
            result = gad(*command, f"x=@{values}:W", "-o", tmp_path / output)
            assert result.exit_code == 2, (command, output, result.stderr)
            assert f"{tmp_path / output} is the value file of x itself" in result.stderr
    assert values.read_text() == '{"W": [1, 2]}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hard.json", "in.json",
                                                                 "link.json", "model.py"]


def test_the_program_file_is_never_the_output_through_a_hard_link(tmp_path):
    program = tmp_path / "p.dot"
    program.write_text("x*x")
    os.link(program, tmp_path / "same.dot")
    result = gad("graph", program, "x=1", "-o", tmp_path / "same.dot")
    assert result.exit_code == 2 and "is the program file itself" in result.stderr
    assert program.read_text() == "x*x"


def test_a_value_file_beside_the_output_is_read_and_the_output_written(tmp_path):
    (tmp_path / "in.json").write_text("[1, 2]")
    result = gad("graph", "sum(x)", f"x=@{tmp_path / 'in.json'}", "-o", tmp_path / "out.json")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["nodes"][0]["value"] == [1.0, 2.0]


def test_dot_to_standard_output():
    result = gad("graph", "x*y", "x=1", "y=2", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("digraph graphviz_ad {")


def test_explain_walks_through_and_draws(tmp_path):
    out = tmp_path / "seed.svg"
    result = runner.invoke(app, ["explain", str(ROOT / "samples/seed.gad"), "-o", str(out)],
                           env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    for text in ("f = 1.0469726768804155", "paths from x1 to f: 2", "paths from x2 to f: 3",
                 "0.1761616491", "✓"):
        assert text in result.stdout
    ElementTree.fromstring(out.read_bytes())


def test_notebook_display_is_svg_fitted_to_the_cell_and_text():
    shown = analyze("x*y", x=1.0, y=2.0)._repr_mimebundle_()
    assert ElementTree.fromstring(shown["image/svg+xml"].encode()).tag.endswith("svg")
    root = shown["text/html"][shown["text/html"].index("<svg"):].split(">", 1)[0]
    assert "max-width:100%;height:auto" in root and " height=" not in root
    assert shown["text/plain"].splitlines()[:4] == [
        "f = x*y = 2.0 · 3 nodes", "input  value  gradient", "x        1.0       2.0",
        "y        2.0       1.0"]


def test_missing_system_dot_is_a_render_error(tmp_path):
    result = gad("graph", ROOT / "samples/seed.gad", "-o", tmp_path / "seed.svg",
                 "--renderer", "dot", env={"PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "no Graphviz `dot` on PATH" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_binary_output_is_never_written_to_a_terminal(monkeypatch):
    import sys

    from graphviz_ad.errors import UsageError
    from graphviz_ad.render.formats import check_output

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(UsageError, match="PNG is binary and standard output is a terminal"):
        check_output("-", "png", "auto", "x*2", [])
    assert check_output("-", "svg", "auto", "x*2", []).name == "svg"


@pytest.mark.parametrize("keywords, reason", [
    ({"dpi": "abc"}, "dpi (--dpi) must be a whole number from 30 to 1200, got 'abc'"),
    ({"dpi": True}, "dpi (--dpi) must be a whole number from 30 to 1200, got True"),
    ({"dpi": 0}, "dpi (--dpi) must be a whole number from 30 to 1200, got 0"),
    ({"max_nodes": 0}, "max_nodes (--max-nodes) must be a whole number of at least 1, got 0"),
    ({"timeout": float("nan")}, "timeout (--timeout) must be a number of seconds from 0.1 to "
                                "86,400, got nan"),
])
def test_drawing_options_from_python_are_checked_as_the_command_line_checks_them(keywords,
                                                                                 reason):
    from graphviz_ad.api import analyze
    from graphviz_ad.errors import UsageError

    with pytest.raises(UsageError) as refused:
        analyze("x * sin(x)", x=1.0).render("png", **keywords)
    assert refused.value.reason == reason


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_the_renderer_started_through_the_fence_script_draws_what_a_fork_draws(
        tmp_path, monkeypatch, renderer, image_format):
    """A large gad (a PyTorch model in memory) starts the renderer through render/fence.py."""
    drawn = {}
    for fork_at_most in (backend.FORK_AT_MOST_BYTES, 0):
        monkeypatch.setattr(backend, "FORK_AT_MOST_BYTES", fork_at_most)
        out = tmp_path / f"{fork_at_most}.{image_format}"
        result = gad("graph", ROOT / "samples/seed.gad", "-o", out, "--renderer", renderer)
        assert result.exit_code == 0, result.stderr
        drawn[fork_at_most] = out.read_bytes()
    assert drawn[0] == drawn[backend.FORK_AT_MOST_BYTES]
