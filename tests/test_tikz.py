"""TikZ for papers: texts written for TeX, the figure's structure, and pdflatex compiling it."""

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from graphviz_ad import analyze
from graphviz_ad.render.tikz import tex
from tests.conftest import fake_dot, gad

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "samples" / "seed.gad").read_text()
TEX = shutil.which("pdflatex")
COMPILE_SECONDS = 5


@pytest.mark.parametrize("text, written", [
    ("a_b 100% & #1 {x} $ ~ ^ \\ < > |",
     r"a\_b $100$\% \& \#$1$ \{x\} $\$$ $\sim$ \^{} $\backslash$ $<$ $>$ $|$"),
    ("grad -0.05961", "grad $-0.05961$"),
    ("1.5e-06", r"$1.5\times10^{-6}$"),
    ("1e-20", "$10^{-20}$"),
    ("x2 → sin → +", r"x2 $\to$ sin $\to$ +"),
    ("2×3 · [-1, 1]", r"$2\times3$ $\cdot$ [$-1$, $1$]"),
    ("[1,3]", "[$1$,$3$]"),
    ("-inf", r"$-\infty$"),
    ("$1", r"$\$1$"),
    ("名 é", "? é"),
])
def test_text_is_escaped_and_its_numbers_are_in_math_mode(text, written):
    assert tex(text) == written


def tikz_of(source, suffix, tmp_path, **options):
    out = tmp_path / f"figure.{suffix}"
    analyze(source).save(str(out), renderer="graphviz-pure", **options)
    return out.read_text()


def test_the_worked_example_as_a_bare_tikzpicture(tmp_path):
    figure = tikz_of(SEED, "tikz", tmp_path, wrt="x2")
    assert "\\documentclass" not in figure
    body = [line for line in figure.splitlines() if not line.startswith("%")]
    assert body[0].startswith("\\begin{tikzpicture}") and body[-1] == "\\end{tikzpicture}"
    # ten boxes and the legend; twelve edges, the one on paths 2 and 3 drawn twice (striped)
    assert re.findall(r"\\node\[[^\n]*\] \((n\d+)\) at", figure) == [f"n{i}" for i in range(10)]
    assert figure.count("] (legend) at") == 1
    assert len(re.findall(r"^\\draw\[", figure, re.M)) == 13
    assert "dash pattern" in figure and figure.count("-stealth") == 12
    # numbers in math mode, in the boxes, on the edges and in the legend
    assert "grad $1.617$" in figure and "{$0.8776$ [$2$]}" in figure
    assert r"x2 $\to$ sin $\to$ + $\to$ / $\to$ + & $0.1762$" in figure
    assert r"\textbf{sum = df/dx2 = $1.6165488003791766$}" in figure
    assert r"\textit{n} = \textbf{+}" in figure


def test_each_colour_is_defined_once_and_every_one_used_is_defined(tmp_path):
    figure = tikz_of(SEED, "tikz", tmp_path, wrt="x2")
    defined = re.findall(r"\\definecolor\{(\w+)\}\{HTML\}\{([0-9A-F]{6})\}", figure)
    names = [name for name, _ in defined]
    assert len(names) == len(set(names)) and all(name == f"gad{code}" for name, code in defined)
    used = set(re.findall(r"(?:draw|fill|text|color)[=\{](gad\w+)", figure))
    assert used <= set(names) and {"gadD55E00", "gad0072B2", "gadE69F00"} <= used


def test_a_cut_edge_is_dashed_with_a_bar(tmp_path):
    figure = tikz_of((ROOT / "samples" / "detach.gad").read_text(), "tikz", tmp_path)
    cut = [line for line in figure.splitlines() if line.startswith("\\draw[-|")]
    assert len(cut) == 1 and "dashed" in cut[0]


def test_names_with_tex_specials_are_escaped(tmp_path):
    figure = tikz_of("x = 1; a_b = 2*x; a_b * x", "tikz", tmp_path, expand_all=True)
    assert r"\textit{a\_b}" in figure and "a_b" not in figure.replace(r"a\_b", "")


def test_the_network_view_is_refused(tmp_path):
    result = gad("graph", ROOT / "samples/seed.gad", "-o", tmp_path / "f.tex", "--view",
                 "network")
    assert result.exit_code == 2 and "TikZ draws the graph view" in result.stderr


@pytest.mark.skipif(TEX is None, reason="needs pdflatex (texlive-latex-base, texlive-pictures)")
def test_pdflatex_compiles_the_worked_example(tmp_path):
    """The document compiles on its own, in under COMPILE_SECONDS, to one page the size of the
    layout, and pdftoppm draws it."""
    result = gad("graph", ROOT / "samples/seed.gad", "--wrt", "x2", "-o", tmp_path / "seed.tex")
    assert result.exit_code == 0, result.stderr
    started = time.perf_counter()
    run = subprocess.run([TEX, "-interaction=nonstopmode", "-halt-on-error", "seed.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    assert run.returncode == 0, run.stdout[-2000:]
    assert elapsed < COMPILE_SECONDS
    assert "Output written on seed.pdf (1 page" in run.stdout
    assert "Overfull" not in run.stdout and "Font Warning" not in run.stdout
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "72", "-singlefile", "seed.pdf", "seed"],
                       cwd=tmp_path, check=True, timeout=60)
        png = (tmp_path / "seed.png").read_bytes()
        pixels = [int.from_bytes(png[offset:offset + 4], "big") for offset in (16, 20)]
        page = re.search(r"paperwidth=([\d.]+)bp, paperheight=([\d.]+)bp",
                         (tmp_path / "seed.tex").read_text()).groups()
        assert all(abs(drawn - float(size)) <= 1 for drawn, size in zip(pixels, page))


def test_a_layout_without_the_pictures_boxes_is_the_renderers_fault(tmp_path):
    env = fake_dot(tmp_path, "cat > /dev/null; echo '{\"bb\": \"0,0,9,9\", \"objects\": []}'")
    result = gad("graph", "x * 2", "x=1", "-o", tmp_path / "f.tex", "--renderer", "dot", env=env)
    assert result.exit_code == 1 and "layout lacks a box" in result.stderr
    assert not (tmp_path / "f.tex").exists()


def test_heatmaps_are_drawn_in_tex_rules(tmp_path):
    """W's value [[1, -1, 0.4], [0, 0.2, -0.6]] in levels of its largest |cell|: the top level's
    vermillion, the bottom's blue, as render/dot.py colours the cells; then its grad, [v, v]."""
    from graphviz_ad.style import HEAT_LEVELS, heat_colour

    out = tmp_path / "figure.tikz"
    analyze("sum(W @ v)", W=[[1.0, -1.0, 0.4], [0.0, 0.2, -0.6]], v=[1.2, -2.0, 0.8]).save(
        str(out), renderer="graphviz-pure")
    figure = out.read_text()
    name = {level: "gad" + heat_colour(level).lstrip("#").upper()
            for level in range(-HEAT_LEVELS, HEAT_LEVELS + 1)}
    cells = re.findall(r"\\textcolor\{(gad[0-9A-F]{6})\}\{\\rule\[0bp\]\{10bp\}\{10bp\}\}",
                       figure)
    assert cells[:6] == [name[level] for level in (5, -5, 2, 0, 1, -3)]
    assert cells[6:12] == [name[level] for level in (3, -5, 2, 3, -5, 2)]
    assert "\\fcolorbox{gadB0B0B0}{white}" in figure and "\\offinterlineskip" in figure
