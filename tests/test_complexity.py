"""Nothing quadratic: each stage from text to picture does about 4 times the work for a program
4 times as long, on the shapes users write.

Work is counted, not timed: the lines of graphviz_ad's own code that run (a tracer sees each
one, and each turn of a loop), so the count is the same on a loaded machine, and a scan repeated
per statement inside one function counts as much as the calls it would have made. Linear work
gives a ratio of 4 (a little less, for fixed costs); the quadratic steps these tests were written
against gave 6 to 10 at these sizes, and more at larger ones. The external Graphviz layout is
not ours, and not counted.
"""

import sys
from pathlib import Path

import pytest

import graphviz_ad
import graphviz_ad.engine.build
from graphviz_ad.api import analyze
from graphviz_ad.engine.backward import backward
from graphviz_ad.engine.build import build
from graphviz_ad.engine.differentiate import gradient_graph
from graphviz_ad.engine.fold import choose_detail, fold
from graphviz_ad.engine.graph import MAX_NODES
from graphviz_ad.engine.paths import path_count, summarize
from graphviz_ad.errors import LimitError
from graphviz_ad.language import parse
from graphviz_ad.options import DEFAULT_MAX_BOXES
from graphviz_ad.render import compose
from graphviz_ad.render.dot import to_digraph
from graphviz_ad.render.formats import PictureOptions
from graphviz_ad.render.page import drawing_json, script_json
from graphviz_ad.render.picture import build_picture

PACKAGE = str(Path(graphviz_ad.__file__).parent)
# The most work at 4n for work 1 at n: 4 when linear, 16 when quadratic; room for one more
# level of blocks to choose among at 4n (choosing the detail: 5.1).
LINEAR = 5.5


def executed_lines(work) -> int:
    """How many lines of graphviz_ad's code `work()` runs."""
    count = 0

    def in_ours(frame, event, argument):
        nonlocal count
        if event == "line":
            count += 1
        return in_ours

    def on_call(frame, event, argument):
        return in_ours if frame.f_code.co_filename.startswith(PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


# The shapes, each a program of about `n` statements or terms.

def reassigned(n: int) -> str:
    """One name assigned again and again: `y (2)`, `y (3)`, ... as its groups."""
    return "y = x\n" + "y = y*1.000001 + 0.5\n" * n + "y\n"


def taking_turns(n: int) -> str:
    """A few names assigned in turn, each statement reading the others."""
    names = ("a", "b", "c")
    lines = [f"{name} = x" for name in names]
    lines += [f"{names[i % 3]} = {names[(i + 1) % 3]}*0.5 + {names[(i + 2) % 3]}*0.25"
              for i in range(n)]
    return "\n".join(lines + ["a + b + c"]) + "\n"


def straight_line(n: int) -> str:
    """A long program of statements, each reading the one before."""
    return "a0 = x\n" + "".join(f"a{i} = a{i - 1}*1.000001 + 0.5\n" for i in range(1, n)) + \
        f"a{n - 1}\n"


def flat_sum(n: int) -> str:
    return "+".join(["x"] * n) + "\n"


def nested(n: int) -> str:
    """Calls nested `n` deep (the language allows 200 levels)."""
    return "sin(" * n + "x" + ")" * n + "\n"


def differentiated(n: int) -> str:
    """A long program and grad() of its last value: the sweep's nodes in one statement."""
    return "y = x\n" + "y = sin(y)*x + 0.1\n" * n + "grad(y, x)\n"


SHAPES = {"differentiated": (differentiated, 150), "reassigned": (reassigned, 300), "taking turns": (taking_turns, 300),
          "straight line": (straight_line, 300), "flat sum": (flat_sum, 600),
          "nested": (nested, 45)}


# The stages: each takes the program and returns the work to count (what it needs first is
# made outside the count).

def parsing(source):
    return lambda: parse(source)


def building(source):
    return lambda: build(source, {"x": 1.0})


def sweeping(source):
    graph = build(source, {"x": 1.0}).graph
    return lambda: backward(graph)


def differentiating_again(source):
    """grad(f, x) as graph nodes, and the numeric sweep through them: a second derivative."""
    graph = build(source, {"x": 1.0}).graph
    return lambda: backward(gradient_graph(graph, "x"))


def counting_paths(source):
    graph = analyze(source, x=1.0).graph
    return lambda: (path_count(graph, "x"), summarize(graph, "x", 3))


def choosing_detail(source):
    graph = analyze(source, x=1.0).graph
    return lambda: choose_detail(graph, DEFAULT_MAX_BOXES, keep=[graph.inputs["x"]],
                                 chain_budget=20)


def folding(source):
    graph = analyze(source, x=1.0).graph
    detail = choose_detail(graph, DEFAULT_MAX_BOXES, keep=[graph.inputs["x"]])
    return lambda: fold(graph, detail.fold, [graph.inputs["x"]])


def drawing(source):
    analysis = analyze(source, x=1.0)
    return lambda: analysis.picture("x")


def building_the_picture(source):
    graph = analyze(source, x=1.0).graph
    return lambda: build_picture(graph)


def writing_dot(source):
    picture = analyze(source, x=1.0).picture(expand_all=True)
    return lambda: to_digraph(picture).source


def writing_page_json(source):
    picture = analyze(source, x=1.0).picture(expand_all=True)
    return lambda: script_json(drawing_json(picture, None))


STAGES = [parsing, building, sweeping, differentiating_again, counting_paths, choosing_detail, folding, drawing,
          building_the_picture, writing_dot, writing_page_json]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.__name__)
def test_each_stage_does_linear_work(shape, stage):
    make, n = SHAPES[shape]
    small = executed_lines(stage(make(n)))
    large = executed_lines(stage(make(4 * n)))
    assert large <= LINEAR * small, f"{large / small:.1f} times the work for 4 times the program"


def test_the_page_and_its_expansions_do_linear_work():
    def page(n):
        analysis = analyze(straight_line(n), x=1.0)
        planned = analysis.plan("html", PictureOptions("x"))
        picture = compose.build(planned.chosen)
        return lambda: compose.page_records(analysis, picture, planned)

    small, large = executed_lines(page(150)), executed_lines(page(600))
    assert large <= LINEAR * small, f"{large / small:.1f} times the work for 4 times the program"


def test_a_sum_past_the_node_limit_is_refused_before_it_is_parsed(monkeypatch):
    def never(source):
        raise AssertionError("parsed: tokens, a tree and nodes were made before the refusal")

    monkeypatch.setattr(graphviz_ad.engine.build, "parse", never)
    source = flat_sum(MAX_NODES + 1)  # MAX_NODES additions and x: one node too many
    with pytest.raises(LimitError) as refused:
        build(source)
    assert refused.value.reason == f"the graph would have more than {MAX_NODES:,} nodes"
    assert refused.value.span == (len(source) - 3, len(source) - 2)  # the last +
