"""The page of real models (a ResNet, resnet18, a small GPT): written within its budget, array
path rows summarised, inputs past the budget named with a hint; and opened in headless Chromium.

The browser tests use conftest.py's `open_page`: Playwright and the system's Chromium, skipped where
either is missing; a page fails on any console error, script error, dialog or request.
"""

import json
import re
import runpy

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

import graphviz_ad  # noqa: E402
from graphviz_ad.api import load_torch  # noqa: E402
from graphviz_ad.render import page as page_module  # noqa: E402

from test_page import choices, embedded, selected  # noqa: E402

def small_gpt():
    """The sample's GPT at test size: one block of width 8 on 4 tokens."""
    sample = runpy.run_path("samples/torch_gpt.py")
    torch.manual_seed(1)
    model = sample["gpt"](blocks=1, width=8, heads=2, vocabulary=16, context=4).double()
    tokens = torch.randint(0, 16, (1, 5))

    def loss():
        logits = model(tokens[:, :-1])
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())

    return graphviz_ad.trace_torch(loss)


@pytest.fixture(scope="module")
def resnet_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "resnet.html"
    load_torch("samples/torch_resnet.py:loss").save(str(path))
    return path


@pytest.fixture(scope="module")
def resnet18_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "resnet18.html"
    load_torch("samples/torch_resnet18.py").save(str(path))
    return path


@pytest.fixture(scope="module")
def gpt_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "gpt.html"
    small_gpt().save(str(path))
    return path


def check_rows(data: dict) -> tuple[list[str], list[str]]:
    """Every input has a record; each listed row's array product is a summary (shape, range,
    norm, first numbers), never its elements. Returns the listed and the unlisted inputs."""
    listed, unlisted = [], []
    for name, record in data["paths"].items():
        assert record["wrt"] == name
        if record["paths"]:
            listed.append(name)
            for row in record["paths"]:
                product = row["product"]
                if isinstance(product, dict):
                    assert set(product) == {"shape", "min", "max", "norm", "first"}
                    assert len(product["first"]) == page_module.FIRST_NUMBERS
                else:  # a number, or an array of a few numbers
                    assert len(json.dumps(product)) < 200
        else:
            unlisted.append(name)
            # The --top named is the largest the command line lists (K when none fits).
            assert re.search(rf"--wrt {re.escape(name)} --top (\d+|K)`", record["unlisted"])
            assert record["rest"]["count"] == record["path_count"]
    return listed, unlisted


def test_the_resnet_page_summarises_its_array_path_rows(resnet_page):
    data = embedded(resnet_page.read_text("utf-8"))
    listed, _ = check_rows(data)
    assert len(data["paths"]) == 17 and "model.fc.weight" in listed
    assert resnet_page.stat().st_size < 2_000_000


def test_inputs_past_the_page_budget_are_named_with_a_hint(monkeypatch, tmp_path):
    monkeypatch.setattr(page_module, "PAGE_PATH_ELEMENTS", 100_000)
    path = tmp_path / "resnet.html"
    load_torch("samples/torch_resnet.py:loss").save(str(path), wrt="model.conv1.weight")
    data = embedded(path.read_text("utf-8"))
    listed, unlisted = check_rows(data)
    assert unlisted and listed
    assert "model.conv1.weight" in unlisted  # --wrt's first, but it alone is past the budget
    assert "past what is left of the page's 100,000" in data["paths"][unlisted[0]]["unlisted"]


def test_a_small_gpt_page_lists_its_head(tmp_path):
    path = tmp_path / "gpt.html"
    small_gpt().save(str(path))
    listed, _ = check_rows(embedded(path.read_text("utf-8")))
    assert "model.lm_head.weight" in listed


def test_the_resnet18_page_is_written(resnet18_page):
    data = embedded(resnet18_page.read_text("utf-8"))
    listed, unlisted = check_rows(data)
    assert len(data["paths"]) == 62 and "model.fc.weight" in listed and unlisted
    assert resnet18_page.stat().st_size < 2_000_000


