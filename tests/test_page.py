"""The HTML page: one self-contained file, its data the very records of `gad trace` and `gad paths`,
user text kept text; and, in a real headless Chromium, stepping, clicking, paths and pan and zoom.

The browser tests need Playwright (the `test` extra) and a Chromium from the system's packages
(`.ci/run` installs Debian's); they skip, saying why, where either is missing. One browser serves
the whole module; each test opens its page from disk and fails on any console error, script
error, dialog or request other than the file itself.
"""

import base64
import hashlib
import json
import re
import shutil
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from graphviz_ad import api, display, records
from graphviz_ad.cli import app
from graphviz_ad.engine.annotated import INPUT, OPERATION, AnnotatedGraph, ForeignOp
from graphviz_ad.render.formats import FORMATS, SUFFIXES, choose_format
from graphviz_ad.render.page import PAGE_ELEMENTS, script_json
from graphviz_ad.render.picture import summarize_array
from graphviz_ad.style import PATH_COLOURS

runner = CliRunner()
SEED = "samples/seed.gad"
ATTACK = "</script><script>alert(1)</script>"
MARKUP = '<img src=x onerror="alert(2)">'


def gad(*arguments):
    result = runner.invoke(app, [str(argument) for argument in arguments],
                           env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    return result


def embedded(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="gad-data">(.*?)</script>', html,
                      re.DOTALL)
    return json.loads(block.group(1))


def attacked_graph() -> AnnotatedGraph:
    """An imported graph whose every text is hostile: input names, an op's name, its details."""
    op = ForeignOp(ATTACK, 2, MARKUP)
    a, b = np.float64(2.0), np.float64(3.0)
    return AnnotatedGraph(
        kinds=(INPUT, INPUT, OPERATION), ops=(None, None, op), args=((), (), (0, 1)),
        values=(a, b, a * b), labels=(MARKUP, ATTACK, ATTACK), requires_grad=(True,) * 3,
        inputs={MARKUP: 0, ATTACK: 1}, output=2, adjoints=(b, a, np.float64(1.0)),
        local=((), (), (b, a)), carried=(b, a), sweep_order=(2,),
        names={2: (ATTACK,)}, details={2: ATTACK + MARKUP, 0: MARKUP, 1: ATTACK})


# ---------- the file itself ----------


def test_html_is_one_entry_in_the_format_table():
    assert FORMATS["html"].steps and SUFFIXES["htm"] is FORMATS["html"]
    assert choose_format("page.HTML", None) is FORMATS["html"]
    assert not any(entry.steps for entry in FORMATS.values() if entry.name != "html")


def test_the_script_and_style_ship_inside_the_package():
    assets = resources.files("graphviz_ad.render").joinpath("assets")
    for name in ("page.js", "page.css", "page.html"):
        assert assets.joinpath(name).read_text("utf-8").strip(), name


def test_json_in_a_script_block_cannot_end_it():
    text = script_json({"name": ATTACK + "<!-- & \u2028\u2029"})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"name": ATTACK + "<!-- & \u2028\u2029"}


def test_the_page_embeds_the_records_of_gad_trace_and_gad_paths(tmp_path):
    page = tmp_path / "seed.html"
    gad("graph", SEED, "--wrt", "x2", "-o", page)
    data = embedded(page.read_text())
    reverse = json.loads(gad("trace", SEED, "--json").stdout)
    forward = json.loads(gad("trace", SEED, "--mode", "forward", "--json").stdout)
    assert data["trace"]["mode"] == "both"
    assert {key: data["trace"][key] for key in ("forward", "backward", "gradient")} == \
        {key: reverse[key] for key in ("forward", "backward", "gradient")}
    assert data["trace"]["tangents"] == forward["tangents"]
    for name in ("x1", "x2"):
        listed = json.loads(gad("paths", SEED, "--wrt", name, "--json").stdout)
        table = gad("paths", SEED, "--wrt", name).stdout
        rows = data["paths"][name]
        assert {key: rows[key] for key in ("wrt", "gradient", "path_count", "rest")} == \
            {key: listed[key] for key in ("wrt", "gradient", "path_count", "rest")}
        assert [(row["ids"], row["slots"], row["product"]) for row in rows["paths"]] == \
            [(path["ids"], path["slots"], path["product"]) for path in listed["paths"]]
        for row in rows["paths"]:
            assert f"{row['chain']} " in table and f"{row['factors']} " in table
    drawing = data["drawings"][0]
    assert data["wrt"] == "x2" and drawing["output"] == "n9" and len(data["drawings"]) == 1
    assert [node["members"] for node in drawing["nodes"]] == [[node] for node in range(10)]
    assert drawing["edges"] == json.loads(gad("graph", SEED, "--wrt", "x2", "-o", "-",
                                              "--format", "json").stdout)["edges"]


