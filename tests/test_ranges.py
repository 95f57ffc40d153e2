"""An array's range on a picture is found once per array, in one pass, as numpy's min and max."""

import gc
import weakref

import numpy as np
import pytest

from graphviz_ad import analyze, display
from graphviz_ad.engine.fold import fold

BIG = display.RANGE_CHUNK * 3 + 17  # several chunks and a short last one


def arrays():
    """Arrays past one chunk in every layout a value can have (a torch view's among them),
    with the extremes anywhere, nan, signed zeros and integers."""
    rng = np.random.default_rng(7)
    plain = rng.standard_normal((BIG // 16, 16)).astype(np.float32)
    plain[-1, -1] = 9.5  # the greatest in the last, short chunk
    yield plain
    yield plain.T  # column-major
    yield plain[:, ::3]  # strided: neither layout
    yield plain[::-1]
    with_nan = rng.standard_normal(BIG)
    with_nan[BIG // 2] = np.nan
    yield with_nan
    zeros = np.zeros(BIG)
    zeros[::2] = -0.0
    yield zeros
    yield rng.integers(-5, 5, BIG)
    yield np.broadcast_to(np.linspace(-1, 1, 7), (BIG // 7, 7))  # a Jᵀ·1 broadcast back
    yield rng.standard_normal(10)  # within one chunk


@pytest.mark.parametrize("array", list(arrays()), ids=lambda array: str(array.strides))
def test_a_range_in_one_pass_is_numpy_s_min_and_max_and_writes_nothing(array):
    array.flags.writeable = False  # a read-only view of torch's memory, as the importer gives
    least, greatest = display.array_range(array)
    np.testing.assert_array_equal([least, greatest], [array.min(), array.max()])
    assert np.result_type(least) == array.dtype
    for digits in (None, 4):
        text = display.summary(array, digits)
        assert text == (f"zeros {display.shape(array)}" if array.min() == array.max() == 0 else
                        f"{display.shape(array)} in [{display.number(array.min(), 3)}, "
                        f"{display.number(array.max(), 3)}]")
        assert display.summary(array, digits, ranges=display.Ranges()) == text
    assert display.jsonable(array, 4) == {"shape": list(array.shape),
                                          "min": display.jsonable(array.min()),
                                          "max": display.jsonable(array.max())}


def test_ranges_find_each_array_s_range_once_and_keep_no_array_alive(monkeypatch):
    found = []
    original = display.array_range
    monkeypatch.setattr(display, "array_range", lambda array: found.append(1) or original(array))
    ranges = display.Ranges()
    array = np.arange(20.0)
    assert ranges.of(array) == ranges.of(array) == (0.0, 19.0)
    assert len(found) == 1
    other = array.copy()  # equal numbers, another array: its own range
    ranges.of(other)
    assert len(found) == 2
    alive = weakref.ref(array)
    del array
    gc.collect()
    assert alive() is None


def count_ranges(monkeypatch):
    """Each array whose range a summary finds (kept alive, so no two share an id)."""
    found = []
    original = display.array_range
    monkeypatch.setattr(display, "array_range",
                        lambda array: found.append(array) or original(array))
    return found


PROGRAM = "h = tanh(W @ x)\ng = h * h\nsum(g)"
INPUTS = {"W": np.arange(36.0).reshape(6, 6) / 40, "x": np.linspace(-1, 1, 6)}


def test_a_picture_finds_each_array_s_range_once_and_shows_what_it_did_before(monkeypatch):
    before = analyze(PROGRAM, **INPUTS).digraph("W").source
    found = count_ranges(monkeypatch)
    analysis = analyze(PROGRAM, **INPUTS)
    assert analysis.digraph("W").source == before
    assert found and len({id(array) for array in found}) == len(found)
    # W's gradient is drawn on its node and summed in the legend: its range is found once.
    gradient = analysis.gradient("W")
    assert sum(array is gradient for array in found) == 1
    assert before.count(display.summary(gradient).split(" in ")[1]) >= 2


def test_pictures_of_foldings_of_one_graph_share_its_ranges(monkeypatch):
    analysis = analyze(PROGRAM, **INPUTS)
    drawn = [analysis.picture(), analysis.picture(depth=0)]
    assert any(node.opens for node in drawn[1].nodes)
    assert fold(analysis.graph, [("h",)]).graph.ranges is analysis.graph.ranges
    found = count_ranges(monkeypatch)
    again = [analysis.picture(), analysis.picture(depth=0),
             analysis.picture(depth=0, expand=["h"])]
    assert not found  # every array they show had its range found by the first two
    assert [picture.nodes for picture in again[:2]] == [picture.nodes for picture in drawn]
    assert any(" in [" in node.value for node in again[2].nodes)
