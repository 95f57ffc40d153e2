"""Groups named as pictures show them, --expand and --depth that change them, docs/torch.md run."""

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from graphviz_ad import api
from graphviz_ad.engine.fold import frames
from graphviz_ad.errors import UsageError
from tests.conftest import gad

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tests skip")

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "torch.md"
BLOCKS = {f"layer{stage}.{block}" for stage in range(1, 5) for block in (0, 1)}
# By default layer1's two blocks, alike, fold as one box; the other stages' first blocks
# downsample, so differ from their second.
MERGED = BLOCKS - {"layer1.0", "layer1.1"} | {"layer1.0 … layer1.1 × 2"}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """These graphs are small: torch's pool of threads, waiting on a busy machine, made a test
    of 0.2 s take 20."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)




def folded(picture) -> set[str]:
    return {node.title for node in picture.nodes if node.folded}


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """resnet18's layout, narrow and on an 8×8 image (so its folded edges are small; in eval
    mode, as its last blocks are 1×1), read as a global `model` by the function
    traced, as samples/torch_resnet18.py is (so its groups are `model.layer1.0`, ...)."""
    folder = tmp_path_factory.mktemp("network")
    (folder / "narrow18.py").write_text(
        "import runpy\nimport torch\n"
        f"ResNet = runpy.run_path({str(ROOT / 'samples' / 'torch_resnet.py')!r})['ResNet']\n"
        "torch.manual_seed(0)\nmodel = ResNet((4, 8, 8, 8), 2, 10).eval()\n"
        "x = torch.rand(1, 3, 8, 8)\n\n\ndef logits():\n    return model(x)\n")
    return api.load_torch(f"{folder / 'narrow18.py'}:logits")


def test_a_group_is_named_by_its_whole_name_or_the_last_parts_its_box_shows(network):
    assert network.groups_named(["layer2.0", "model.layer2.0", "layer1", "layer2.0.conv1"]) == [
        ("model", "layer2", "0"), ("model", "layer2", "0"), ("model", "layer1"),
        ("model", "layer2", "0", "conv1")]
    assert network.groups_named(["layer4.0.conv1", "fc", "model"]) == [
        ("model", "layer4", "0", "conv1"), ("model", "fc"), ("model",)]


def test_a_name_that_ends_several_groups_is_an_error_that_lists_them(network):
    with pytest.raises(UsageError, match=r"`relu` names 9 groups: model\.relu, "
                                         r"model\.layer1\.0\.relu, model\.layer1\.1\.relu"):
        network.groups_named(["relu"])
    with pytest.raises(UsageError, match=r"`layer9` is not a group of the program \(groups: "
                                         r"model, model\.conv1"):
        network.groups_named(["layer9"])
    # a part of a name's part is no name: `yer1` does not end `model.layer1`
    with pytest.raises(UsageError, match="is not a group"):
        network.groups_named(["yer1"])


def test_the_lone_module_a_function_reads_is_a_frame_not_a_level():
    assert frames([("model",), ("model", "conv1"), ("model", "layer1"),
                   ("model", "layer1", "0")]) == 1
    assert frames([("y",)]) == 0  # a statement alone, holding no group, is a level
    assert frames([("a",), ("b",), ("a", "c")]) == 0
    assert frames([("model",), ("model", "module"), ("model", "module", "fc"),
                   ("model", "module", "conv")]) == 2


def test_depth_counts_the_levels_below_the_frame(network):
    assert folded(network.picture()) == MERGED  # by whole levels, to keep the chain short
    assert folded(network.picture(depth=1)) == MERGED
    assert folded(network.picture(depth=1, apart=True)) == BLOCKS
    deeper = folded(network.picture(depth=2))
    assert deeper >= {"conv1", "bn1", "conv2", "bn2"} and not deeper & BLOCKS
    assert folded(network.picture(depth=0)) >= {"layer1", "layer2", "layer3", "layer4"}


def test_expand_opens_a_folded_block_and_leaves_the_rest_as_it_was(network):
    picture = network.picture(expand=["layer2.0"])
    assert folded(picture) == MERGED - {"layer2.0"}
    # one of a run of repeated blocks opens alone: the other is a run of one no more
    assert folded(network.picture(expand=["layer1.1"])) == BLOCKS - {"layer1.1"}
    assert {node.title for node in picture.nodes} >= {"conv2d", "batch_norm"}
    assert network.digraph(expand=["model.layer2.0"]).source == \
        network.digraph(expand=["layer2.0"]).source != network.digraph().source


def test_expand_of_a_group_drawn_open_opens_the_groups_folded_inside_it(network):
    assert folded(network.picture(expand=["layer1"])) == BLOCKS - {"layer1.0", "layer1.1"}
    assert folded(network.picture(expand=["model.layer1"])) == BLOCKS - {"layer1.0", "layer1.1"}
    assert folded(network.picture(expand=["model"])) & BLOCKS == set()
    # at --depth 2 layer1's blocks are open already: their convolutions and norms open
    inside = network.picture(depth=2, expand=["layer1"])
    assert {node.group[:2] for node in inside.nodes if node.folded} == \
        {("model", f"layer{stage}") for stage in (2, 3, 4)}
    # a group inside a folded one opens it, down to that group
    deep = network.picture(expand=["layer3.1.conv2"])
    assert folded(deep) == MERGED - {"layer3.1"}


def test_the_paths_through_a_block_folded_by_its_short_name(network):
    weight = "model.conv1.weight"
    graph, short = network.paths_drawn(weight, None, sorted(BLOCKS))
    whole = network.paths(weight, None, [f"model.{block}" for block in sorted(BLOCKS)])
    assert [path.nodes for path in short.paths] == [path.nodes for path in whole.paths]
    assert {graph.labels[node] for path in short.paths for node in path.nodes} >= BLOCKS
    assert sum(float(path.product.sum()) for path in short.paths) == \
        pytest.approx(float(network.gradient(weight).sum()), rel=1e-9, abs=1e-12)


def test_the_command_line_takes_the_short_names(tmp_path):
    result = gad("torch", "samples/torch_resnet.py:loss", "--paths", "--wrt",
                 "model.conv1.weight", "--fold", "layer1.0", "--json")
    assert result.exit_code == 0, result.stderr
    assert "layer1.0" in result.stdout
    result = gad("torch", "samples/torch_resnet.py:loss", "--expand", "relu", "-o",
                 tmp_path / "resnet.dot")
    assert result.exit_code == 2 and "`relu` names 3 groups" in result.stderr
    # gad graph resolves the same way: h1_2 is the statement in the block of lines 13-17
    assert gad("graph", "samples/mlp300.gad", "--expand", "lines 13-17.h1_2", "-f", "dot").stdout \
        == gad("graph", "samples/mlp300.gad", "--expand", "h1_2", "-f", "dot").stdout != \
        gad("graph", "samples/mlp300.gad", "-f", "dot").stdout


def documented_commands() -> dict[str, str]:
    """Every `gad ...` command docs/torch.md shows, in code spans and after `$ ` in blocks,
    with its comment (`# needs torchvision`), but the references to a command or an option
    (`gad torch FILE.py`, `gad graph`, `gad grad --no-check`)."""
    text = DOC.read_text()
    found = re.findall(r"`(gad [^`]+)`", text) + re.findall(r"^\$ (gad .+)$", text, re.M)
    commands = {}
    for shown in found:
        words = shlex.split(shown, comments=True)
        reference = len(words) < 3 or words[2].startswith("-") or any(
            word.startswith(("FILE.py", "[")) or word in {"...", "NAME"} for word in words)
        if not reference or words == ["gad", "ops"]:
            commands.setdefault(" ".join(shlex.quote(word) for word in words),
                                shown.partition(" #")[2].strip())
    return commands


def test_the_documented_commands_are_found():
    commands = documented_commands()
    assert "gad torch samples/torch_resnet18.py --expand layer2.0 -o resnet18-layer2.0.svg" \
        in commands
    assert "gad torch samples/torch_custom.py:wrong 'x=[1,2]' --check" in commands
    assert len(commands) >= 15


def marks(comment: str):
    """Skipped without torchvision or torchviz where its comment says it needs them."""
    needed = [name for name in ("torchvision", "torchviz") if name in comment]
    return [pytest.mark.skipif(importlib.util.find_spec(name) is None,
                               reason=f"{name} is not installed") for name in needed]


# The one check that fails on purpose (docs/torch.md shows its failure), with its status.
EXPECTED_EXIT = {"gad torch samples/torch_custom.py:wrong 'x=[1,2]' --check": 1}
traced: dict = {}


@pytest.mark.parametrize("command", [
    pytest.param(command, marks=marks(comment), id=command)
    for command, comment in documented_commands().items()])
def test_every_command_in_the_torch_document_runs(command, tmp_path, monkeypatch):
    words = shlex.split(command)
    for index, word in enumerate(words[:-1]):
        if word == "-o":
            words[index + 1] = str(tmp_path / words[index + 1])
    # Each file is traced once for all the commands that draw it (resnet18's trace takes
    # seconds); the options, the folding and the drawing of every command still run.
    load = api.load_torch

    def load_once(target, values=()):
        key = (target, tuple(values))
        if key not in traced:
            traced[key] = load(target, values)
        return traced[key]

    if "--check" not in words:
        monkeypatch.setattr(api, "load_torch", load_once)
    result = gad(*words[1:])
    assert result.exit_code == EXPECTED_EXIT.get(command, 0), result.stderr
    for index, word in enumerate(words[:-1]):
        if word == "-o":
            assert Path(words[index + 1]).stat().st_size > 0
