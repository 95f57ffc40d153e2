"""A traced model's pages and path listings: each group's total derivative is found once per
analysis, and a listing is weighed by its paths' own arrays, refused with a --top that fits."""

from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

from graphviz_ad import Analysis  # noqa: E402
from graphviz_ad.api import load_torch  # noqa: E402
from graphviz_ad.engine.fold import fold, group_paths  # noqa: E402
from graphviz_ad.engine.paths import (MAX_LISTING_WORK, listing_work,  # noqa: E402
                                      most_listed)
from graphviz_ad.errors import LimitError  # noqa: E402
from graphviz_ad.render.compose import picture_graph  # noqa: E402
from graphviz_ad.render.formats import PictureOptions  # noqa: E402


def test_a_page_folds_each_group_through_torch_once():
    traced = load_torch("samples/torch_resnet.py:loss").graph
    pulls = []

    def counted(node, producers, gradient):
        pulls.append(node)
        return traced.pull_through(node, producers, gradient)

    analysis = Analysis.from_graph(replace(traced, pull_through=counted))
    def drawn(**options):
        """A picture whose edges' local derivatives are read, as the page's JSON reads them."""
        picture = analysis.picture(**options)
        [edge.raw_local for edge in picture.edges]
        return picture

    picture = drawn(max_boxes=20, apart=True)
    first = len(pulls)
    groups = [node.opens for node in picture.nodes if node.opens]
    assert first and groups
    drawn(max_boxes=20, apart=True)  # the same folding again: nothing is pulled again
    assert len(pulls) == first
    expanded = drawn(expand=(groups[0],), max_boxes=20 + 8, apart=True)
    # Opening one group folds the others as before: their total derivatives are reused, and
    # equal those of a folding that computes them all anew.
    again = len(pulls) - first
    assert again == 0
    chosen = picture_graph(analysis, PictureOptions(expand=(groups[0],), max_boxes=28, apart=True))
    graph, folding, many_inputs = chosen.graph, chosen.folding, chosen.many_inputs
    fresh = fold(analysis.graph, folding.folded,
                 [] if many_inputs else list(analysis.graph.inputs.values()))
    assert len(pulls) == first  # a folded group's Jᵀ·1 is pulled only when read
    assert graph.labels == fresh.graph.labels
    for node, kind in enumerate(graph.kinds):
        if kind == "group":
            for ours, theirs in zip(graph.local[node], fresh.graph.local[node]):
                np.testing.assert_array_equal(ours, theirs)
    assert len(pulls) > first  # reading them, the uncached folding pulled them all again
    assert len(expanded.nodes) > len(picture.nodes)


def test_resnet18_paths_are_refused_with_a_top_that_fits():
    analysis = load_torch("samples/torch_resnet18.py")
    name = "model.conv1.weight"
    most = most_listed(analysis.graph, name)
    assert most == 6  # its paths weigh about 47 million elements each
    assert listing_work(analysis.graph, name, most) <= MAX_LISTING_WORK
    assert listing_work(analysis.graph, name, most + 1) is None
    with pytest.raises(LimitError) as refused:
        analysis.paths(name, 20)
    assert refused.value.hint == "use --top 6 or fewer"
    assert "47,340,539 on the heaviest path" in refused.value.reason


def test_a_folded_group_s_jt1_read_later_is_torch_s_pull_where_torch_finds_a_gradient(
        monkeypatch):
    import graphviz_ad.engine.fold as fold_module

    monkeypatch.setattr(fold_module, "MAX_JACOBIAN_ROWS", 0)  # every group kept as its action
    graph = load_torch("samples/torch_gpt.py:loss").graph
    checked = 0
    for path in group_paths(graph):
        result = fold(graph, [path])
        folded = result.graph
        for node, kind in enumerate(folded.kinds):
            if kind != "group":
                continue
            *region, output = result.stands_for[node]
            producers = [result.stands_for[argument][-1] for argument in folded.args[node]]
            eager = fold_module._puller(graph, sorted(region + [output]), output, producers)(
                np.ones_like(graph.values[output])[()])
            # Where the gradient flows is told from the graph before torch is asked.
            assert [folded.flows(node, slot) for slot in range(len(producers))] == \
                [part is not None for part in eager]
            for ours, theirs in zip(folded.local[node], eager):
                np.testing.assert_array_equal(ours, theirs)
            checked += 1
    assert checked >= 10
