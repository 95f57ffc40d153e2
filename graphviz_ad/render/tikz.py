"""A picture as TikZ for a paper: Graphviz's layout (its JSON) drawn with the picture's texts.

Positions, box sizes, edge splines and styles come from the layout, so the figure is the one
the SVG shows; texts come from the picture, written for TeX: special characters escaped, every
number in math mode (`$-0.05961$`, `$1.5\\times10^{-6}$`). Each colour is defined once, named by
its hex code. `.tex` is a document that pdflatex compiles on its own, the page the size of the
layout; `.tikz` is the bare `tikzpicture` to `\\input` into a paper (it needs `tikz` only: no
TikZ library, no package beyond it).
"""

from __future__ import annotations

import re
from typing import Any

from graphviz_ad.engine.annotated import CONSTANT
from graphviz_ad.errors import RenderError
from graphviz_ad.display import Heatmap
from graphviz_ad.render.dot import (BAR_STEP, BAR_WIDTH, GRAD, HEAT_BORDER, MAP, TITLE, VALUE,
                                    box_lines, cell_size, path_tag)
from graphviz_ad.render.picture import DrawnEdge, DrawnNode, Picture
from graphviz_ad.style import HEAT_LEVELS, LIGHT, Theme, heat_colour, path_colour

POINTS_PER_INCH = 72  # Graphviz's unit, TeX's `bp`
PAD = 0.2 * POINTS_PER_INCH  # the graph's `pad` (render/dot.py GRAPH_STYLE)
CORNER = 5  # a rounded box's corner radius, bp
LEGEND_FRAME = "#c8c8c8"
LEGEND_MARGIN = 5  # bp inside the legend's frame
# The point sizes Graphviz sized the boxes for (render/dot.py), whatever the paper's own size.
TITLE_SIZE, TEXT_SIZE, SMALL_SIZE = (f"\\fontsize{{{points}}}{{{points + 2}}}\\selectfont"
                                     for points in (12, 10, 9))
LINE_BREAK = "\\\\{}"  # the braces: a next line that starts with `[` is not \\'s option
# Characters TeX reads as commands, and what prints each as itself in the default fonts (the
# text symbols \textless, \textdollar and the like would need textcomp's fonts, which a minimal
# TeX draws as bitmaps).
TEX_SPECIALS = {"\\": r"$\backslash$", "{": r"\{", "}": r"\}", "$": r"$\$$", "&": r"\&",
                "#": r"\#", "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"$\sim$", "<": "$<$",
                ">": "$>$", "|": r"$|$"}
# What the pictures' texts write outside ASCII, in math mode; any other such character
# (beyond Latin-1's letters, which LaTeX's utf8 input reads) is shown as `?`.
TEX_SYMBOLS = {"→": r"\to", "×": r"\times", "·": r"\cdot", "−": "-", "…": r"\dots", "±": r"\pm",
               "²": "^2", "³": "^3", "≤": r"\le", "≥": r"\ge", "≈": r"\approx", "∞": r"\infty",
               "∂": r"\partial", "∇": r"\nabla", "√": r"\surd", "⊙": r"\odot"}
# A number standing alone (not the 2 of x2), with its sign where a minus starts it.
_NUMBER = re.compile(r"(?<![\w.…])-?(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?(?![\w.…])"
                     r"|(?<![\w.])(?:-?inf|nan)(?![\w.])")
_TOKEN = re.compile(_NUMBER.pattern + "|(.)", re.DOTALL)


def _number(written: str) -> str:
    """`1.5e-06` as $1.5\\times10^{-6}$, `-inf` as $-\\infty$."""
    if written.lstrip("-") == "inf":
        return "$" + written.replace("inf", r"\infty") + "$"
    if written == "nan":
        return r"\textsc{nan}"
    mantissa, _, exponent = written.lower().partition("e")
    if not exponent:
        return f"${mantissa}$"
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa in ("1", "1.0") else f"${mantissa}\\times{power}$"


