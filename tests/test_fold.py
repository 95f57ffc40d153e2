"""Folded groups keep the chain rule exact: a folded edge carries the total derivative through
its group, and the folded graph's path products still sum to the gradient."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from graphviz_ad import analyze
from graphviz_ad.engine.annotated import DeferredRow
from graphviz_ad.engine.fold import MAX_JACOBIAN_ELEMENTS, fold, group_paths
from graphviz_ad.engine.paths import every_path, path_count, summarize
from tests.test_paths import as_program, program_statements



def seed():
    with open("samples/seed.gad") as handle:
        return analyze(handle.read())


def test_statements_are_the_groups():
    assert group_paths(seed().graph) == [("n",), ("d",), ("f",)]


def test_folding_the_numerator_and_denominator_keeps_the_three_paths_of_x2():
    folded = fold(seed().graph, [("n",), ("d",)]).graph
    assert folded.labels == ("x1", "x2", "n", "d", "/", "*", "+")
    n, d = folded.labels.index("n"), folded.labels.index("d")
    assert folded.kinds[n] == "group"
    assert folded.local[n] == (math.cos(0.5),)          # d n / d x2 through sin and +
    assert folded.local[d] == (math.exp(1.5), 1.0)      # d d / d x1, d d / d x2
    summary = summarize(folded, "x2", None)
    products = sorted(float(path.product) for path in summary.paths)
    assert products == pytest.approx([-0.05961284871202578, 0.17616164909120247, 1.5],
                                     rel=1e-15)
    assert sum(products) == pytest.approx(1.6165488003791766, rel=1e-15)
    assert folded.gradient("x2") == 1.6165488003791766  # adjoints are the sweep's own


def test_a_folded_edge_is_the_sum_of_the_group_s_inner_paths():
    analysis = analyze("y = x*x + sin(x)*x\ny * 2", x=0.7)
    folded = fold(analysis.graph, [("y",)]).graph
    y = folded.labels.index("y")
    x = 0.7
    assert float(folded.local[y][0]) == pytest.approx(2 * x + math.cos(x) * x + math.sin(x),
                                                      rel=1e-15)
    assert path_count(analysis.graph, "x") == 4 and path_count(folded, "x") == 1


def test_an_array_group_carries_its_whole_jacobian():
    analysis = analyze("h = tanh(W @ x)\nsum(h * h)", W=[[0.5, -1.0], [2.0, 0.3]], x=[0.7, -0.2])
    folded = fold(analysis.graph, [("h",)]).graph
    h = folded.labels.index("h")
    jacobian_x = folded.local[h][1]
    assert np.shape(jacobian_x) == (2, 2)
    W, x = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([0.7, -0.2])
    expected = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(jacobian_x, expected, rtol=1e-14)
    for name in ("W", "x"):
        total = sum(path.product for path in summarize(folded, name, None).paths)
        np.testing.assert_allclose(total, analysis.gradient(name), rtol=1e-13)


def test_a_total_derivative_too_large_to_store_is_kept_as_its_action(monkeypatch):
    import graphviz_ad.engine.fold as folding

    monkeypatch.setattr(folding, "MAX_JACOBIAN_ELEMENTS", 3)
    analysis = analyze("h = tanh(W @ x)\nsum(h * h)", W=[[0.5, -1.0], [2.0, 0.3]],
                       x=[0.7, -0.2])
    result = folding.fold(analysis.graph, [("h",)], keep=[analysis.graph.inputs["x"]])
    assert result.folded == (("h",),) and not result.refused
    folded = result.graph
    h = folded.labels.index("h")
    W, x = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([0.7, -0.2])
    jacobian_x = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(folded.local[h][folded.args[h].index(folded.inputs["x"])],
                               jacobian_x.sum(axis=0), rtol=1e-14)  # Jᵀ·1
    total = sum(path.product for path in summarize(folded, "x", None).paths)
    np.testing.assert_allclose(total, analysis.gradient("x"), rtol=1e-13)
    assert MAX_JACOBIAN_ELEMENTS == 1_000_000


@given(program_statements, st.floats(-1.2, 1.2), st.floats(-1.2, 1.2), st.data())
def test_folded_path_products_sum_to_the_gradient(statements, x, y, data):
    analysis = analyze(as_program(statements), {"x": x, "y": y, "z": 0.3})
    assume(not analysis.numeric_issues)
    groups = group_paths(analysis.graph)
    chosen = data.draw(st.lists(st.sampled_from(groups), unique=True)) if groups else []
    # An input left out of `keep` and used only inside a chosen group folds into it.
    kept = data.draw(st.lists(st.sampled_from(analysis.inputs), unique=True)) \
        if analysis.inputs else []
    folded = fold(analysis.graph, chosen, [analysis.graph.inputs[name] for name in kept]).graph
    assert set(kept) <= set(folded.inputs)
    for name in folded.inputs:
        everything = every_path(folded, name, limit=50_000)
        total = sum((float(path.product) for path in everything), 0.0)
        scale = max(1.0, sum(abs(float(path.product))
                             for path in every_path(analysis.graph, name, limit=50_000)))
        assert abs(total - float(analysis.gradient(name))) <= 1e-12 * scale
        assert folded.gradient(name) == analysis.gradient(name)


# Each group's total derivative is found once per analysis, and reused only where it is the
# same computation: the same output, region and producers.

@pytest.mark.parametrize("whole", [True, False], ids=["stored", "by action"])
def test_cached_total_derivatives_equal_uncached_ones(monkeypatch, whole):
    import graphviz_ad.engine.fold as fold_module

    if not whole:  # every group's total derivative kept as its action
        monkeypatch.setattr(fold_module, "MAX_JACOBIAN_ROWS", 0)
    analysis = analyze("h = tanh(W @ x)\ng = sin(h) * h\nsum(g * g)",
                       W=[[0.5, -1.0], [2.0, 0.3]], x=[0.7, -0.2])
    graph = analysis.graph
    found = []
    original = fold_module.total_derivatives if whole else fold_module._group_action
    monkeypatch.setattr(fold_module, "total_derivatives" if whole else "_group_action",
                        lambda *args: found.append(args[2]) or original(*args))
    cache = fold_module.GroupDerivatives(graph)
    product = graph.labels.index("@")
    # h and g found; nothing new for h alone; h again with its W @ x kept outside it (another
    # region, other producers), g reused; nothing new at all.
    for groups, keep, new in [([("h",), ("g",)], [], 2), ([("h",)], [], 0),
                              ([("h",), ("g",)], [product], 1), ([("h",), ("g",)], [], 0)]:
        del found[:]
        cached = fold(graph, groups, keep, cache).graph
        assert len(found) == new
        fresh = fold(graph, groups, keep).graph
        assert cached.labels == fresh.labels and cached.args == fresh.args
        for node, kind in enumerate(fresh.kinds):
            if kind == "group":
                assert isinstance(cached.ops[node].linear_map, type(fresh.ops[node].linear_map))
                for ours, theirs in zip(cached.local[node], fresh.local[node]):
                    np.testing.assert_array_equal(ours, theirs)
        for name in ("W", "x"):
            np.testing.assert_allclose(summarize(cached, name, None).shown_sum,
                                       analysis.gradient(name), rtol=1e-12)


def test_total_derivatives_of_another_graph_are_refused():
    import graphviz_ad.engine.fold as fold_module

    with pytest.raises(ValueError, match="another graph"):
        fold(seed().graph, [("n",)], (), fold_module.GroupDerivatives(seed().graph))


# A total derivative kept as its action has its Jᵀ·1 pulled only when a view reads it.

def _kept_as_action(monkeypatch):
    """An analysis whose group `h` is folded with its total derivatives kept as their action
    (with every input kept outside it: `v` feeds it only through a detach, so no gradient
    reaches it), and a folding of it with the given total derivatives."""
    import graphviz_ad.engine.fold as fold_module

    monkeypatch.setattr(fold_module, "MAX_JACOBIAN_ROWS", 0)
    analysis = analyze("h = tanh(W @ x) * x + detach(v)\nsum(h * h)",
                       W=[[0.5, -1.0], [2.0, 0.3]], x=[0.7, -0.2], v=[1.5, 2.5])

    def folding(cache=None):
        return fold(analysis.graph, [("h",)], list(analysis.graph.inputs.values()), cache)

    return analysis, folding


def test_a_group_kept_as_its_action_pulls_its_jt1_only_when_read(monkeypatch):
    import graphviz_ad.engine.fold as fold_module

    analysis, folding = _kept_as_action(monkeypatch)
    graph, result = analysis.graph, folding()
    folded = result.graph
    h = folded.labels.index("h")
    row = folded.local[h]
    assert isinstance(row, DeferredRow) and not row.computed
    *region, output = result.stands_for[h]
    region = sorted(region + [output])
    producers = [result.stands_for[argument][-1] for argument in folded.args[h]]
    assert producers == [graph.inputs[name] for name in ("W", "x", "v")]
    # Where a gradient flows is known without a pull, as the eager pull found it.
    eager = fold_module._puller(graph, region, output, producers)(np.ones(2))
    assert [folded.flows(h, slot) for slot in range(3)] == [True, True, False]
    assert [part is not None for part in eager] == [True, True, False]
    assert not row.computed
    # Read, its numbers are exactly the eager pull's, and the stored Jacobians' Jᵀ·1.
    np.testing.assert_array_equal(row[0], eager[0])
    np.testing.assert_array_equal(row[1], eager[1])
    assert row[2] is None and row.computed
    jacobians = fold_module.total_derivatives(graph, region, output, producers)
    for slot in (0, 1):
        np.testing.assert_allclose(row[slot], jacobians[slot].sum(axis=0), rtol=1e-14)
    for name in ("W", "x"):
        np.testing.assert_allclose(summarize(folded, name, None).shown_sum,
                                   analysis.gradient(name), rtol=1e-13)


def test_a_deferred_group_row_is_pulled_once_for_every_folding_that_shares_it(monkeypatch):
    import graphviz_ad.engine.fold as fold_module

    pulls = []
    original = fold_module._puller

    def counted(*args):
        pull = original(*args)
        return lambda gradient: pulls.append(gradient) or pull(gradient)

    monkeypatch.setattr(fold_module, "_puller", counted)
    analysis, folding = _kept_as_action(monkeypatch)
    cache = fold_module.GroupDerivatives(analysis.graph)
    first, second = folding(cache).graph, folding(cache).graph
    h = first.labels.index("h")
    assert first.local[h] is second.local[h] and not pulls
    np.testing.assert_array_equal(second.local[h][1], first.local[h][1])
    assert len(pulls) == 1


def test_a_weight_assigned_on_its_own_line_folds_with_the_statement_that_uses_it():
    analysis = analyze("w = 0.5\nb = 2\nh = tanh(w*x + b)\nh * b", x=1.0)
    graph = analysis.graph
    assert graph.groups[graph.inputs["w"]] == ("h",)  # the innermost group holding its uses
    assert graph.inputs["b"] not in graph.groups  # used by h and by the last line
    folded = fold(graph, [("h",)]).graph
    assert set(folded.inputs) == {"b", "x"}  # w, used only inside h, folds into it
    h = folded.labels.index("h")
    x = folded.args[h].index(folded.inputs["x"])
    assert float(folded.local[h][x]) == pytest.approx(0.5 * (1 - math.tanh(2.5) ** 2),
                                                      rel=1e-15)
    kept = fold(graph, [("h",)], keep=[graph.inputs["w"]]).graph
    assert set(kept.inputs) == {"w", "b", "x"}