def test_the_worked_examples_page_is_small_and_fetches_nothing(tmp_path):
    page = tmp_path / "seed.html"
    gad("explain", SEED, "--wrt", "x2", "-o", page)
    html = page.read_text()
    assert len(html.encode()) < 110_000  # 78 KB of it the script, style and markup
    assert "<svg" in html and "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy == f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'"


@pytest.mark.parametrize("renderer", ["graphviz-pure",
                                      pytest.param("dot", marks=pytest.mark.system_dot)])
def test_hostile_names_stay_text_in_the_file(renderer, tmp_path):
    if renderer == "dot" and not shutil.which("dot"):
        pytest.skip("no system dot")
    page = tmp_path / "attack.html"
    api.Analysis.from_graph(attacked_graph()).save(str(page), renderer=renderer)
    html = page.read_text()
    assert len(re.findall("<script", html, re.IGNORECASE)) == 2
    assert "<img" not in html and "</script><script>" not in html.replace(
        '</script>\n<script>', "")
    assert embedded(html)["drawings"][0]["nodes"][2]["source"] == ATTACK + MARKUP


def test_large_arrays_are_embedded_as_their_shape_and_range(tmp_path):
    page = tmp_path / "arrays.html"
    analysis = api.analyze("sum(W @ v)", W=np.arange(100.0).reshape(10, 10), v=np.ones(10))
    analysis.save(str(page))
    data = embedded(page.read_text())
    assert data["drawings"][0]["nodes"][0]["value"] == {"shape": [10, 10], "min": 0.0,
                                                        "max": 99.0}
    assert data["trace"]["gradient"]["v"] == np.arange(100.0).reshape(10, 10).sum(0).tolist()
    assert data["trace"]["gradient"]["W"] == {"shape": [10, 10], "min": 1.0, "max": 1.0}


def test_a_page_carries_the_tangent_sweeps_that_fit_and_counts_the_rest():
    analysis = api.analyze("sum(W @ v) + c", W=np.ones((40, 30)), v=np.ones(30), c=2.0)
    tangents = records.trace_json(analysis.trace(mode=records.BOTH), PAGE_ELEMENTS)["tangents"]
    assert tangents["needed"] == {"c": 1, "v": 30, "W": 1200}
    # each sweep of W or v is 3 steps and its seed: W's 1,200 sweeps pass BOTH_TANGENT_STEPS
    made = [sweep["seed"] for sweep in tangents["sweeps"]]
    fitting = (records.BOTH_TANGENT_STEPS - 2 - 30 * 4) // 4
    assert made[:3] == ["c", "v[0]", "v[1]"] and made[-1] == f"W[{(fitting - 1) // 30}, " \
        f"{(fitting - 1) % 30}]" and len(made) == 31 + fitting
    assert tangents["left_out"] == {"W": 1200 - fitting}
    assert "gad trace --mode forward" in tangents["note"]
    assert {sweep["seed"]: sweep["result"] for sweep in tangents["sweeps"]}["v[3]"] == 40.0


def test_a_trace_of_both_modes_makes_its_tangent_sweeps_only_when_read():
    from graphviz_ad.engine.linear import LinearMap

    def refuse(*arguments):
        raise AssertionError("a tangent was pushed forward")

    graph = replace(attacked_graph(), ops=(None, None, ForeignOp(
        "refusing", 2, linear_map=LinearMap("refusing", refuse, refuse))))
    trace = api.Analysis.from_graph(graph).trace(mode=records.BOTH)
    assert [float(step.total) for step in trace.backward] == [3.0, 2.0]
    with pytest.raises(AssertionError, match="pushed forward"):
        assert trace.tangents


def test_records_keep_every_number_unless_told():
    trace = api.analyze("sum(v * 2)", v=np.arange(PAGE_ELEMENTS + 1.0)).trace()
    assert records.trace_json(trace)["gradient"]["v"] == [2.0] * (PAGE_ELEMENTS + 1)
    assert records.trace_json(trace, PAGE_ELEMENTS)["gradient"]["v"] == {
        "shape": [PAGE_ELEMENTS + 1], "min": 2.0, "max": 2.0}


