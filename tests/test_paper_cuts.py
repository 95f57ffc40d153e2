"""Small readings of a picture: literals rounded like values, negation told from subtraction,
path numbers beside path colours, parameter counts on folded boxes, constant arrays said so."""

import re
from pathlib import Path

import numpy as np
import pytest

from graphviz_ad import analyze, display
from graphviz_ad.engine.fold import fold, group_paths
from graphviz_ad.render.dot import path_tag, to_digraph
from graphviz_ad.render.export import picture_json
from graphviz_ad.render.picture import build_picture, literal_title, parameter_counts

from conftest import gad

ROOT = Path(__file__).resolve().parent.parent


def node_titled(picture, title):
    return next(node for node in picture.nodes if node.title == title)


@pytest.mark.parametrize("written, drawn", [
    ("5.656854249492381", "5.657"),          # sqrt(32), as a program or a folding writes it
    ("0.10000000149011612", "0.1"),          # float32's 0.1, as an importer writes it
    ("-0.3333333333333333", "-0.3333"),
    ("6.02214076e23", "6.022e+23"),
    ("[0.3333333333333333, 2, 0.5]", "[0.3333, 2, 0.5]"),
    ("0.5", "0.5"), ("1e-20", "1e-20"), ("3.14159", "3.14159"), ("0.000001", "0.000001"),
    ("1234567", "1234567"),                  # rounded would be longer: 1.235e+06
    ("log(10)", "log(10)"), ("x2", "x2"),
    ("0.123456…789012", "0.123456…789012"),  # numbers cut by an abbreviation stay as they are
])
def test_a_literal_is_drawn_rounded_only_where_it_is_long(written, drawn):
    assert literal_title(written) == drawn


def test_a_long_constant_is_drawn_rounded_and_kept_exact_in_its_tooltip_and_json():
    analysis = analyze("x*5.656854249492381", x=1.0)
    picture = analysis.picture()
    constant = node_titled(picture, "5.657")
    assert constant.tooltip == "5.656854249492381"
    assert constant.raw_value == 5.656854249492381
    source = to_digraph(picture).source
    assert "label=5.657 " in source and "label=5.656854249492381" not in source
    (entry,) = [node for node in picture_json(picture)["nodes"] if node["kind"] == "constant"]
    assert entry["value"] == 5.656854249492381
    # In a formula the literal reads as drawn, and equals the edge's number: written once.
    both = analysis.picture(edge_labels="both")
    assert next(edge.label for edge in both.edges if edge.tail == "n0") == "5.657"


def test_a_short_literal_and_an_array_literal_cut_short_are_drawn_as_written_and_rounded():
    assert node_titled(analyze("x*0.5", x=1.0).picture(), "0.5").kind == "constant"
    long_array = "[" + ", ".join(["0.3333333333333333"] * 3) + "]"
    picture = analyze(f"sum(x*{long_array})", x=1.0).picture()
    # The label the engine kept is cut at 32 characters; the title rounds the whole text.
    assert node_titled(picture, "[0.3333, 0.3333, 0.3333]").tooltip == long_array


def test_negation_is_drawn_neg_and_subtraction_minus_the_source_text_unchanged():
    analysis = analyze("-x - y", x=1.0, y=2.0)
    picture = analysis.picture()
    assert [node.title for node in picture.nodes] == ["x", "neg", "y", "-"]
    assert node_titled(picture, "neg").tooltip == "-x"
    assert "<B>neg</B>" in to_digraph(picture).source
    # The paths name it too; the trace writes the program's own text.
    assert [analysis.graph.labels[node] for node in analysis.paths("x").paths[0].nodes] == \
        ["x", "neg", "-"]
    assert [step.expression for step in analysis.trace().forward] == ["input", "-x", "input",
                                                                   "v1 - y"]


@pytest.mark.parametrize("paths, tag", [((0,), "[1]"), ((1, 2), "[2,3]"), ((0, 2), "[1,3]"),
                                        ((1, 2, 3, 5), "[2-4,6]"), ((6, 0, 1, 2), "[1-3,7]")])
def test_a_path_tag_lists_the_legend_numbers_compactly(paths, tag):
    assert path_tag(paths) == tag