def tex(text: str) -> str:
    """Plain text as TeX that prints it: specials escaped, numbers and symbols in math mode."""
    def token(match: re.Match) -> str:
        char = match.group(2)
        if char is None:
            return _number(match.group())
        if char in TEX_SPECIALS:
            return TEX_SPECIALS[char]
        if char in TEX_SYMBOLS:
            return f"${TEX_SYMBOLS[char]}$"
        if char == "\n" or char.isascii() or (char <= "\xff" and char.isalpha()):
            return " " if char == "\n" else char
        return "?"
    return re.sub(r"(?<!\\)\$\$", "", _TOKEN.sub(token, text))  # `$a$$b$` is display math


class Colours:
    """Each colour a figure uses, defined once, named by its hex code (`gadD55E00`)."""

    def __init__(self) -> None:
        self.used: dict[str, str] = {}

    def __call__(self, colour: str) -> str:
        code = colour.lstrip("#").upper()[:6]
        if not re.fullmatch(r"[0-9A-F]{6}", code):
            code = {"white": "FFFFFF", "black": "000000"}.get(colour.lower(), "606060")
        return self.used.setdefault(code, f"gad{code}")

    def definitions(self) -> str:
        return "".join(f"\\definecolor{{{name}}}{{HTML}}{{{code}}}\n"
                       for code, name in self.used.items())


def _point(text: str) -> tuple[float, float]:
    x, y = text.split(",")[:2]
    return float(x), float(y)


def _at(point: tuple[float, float]) -> str:
    return f"({point[0]:.2f},{point[1]:.2f})"


def _spline(pos: str) -> tuple[list[tuple[float, float]], tuple | None, tuple | None]:
    """An edge's `pos`: its Bézier points, and the tips of arrows at its end and start."""
    points, end, start = [], None, None
    for part in pos.split():
        if part.startswith("e,"):
            end = _point(part[2:])
        elif part.startswith("s,"):
            start = _point(part[2:])
        else:
            points.append(_point(part))
    return points, end, start


def _path(points: list[tuple[float, float]], end: tuple | None, start: tuple | None) -> str:
    parts = [_at(start) + " -- "] if start else []
    parts.append(_at(points[0]))
    for index in range(1, len(points) - 2, 3):
        parts.append(f" .. controls {_at(points[index])} and {_at(points[index + 1])} .. "
                     f"{_at(points[index + 2])}")
    if end:
        parts.append(" -- " + _at(end))
    return "".join(parts)


def _line(colour: str, size: str, text: str) -> str:
    return f"{{{size}\\color{{{colour}}}{text}}}"


def _node_text(node: DrawnNode, view: str, colour: Colours, theme: Theme) -> str:
    """The box's lines, those render/dot.py's label has (`box_lines`)."""
    # Each colour named where it is first used: a figure defines them in that order.
    muted = theme.faded if node.faded else theme.muted
    if node.kind == CONSTANT:
        return _line(colour(muted), SMALL_SIZE, tex(node.title))
    text = colour(theme.faded if node.faded else theme.ink)
    grad = colour(theme.faded if node.faded else theme.grad)
    if node.copy_of:
        return _line(text, TEXT_SIZE, f"\\textbf{{{tex(node.title)}}}")
    lines = []
    for role, content in box_lines(node, view):
        if role == TITLE:
            named, shown, parameters = content
            title = f"\\textbf{{{tex(shown)}}}"
            if named:
                title = f"\\textit{{{tex(named)}}} = {title}"
            if parameters:
                title += " $\\cdot$ " + tex(parameters)
            lines.append(_line(text, TITLE_SIZE, title))
        elif role == MAP:
            lines.append(_heatmap(content, colour))
        elif role == GRAD:
            lines.append(_line(grad, TEXT_SIZE, "grad " + tex(content)))
        else:
            lines.append(_line(text if role == VALUE else colour(muted),
                               TEXT_SIZE if role == VALUE else SMALL_SIZE, tex(content)))
    return LINE_BREAK.join(lines)


