"""Arrays as pictures: heatmaps and bars in their boxes, and what an array edge carries."""

import numpy as np
import pytest
from typer.testing import CliRunner

from graphviz_ad import analyze, display
from graphviz_ad.cli import app
from graphviz_ad.render.dot import heatmap_table
from graphviz_ad.render.picture import CARRIED_LEGEND, HEATMAP_LEGEND
from graphviz_ad.style import DIVERGING, HEAT_LEVELS, heat_colour

runner = CliRunner()
BLUE, WHITE, VERMILLION = "#0072b2", "#ffffff", "#d55e00"


def cells_of(table: str) -> list[str]:
    """Each cell's colour, or "" for an empty one, in the order the table lists them."""
    return [part.split('"')[0] if part else "" for part in
            (cell.partition('BGCOLOR="')[2] for cell in table.split("<TD")[1:])]


def test_the_scale_runs_from_blue_through_white_to_vermillion():
    assert len(DIVERGING) == 2 * HEAT_LEVELS + 1
    assert (heat_colour(-HEAT_LEVELS), heat_colour(0), heat_colour(HEAT_LEVELS)) == \
        (BLUE, WHITE, VERMILLION)
    # Each step mixes a fifth more of the end colour into white: 0x00 + 4/5 of 0xff is 0x33.
    assert heat_colour(-4) == "#338ec1" and heat_colour(1) == "#f7dfcc"


def test_a_known_matrix_is_its_levels_each_over_the_largest_size():
    heatmap = display.heatmap(np.array([[1.0, -2.0], [3.0, 4.0]]), HEAT_LEVELS)
    # 1/4·5 = 1.25 → 1, -2/4·5 = -2.5 → -2 (to even), 3/4·5 = 3.75 → 4, 4/4·5 = 5
    assert heatmap == display.Heatmap(((1, -2), (4, 5)), bars=False, scale=4.0)
    table = heatmap_table(heatmap)
    assert cells_of(table) == [heat_colour(1), heat_colour(-2), heat_colour(4), VERMILLION]
    assert 'WIDTH="10" HEIGHT="10" FIXEDSIZE="TRUE"' in table  # a small map: 10-point cells


def test_large_arrays_are_block_means_and_images_the_mean_over_their_channels():
    blocks = np.kron(np.arange(-72.0, 72.0).reshape(12, 12), np.ones((2, 3)))  # 24×36
    heatmap = display.heatmap(blocks, HEAT_LEVELS)
    assert len(heatmap.cells) == len(heatmap.cells[0]) == display.HEAT_CELLS
    assert heatmap.scale == 72.0 and heatmap.cells[0][0] == -5 and heatmap.cells[6][0] == 0
    # an image batch 1×2×3×3: channel 0 is 1, channel 1 a ramp; the map is their mean
    image = np.stack([np.ones((3, 3)), np.arange(9.0).reshape(3, 3)])[None]
    mean = display.heatmap(image, HEAT_LEVELS)
    assert mean.scale == 4.5 and mean.cells[0] == (1, 1, 2) and mean.cells[2] == (4, 4, 5)
    # uneven blocks: 13 numbers into 12 bars, the last two averaged
    bars = display.heatmap(np.r_[np.arange(1.0, 12.0), 12.0, 14.0], HEAT_LEVELS)
    assert bars.bars and bars.scale == 13.0 and len(bars.cells[0]) == 12


@pytest.mark.parametrize("item", [np.float64(3.0), np.array([2.0]), np.zeros((3, 3)),
                                  np.full(5, 0.5), np.array([1.0, np.nan, 2.0]),
                                  np.ones((2, 1, 2, 2)) * [[[[1.0]]], [[[-1.0]]]]])
def test_no_picture_where_it_would_show_nothing(item):
    # a number, one element, all equal, not finite, a mean over channels that cancels
    assert display.heatmap(item, HEAT_LEVELS) is None


def bars_of(table: str) -> list[tuple[int, str, int]]:
    """Each filled cell of bars: (the row it starts in, its colour, how many rows it spans)."""
    found = []
    for index, row in enumerate(table.split("<TR>")[1:]):
        for cell in row.split("<TD")[1:]:
            colour = cell.partition('BGCOLOR="')[2].split('"')[0]
            span = int(cell.partition('ROWSPAN="')[2].split('"')[0] or 1)
            if colour:
                found.append((index, colour, span))
    return found


def test_a_vector_is_bars_above_and_below_a_zero_line():
    heatmap = display.heatmap(np.array([2.0, -1.0, 0.0, 1.0]), HEAT_LEVELS)
    assert heatmap.bars and heatmap.cells == ((5, -2, 0, 2),)  # -2.5 → -2, 2.5 → 2 (to even)
    table = heatmap_table(heatmap)
    assert table.count("<TR>") == 5 + 1 + 2  # five levels up, the zero line, two down
    # the 5 from the top row down, the 2 from two rows above the line, the -2 just below it
    assert [bar for bar in bars_of(table) if bar[1] != "#b0b0b0"] == \
        [(0, VERMILLION, 5), (3, VERMILLION, 2), (6, BLUE, 2)]
    assert [bar for bar in bars_of(table) if bar[1] == "#b0b0b0"] == [(5, "#b0b0b0", 1)] * 4
    assert 'WIDTH="21" HEIGHT="22"' in table  # 4 bars of 5 and the rows' ruler; 7 levels of 3


