"""Pictures at scale: a level of detail that folds groups to a box budget and keeps the chain rule
exact on the folded picture, much-used leaves drawn once per use, options named by group."""

import json
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from graphviz_ad import analyze
from graphviz_ad.render.formats import PictureOptions
from graphviz_ad.render.picture import FANOUT_LIMIT
from tests.test_paths import as_program, program_statements

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from shapes import SHAPES  # noqa: E402
from tests.conftest import gad





def folded_names(picture) -> list[str]:
    return [".".join(node.group + (node.title,)) for node in picture.nodes if node.folded]


def sum_of_all_paths(analysis, name, fold) -> float:
    return sum(float(path.product) for path in analysis.paths(name, None, fold).paths)


def sum_of_drawn_paths(analysis, name, **options) -> float:
    """The sum of the products of every path of the picture's own graph, as it folds (runs of
    repeated groups included)."""
    from graphviz_ad.engine.paths import summarize
    from graphviz_ad.render.compose import picture_graph

    drawn = picture_graph(analysis, PictureOptions(wrt=name, **options)).graph
    return sum(float(path.product) for path in summarize(drawn, name, None).paths)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_benchmark_shape_folds_to_a_drawable_picture(shape):
    analysis = analyze(SHAPES[shape](500))
    picture = analysis.picture()
    assert len(picture.nodes) <= 150  # the default --max-nodes: drawn, never refused
    assert any("folded" in note for note in picture.notes)


def test_a_sum_of_500_nodes_folds_into_runs_of_terms_that_keep_the_gradient():
    analysis = analyze(SHAPES["fan-out sum"](500))
    picture = analysis.picture("x", top=10_000)
    assert len(picture.nodes) <= 60
    folded = [node for node in picture.nodes if node.folded]
    assert folded[0].title == "terms 1-13" and folded[0].folded.startswith("38 nodes")
    x = next(node for node in picture.nodes if node.title == "x")
    gradient = float(analysis.gradient("x"))
    assert x.raw_adjoint == gradient == sum(range(1, 167))
    # The 166 terms chain through their runs: past 20 boxes in a row, every run folds, and
    # the eleven runs of 13 between the first and the last, alike, fold as one box.
    assert [node.title for node in folded] == ["terms 1-13", "terms 14-26 … 144-156 × 11",
                                               "terms 157-166"]
    assert folded[1].folded.startswith("11 × 39 nodes")  # and an add that joins each run
    assert picture.path_count == 3
    assert [row.raw_product for row in picture.legend] == [sum(range(14, 157)),
                                                           sum(range(157, 167)),
                                                           sum(range(1, 14))]


@given(program_statements, st.floats(-1.2, 1.2), st.floats(-1.2, 1.2), st.integers(1, 12))
def test_the_paths_of_a_folded_picture_still_sum_to_the_gradient(statements, x, y, budget):
    analysis = analyze(as_program(statements), {"x": x, "y": y, "z": 0.3})
    assume(not analysis.numeric_issues)
    for name in analysis.inputs:
        products = [abs(float(path.product)) for path in analysis.paths(name, None).paths]
        total = sum_of_drawn_paths(analysis, name, max_boxes=budget)
        assert abs(total - float(analysis.gradient(name))) <= 1e-12 * max(1.0, sum(products))


def test_groups_on_the_paths_of_wrt_fold_last():
    source = "\n".join([f"a{index} = sin(y) * {index} + cos(y)" for index in range(4)]
                       + ["b = exp(x) * 2 + x", "b + a0 + a1 + a2 + a3"])
    analysis = analyze(source, x=0.1, y=0.2)
    picture = analysis.picture("x", max_boxes=20)
    folded = {node.title for node in picture.nodes if node.folded}
    assert folded == {"a0", "a1", "a2"}  # b's statement, on x's paths, would fold last


def test_expand_keeps_a_group_open_and_depth_zero_folds_every_statement():
    analysis = analyze(open("samples/seed.gad").read())
    kept = analysis.picture(max_boxes=3, expand=["n"])
    assert "sin" in {node.title for node in kept.nodes}
    assert any(node.group == ("n",) for node in kept.nodes) and kept.clusters
    shallow = analysis.picture(depth=0)
    assert [node.title for node in shallow.nodes if node.folded] == ["n", "d", "f"]
    assert {node.title for node in analysis.picture(max_boxes=3, expand_all=True).nodes} >= \
        {"sin", "exp", "/"}


def test_an_unknown_group_is_named_with_the_groups_there_are():
    result = gad("graph", "samples/seed.gad", "--expand", "nn")
    assert result.exit_code == 2
    assert "`nn` is not a group of the program (groups: n, d, f)" in result.stderr
    assert "did you mean `n`?" in result.stderr


