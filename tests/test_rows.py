"""Default pictures keep a screen's shape: left to right, top to bottom, or wrapped into rows."""

import re

import pytest

from graphviz_ad import analyze, load
from graphviz_ad.render import compose
from graphviz_ad.render.formats import PictureOptions
from graphviz_ad.render.rows import WIDEST_ASPECT, arrange, depths

from conftest import gad


def picture_of(analysis, **options):
    return compose.build(analysis.plan("svg", PictureOptions(**options)).chosen)


def test_a_long_chain_is_wrapped_into_rows_read_like_text():
    # Sixty statements alike: drawn apart, not as one `y (2) … y (61) × 60` box.
    source = "y = x\n" + "y = sin(y) * 0.9 + 0.1\n" * 60 + "y\n"
    picture = picture_of(analyze(source, x=0.5), apart=True)
    arrangement = arrange(picture)
    level = depths(picture)
    assert arrangement.rankdir == "TB" and len(arrangement.rows) > 2
    flat = [node for row in arrangement.rows for node in row]
    assert sorted(flat) == sorted(node.id for node in picture.nodes)  # each node once
    # Rows are consecutive depths, each row in depth order: read left to right, top to bottom.
    assert [level[node] for node in flat] == sorted(level[node] for node in flat)
    dot = gad("graph", source, "x=0.5", "-f", "dot", "--apart").stdout
    assert "newrank=true" in dot and dot.count("rank=same") == len(arrangement.rows)


def test_a_small_picture_stays_left_to_right_and_an_explicit_direction_is_kept():
    assert arrange(picture_of(load("samples/seed.gad"))).rankdir == "LR"
    source = "y = x\n" + "y = sin(y) * 0.9 + 0.1\n" * 60 + "y\n"
    dot = gad("graph", source, "x=0.5", "-f", "dot", "--rankdir", "LR").stdout
    assert "rankdir=LR" in dot and "rank=same" not in dot


def test_graphviz_pure_is_never_given_rows():
    """It lays rows out some forty times slower than the system dot: a long picture it draws
    stays left to right."""
    from graphviz_ad.render.formats import DrawOptions, dot_source

    source = "y = x\n" + "y = sin(y) * 0.9 + 0.1\n" * 60 + "y\n"
    picture = picture_of(analyze(source, x=0.5), apart=True)
    assert "rank=same" in dot_source(picture, DrawOptions(), "dot")
    pure = dot_source(picture, DrawOptions(), "graphviz-pure")
    assert "rank=same" not in pure and "rankdir=LR" in pure


def _aspect(svg: str) -> float:
    width, height = map(float, re.search(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"',
                                         svg).groups())
    return width / height


@pytest.mark.parametrize("sample, values", [
    ("program2000", []), ("doubling", ["x=1"]), ("layer_norm", []), ("mlp_batch", []),
    ("network", []), ("detach", []), ("seed", []), ("sum150", []), ("tanh_derivatives", []),
])
def test_default_pictures_of_the_samples_keep_within_three_to_one(sample, values, tmp_path):
    result = gad("graph", f"samples/{sample}.gad", *values, "-o", tmp_path / "p.svg")
    assert result.exit_code == 0, result.stderr
    aspect = _aspect((tmp_path / "p.svg").read_text())
    assert 1 / WIDEST_ASPECT <= aspect <= WIDEST_ASPECT, f"{sample}: {aspect:.2f}"


def test_the_legend_counts_in_a_pictures_width():
    """Left to right the legend of the paths sits on the right: with it a small picture that
    fits 3:1 alone would not (the neuron, 3.8:1), so it is drawn top to bottom."""
    analysis = load("samples/neuron.gad")
    assert arrange(picture_of(analysis)).rankdir == "LR"
    assert arrange(picture_of(analysis, wrt="w")).rankdir == "TB"