def test_a_vector_with_no_negative_number_draws_no_empty_side():
    heatmap = display.heatmap(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), HEAT_LEVELS)
    table = heatmap_table(heatmap)
    assert table.count("<TR>") == HEAT_LEVELS + 1 and 'HEIGHT="16"' in table


MATRIX = "sum(W * W)"
W = "W=[[1, 2], [3, 4], [5, 6]]"


def test_boxes_of_arrays_the_text_summarises_show_their_value_and_grad():
    analysis = analyze(MATRIX, W=np.arange(1.0, 7.0).reshape(3, 2))
    boxes = {node.title: node for node in analysis.picture().nodes}
    assert boxes["W"].value_map.cells == ((1, 2), (2, 3), (4, 5))       # k/6·5, rounded
    assert boxes["W"].grad_map.scale == 12.0                            # grad 2W
    assert boxes["*"].value_map.scale == 36.0                           # W²
    assert boxes["sum"].value_map is None                               # a number
    small = analyze(MATRIX, W=np.array([1.0, 2.0, 3.0])).picture()
    assert all(node.value_map is None for node in small.nodes)          # written whole
    assert all(node.value_map is None and node.grad_map is None
               for node in analysis.picture(heatmaps=False).nodes)


def test_an_array_edge_says_what_it_adds_to_its_tails_grad():
    picture = analyze(MATRIX, W=np.arange(1.0, 7.0).reshape(3, 2)).picture()
    labels = sorted(edge.label for edge in picture.edges)
    # each slot of W * W carries W back (d(W*W)/dW · 1 = the other W), |W| = √91 = 9.54;
    # the sum gives each element of W*W a 1
    assert labels == ["+= 3×2 in [1, 6], norm 9.54"] * 2 + ["+= ones 3×2"]
    assert CARRIED_LEGEND in picture.caption and HEATMAP_LEGEND in picture.caption
    scalar = analyze("x * y", x=2.0, y=3.0).picture()
    assert sorted(edge.label for edge in scalar.edges) == ["2", "3"]  # local derivatives
    assert CARRIED_LEGEND not in scalar.caption and HEATMAP_LEGEND not in scalar.caption


def test_both_labels_give_the_formula_and_what_the_edge_carries():
    picture = analyze(MATRIX, W=np.arange(1.0, 7.0).reshape(3, 2)).picture(edge_labels="both")
    assert sorted(edge.label for edge in picture.edges)[0] == "1; += ones 3×2"  # d sum/d x = 1
    formulas = analyze(MATRIX, W=np.arange(1.0, 7.0).reshape(3, 2)).picture(
        edge_labels="formula")
    assert not any("+=" in edge.label for edge in formulas.edges)
    assert CARRIED_LEGEND not in formulas.caption


def test_the_command_line_turns_heatmaps_off(tmp_path):
    on, off = tmp_path / "on.dot", tmp_path / "off.dot"
    for output, flags in ((on, []), (off, ["--no-heatmaps"])):
        result = runner.invoke(app, ["graph", MATRIX, W, "-o", str(output)] + flags)
        assert result.exit_code == 0, result.output
    assert on.read_text().count("FIXEDSIZE") == 2 * 3 + 2 * 3 * 2 + 3  # W, W*W: value and grad
    assert "FIXEDSIZE" not in off.read_text()
    assert "--no-heatmaps" in runner.invoke(app, ["graph", "--help"]).output


def test_a_compact_chain_over_arrays_carries_what_reaches_its_first_tail():
    analysis = analyze("sum(tanh(exp(sin(x))))", x=np.arange(1.0, 6.0))
    into_chain = next(edge for edge in analysis.picture(compact=True).edges if edge.tail == "n0")
    assert into_chain.label == "+= 5 in [-0.377, 0.0942], norm 0.464"  # x's grad, its one use
    assert into_chain.label == display.carried(analysis.graph.gradient("x"))


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_a_large_array_is_reduced_on_every_core_to_what_one_core_finds(monkeypatch, layout):
    generator = np.random.default_rng(7)
    array = generator.standard_normal((301, 97)).astype(np.float32)
    array = {"C": array, "F": np.asfortranarray(array), "strided": array[::2, ::3]}[layout]
    serial = (display.array_range(array), display.heatmap(array, HEAT_LEVELS))
    monkeypatch.setattr(display, "RANGE_CHUNK", 64)
    monkeypatch.setattr(display, "PARALLEL_ELEMENTS", 100)
    assert display.array_range(array) == (array.min(), array.max()) == serial[0]
    assert display.heatmap(array, HEAT_LEVELS) == serial[1]
    with_nan = array.copy()
    with_nan[-1, -1] = np.nan  # in the last part
    assert np.isnan(display.array_range(with_nan)).all()