def test_a_much_used_leaf_is_drawn_once_per_use_in_a_large_picture():
    analysis = analyze(SHAPES["fan-out sum"](150))
    picture = analysis.picture("x", expand_all=True)
    copies = [node for node in picture.nodes if node.copy_of == "n0"]
    assert len(copies) == 50 > FANOUT_LIMIT
    assert all(edge.tail != "n0" for edge in picture.edges)
    assert "copy 1 of 50" in copies[0].tooltip and copies[0].title == "x"
    assert any("drawn once per use" in note for note in picture.notes)
    assert sum(float(row.raw_product) for row in picture.legend[:-1]) == \
        sum(range(50, 43, -1))  # the seven largest paths, coloured through the copies


def test_a_large_picture_puts_edge_labels_beside_the_edges():
    analysis = analyze(SHAPES["chain"](100))
    source = analysis.digraph(expand_all=True).source
    assert "xlabel=" in source and ' label=" ' not in source
    small = analyze("sin(x) * 2", x=1.0).digraph().source
    assert 'label=" ' in small and "xlabel" not in small


def test_the_path_table_through_folded_groups(tmp_path):
    result = gad("paths", "samples/seed.gad", "--wrt", "x2", "--fold", "n", "--fold", "d",
                 "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [path["nodes"] for path in data["paths"]] == [
        ["x2", "*", "+"], ["x2", "n", "/", "+"], ["x2", "d", "/", "+"]]
    assert [path["factors"] for path in data["paths"]][1] == [0.8775825618903728,
                                                             0.20073512936690338, 1.0]
    assert sum(path["product"] for path in data["paths"]) == pytest.approx(1.6165488003791766,
                                                                           rel=1e-15)


def test_explain_takes_the_picture_options(tmp_path):
    out = tmp_path / "seed.svg"
    result = gad("explain", "samples/seed.gad", "--wrt", "x2", "-o", out, "--rankdir", "TB",
                 "--edge-labels", "both", "--depth", "0", "--no-check")
    assert result.exit_code == 0, result.stderr
    assert "folded 3 group(s) below depth 0" in result.stderr
    assert "∂n/∂x2 = 0.8776" in out.read_text()


def test_a_long_chain_of_statements_folds_by_whole_levels_to_at_most_20_in_a_row():
    from graphviz_ad.engine.fold import _members_by_path, longest_chain

    source = "\n".join(["a0 = sin(x) * 2"] + [f"a{index} = sin(a{index - 1}) * 2 + x"
                                              for index in range(1, 30)] + ["a29 * 3"])
    analysis = analyze(source, {"x": 0.3})
    members = _members_by_path(analysis.graph, ())
    statements = [path for path in members if len(path) == 2]
    # x and the 31 statements, each folded, are still 32 boxes in a row: blocks of lines fold.
    assert longest_chain(analysis.graph, members, statements) == 32
    picture = analysis.picture(apart=True)
    assert [node.title for node in picture.nodes if node.folded] == \
        ["lines 1-6", "lines 7-12", "lines 13-18", "lines 19-24", "lines 25-30", "lines 31-31"]
    assert "20 in a row" in picture.notes[0]
    # Drawn as it is by default, the four blocks alike are one box.
    assert [node.title for node in analysis.picture().nodes if node.folded] == \
        ["lines 1-6", "lines 7-12 … 25-30 × 4", "lines 31-31"]
    assert sum_of_all_paths(analysis, "x", folded_names(picture)) == \
        pytest.approx(float(analysis.gradient("x")), rel=1e-12)


def test_a_chain_that_no_level_brings_within_20_folds_to_its_shortest_and_says_so():
    source = "\n".join(["a0 = sin(x) * 2"] + [f"a{index} = sin(a{index - 1}) * 2 + x"
                                              for index in range(1, 23)] + ["a22 * 3"])
    picture = analyze(source, {"x": 0.3}).picture(apart=True)
    assert len([node for node in picture.nodes if node.folded]) == 23  # every statement
    assert "to draw at most 60 boxes, by whole levels (25 in a row)" in picture.notes[0]


def test_the_block_where_wrt_is_first_used_stays_open_when_the_chain_still_fits():
    source = "\n".join(["a0 = sin(x) * 2"] + [f"a{index} = sin(a{index - 1}) * 2"
                                              for index in range(1, 26)] + ["a25 * 3"])
    analysis = analyze(source, {"x": 0.3})
    blocks = ["lines 1-6", "lines 7-12", "lines 13-18", "lines 19-24", "lines 25-27"]
    assert [node.title for node in analysis.picture(apart=True).nodes if node.folded] == blocks
    picture = analysis.picture("x", apart=True)
    assert [node.title for node in picture.nodes if node.folded] == blocks[1:]
    assert {"a0", "a5"} <= {name for node in picture.nodes for name in node.names}


