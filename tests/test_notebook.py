"""A real notebook, run by a Jupyter kernel: an analysis and its queries show as text, tables, a
picture fitted to the cell and the page inline; and the outputs, laid out in Chromium, fit.

One kernel runs the notebook once for the module (nbclient, nbformat and ipykernel are in the
`test` extra); the browser test needs the system Chromium, as tests/test_page.py does.
"""

import ast
from datetime import datetime
from html import escape

import pytest

from graphviz_ad.notebook import PAGE_HEIGHT
from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="pip install -e '.[test]'")

TORCH = "torch"  # the tag of the cell that needs PyTorch, whose time is its own
CELLS = [
    ("load", "import graphviz_ad\nanalysis = graphviz_ad.load('samples/seed.gad')\nanalysis"),
    ("paths", "analysis.paths('x2')"),
    ("trace", "analysis.trace()"),
    ("gradients", "analysis.gradient_report()"),
    ("page", "analysis.show('page', wrt='x2')"),
    ("dark", "analysis.show(wrt='x2', theme='dark')"),
    ("completion", "[name for name in dir(graphviz_ad) if not name.startswith('_')]"),
    (TORCH, "try:\n    import torch\nexcept ImportError:\n    torch = None\n"
            "if torch is not None:\n"
            "    torch.manual_seed(0)\n"
            "    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),\n"
            "                                torch.nn.Linear(4, 1)).double()\n"
            "    traced = graphviz_ad.trace_torch(lambda x: model(x).sum(),\n"
            "                                     torch.ones(2, 3, dtype=torch.float64))\n"
            "traced if torch is not None else 'no torch'"),
]


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": [tag]})
                      for tag, source in CELLS]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return {cell.metadata["tags"][0]: cell for cell in notebook.cells}


def result(cell) -> dict:
    (output,) = [output for output in cell.outputs if output.output_type == "execute_result"]
    return output.data


def seconds(cell) -> float:
    timing = cell.metadata["execution"]
    started, replied = (datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                        for key in ("iopub.execute_input", "shell.execute_reply"))
    return (replied - started).total_seconds()


def test_the_notebook_runs_quickly_without_errors(executed):
    for tag, cell in executed.items():
        assert not [output for output in cell.outputs if output.output_type == "error"], tag
    assert sum(seconds(cell) for tag, cell in executed.items() if tag != TORCH) < 10


def test_an_analysis_shows_its_numbers_and_its_picture_fitted_to_the_cell(executed):
    shown = result(executed["load"])
    assert set(shown) == {"text/plain", "text/html", "image/svg+xml"}
    assert shown["text/plain"].splitlines() == [
        "f = n / d + x1 * x2 = 1.0469726768804155 · 10 nodes",
        "input  value             gradient",
        "x1       1.5  0.23283374747559749",
        "x2       0.5   1.6165488003791766"]
    root = shown["text/html"][shown["text/html"].index("<svg"):].split(">", 1)[0]
    assert "max-width:100%;height:auto" in root and " height=" not in root
    assert shown["image/svg+xml"].lstrip().startswith("<?xml")
    assert len(shown["text/html"]) < 40_000


def test_the_queries_show_as_tables(executed):
    paths, trace, report = (result(executed[tag]) for tag in ("paths", "trace", "gradients"))
    assert paths["text/plain"].splitlines()[:2] == [
        "paths from x2 to f: 3", "#  path                      local gradients along it"
        "                product"]
    assert "<td" in paths["text/html"] and "x2 → sin → + → / → +" in paths["text/html"]
    assert "adj(x2) += adj(v1) · cos(x2)" in trace["text/plain"]
    assert "df/dx2 = 1.6165488003791766" in trace["text/plain"]
    assert report["text/plain"].splitlines()[0] == "f = 1.0469726768804155"
    assert "4.7e-12 ✓" in report["text/html"]
    assert ast.literal_eval(result(executed["completion"])["text/plain"]) == [
        "Analysis", "analyze", "from_jaxpr", "from_torch", "load", "make_dot", "trace_jax",
        "trace_torch"]


def test_the_page_is_inline_sandboxed_and_small(executed):
    page = result(executed["page"])
    html = page["text/html"]
    assert html.count("<iframe srcdoc='") == 1 and 'sandbox="allow-scripts"' in html
    assert "allow-same-origin" not in html
    assert len(html.encode()) < 100_000
    assert page["text/plain"].endswith("bytes")


def test_a_dark_picture_and_a_traced_model(executed):
    assert 'fill="#1b1d21"' in result(executed["dark"])["text/html"]  # the dark paper
    traced = result(executed[TORCH])
    if traced["text/plain"] == "'no torch'":
        pytest.skip("PyTorch is not installed")
    assert "nodes" in traced["text/plain"].splitlines()[0] and "<svg" in traced["text/html"]


def notebook_html(executed) -> str:
    """The executed notebook as a page: each cell's code, then its richest output, in a column
    as wide as JupyterLab's."""
    parts = []
    for tag, cell in executed.items():
        data = result(cell)
        shown = data.get("text/html") or f"<pre>{escape(data['text/plain'])}</pre>"
        parts.append(f'<pre class="in">{escape(cell.source)}</pre>'
                     f'<div class="out" id="{tag}">{shown}</div>')
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{margin:0 auto;"
            "width:880px;font:14px sans-serif}.in{background:#f5f5f5;padding:6px}.out{"
            "overflow:hidden;margin-bottom:18px}</style></head><body>"
            + "".join(parts) + "</body></html>")


def test_in_chromium_the_picture_fits_the_cell_and_the_page_runs(executed, browser, tmp_path):
    path = tmp_path / "notebook.html"
    path.write_text(notebook_html(executed), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(path.as_uri())
    cell = page.eval_on_selector("#dark", "cell => cell.getBoundingClientRect().toJSON()")
    picture = page.eval_on_selector("#dark svg", "svg => ({...svg.getBoundingClientRect().toJSON()"
                                    ", box: svg.viewBox.baseVal.width / svg.viewBox.baseVal.height,"
                                    " drawn: svg.viewBox.baseVal.width * 4 / 3})")
    assert picture["width"] <= cell["width"] and picture["right"] <= cell["right"]
    assert picture["width"] < picture["drawn"]  # wider than the cell as drawn, so scaled down
    assert picture["width"] / picture["height"] == pytest.approx(picture["box"], rel=0.01)
    frame = page.eval_on_selector("#page iframe", "frame => frame.getBoundingClientRect().height")
    assert frame == pytest.approx(PAGE_HEIGHT, abs=2)
    # Chromium renders an offscreen frame of another origin (this sandboxed one) only once it is
    # scrolled to, as a reader would: the page starts then.
    page.eval_on_selector("#page iframe", "frame => frame.scrollIntoView()")
    inline = page.wait_for_selector("#page iframe").content_frame()
    for _ in range(200):  # the page starts once its frame has a size (page.js)
        if inline.evaluate("typeof window.gadPage") == "object":
            break
        page.wait_for_timeout(50)
    inline.evaluate("window.gadPage.go(window.gadPage.last)")
    assert inline.evaluate("window.gadPage.position === window.gadPage.last")
    assert inline.text_content("#numbers") == "df/dx1 = 0.2328 · df/dx2 = 1.617"  # the end
    page.screenshot(path=str(tmp_path / "notebook.png"), full_page=True)
    page.close()