# ---------- in a browser ----------

def seed_page(tmp_path, *options) -> Path:
    page = tmp_path / "seed.html"
    gad("graph", SEED, "-o", page, *options)
    return page


def titles(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"#stage svg {selector} > title",
                                     "elements => elements.map(e => e.textContent)")


def short(value) -> str:
    return display.number(value, 4)


def test_stepping_follows_gad_trace_box_by_box_and_edge_by_edge(open_page, tmp_path):
    trace = json.loads(gad("trace", SEED, "--json").stdout)
    page = open_page(seed_page(tmp_path, "--wrt", "x2"))
    for step in trace["forward"]:
        page.keyboard.press("ArrowRight")
        assert titles(page, "g.node.current") == [f"n{step['id']}"]
        assert page.text_content("#update") == (
            f"{step['name']}: an input" if step["kind"] == "input"
            else f"{step['name']} = {step['expression']}")
        assert page.text_content("#numbers").endswith(f" = {short(step['value'])}")
    page.keyboard.press("ArrowRight")
    assert titles(page, "g.node.current") == ["n9"]
    assert page.text_content("#update") == "f.grad = 1"
    for step in trace["backward"]:
        page.keyboard.press("ArrowRight")
        assert titles(page, "g.node.current") == [f"n{step['target_id']}"]
        assert titles(page, "g.node.source") == [f"n{step['via_id']}"]
        assert titles(page, "g.edge.current") == [f"n{step['target_id']}->n{step['via_id']}"]
        assert page.text_content("#numbers") == (
            f"{step['target']}.grad += {short(step['adjoint'])} × {short(step['local'])} = "
            f"{short(step['contribution'])}")
    assert page.text_content("#numbers") == "x2.grad += 0.2007 × 0.8776 = 0.1762"
    assert page.text_content("#after") == "x2.grad is now 1.44 + 0.1762 = 1.617"
    grad_of_x2 = "#stage svg g.node:has(> title:text-is('n1')) text.g"
    assert page.text_content(grad_of_x2) == "grad 1.617"
    page.keyboard.press("ArrowLeft")
    assert page.text_content("#numbers") == "v1.grad += 0.2007 × 1 = 0.2007"
    assert page.text_content(grad_of_x2) == "grad 1.44"
    page.keyboard.press("Home")
    assert titles(page, "g.node.current") == [] and page.text_content("#update") == ""


def test_forward_mode_steps_one_inputs_tangents_node_by_node(open_page, tmp_path):
    trace = json.loads(gad("trace", SEED, "--mode", "forward", "--json").stdout)
    page = open_page(seed_page(tmp_path, "--wrt", "x2"))
    assert page.eval_on_selector_all("#sweep option", "options => options.map(o => o.text)") == [
        "backward (reverse mode)", "forward: tangents of x1", "forward: tangents of x2"]
    page.select_option("#sweep", "1")
    assert page.text_content("#mark-backward") == "tangents of x2"
    for _ in trace["forward"]:
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert titles(page, "g.node.current") == ["n1"]
    assert page.text_content("#update") == "tan(x2) = 1"

    def tangent_of(node):
        return page.text_content(f"#stage svg g.node:has(> title:text-is('n{node}')) text.g")

    sweep = trace["tangents"]["sweeps"][1]
    assert [step["name"] for step in sweep["steps"]] == ["v1", "n", "d", "v3", "v4", "f"]
    for step in sweep["steps"]:
        page.keyboard.press("ArrowRight")
        arguments = [term["argument_id"] for term in step["terms"]]
        assert titles(page, "g.node.current") == [f"n{step['id']}"]
        assert sorted(titles(page, "g.node.source")) == sorted(f"n{node}" for node in arguments)
        assert sorted(titles(page, "g.edge.current")) == sorted(
            f"n{node}->n{step['id']}" for node in arguments)
        assert page.text_content("#numbers") == f"tan({step['name']}) = " + " + ".join(
            f"{short(term['tangent'])} × {short(term['local'])}" for term in step["terms"]) + \
            f" = {short(step['tangent'])}"
        assert tangent_of(step["id"]) == f"tan {short(step['tangent'])}"
    assert page.text_content("#update") == "tan(f) = tan(v3) × 1 + tan(v4) × 1"
    assert page.text_content("#numbers") == "tan(f) = 0.1165 × 1 + 1.5 × 1 = 1.617"
    page.keyboard.press("ArrowRight")
    assert page.text_content("#numbers") == "df/dx2 = 1.617"
    assert page.text_content("#after").startswith("The backward sweep gives the same, "
                                                  "x2.grad = 1.617")
    assert tangent_of(9) == "tan 1.617" and not page.is_visible(
        "#stage svg g.node:has(> title:text-is('n0')) text.g")  # x1: no tangent in this sweep
    page.click("#stage svg g.node:has(> title:text-is('n7'))")
    rows = page.eval_on_selector_all(
        "#details table.sum tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert rows == [["tan(n) × 1/d", "0.8776 × 0.2007", "0.1762"],
                    ["tan(d) × -n/d^2", "1 × -0.05961", "-0.05961"], ["tan(v3)", "", "0.1165"]]
    page.click("#details tr.step-row")
    assert page.text_content("#update") == "tan(v3) = tan(n) × 1/d + tan(d) × -n/d^2"
    page.select_option("#sweep", "reverse")
    assert page.text_content("#update") == "f.grad = 1" and tangent_of(9) == "grad 1"
    assert page.evaluate("gadPage.last") == len(trace["forward"]) + 11 + 2