def statement_mlp(weights_first: bool) -> str:
    """A scalar network written as statements: inputs x0..x3 (given on the command line), 3
    layers of 8 tanh units and a scalar output, its 192 weights assigned as literals, all at
    the top or each just before the unit that uses it."""
    weights, units = [], []
    previous = [f"x{index}" for index in range(4)]
    for layer in range(3):
        for unit in range(8):
            mine = [f"w{layer}_{unit}_{index} = {(layer + unit + index) % 7 / 10 - 0.3:.1f}"
                    for index in range(len(previous))] + [f"b{layer}_{unit} = 0.1"]
            terms = " + ".join(f"w{layer}_{unit}_{index}*{name}"
                               for index, name in enumerate(previous))
            unit_line = f"h{layer}_{unit} = tanh({terms} + b{layer}_{unit})"
            if weights_first:
                weights += mine
                units.append(unit_line)
            else:
                units += mine + [unit_line]
        previous = [f"h{layer}_{unit}" for unit in range(8)]
    weights += [f"v{unit} = 0.{unit + 1}" for unit in range(8)]
    units.append(" + ".join(f"v{unit}*{name}" for unit, name in enumerate(previous)))
    return "\n".join(weights + units)


def test_a_sum_of_10000_terms_folds_into_runs_of_runs_and_is_drawn():
    analysis = analyze(" + ".join(["x"] * 10_000), x=1.5)
    graph = analysis.graph
    # 100 runs of 100 terms are more than 24: they are in 10 runs of 10 runs
    assert graph.groups[graph.output] == ("terms 9001-10000", "terms 9901-10000")
    assert graph.groups[1] == ("terms 1-1000", "terms 1-100")
    picture = analysis.picture("x", apart=True)
    folded = [node.title for node in picture.nodes if node.folded]
    assert folded == [f"terms {start}-{start + 999}" for start in range(1, 10_000, 1000)]
    assert "20 in a row" in picture.notes[0]
    assert len(picture.nodes) == 11  # x, and 10 runs of runs, the last one the output
    assert sum_of_all_paths(analysis, "x", folded) == 10_000
    # By default the ten runs of runs, alike, are one box.
    merged = analysis.picture("x")
    assert [node.title for node in merged.nodes] == ["x", "terms 1-1000",
                                                     "terms 1001-2000 … 9001-10000 × 9"]
    assert sum_of_drawn_paths(analysis, "x") == 10_000


def test_a_product_of_1000_factors_folds_into_runs_of_factors_and_is_drawn():
    x = 1.001
    analysis = analyze("*".join(["x"] * 1000), x=x)
    graph = analysis.graph
    # 32 runs of 32 factors are more than 24: they are in runs of 6 runs (192 factors)
    assert graph.groups[graph.output] == ("factors 961-1000", "factors 993-1000")
    analysis.plan("svg", PictureOptions())  # drawn, never refused for its size
    picture = analysis.picture("x", apart=True)
    folded = [node.title for node in picture.nodes if node.folded]
    assert folded == [f"factors {start}-{min(start + 191, 1000)}" for start in range(1, 1000, 192)]
    assert sum_of_all_paths(analysis, "x", folded) == pytest.approx(1000 * x ** 999, rel=1e-12)
    assert [node.title for node in analysis.picture("x").nodes if node.folded] == \
        ["factors 1-192", "factors 193-384 … 769-960 × 4", "factors 961-1000"]
    assert sum_of_drawn_paths(analysis, "x") == pytest.approx(1000 * x ** 999, rel=1e-12)


@pytest.mark.parametrize("weights_first", [True, False], ids=["weights first", "interleaved"])
@pytest.mark.parametrize("options, most", [({}, 60), ({"depth": 0}, 60), ({"max_boxes": 20}, 20)])
def test_a_network_of_statements_with_literal_weights_folds_within_the_budget(
        weights_first, options, most):
    analysis = analyze(statement_mlp(weights_first), x0=0.5, x1=-1.0, x2=0.25, x3=2.0)
    assert len(analysis.inputs) == 4 + 192
    analysis.plan("svg", PictureOptions(**options))  # drawn, never refused for its size
    picture = analysis.picture(**options)
    # A weight folds with the unit that uses it, wherever it is written. The inputs x0..x3,
    # used by all eight units of the first layer, stay leaves, and so do the output's weights
    # v0..v7 until the last block of lines folds: the last line is not a statement of its own.
    drawn = {node.title for node in picture.nodes if node.kind == "input"}
    assert {"x0", "x1", "x2", "x3"} <= drawn <= {f"{name}{index}" for name in "xv"
                                                 for index in range(8)}
    if weights_first:  # the blocks of lines hold whole layers: the budget is kept
        assert len(picture.nodes) <= most
    else:  # 14 blocks of units with their weights, each used in the next
        assert len(picture.nodes) <= max(most, 30)
    folded = list(dict.fromkeys(node.opens for node in picture.nodes if node.opens))
    for name in ("x0", "x3"):
        assert sum_of_all_paths(analysis, name, folded) == \
            pytest.approx(float(analysis.gradient(name)), rel=1e-12)
