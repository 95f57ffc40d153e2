"""Repeated groups drawn as one box: an RNN's steps, a network's blocks (`h.0 … h.11 × 12`), with
each group's values on the box, the chain rule exact through it, and ways to draw them apart."""

import numpy as np
import pytest

from graphviz_ad import analyze
from graphviz_ad.engine.fold import run_label
from graphviz_ad.engine.paths import summarize
from graphviz_ad.render.compose import picture_graph
from graphviz_ad.render.formats import PictureOptions
from tests.conftest import gad
from tests.test_page import embedded

STEPS = 12
W = np.array([[0.5, -0.2], [0.1, 0.3]])
U = np.array([[1.0, 0.2], [-0.3, 0.4]])
H0 = np.array([0.1, -0.1])
XS = [np.array([0.1 * step, -0.05 * step]) for step in range(1, STEPS + 1)]
RNN = "\n".join(["h = tanh(W @ h0 + U @ x1)"]
                + [f"h = tanh(W @ h + U @ x{step})" for step in range(2, STEPS + 1)]
                + ["sum(h * h)"])


@pytest.fixture(scope="module")
def rnn():
    values = {"W": W, "U": U, "h0": H0} | {f"x{step}": x for step, x in enumerate(XS, 1)}
    return analyze(RNN, values)


def by_hand() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each step's state, and d sum(h12²) / d state, the sweep written out."""
    states, state = [], H0
    for x in XS:
        state = np.tanh(W @ state + U @ x)
        states.append(state)
    adjoints = [2 * states[-1]]
    for state in reversed(states[1:]):
        adjoints.insert(0, W.T @ ((1 - state ** 2) * adjoints[0]))
    return states, adjoints


def groups(picture) -> list[str]:
    return [node.title for node in picture.nodes if node.folded]


def test_the_steps_of_an_rnn_fold_into_one_box_with_each_steps_values(rnn):
    picture = rnn.picture("W", max_boxes=20)
    (box,) = [node for node in picture.nodes if node.folded]
    assert box.title == "h … h (12) × 12"
    assert box.folded == "12 × 4 nodes · 15 inputs: 2×2, 2 → 2"  # W, U, h0, x1..x12
    assert box.opens == "h"  # --expand of its first step
    states, adjoints = by_hand()
    assert [name for name, _, _ in box.instances] == ["h"] + [f"h ({step})"
                                                            for step in range(2, STEPS + 1)]
    steps = picture_graph(rnn, PictureOptions(wrt="W", max_boxes=20)).graph
    (node,) = [node for node, kind in enumerate(steps.kinds) if kind == "group"]
    for instance, state, adjoint in zip(steps.ops[node].instances, states, adjoints):
        np.testing.assert_allclose(instance.value, state, rtol=1e-15)
        np.testing.assert_allclose(instance.adjoint, adjoint, rtol=1e-12)
    everything = np.concatenate(states)
    assert box.repeats.startswith(f"each of the 12 hands on: out in [{everything.min():.3g}, "
                                  f"{everything.max():.3g}]")


def test_the_paths_through_the_box_still_sum_to_the_gradient(rnn):
    drawn = picture_graph(rnn, PictureOptions(wrt="W", max_boxes=20)).graph
    paths = summarize(drawn, "W", None).paths
    assert len(paths) == 2  # W → the box → h*h → sum, through either factor of h*h
    total = sum(np.asarray(path.product) for path in paths)
    np.testing.assert_allclose(total, rnn.gradient("W"), rtol=1e-12, atol=1e-15)
    states, adjoints = by_hand()
    # dL/dW = Σ_k ((1 - h_k²) ⊙ ḡ_k) h_{k-1}ᵀ, the sum over the steps
    previous = [H0] + states[:-1]
    expected = sum(np.outer((1 - state ** 2) * adjoint, before)
                   for state, adjoint, before in zip(states, adjoints, previous))
    np.testing.assert_allclose(total, expected, rtol=1e-12)


def test_expanding_one_step_splits_the_run_and_apart_draws_every_step(rnn):
    opened = rnn.picture("W", max_boxes=20, expand=["h (5)"])
    assert groups(opened) == ["h … h (4) × 4", "h (6) … h (12) × 7"]
    assert {"tanh", "@"} <= {node.title for node in opened.nodes}
    apart = rnn.picture("W", max_boxes=20, apart=True)
    assert not any("×" in title for title in groups(apart))
    assert not any("alike" in note for note in apart.notes)