def _heatmap(heatmap: Heatmap, colour: Colours) -> str:
    """A heatmap as render/dot.py's table draws it, in TeX rules: rows of coloured squares in a
    grey frame; a vector as bars above or below a grey zero line."""
    def rule(fill: str, width: float, height: float, raised: float = 0.0) -> str:
        return (f"\\textcolor{{{colour(fill)}}}"
                f"{{\\rule[{raised:g}bp]{{{width:g}bp}}{{{height:g}bp}}}}")

    def bar(level: int) -> str:
        if level == 0:
            return f"\\hspace{{{BAR_WIDTH}bp}}"
        side = HEAT_LEVELS if level > 0 else -HEAT_LEVELS
        return rule(heat_colour(side), BAR_WIDTH, abs(level) * BAR_STEP,
                    min(level, 0) * BAR_STEP)

    if heatmap.bars:
        zero = rule(HEAT_BORDER, BAR_WIDTH, 0.6, -0.3)
        return "\\hbox{" + "".join(f"\\rlap{{{zero}}}{bar(level)}"
                                    for level in heatmap.cells[0]) + "}"
    size = cell_size(heatmap)
    rows = "".join("\\hbox{" + "".join(rule(heat_colour(level), size, size) for level in row)
                   + "}" for row in heatmap.cells)
    return (f"{{\\setlength{{\\fboxsep}}{{0pt}}\\fcolorbox{{{colour(HEAT_BORDER)}}}{{white}}"
            f"{{\\vbox{{\\offinterlineskip{rows}}}}}}}")


def _node(node: DrawnNode, laid: dict[str, Any], view: str, colour: Colours,
          theme: Theme) -> str:
    style = laid.get("style", "")
    width = float(laid["width"]) * POINTS_PER_INCH
    height = float(laid["height"]) * POINTS_PER_INCH
    options = [f"draw={colour(laid.get('color', '#000000'))}",
               f"line width={float(laid.get('penwidth', 1)):g}bp",
               f"minimum width={width:.1f}bp", f"minimum height={height:.1f}bp"]
    if "filled" in style:
        options.append(f"fill={colour(laid.get('fillcolor', '#ffffff'))}")
    if laid.get("shape") == "ellipse":
        options.append(f"rounded corners={height / 2:.1f}bp")
    elif "rounded" in style:
        options.append(f"rounded corners={CORNER}bp")
    if "dashed" in style:
        options.append("dashed")
    if laid.get("peripheries") == "2":
        options.append("double, double distance=1.5bp")
    return (f"\\node[{', '.join(options)}] ({node.id}) at {_at(_point(laid['pos']))} "
            f"{{{_node_text(node, view, colour, theme)}}};\n")


def _edge(edge: DrawnEdge, laid: dict[str, Any], colour: Colours, theme: Theme) -> str:
    """Its spline, in its colours side by side as stripes where it is on several paths, its
    arrow (a bar where the edge is cut), and its label with the paths' numbers."""
    points, end, start = _spline(laid["pos"])
    tip = "|" if laid.get("arrowhead") == "tee" else "stealth"
    arrows = (f"{tip}-" if start and not end else f"-{tip}") if start or end else "-"
    style = laid.get("style", "")
    dash = "dashed" if "dashed" in style else "dotted" if "dotted" in style else ""
    colours = laid.get("color", "#606060").split(":")
    width = float(laid.get("penwidth", 1))
    path = _path(points, end, start)
    drawn = []
    for index, name in enumerate(colours):
        options = [arrows if index == 0 else "-", f"draw={colour(name)}",
                   f"line width={width:g}bp"]
        if dash:
            options.append(dash)
        if index:  # the next path's colour in stripes over the first
            stripe = 6
            options.append(f"dash pattern=on {stripe}bp off {stripe * (len(colours) - 1)}bp, "
                           f"dash phase={stripe * (len(colours) - index)}bp")
        drawn.append(f"\\draw[{', '.join(options)}] {path};\n")
    label_at = laid.get("lp") or laid.get("xlp")
    if label_at and (edge.label or edge.paths):
        text = " ".join(filter(None, (tex(edge.label), tex(path_tag(edge.paths))
                                      if edge.paths else "")))
        fill = colour(laid.get("fontcolor", theme.ink))
        drawn.append(f"\\node[text={fill}, font={TEXT_SIZE}, inner sep=1bp] at "
                     f"{_at(_point(label_at))} {{{text}}};\n")
    return "".join(drawn)