def test_coloured_edges_carry_their_path_numbers_as_the_legend_rows_do():
    source = analyze((ROOT / "samples/seed.gad").read_text()).digraph("x2").source
    # seed's paths from x2: [1] through x1*x2, [2] through sin, [3] through the denominator.
    assert 'label=" 0.8776 [2] "' in source                  # x2 -> sin
    assert 'label=" 1 [2,3] "' in source                     # / -> f, on two paths
    assert 'label=" 4.482 "' in source                       # exp -> d: on no path, untagged
    for number in (1, 2, 3):
        assert f'<TD ALIGN="RIGHT">[{number}]</TD><TD BGCOLOR=' in source
    assert '<TD ALIGN="RIGHT"></TD><TD BGCOLOR' not in source  # three paths: no row of the rest


NETWORK = (ROOT / "samples/network.gad").read_text()


def test_folded_boxes_count_the_input_elements_folded_inside_them():
    analysis = analyze(NETWORK)
    graph = analysis.graph
    folding = fold(graph, group_paths(graph), [])  # every statement, its inputs with it
    picture = build_picture(folding.graph,
                            parameters=parameter_counts(graph, folding.stands_for))
    # h = relu(W1 @ x + b1): 6 + 2 + 3; y = W2 @ h + b2: 3 + 1; loss's t: 1.
    assert [(node.title, node.parameters) for node in picture.nodes] == \
        [("h", 11), ("y", 4), ("loss", 1)]
    source = to_digraph(picture).source
    assert "<B>h</B> · 11 parameters" in source and "<B>loss</B> · 1 parameter<" in source


def test_a_box_whose_inputs_stay_leaves_and_an_unfolded_picture_say_no_parameters():
    analysis = analyze(NETWORK)  # six inputs: few enough to stay leaves of the picture
    assert all(node.parameters == 0 for node in analysis.picture(depth=0).nodes)
    assert "parameter" not in analysis.digraph().source


@pytest.mark.parametrize("array, text", [
    (np.zeros((1, 64, 112, 112)), "zeros 1×64×112×112"),
    (-np.zeros((3, 4)), "zeros 3×4"),
    (np.ones(64, dtype=np.float32), "ones 64"),
    (np.full((3, 4), 0.5), "all 0.5, 3×4"),
    (np.full(5, -1 / 3), "all -0.333, 5"),
    (np.array([0.0, 0, 0, 0, 1e-300]), "5 in [0, 1e-300]"),  # not equal: a range
    (np.full(5, np.nan), "5 in [nan, nan]"),
])
def test_an_array_of_equal_elements_says_so(array, text):
    assert display.summary(array) == text


def test_constant_values_and_gradients_say_so_on_the_picture_and_stay_numbers_in_json():
    program = "W = [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]\nsum(W * 0) + sum(W)"
    picture = analyze(program).picture()
    w = node_titled(picture, "W")
    assert (w.value, w.adjoint) == ("all 0.5, 2×3", "ones 2×3")
    product = next(node for node in picture.nodes if node.tooltip == "W * 0")
    assert (product.value, product.adjoint) == ("zeros 2×3", "ones 2×3")
    (entry,) = [node for node in picture_json(picture, max_elements=4)["nodes"]
                if node["label"] == "W"]
    assert entry["value"] == {"shape": [2, 3], "min": 0.5, "max": 0.5}


def test_a_folded_box_says_how_many_input_elements_it_holds():
    """Weights a program assigns fold with the statements that use them; each box counts them."""
    lines = ["h0 = x"] + [f"w{i} = [0.5, 0.25]\nh{i} = tanh(sum(w{i} * h{i - 1}))"
                          for i in range(1, 80)]
    result = gad("graph", "\n".join(lines + ["h79"]), "x=0.3", "-f", "dot")
    assert result.exit_code == 0, result.stderr
    counts = [int(count.replace(",", ""))
              for count in re.findall(r"· ([0-9,]+) parameters", result.stdout)]
    # Two elements per weight, and x, which the first statement uses, folds with it.
    assert len(counts) > 5 and sum(counts) == 79 * 2 + 1