def test_groups_alike_that_each_hand_on_to_the_outside_stay_apart():
    # a and b repeat each other but do not chain: both feed the sum, so each keeps its box
    program = "a = sin(x) * 2 + x\nb = sin(y) * 2 + y\nc = cos(a) + a\nd = cos(c) + c\nb * d\n"
    picture = analyze(program, x=0.3, y=0.4).picture(depth=0)
    assert groups(picture) == ["a", "b", "c … d × 2"]
    assert picture.notes[0].startswith("folded 3 group(s) below depth 0: a, b, c … d × 2")


def test_groups_whose_shapes_differ_are_not_alike():
    program = "v = x * 2\nv = sum(v * 2)\nv = v * 2\nv\n"
    picture = analyze(program, x=np.array([1.0, 2.0])).picture(depth=0)
    assert groups(picture) == ["v", "v (2)", "v (3)"]


def test_run_labels_say_a_shared_word_once_before_numbers():
    assert run_label((("model", "h", "0"), ("model", "h", "11"))) == "h.0 … h.11 × 2"
    assert run_label((("lines 7-12",), ("lines 19-24",), ("lines 25-30",))) == \
        "lines 7-12 … 25-30 × 3"
    assert run_label((("y (2)",), ("y (9)",))) == "y (2) … y (9) × 2"


def test_the_command_line_draws_runs_and_the_page_steps_through_them(tmp_path):
    program = tmp_path / "rnn.gad"
    program.write_text(RNN)
    values = ["W=[[0.5,-0.2],[0.1,0.3]]", "U=[[1,0.2],[-0.3,0.4]]", "h0=[0.1,-0.1]"] + \
        [f"x{step}=[{0.1 * step},{-0.05 * step}]" for step in range(1, STEPS + 1)]
    merged = gad("graph", program, *values, "--wrt", "W", "--max-boxes", 20, "-f", "dot")
    assert merged.exit_code == 0, merged.stderr
    assert "h … h (12) × 12" in merged.stdout and "each of the 12 hands on" in merged.stdout
    apart = gad("graph", program, *values, "--wrt", "W", "--max-boxes", 20, "-f", "dot",
                "--apart")
    assert "× 12" not in apart.stdout
    page = tmp_path / "rnn.html"
    assert gad("graph", program, *values, "--max-boxes", 20, "-o", page).exit_code == 0
    data = embedded(page.read_text())
    (box,) = [node for node in data["drawings"][0]["nodes"] if node["instances"]]
    assert [instance["name"] for instance in box["instances"]][:3] == ["h", "h (2)", "h (3)"]


def test_the_page_steps_through_the_groups_of_a_run(open_page, tmp_path, rnn):
    path = tmp_path / "rnn.html"
    rnn.save(str(path), wrt="W", max_boxes=20)
    (box,) = [node for node in rnn.picture("W", max_boxes=20).nodes if node.instances]
    page = open_page(path)
    page.click(f"#stage svg g.node:has(> title:text-is('{box.id}'))")
    steps = "#details .instance-steps"
    assert page.text_content(steps).split() == ["◀", "h", "(1", "of", "12)", "▶"]
    assert page.is_disabled(f"{steps} button[aria-label='previous group']")
    page.click(f"{steps} button[aria-label='next group']")
    assert " h (2) (2 of 12) " in page.text_content(steps)
    states, _ = by_hand()
    shown = page.eval_on_selector_all("#details .instance-steps + table.facts td",
                                      "cells => cells.map(cell => cell.textContent)")
    assert shown[:2] == ["hands on", box.instances[1][1]]
    assert box.instances[1][1] == f"[{states[1][0]:.4g}, {states[1][1]:.4g}]"


def test_runs_of_blocks_alike_take_in_the_runs_inside_them():
    """Thirty steps are blocks of lines (past 24 statements); blocks alike are one box, and the
    statements alike inside them fold with it rather than as runs of their own."""
    steps = 30
    program = "\n".join(["h = tanh(W @ h0 + U @ x1)"]
                        + [f"h = tanh(W @ h + U @ x{step})" for step in range(2, steps + 1)]
                        + ["sum(h * h)"])
    values = {"W": W, "U": U, "h0": H0} | {f"x{step}": np.full(2, step / 100)
                                          for step in range(1, steps + 1)}
    analysis = analyze(program, values)
    picture = analysis.picture("W")
    assert groups(picture) == ["lines 1-6", "lines 7-12 … 25-30 × 4", "lines 31-31"]
    drawn = picture_graph(analysis, PictureOptions(wrt="W")).graph
    total = sum(np.asarray(path.product) for path in summarize(drawn, "W", None).paths)
    np.testing.assert_allclose(total, analysis.gradient("W"), rtol=1e-12, atol=1e-15)
