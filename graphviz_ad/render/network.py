"""The network view: a program of dense layers drawn as neurons in columns, each weight a line.

`h = tanh(W1 @ x + b1); y = W2 @ h + b2` is recognised from the picture at full detail (its
nodes are the annotated graph's, one to one): a chain of layers, each a product `W @ a` of an
input matrix and the previous layer's vector (or an importer's `linear(a, W, b)`, torch's
nn.Linear, over a batch of vectors), an optional bias added, and an optional activation (an
operation of the vector alone that keeps its shape: tanh, relu, softmax).
Weight W[i, j] is the line from neuron j of one column to neuron i of the next, coloured by its
sign (blue negative, vermillion positive: two colours of the path palette that colour-blind
readers tell apart), as wide and as dark as its size; its value and its gradient are the
line's tooltip, and --edge-labels prints them on it (the value, by default, up to
LABELLED_LINES lines). Each neuron shows its value, and its bias below it. Anything else, or
more than MAX_NEURONS neurons, is refused with a hint to draw the graph instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import graphviz
import numpy as np

from graphviz_ad import display
from graphviz_ad.engine.annotated import CONSTANT, DATA, GROUP, INPUT, OUTPUT
from graphviz_ad.errors import UsageError
from graphviz_ad.options import EDGE_LABELS
from graphviz_ad.render.picture import DrawnNode, Picture, _caption
from graphviz_ad.style import LIGHT, NEGATIVE_COLOUR, POSITIVE_COLOUR, Theme
from graphviz_ad.text import printable

VALUE_LABELS, FORMULA_LABELS, BOTH_LABELS = EDGE_LABELS
# About what a column of circles shows readably on a screen; past it, the graph view is clearer.
MAX_NEURONS = 100
NEGATIVE, POSITIVE = NEGATIVE_COLOUR, POSITIVE_COLOUR  # blue and vermillion
MIN_WIDTH, MAX_WIDTH = 0.6, 4.0
# Past this many lines their values are left off unless asked for (--edge-labels formula or
# both): colour and width show them, and tooltips give them.
LABELLED_LINES = 40
DIGITS = 3
FONT = "Helvetica"
# How the picture titles a product, a sum, and an importer's dense layer (torch's
# linear(a, W, b) = a @ W.T + b): the slot of each layer's incoming vector.
MATMUL, ADD, LINEAR = "@", "+", "linear"
INCOMING = {MATMUL: 1, LINEAR: 0}
WEIGHTS = {MATMUL: 0, LINEAR: 1}
GRAPH_VIEW_HINT = "draw it as a graph: --view forward"
LINE_STYLE = {"arrowhead": "none", "fontname": FONT, "fontsize": "8"}


def graph_style(theme: Theme) -> dict[str, str]:
    """Lines straight, as in the document's figure; `ordering` keeps each column's neurons in
    order."""
    return {"bgcolor": theme.paper, "fontname": FONT, "fontsize": "10", "fontcolor": theme.muted,
            "labelloc": "b", "nodesep": "0.25", "ranksep": "1.8", "splines": "line",
            "ordering": "out", "pad": "0.2"}


def neuron_style(theme: Theme) -> dict[str, str]:
    return {"shape": "circle", "style": "filled", "fillcolor": theme.neuron_fill,
            "color": theme.line, "fontname": FONT, "fontsize": "10", "fontcolor": theme.ink,
            "width": "0.62", "fixedsize": "true", "penwidth": "1.2"}


AUTO, LEFT_TO_RIGHT = "auto", "LR"  # the layers in columns, as the document's figure has them


@dataclass(frozen=True)
class Parameter:
    """A weight matrix or a bias vector: an input of the program, and its gradient."""

    name: str
    value: np.ndarray
    grad: np.ndarray | None


@dataclass(frozen=True)
class Layer:
    """One column of neurons: their values (after the activation), what the program called
    them, and how they were computed from the column before (None for the input layer)."""

    name: str
    values: np.ndarray
    grads: np.ndarray | None  # d output / d neuron; None where no gradient is computed
    weights: Parameter | None = None
    bias: Parameter | None = None
    activation: str = ""

    @property
    def width(self) -> int:
        return self.values.shape[-1]

    @property
    def samples(self) -> int:
        """How many vectors a batch holds (a row each), 1 for a vector."""
        return self.values.shape[0] if self.values.ndim == 2 else 1


@dataclass(frozen=True)
class Network:
    layers: tuple[Layer, ...]
    output_name: str  # the picture's output, whose gradient the grads are

    @property
    def neurons(self) -> int:
        return sum(layer.width for layer in self.layers)


class _Reader:
    """The picture's nodes by id, and each node's arguments and users along its edges."""

    def __init__(self, picture: Picture):
        self.nodes = {node.id: node for node in picture.nodes}
        self.arguments: dict[str, dict[int, str]] = {}
        self.users: dict[str, list[str]] = {}
        for edge in picture.edges:
            self.arguments.setdefault(edge.head, {})[edge.slot] = edge.tail
            self.users.setdefault(edge.tail, []).append(edge.head)

    def only_user(self, node: DrawnNode) -> DrawnNode | None:
        users = self.users.get(node.id, [])
        return self.nodes[users[0]] if len(users) == 1 else None

    def argument(self, node: DrawnNode, slot: int) -> DrawnNode:
        return self.nodes[self.arguments[node.id][slot]]

    def parameter(self, node: DrawnNode, ndim: int) -> Parameter | None:
        """`node` as a weight matrix (ndim 2) or a bias (ndim 1): an input of that shape."""
        if node.kind != INPUT or np.ndim(node.raw_value) != ndim:
            return None
        grad = None if node.raw_adjoint is None else np.asarray(node.raw_adjoint, float)
        return Parameter(node.title, np.asarray(node.raw_value, float), grad)


def refuse(reason: str) -> UsageError:
    return UsageError(f"the network view cannot draw this graph: {reason}", None,
                      "it draws dense layers, h = tanh(W1 @ x + b1); y = W2 @ h + b2 (W an input "
                      f"matrix, x a vector); {GRAPH_VIEW_HINT}")


def network_of(picture: Picture) -> Network:
    """The layers of a picture drawn at full detail, from its input vector to the last layer
    (whatever follows, a loss, is what the grads are of); refused when it is not such a chain
    or has more than MAX_NEURONS neurons."""
    if picture.wrt is not None:
        raise UsageError("the network view shows every weight's gradient, and colours no paths",
                         None, "leave out --wrt, or draw the paths as a graph: --view forward")
    if any(node.kind == GROUP for node in picture.nodes):
        raise UsageError("the network view needs every node, and this picture folded groups",
                         None, "add --expand-all, or " + GRAPH_VIEW_HINT)
    reader = _Reader(picture)
    products = [node for node in picture.nodes if node.title in INCOMING]
    firsts = [node for node in products if _layer_input(reader, node) is not None]
    if not firsts:
        raise refuse("it has no product W @ x of an input matrix and a vector that is a leaf")
    if len(firsts) > 1:
        raise refuse(f"it has {len(firsts)} chains of layers that start from a leaf vector")
    start = _layer_input(reader, firsts[0])
    layers = [_neurons(start, start.title if start.kind != CONSTANT or firsts[0].title == LINEAR
                       else "input", None)]
    product: DrawnNode | None = firsts[0]
    seen = {product.id}
    while product is not None:
        layer, end = _layer(reader, product, layers[-1].width)
        layers.append(layer)
        users = [reader.nodes[user] for user in reader.users.get(end.id, [])]
        if len(users) > 1 and any(user.title in INCOMING for user in users):
            raise refuse(f"`{end.tooltip}` feeds the next layer and {len(users) - 1} other "
                         "operation(s) (a skip connection?)")
        product = users[0] if len(users) == 1 and users[0].title in INCOMING and \
            reader.arguments[users[0].id].get(INCOMING[users[0].title]) == end.id else None
        if product is not None:
            seen.add(product.id)
    stray = [node for node in products if node.id not in seen]
    if stray:
        raise refuse(f"`{stray[0].tooltip}` is a product outside the chain of layers")
    network = Network(tuple(layers), picture.output_name)
    if network.neurons > MAX_NEURONS:
        raise UsageError(f"the network has {network.neurons} neurons, more than the network view "
                         f"draws readably ({MAX_NEURONS})", None, GRAPH_VIEW_HINT)
    return network


def _layer_input(reader: _Reader, product: DrawnNode) -> DrawnNode | None:
    """The vector a first layer starts from: a leaf, multiplied by an input matrix (a batch of
    vectors, one a row, for an importer's linear)."""
    arguments = reader.arguments.get(product.id, {})
    incoming, weights = INCOMING[product.title], WEIGHTS[product.title]
    if incoming not in arguments or weights not in arguments:
        return None
    vector = reader.nodes[arguments[incoming]]
    ranks = (1, 2) if product.title == LINEAR else (1,)
    if vector.kind not in (INPUT, DATA, CONSTANT) or np.ndim(vector.raw_value) not in ranks:
        return None
    return vector if reader.parameter(reader.nodes[arguments[weights]], 2) is not None else None


def _neurons(node: DrawnNode, name: str, weights: Parameter | None,
             bias: Parameter | None = None, activation: str = "") -> Layer:
    grads = None if node.raw_adjoint is None else np.asarray(node.raw_adjoint, float)
    return Layer(name, np.asarray(node.raw_value, float), grads, weights, bias, activation)


def _layer(reader: _Reader, product: DrawnNode, width: int) -> tuple[Layer, DrawnNode]:
    """The layer that `product` (W @ a, or linear(a, W, b)) begins, and the node it ends in."""
    arguments = reader.arguments[product.id]
    weights = reader.parameter(reader.nodes[arguments[WEIGHTS[product.title]]], 2)
    incoming = reader.nodes[arguments[INCOMING[product.title]]]
    if weights is None or weights.value.shape[1] != width \
            or np.ndim(product.raw_value) != np.ndim(incoming.raw_value):
        raise refuse(f"`{product.tooltip}` is not an input matrix times a vector of {width}")
    end, bias, activation = product, None, ""
    following = reader.only_user(end)
    if product.title == LINEAR:
        bias = reader.parameter(reader.nodes[arguments[2]], 1) if 2 in arguments else None
    elif following is not None and following.title == ADD and following.kind != OUTPUT:
        other = [reader.nodes[tail] for tail in reader.arguments[following.id].values()
                 if tail != end.id]
        bias = reader.parameter(other[0], 1) if len(other) == 1 else None
        if bias is not None and bias.value.shape == product.raw_value.shape:
            end, following = following, reader.only_user(following)
        else:
            bias = None
    if following is not None and _is_activation(reader, following, end):
        end, activation = following, following.title
    # The program's name for the layer's vector, else the module it ran in (torch's `model.1`).
    name = end.names[-1] if end.names else ".".join(end.group)
    return _neurons(end, name, weights, bias, activation), end


def _is_activation(reader: _Reader, node: DrawnNode, argument: DrawnNode) -> bool:
    """An operation of the layer's vector alone that keeps its shape (tanh, relu, softmax, a
    compact chain of them): its results are the layer's neurons."""
    return (list(reader.arguments.get(node.id, {}).values()) == [argument.id]
            and node.kind != OUTPUT
            and np.shape(node.raw_value) == np.shape(argument.raw_value))


def network_json(picture: Picture) -> dict[str, Any]:
    """The network view as JSON: each layer's neurons (values and grads), and the weights and
    biases that compute it from the layer before, with their grads, numbers exact."""
    network = network_of(picture)

    def parameter(found: Parameter | None) -> dict[str, Any] | None:
        return None if found is None else {"name": found.name,
                                           "value": display.jsonable(found.value),
                                           "grad": display.jsonable(found.grad)}

    return {"view": "network", "output": network.output_name, "layers": [
        {"name": layer.name, "width": layer.width, "activation": layer.activation,
         "values": display.jsonable(layer.values), "grads": display.jsonable(layer.grads),
         "weights": parameter(layer.weights), "bias": parameter(layer.bias)}
        for layer in network.layers]}


def asked_labels(picture: Picture) -> str:
    """The --edge-labels the picture was built with, read back from its caption: a Picture
    keeps its labels' texts, not the choice."""
    return next((mode for mode in EDGE_LABELS
                 if picture.caption.startswith(_caption(picture.output_name, mode))),
                VALUE_LABELS)


def number(value: Any) -> str:
    return display.summary(np.float64(value), DIGITS)


def weight_colour(share: float, theme: Theme = LIGHT) -> str:
    """A weight's colour, from the theme's grey at 0 (light on white, dark on dark paper) to
    blue (negative) or vermillion (positive) at the largest size, `share` = w / max|w| in
    [-1, 1]."""
    end = POSITIVE if share >= 0 else NEGATIVE
    zero = theme.weight_zero
    mix = [round(int(zero[index:index + 2], 16) * (1 - abs(share))
                 + int(end[index:index + 2], 16) * abs(share)) for index in (1, 3, 5)]
    return "#" + "".join(f"{channel:02x}" for channel in mix)


def _html(text: str) -> str:
    return escape(printable(text), quote=True)


def _tooltip(text: str) -> str:
    """Graphviz unescapes a tooltip twice, so backslashes are doubled twice."""
    return graphviz.escape(graphviz.escape(printable(text)))


def layer_title(layer: Layer, index: int, count: int, element_of: str = "∈") -> str:
    """`Input layer ∈ ℝ²`, `Hidden layer 1 ∈ ℝ³`, `Output layer ∈ ℝ¹`, as the document's
    figure titles its columns (`element_of`: `in` where the renderer's font has no ∈)."""
    size = "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(digit)] for digit in str(layer.width))
    kind = ("Input layer" if index == 0 else "Output layer" if index == count - 1
            else "Hidden layer" if count == 3 else f"Hidden layer {index}")
    return f"{kind} {element_of} ℝ{size}"


def _neuron_label(layer: Layer, row: int, theme: Theme) -> str:
    """A neuron's value (over a batch, its mean), and its bias below it."""
    rows = [f'<TR><TD><B>{_html(number(np.mean(layer.values[..., row])))}</B></TD></TR>']
    if layer.bias is not None:
        rows.append(f'<TR><TD><FONT POINT-SIZE="8" COLOR="{theme.muted}">b '
                    f'{_html(number(layer.bias.value[row]))}</FONT></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
            + "".join(rows) + "</TABLE>>")


def _each(values: np.ndarray) -> str:
    """A neuron's number, or over a batch each sample's."""
    return display.summary(values, DIGITS) if np.ndim(values) else number(values)


def _neuron_tooltip(layer: Layer, row: int, output: str) -> str:
    name = f"{layer.name or 'neuron'}[{row}]"
    value = layer.values[..., row]
    batch = f" (mean {number(np.mean(value))} of {layer.samples} samples)" if value.ndim else ""
    parts = [f"{name} = {_each(value)}{batch}"
             + (f", {layer.activation} of the weighted sum" if layer.activation else "")]
    if layer.grads is not None:
        parts.append(f"grad d{output}/d{name} = {_each(layer.grads[..., row])}")
    if layer.bias is not None:
        bias = f"{layer.bias.name}[{row}]"
        parts.append(f"bias {bias} = {number(layer.bias.value[row])}"
                     + (f", grad d{output}/d{bias} = {number(layer.bias.grad[row])}"
                        if layer.bias.grad is not None else ""))
    return "\n".join(parts)


def _line(weights: Parameter, row: int, column: int, largest: float, labels: str,
          output: str, theme: Theme) -> dict[str, str]:
    value = weights.value[row, column]
    share = value / largest if largest else 0.0
    name = f"{weights.name}[{row}, {column}]"
    grad = "" if weights.grad is None else number(weights.grad[row, column])
    tooltip = f"{name} = {number(value)}" + (f"\ngrad d{output}/d{name} = {grad}" if grad else "")
    label = {"": "", VALUE_LABELS: number(value), FORMULA_LABELS: name,
             BOTH_LABELS: number(value) + (f"\ngrad {grad}" if grad else "")}[labels]
    width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * abs(share)
    line = {"color": weight_colour(share, theme), "penwidth": f"{width:.2f}",
            "tooltip": _tooltip(tooltip)}
    if not labels:
        return line
    text = "<BR/>".join(_html(part) for part in label.split("\n"))
    # On the line near its tail, boxed in the paper's colour, further along for each next row,
    # so that the labels of the lines leaving one neuron stand apart.
    return {**line, "labeltooltip": _tooltip(tooltip),
            "taillabel": f'<<TABLE BORDER="0" CELLPADDING="1" BGCOLOR="{theme.paper}"><TR>'
                         f'<TD>{text}</TD></TR></TABLE>>',
            "labelangle": "0", "labeldistance": f"{3 + 2.2 * (row % 3):.1f}"}


def network_digraph(picture: Picture, rankdir: str = AUTO,
                    system_dot: bool = True, theme: Theme = LIGHT) -> graphviz.Digraph:
    """The network of `picture` (refused if it has none) as a graphviz.Digraph: a column of
    neurons `l{layer}_{row}` under its title `title_{layer}` a layer, a line per weight; columns
    left to right unless `rankdir` says otherwise. Not for the `system_dot`, the titles say `in`
    for ∈, which graphviz-pure's font lacks."""
    network = network_of(picture)
    labels, output = asked_labels(picture), network.output_name
    lines = sum(layer.weights.value.size for layer in network.layers[1:])
    labelled = labels != VALUE_LABELS or lines <= LABELLED_LINES
    digraph = graphviz.Digraph("network", graph_attr={
        **graph_style(theme), "rankdir": LEFT_TO_RIGHT if rankdir == AUTO else rankdir,
        "label": graphviz.escape(_legend(network, labels if labelled else "", theme))},
        node_attr=neuron_style(theme), edge_attr={**LINE_STYLE, "fontcolor": theme.ink})
    count = len(network.layers)
    for index, layer in enumerate(network.layers):
        kind = {0: {"fillcolor": theme.input_fill, "color": theme.input_line},
                count - 1: {"fillcolor": theme.output_fill, "color": theme.output_line}
                }.get(index, {})
        with digraph.subgraph(name=f"layer_{index}") as column:
            column.attr(rank="same")
            title = layer_title(layer, index, count, "∈" if system_dot else "in") \
                + (f" · {layer.activation}" if layer.activation else "")
            column.node(f"title_{index}", f"<<B>{_html(title)}</B>>", shape="plaintext",
                        style="", fontsize="11", fixedsize="false", tooltip=_tooltip(title))
            # The title on top, then neuron 0, 1, 2, ...: as the rows of W and the elements of
            # the vector; invisible edges keep the order.
            above = f"title_{index}"
            for row in range(layer.width):
                neuron = f"l{index}_{row}"
                column.node(neuron, _neuron_label(layer, row, theme),
                            tooltip=_tooltip(_neuron_tooltip(layer, row, output)), **kind)
                column.edge(above, neuron, style="invis")
                above = neuron
    for index, layer in enumerate(network.layers[1:], start=1):
        weights = layer.weights
        largest = float(np.max(np.abs(weights.value)))
        rows, columns = weights.value.shape
        for row in range(rows):
            for column in range(columns):
                digraph.edge(f"l{index - 1}_{column}", f"l{index}_{row}",
                             **_line(weights, row, column, largest, labels if labelled else "",
                                     output, theme))
    return digraph


def _legend(network: Network, labels: str, theme: Theme) -> str:
    on_line = {"": "", VALUE_LABELS: ", its value on it", FORMULA_LABELS: ", its name on it",
               BOTH_LABELS: ", its value and grad on it"}[labels]
    samples = network.layers[0].samples
    value = f"its mean over the batch's {samples} samples" if network.layers[0].values.ndim == 2 \
        else "its value"
    return (f"line: weight W[i, j] from neuron j to neuron i{on_line}; blue negative, "
            f"vermillion positive, wider and {'darker' if theme == LIGHT else 'brighter'} the "
            f"larger\nneuron: {value}, and its bias "
            f"b · grad = d{network.output_name}/d(weight or neuron), in each tooltip (SVG)")