def _legend(picture: Picture, laid: dict[str, Any], colour: Colours, theme: Theme) -> str:
    """The paths and their products, as the legend of the other formats, in the box Graphviz
    laid out for it: the products to its right edge."""
    rows = [f"\\multicolumn{{4}}{{@{{}}l}}{{\\textbf{{paths from {tex(picture.wrt)} to "
            f"{tex(picture.output_name)}}}}}" + LINE_BREAK]
    for row in picture.legend:
        coloured = row.colour_index is not None
        swatch = colour(path_colour(row.colour_index, theme) if coloured else theme.rest)
        number = tex(path_tag((row.colour_index,))) if coloured else ""
        rows.append(f"{number} & \\textcolor{{{swatch}}}{{\\rule{{8bp}}{{8bp}}}} & "
                    f"{tex(row.text)} & {tex(row.product)}" + LINE_BREAK)
    rows.append(f"& & \\multicolumn{{2}}{{l@{{}}}}{{\\textbf{{{tex(picture.legend_total)}}}}}")
    width = float(laid["width"]) * POINTS_PER_INCH
    height = float(laid["height"]) * POINTS_PER_INCH
    inside = width - 2 * LEGEND_MARGIN
    # Rows spaced to fill the box's height, as Graphviz spaced them (a line is 12 bp).
    stretch = min(2.0, max(1.2, (height - 2 * LEGEND_MARGIN) / (12 * (len(rows) + 0.5))))
    table = (f"\\def\\arraystretch{{{stretch:.2f}}}\\begin{{tabular*}}{{{inside:.1f}bp}}"
             "{@{}r@{~}c@{~}l@{\\extracolsep{\\fill}}r@{}}\n" + "\n".join(rows)
             + "\n\\end{tabular*}")
    return (f"\\node[draw={colour(LEGEND_FRAME)}, inner sep={LEGEND_MARGIN}bp, font={TEXT_SIZE}, "
            f"minimum width={width:.1f}bp, minimum height={height:.1f}bp] (legend) at "
            f"{_at(_point(laid['pos']))} {{{table}}};\n")


def _clusters(layout: dict[str, Any], colour: Colours, theme: Theme) -> str:
    drawn = []
    for graph in layout.get("objects", ())[:layout.get("_subgraph_cnt", 0)]:
        if not graph.get("name", "").startswith("cluster") or "bb" not in graph:
            continue
        left, bottom, right, top = (float(part) for part in graph["bb"].split(","))
        drawn.append(f"\\draw[{colour(graph.get('color', theme.muted))}, dashed, rounded corners="
                     f"{CORNER}bp] {_at((left, bottom))} rectangle {_at((right, top))};\n")
        if graph.get("lp"):
            drawn.append(f"\\node[text={colour(graph.get('fontcolor', theme.muted))}, "
                         f"font={SMALL_SIZE}, anchor=west] at "
                         f"{_at((left + 4, _point(graph['lp'])[1]))} {{{tex(graph['label'])}}};\n")
    return "".join(drawn)


def _caption(layout: dict[str, Any], colour: Colours, theme: Theme) -> str:
    label, at = layout.get("label", ""), layout.get("lp")
    if not label or not at:
        return ""
    lines = [tex(line.replace("\\\\", "\\")) for line in re.split(r"\\n|\n", label)
             if line.strip()]
    return (f"\\node[text={colour(layout.get('fontcolor', theme.muted))}, font={TEXT_SIZE}, "
            f"align=center] at {_at(_point(at))} {{{LINE_BREAK.join(lines)}}};\n")