def test_play_runs_to_the_end_at_the_chosen_speed(open_page, tmp_path):
    page = open_page(seed_page(tmp_path))
    page.select_option("#speed", "8")
    page.keyboard.press("Space")
    for _ in range(200):  # the page's script may not be evaluated by a test: its CSP says so
        if page.evaluate("gadPage.position === gadPage.last"):
            break
        page.wait_for_timeout(100)
    assert page.text_content("#phase") == "done"
    assert page.text_content("#numbers") == "df/dx1 = 0.2328 · df/dx2 = 1.617"
    assert page.eval_on_selector("#play", "button => button.classList.contains('on')") is False
    page.fill("#slider", "3")
    assert page.evaluate("gadPage.position") == 3


def test_a_clicked_node_shows_its_grad_as_the_sum_over_its_consumers(open_page, tmp_path):
    page = open_page(seed_page(tmp_path))
    page.click("#stage svg g.node:has(> title:text-is('n1'))")
    rows = page.eval_on_selector_all(
        "#details table.sum tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert rows == [["v4.grad × x1", "1 × 1.5", "1.5"],
                    ["d.grad × 1", "-0.05961 × 1", "-0.05961"],
                    ["v1.grad × cos(x2)", "0.2007 × 0.8776", "0.1762"],
                    ["x2.grad", "", "1.617"]]
    page.click("#stage svg g.node:has(> title:text-is('n3'))")
    locals_ = page.eval_on_selector_all(
        "#details table.locals tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert locals_ == [["∂v1/∂x2", "cos(x2)", "0.8776"]]
    page.click("#details tr.step-row")
    assert page.text_content("#numbers") == "v1.grad += 0.2007 × 1 = 0.2007"


def test_a_clicked_input_shows_the_rows_of_gad_paths_and_a_hovered_row_its_path(open_page,
                                                                                 tmp_path):
    expected = json.loads(gad("paths", SEED, "--wrt", "x2", "--json").stdout)
    page = open_page(seed_page(tmp_path))
    page.click("#stage svg g.node:has(> title:text-is('n1'))")
    rows = page.eval_on_selector_all(
        "#details tr.path-row", "rows => rows.map(r => [r.cells[1].firstChild.textContent, "
                                "r.cells[2].textContent])")
    assert rows == [[" → ".join(path["nodes"]), display.number(path["product"], 10)]
                    for path in expected["paths"]]
    page.hover("#details tr.path-row:nth-child(3)")  # the header is row 1: this is path 2
    second = expected["paths"][1]
    assert sorted(titles(page, "g.edge.on-path")) == sorted(
        f"n{tail}->n{head}" for tail, head in zip(second["ids"], second["ids"][1:]))
    stroke = page.eval_on_selector("#stage svg g.edge.on-path path",
                                   "path => getComputedStyle(path).stroke")
    red, green, blue = (int(PATH_COLOURS[1][index:index + 2], 16) for index in (1, 3, 5))
    assert stroke == f"rgb({red}, {green}, {blue})"
    page.mouse.move(5, 5)
    assert titles(page, "g.edge.on-path") == []


def test_wheel_zooms_about_the_pointer_drag_pans_and_fit_restores(open_page, tmp_path):
    page = open_page(seed_page(tmp_path))
    stage = page.eval_on_selector("#stage", "stage => stage.getBoundingClientRect().toJSON()")

    def camera():
        page.evaluate("new Promise(requestAnimationFrame)")
        return page.evaluate("gadPage.camera")

    def under(view, x, y):  # the drawing's point under the pointer at (x, y)
        return (view["x"] + (x - stage["left"]) / view["scale"],
                view["y"] + (y - stage["top"]) / view["scale"])

    fitted = camera()
    page.mouse.move(400, 400)
    page.mouse.wheel(0, -400)
    zoomed = camera()
    assert zoomed["scale"] > fitted["scale"] * 1.5
    assert under(zoomed, 400, 400) == pytest.approx(under(fitted, 400, 400))
    page.mouse.down()
    page.mouse.move(500, 450, steps=5)
    page.mouse.up()
    dragged = camera()
    assert dragged["x"] == pytest.approx(zoomed["x"] - 100 / zoomed["scale"])
    assert dragged["y"] == pytest.approx(zoomed["y"] - 50 / zoomed["scale"])
    transform = page.eval_on_selector("#stage svg", "svg => svg.style.transform")
    assert transform.startswith("translate(") and "scale(" in transform
    page.click("#fit")
    assert camera() == pytest.approx(fitted)


def test_numbers_are_written_as_python_writes_them(open_page, tmp_path):
    page = open_page(seed_page(tmp_path))
    values = [0.20073512936690338, -0.05961284871202578, 1.5, 100.0, 123456.0, 1e-5,
              -2.5e-7, 0.0001234, 9.99995, 1e16, 7.0, -0.0]
    assert page.evaluate("values => values.map(v => gadPage.number(v, 4))", values) == [
        display.number(value, 4) for value in values]
    arrays = [[1.0, 2.0], [[1.0, 2.0], [3.0, 4.5]], list(np.linspace(-1, 2, 6)),
              np.arange(12.0).reshape(3, 4).tolist(), [["nan", 1.0], [2.0, 3.0]]]
    assert page.evaluate("arrays => arrays.map(a => gadPage.shown(a))", arrays) == [
        summarize_array(np.array(array, dtype=float)) for array in arrays]
    assert page.evaluate("gadPage.shown({shape: [10, 10], min: 0, max: 99})") == \
        "10×10 in [0, 99]"


def test_hostile_names_stay_text_in_the_browser(open_page, tmp_path):
    path = tmp_path / "attack.html"
    api.Analysis.from_graph(attacked_graph()).save(str(path))
    page = open_page(path)
    assert page.evaluate("document.scripts.length") == 2
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.keyboard.press("End")
    page.click("#stage svg g.node:has(> title:text-is('n2'))")
    assert ATTACK in page.text_content("#details")
    assert page.text_content("#headline") == f"f = {ATTACK}{MARKUP} = 6"
    page.click(f"#inputs button:text-is('{MARKUP}')")
    assert page.text_content("#details .node-title") == MARKUP
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    page.keyboard.type("</script")
    assert [name for name, _ in choices(page)] == [ATTACK, ATTACK]  # the input, the op's name
    page.keyboard.press("Enter")
    assert selected(page) == ["n1"] and ATTACK in page.text_content("#details")
    page.fill("#search-field", "<img")
    assert choices(page) == [[MARKUP, "input"]]
    assert page.evaluate("document.querySelectorAll('img').length") == 0


def test_a_folded_group_shows_its_total_derivative_and_opens_in_place(open_page, tmp_path):
    path = tmp_path / "folded.html"
    api.load(SEED).save(str(path), wrt="x2", max_boxes=8)  # folds n = 1 + sin(x2)
    page = open_page(path)
    group = "#stage svg g.node:has(> title:text-is('n2'))"
    page.click(group)
    assert page.text_content("#details .kind") == "folded group"
    totals = page.eval_on_selector_all(
        "#details table.locals tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert totals == [["∂n/∂x2", "0.8776"]]  # d(1 + sin x2)/dx2 = cos(0.5)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # v1.grad += n.grad × 1: inside the folded group
    assert page.text_content("#numbers") == "v1.grad += 0.2007 × 1 = 0.2007"
    assert titles(page, "g.node.current") == ["n2"] and titles(page, "g.edge.current") == []
    page.keyboard.press("ArrowRight")  # x2.grad += v1.grad × cos(x2): into the group
    assert titles(page, "g.node.current") == ["n1"] and titles(page, "g.node.source") == ["n2"]
    assert titles(page, "g.edge.current") == ["n1->n2"]
    page.click("#details button.open-group")
    assert page.evaluate("gadPage.drawing") == 1 and page.is_visible("#fold-bar")
    assert titles(page, "g.node.current") == ["n1"] and titles(page, "g.node.source") == ["n3"]
    assert titles(page, "g.edge.current") == ["n1->n3"]  # now the edge into sin itself
    assert page.text_content("#fold-name") == "n"
    page.click("#fold-back")
    assert page.evaluate("gadPage.drawing") == 0 and not page.is_visible("#fold-bar")
    assert titles(page, "g.node.current") == ["n1"]


@pytest.mark.parametrize("options", [["--view", "backward", "--edge-labels", "both"],
                                     ["--compact", "--wrt", "x"], ["--only-paths", "--wrt", "w"],
                                     ["--max-boxes", "5"]])
def test_every_step_lights_up_the_boxes_that_show_its_nodes(open_page, tmp_path, options):
    program = tmp_path / "program.gad"
    program.write_text("x = 0.3\nw = 2\ny = tanh(exp(sin(x))) * w\nz = y + x * x\nz * 2\n")
    path = tmp_path / "page.html"
    gad("graph", program, "-o", path, *options)
    data = embedded(path.read_text())
    boxes: dict[int, set[str]] = {}
    for node in data["drawings"][0]["nodes"]:
        for member in node["members"]:
            boxes.setdefault(member, set()).add(node["id"])
    page = open_page(path)
    for step in data["trace"]["forward"]:
        page.keyboard.press("ArrowRight")
        assert set(titles(page, "g.node.current")) == boxes.get(step["id"], set())
    page.keyboard.press("ArrowRight")
    for step in data["trace"]["backward"]:
        page.keyboard.press("ArrowRight")
        target, via = boxes.get(step["target_id"], set()), boxes.get(step["via_id"], set())
        assert set(titles(page, "g.node.current")) == target
        assert set(titles(page, "g.node.source")) == via
        crossing = bool(target and via and target != via)
        assert len(titles(page, "g.edge.current")) == crossing


# ---------- the header and the search box ----------


def selected(page) -> list[str]:
    return titles(page, "g.node.selected")


def choices(page, listing: str = "#search-list") -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{listing} li", "items => items.map(i => i.children.length ? "
                         "[...i.children].map(c => c.textContent) : [i.textContent])")


def settled(page) -> dict:
    """The camera once its glide has ended."""
    last = None
    for _ in range(50):
        page.wait_for_timeout(60)
        camera = page.evaluate("gadPage.camera")
        if camera == last:
            return camera
        last = camera
    raise AssertionError("the camera never settled")


def stage_centre_of(page, box: str) -> tuple[float, float]:
    """Where the centre of drawn box `box` (n6) is, from the stage's centre, in pixels."""
    return tuple(page.evaluate(
        """id => { const stage = document.getElementById('stage').getBoundingClientRect();
        const box = [...document.querySelectorAll('#stage svg g.node')].find(
            g => g.querySelector('title').textContent === id).getBoundingClientRect();
        return [box.x + box.width / 2 - stage.x - stage.width / 2,
                box.y + box.height / 2 - stage.y - stage.height / 2]; }""", box))


def test_a_few_inputs_keep_a_chip_each_and_the_headline_one_line(open_page, tmp_path):
    page = open_page(seed_page(tmp_path, "--wrt", "x2"))
    assert page.eval_on_selector_all("#inputs .chip:visible", "chips => chips.map(c => c.textContent)") \
        == ["x1", "x2"]
    assert not page.is_visible("#inputs-menu")
    headline = "f = n / d + x1 * x2 = 1.047"
    assert page.text_content("#headline") == headline
    assert page.get_attribute("#headline", "title") == headline  # the whole of it on hover
    assert page.eval_on_selector("#top", "top => top.getBoundingClientRect().height") < 50


def test_search_lists_names_and_jumps_to_the_chosen_node(open_page, tmp_path):
    page = open_page(seed_page(tmp_path, "--wrt", "x2"), 1400, 820)
    fitted = settled(page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-field"
    page.keyboard.type("d")
    found = choices(page)
    assert found[0] == ["d", "+"]  # the whole name first, then names that hold it
    assert ["v2", "exp"] not in found and all("d" in name for name, _ in found)
    page.keyboard.press("ArrowRight")  # moves the caret in the field: no step
    assert page.evaluate("gadPage.position") == 0
    page.keyboard.press("Enter")
    assert selected(page) == ["n6"] and not page.is_visible("#search-list")
    assert page.text_content("#details .node-title") == "+"
    assert ["name in the trace", "d"] in page.eval_on_selector_all(
        "#details table.facts tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    camera = settled(page)
    assert camera["scale"] >= fitted["scale"]
    x, y = stage_centre_of(page, "n6")
    assert abs(x) < 2 and abs(y) < 2  # centred
    page.keyboard.press("Control+f")
    assert page.evaluate("document.activeElement.id") == "search-field"
    page.keyboard.type("nothing like it")
    assert choices(page) == [["no name matches"]]
    page.keyboard.press("Escape")
    assert not page.is_visible("#search-list")
    assert page.evaluate("document.activeElement.id") != "search-field"
    page.keyboard.press("ArrowRight")  # the page's keys again
    assert page.evaluate("gadPage.position") == 1


def test_search_opens_the_folded_group_a_name_is_in(open_page, tmp_path):
    path = tmp_path / "folded.html"
    api.load(SEED).save(str(path), wrt="x2", max_boxes=8)  # folds n = 1 + sin(x2)
    page = open_page(path)
    page.keyboard.press("/")
    page.keyboard.type("n")
    assert choices(page)[:2] == [["n", "+ · in n"], ["n", "group · 3 nodes · scalar → scalar"]]
    page.fill("#search-field", "v1")  # sin, inside the group
    page.keyboard.press("Enter")
    assert page.evaluate("gadPage.drawing") == 1 and page.is_visible("#fold-bar")
    assert selected(page) == ["n3"] and page.text_content("#details .node-title") == "sin"
    settled(page)
    x, y = stage_centre_of(page, "n3")
    assert abs(x) < 2 and abs(y) < 2
    page.keyboard.press("/")
    page.keyboard.type("x1")  # drawn in both: found where it is
    page.keyboard.press("Enter")
    assert page.evaluate("gadPage.drawing") == 1 and selected(page) == ["n0"]
    page.keyboard.press("/")
    page.keyboard.type("n")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # the group itself, open: it stays open
    assert page.evaluate("gadPage.drawing") == 1
    page.click("#fold-back")
    page.keyboard.press("/")
    page.keyboard.type("n")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # the group, folded: its box, which opens it
    assert page.evaluate("gadPage.drawing") == 0 and selected(page) == ["n2"]
    assert page.text_content("#details .kind") == "folded group"


def test_search_in_a_large_program_finds_a_group_the_page_cannot_open(open_page, tmp_path):
    path = tmp_path / "mlp.html"
    gad("graph", "samples/mlp300.gad", "-o", path)
    data = embedded(path.read_text())
    expansions = [drawing["expands"] for drawing in data["drawings"]]
    assert "lines 8-12.h0_1" in expansions and "lines 18-22.h3_2" not in expansions
    page = open_page(path)
    page.keyboard.press("/")
    page.keyboard.type("h3_2")
    assert choices(page)[0] == ["h3_2", "node · in lines 18-22.h3_2"]
    page.keyboard.press("Enter")  # inside a group the page does not carry open: its box
    box = next(node for node in data["drawings"][0]["nodes"] if node["opens"] == "lines 18-22.h3_2")
    assert page.evaluate("gadPage.drawing") == 0 and selected(page) == [box["id"]]
    assert "--expand lines 18-22.h3_2" in page.text_content("#details")
    page.keyboard.press("/")
    page.keyboard.type("h0_1")
    page.keyboard.press("Enter")  # inside a group the page carries open: opened in place
    index = expansions.index("lines 8-12.h0_1")
    tanh = next(node for node in data["drawings"][index]["nodes"] if node["names"] == ["h0_1"])
    assert page.evaluate("gadPage.drawing") == index and selected(page) == [tanh["id"]]
    assert page.text_content("#fold-name") == "lines 8-12.h0_1"


def test_the_page_declares_its_language_and_a_keyboard_reaches_every_box(open_page, tmp_path):
    """Tab goes from the search field through the boxes, in the graph's order, each named for a
    screen reader; Enter shows one, as a click does."""
    page = open_page(seed_page(tmp_path, "--wrt", "x2"))
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("#stage svg", "role") == "group"
    page.focus("#search-field")
    reached = []
    for _ in range(14):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
    boxes = [label for label in reached if label and "(" in label]
    assert boxes[:5] == ["x1 (input), value 1.5, grad 0.2328", "x2 (input), value 0.5, grad 1.617",
                         "1 (constant), value 1", "sin (operation), value 0.4794, grad 0.2007",
                         "n = + (operation), value 1.479, grad 0.2007"]
    page.focus("#stage svg g.node:has(> title:text-is('n1'))")
    page.keyboard.press("Enter")
    assert page.eval_on_selector_all("#details table.sum tr", "rows => rows.length") == 4


def test_a_step_over_arrays_is_said_in_words_and_a_grads_picture_waits_for_it(open_page,
                                                                               tmp_path):
    path = tmp_path / "mlp.html"
    gad("graph", "samples/mlp_batch.gad", "-o", path)
    page = open_page(path)
    w1 = "#stage svg g.node:has(> title:text-is('n2'))"
    hidden = ("cells => cells.filter(cell => getComputedStyle(cell).visibility === 'hidden')"
              ".length")
    grad_cells = page.eval_on_selector_all(f"{w1} polygon.g", "cells => cells.length")
    assert grad_cells == 3 * 5 + 1  # W1's grad: 3×5 cells and their frame, below its text
    page.keyboard.press("ArrowRight")  # the first input: W1's grad is not known yet
    assert page.eval_on_selector_all(f"{w1} polygon.g", hidden) == grad_cells
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")  # the last step: W1's grad from X @ W1
    assert page.eval_on_selector_all(f"{w1} polygon.g", hidden) == 0
    assert page.text_content("#update") == "W1.grad += v1.grad · Xᵀ"
    assert page.text_content("#numbers") == (
        "v1's grad, 8×5 numbers from -0.048 to 0.051, flows back along this edge: it adds 3×5 "
        "numbers from -0.156 to 0.172 to W1's grad")
    assert page.text_content("#after") == "W1.grad is now 3×5 numbers from -0.156 to 0.172"


def test_the_page_follows_the_readers_system_theme_and_its_button(open_page, tmp_path):
    path = tmp_path / "seed.html"
    gad("graph", SEED, "--wrt", "x2", "-o", path)
    page = open_page(path)

    def looks() -> tuple:
        return (page.evaluate("document.documentElement.classList.contains('dark')"),
                page.eval_on_selector('#stage svg text[fill="#222222"]',
                                      "text => getComputedStyle(text).fill"),
                page.get_attribute("#theme", "aria-pressed"))

    assert looks() == (False, "rgb(34, 34, 34)", "false")
    page.emulate_media(color_scheme="dark")
    page.wait_for_selector("html.dark", state="attached")
    assert looks() == (True, "rgb(230, 230, 230)", "true")  # DARK.ink
    page.click("#theme")
    assert looks() == (False, "rgb(34, 34, 34)", "false")
    path_label = page.eval_on_selector('#stage svg text[fill="#0072b2"]',
                                       "text => getComputedStyle(text).fill")
    assert path_label == "rgb(0, 114, 178)"
    page.click("#theme")
    assert looks()[0] and page.eval_on_selector(
        '#stage svg text[fill="#0072b2"]', "text => getComputedStyle(text).fill") == \
        "rgb(47, 140, 192)"  # lightened on dark paper, the line itself still #0072b2


def test_a_page_drawn_with_a_theme_opens_in_it(open_page, tmp_path):
    path = tmp_path / "seed.html"
    gad("graph", SEED, "-o", path, "--theme", "dark")
    page = open_page(path)
    assert page.evaluate("document.documentElement.classList.contains('dark')")
    assert page.eval_on_selector("#stage svg polygon", "shape => getComputedStyle(shape).fill") \
        == "rgb(27, 29, 33)"  # DARK.paper, the picture's background