# ---------- in a browser ----------


def show_every_input(page) -> None:
    """Chooses each input in the list at the top (its path table) and steps to the end."""
    count = len(embedded(page.content())["paths"])
    for index in range(count):
        page.click("#inputs-button")
        page.locator("#inputs-list .choice").nth(index).click()
        assert page.locator("#details .path-table").count() == 1
    page.evaluate("window.gadPage.go(window.gadPage.last)")


def test_the_resnet_page_opens_in_chromium_without_errors(open_page, resnet_page):
    show_every_input(open_page(resnet_page))


def test_the_gpt_page_opens_in_chromium_without_errors(open_page, gpt_page):
    show_every_input(open_page(gpt_page))


def test_many_inputs_are_one_button_that_opens_their_list(open_page, resnet_page):
    page = open_page(resnet_page)
    assert page.locator("#inputs .chip:visible").all_text_contents() == ["paths of 17 inputs ▾"]
    assert page.eval_on_selector("#top", "top => top.getBoundingClientRect().height") < 50
    assert page.get_attribute("#headline", "title") == page.text_content("#headline")
    page.click("#inputs-button")
    assert page.evaluate("document.activeElement.id") == "inputs-field"
    listed = choices(page, "#inputs-list")
    assert [name for name, _ in listed] == list(embedded(resnet_page.read_text())["paths"])
    page.keyboard.type("FC")
    assert choices(page, "#inputs-list") == [["model.fc.bias", "1 path"],
                                             ["model.fc.weight", "1 path"]]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert not page.is_visible("#inputs-pop")
    assert page.text_content("#details .node-title") == "model.fc.weight"
    assert page.text_content("#details .paths h3") == "paths from model.fc.weight to loss: 1"
    page.click("#inputs-button")
    page.keyboard.press("Escape")
    assert not page.is_visible("#inputs-pop")
    page.click("#inputs-button")
    page.click("#inputs-button")  # a second click closes it too
    assert not page.is_visible("#inputs-pop")


def test_search_finds_resnet18s_modules_and_opens_them(open_page, resnet18_page):
    data = embedded(resnet18_page.read_text("utf-8"))
    page = open_page(resnet18_page)
    assert page.text_content("#inputs-button") == "paths of 62 inputs ▾"
    unlisted = next(name for name, record in data["paths"].items() if not record["paths"])
    page.click("#inputs-button")
    page.keyboard.type(unlisted)
    count = data["paths"][unlisted]["path_count"]
    assert choices(page, "#inputs-list") == [[unlisted, f"{count} paths, not listed here"]]
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    page.keyboard.type("layer2.0")
    found = choices(page)
    assert found[0] == ["model.layer2.0", "group · 18 nodes · 1×64×112×112 → 1×128×56×56"]
    assert sorted(name for name, _ in found[1:]) == sorted(
        name for name in data["paths"] if name.startswith("model.layer2.0."))
    assert {what for _, what in found[1:]} == {"input · in model.layer2.0"} and len(found) == 10
    page.keyboard.press("Enter")
    group = next(node for node in data["drawings"][0]["nodes"] if node["opens"] == "model.layer2.0")
    assert page.evaluate("gadPage.drawing") == 0 and selected(page) == [group["id"]]
    page.keyboard.press("/")
    page.keyboard.type("layer3.0.conv2.weight")
    page.keyboard.press("Enter")  # an input folded with its module: the module opens
    index = [drawing["expands"] for drawing in data["drawings"]].index("model.layer3.0")
    box = next(node for node in data["drawings"][index]["nodes"]
               if node["kind"] == "input" and node["label"] == "model.layer3.0.conv2.weight")
    assert page.evaluate("gadPage.drawing") == index and selected(page) == [box["id"]]
    assert page.text_content("#details .paths h3").startswith(
        "paths from model.layer3.0.conv2.weight to logits:")