def tikz_picture(picture: Picture, layout: dict[str, Any], view: str,
                 theme: Theme = LIGHT) -> str:
    """The bare `tikzpicture` of `picture` as Graphviz laid it out (`layout`: `-Tjson`), in the
    texts' colours of `theme` (the boxes' and lines' come with the layout)."""
    try:
        return _drawn(picture, layout, view, theme)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise RenderError("the renderer's layout lacks a box, an edge or a position the picture "
                          "needs") from None


def _drawn(picture: Picture, layout: dict[str, Any], view: str, theme: Theme) -> str:
    subgraphs = layout.get("_subgraph_cnt", 0)
    laid_nodes = {item["name"]: item for item in layout["objects"][subgraphs:]}
    by_gvid = {item["_gvid"]: item["name"] for item in layout["objects"][subgraphs:]}
    laid_edges = [item for item in layout.get("edges", ()) if "invis" not in item.get("style", "")]
    left, bottom, right, top = (float(part) for part in layout["bb"].split(","))
    # Graphviz lists edges by tail; two between the same nodes (x*x) in the order drawn.
    between: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for laid in laid_edges:
        ends = (by_gvid.get(laid.get("tail")), by_gvid.get(laid.get("head")))
        between.setdefault(ends, []).append(laid)
    colour = Colours()
    bounds = f"{_at((left - PAD, bottom - PAD))} rectangle {_at((right + PAD, top + PAD))}"
    # A dark figure on its own paper; a light one on the page's.
    body = [f"\\fill[{colour(theme.paper)}] {bounds};\n" if theme != LIGHT else "",
            _clusters(layout, colour, theme)]
    for edge in picture.edges:
        body.append(_edge(edge, between[edge.tail, edge.head].pop(0), colour, theme))
    body.extend(_node(node, laid_nodes[node.id], view, colour, theme) for node in picture.nodes)
    if picture.wrt is not None and "legend" in laid_nodes:
        body.append(_legend(picture, laid_nodes["legend"], colour, theme))
    body.append(_caption(layout, colour, theme))
    return ("\\begin{tikzpicture}[x=1bp, y=1bp, inner sep=2bp, align=center]\n"
            + colour.definitions() + f"\\useasboundingbox {bounds};\n" + "".join(body)
            + "\\end{tikzpicture}\n")


def tikz_file(picture: Picture, layout: dict[str, Any], view: str, standalone: bool,
              theme: Theme = LIGHT) -> str:
    """`.tex`: a document of one page the size of the picture; `.tikz`: the picture alone."""
    figure = tikz_picture(picture, layout, view, theme)
    title = f"% The computational graph of {picture.output_name}, drawn by graphviz-ad.\n"
    if not standalone:
        return (title + "% In a document that loads TikZ (\\usepackage{tikz}): "
                "\\input{FILE.tikz}; to fit the column,\n"
                "% \\resizebox{\\linewidth}{!}{\\input{FILE.tikz}}. pdflatex, xelatex and "
                "lualatex all read it.\n" + figure)
    _, _, right, top = (float(part) for part in layout["bb"].split(","))
    left, bottom = (float(part) for part in layout["bb"].split(",")[:2])
    width, height = right - left + 2 * PAD, top - bottom + 2 * PAD
    return (title + "% Compile it with pdflatex; gad graph ... -o FILE.tikz writes the bare "
            "tikzpicture to \\input into a paper.\n"
            "\\documentclass{article}\n"
            f"\\usepackage[paperwidth={width:.2f}bp, paperheight={height:.2f}bp, margin=0pt]"
            "{geometry}\n\\usepackage{tikz}\n\\pagestyle{empty}\n\\begin{document}\n"
            "\\noindent\n" + figure + "\\end{document}\n")
