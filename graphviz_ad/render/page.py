"""The HTML page: the SVG our renderer laid out, the picture and its sweeps as JSON, script inline.

One self-contained file that opens from disk: no network (its Content-Security-Policy forbids
every fetch, and runs only the one script whose hash it names), no build step. User text (names,
source, an importer's labels) reaches the page only as escaped SVG text or inside the JSON block,
which the script puts into the page with textContent, never as markup.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from html import escape
from importlib import resources
from typing import Any

import numpy as np

from graphviz_ad import display, records
from graphviz_ad.engine.annotated import AnnotatedGraph
from graphviz_ad.engine.paths import listing_work, most_listed, path_count, summarize
from graphviz_ad.render.export import picture_json
from graphviz_ad.render.picture import OUTPUT, Picture
from graphviz_ad.style import DARK, LIGHT, PATH_COLOURS, counterparts, label_counterparts

# Arrays with more numbers than this are embedded as their shape, least and greatest.
PAGE_ELEMENTS = 64
# A path's product over arrays is pulled back through every edge on it (through torch's backward
# functions, for a traced model: about 100 ns an element, 1 ms a call). A page lists the paths
# of the inputs whose listings fit this much work together (engine/paths.listing_work), --wrt's
# first, then the cheapest: about 2 s.
PAGE_PATH_ELEMENTS = 16_000_000
# A path row's array product is its shape, range, norm and this many of its first numbers.
FIRST_NUMBERS = 3
# A page carries, for at most this many folded groups, the picture with that group expanded,
# and stops adding them once their SVG passes this many bytes (the page stays under 2 MB).
PAGE_EXPANSIONS = 8
PAGE_EXPANSION_BYTES = 800_000
# Inside <script type="application/json">, `</script>` or `<!--` would end or confuse the block,
# and U+2028/2029 end lines in older JavaScript: JSON's \\u escapes keep them text.
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                "\u2029": "\\u2029"}
SVG_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
SVG_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
# The colours the renderer wrote, and the element they are on: `<text ... fill="#0072b2"`.
SVG_ELEMENT = re.compile(r"<(\w+)([^>]*)>")
COLOUR_ATTRIBUTE = re.compile(r'\b(fill|stroke)="(#[0-9a-fA-F]{6})"')


# A comment at the end of a line of script, after a statement or a bracket: the sources have no
# string across lines and no `//` in a string after one of those (tests/test_page.py runs it).
TRAILING_COMMENT = re.compile(r"(?<=[;{},)])[ \t]+//[^\n]*")


@cache
def _asset(name: str) -> str:
    """The page's markup as written; its style minified (rcssmin); its script without
    indentation, blank lines and comments (some 15 KB of 66; no JavaScript minifier in Python
    keeps the script's nested template strings intact), so that the worked example's page stays
    under 100 KB inline in a notebook."""
    text = resources.files("graphviz_ad.render").joinpath("assets", name).read_text("utf-8")
    if name.endswith(".css"):
        import rcssmin

        return rcssmin.cssmin(text) + "\n"
    if not name.endswith(".js"):
        return text
    kept, in_comment = [], False
    for line in (line.strip() for line in TRAILING_COMMENT.sub("", text).splitlines()):
        if in_comment or line.startswith("/*") and ("*/" not in line or line.endswith("*/")):
            in_comment = not line.endswith("*/")
        elif line and not line.startswith("//"):
            kept.append(line + "\n")
    return "".join(kept)


def dark_drawing_style(svgs: list[str]) -> str:
    """The pictures, drawn in the light theme, shown in the dark one: each colour the renderer
    wrote in `svgs` replaced by its role's dark counterpart, and a path's label text by its
    text on dark paper (style.py); the lines keep the path colours."""
    roles, labels = counterparts(LIGHT, DARK), label_counterparts(LIGHT, DARK)
    used = sorted({(element, part, colour) for svg in svgs
                   for element, attributes in SVG_ELEMENT.findall(svg)
                   for part, colour in COLOUR_ATTRIBUTE.findall(attributes)})
    rules = {}
    for element, part, colour in used:
        dark = roles.get(colour.lower()) or (labels.get(colour.lower()) if element == "text"
                                             else None)
        if dark is not None and dark != colour.lower():
            selector = "text" if colour.lower() not in roles else ""
            rules[f'.dark svg {selector}[{part}="{colour}"]'] = f"{{{part}:{dark}}}"
    return "".join(selector + rule for selector, rule in rules.items()) + "\n"


def script_json(data: Any) -> str:
    """`data` as JSON that cannot end the script block it sits in."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda match: JSON_ESCAPES[match.group()], text)


def inline_svg(svg: str) -> str:
    """The renderer's SVG without its XML prolog, doctype and comments, to sit in HTML."""
    return SVG_COMMENT.sub("", SVG_PROLOG.sub("", svg, count=1))


def drawing_json(picture: Picture, expands: str | None) -> dict[str, Any]:
    """One drawing of the page: the picture as `--format json` gives it, each box with its
    graph nodes and, for a folded group, what it folds and the name that opens it."""
    data = picture_json(picture, PAGE_ELEMENTS)
    for record, node in zip(data["nodes"], picture.nodes):
        record.update(folded=node.folded, opens=node.opens, instances=[
            {"name": name, "value": value, "adjoint": adjoint}
            for name, value, adjoint in node.instances])
    data["expands"] = expands
    return data


def array_summary(item: Any) -> Any:
    """What a path row shows of a value: a number, or a small array as its list; a larger one
    as its shape, least, greatest, norm and first numbers, never element by element."""
    if np.size(item) <= FIRST_NUMBERS + 1:
        return display.jsonable(item)
    array = np.asarray(item)
    with np.errstate(all="ignore"):
        norm = np.linalg.norm(array.ravel())
    return {"shape": list(array.shape), "min": display.jsonable(array.min()),
            "max": display.jsonable(array.max()), "norm": display.jsonable(norm),
            "first": display.jsonable(array.ravel()[:FIRST_NUMBERS])}


def path_rows(graph: AnnotatedGraph, names: list[str], wrt: str | None,
              top: int) -> dict[str, dict[str, Any]]:
    """Each input's paths as the rows of `gad paths` (records.path_rows_json). Over arrays,
    products are summarised (`array_summary`), and an input whose listing would pass what is
    left of PAGE_PATH_ELEMENTS (or the listing limit) gets its count and gradient, no rows,
    and a hint that says how to list them."""
    if all(np.ndim(value) == 0 for value in graph.values):
        return {name: records.path_rows_json(graph, summarize(graph, name, top), PAGE_ELEMENTS)
                for name in names}
    work = {name: listing_work(graph, name, top) for name in names}
    left = PAGE_PATH_ELEMENTS
    rows = {}
    for name in sorted(names, key=lambda name: (name != wrt, work[name] is None,
                                                work[name] or 0)):
        cost = work[name]
        if cost is not None and cost <= left:
            left -= cost
            rows[name] = _summarised_rows(graph, summarize(graph, name, top))
        else:
            rows[name] = _unlisted(graph, name, top, cost)
    return {name: rows[name] for name in names}


def _summarised_rows(graph: AnnotatedGraph, summary) -> dict[str, Any]:
    record = records.path_rows_json(graph, summary, PAGE_ELEMENTS)
    for row, path in zip(record["paths"], summary.paths):
        row["product"] = array_summary(path.product)
    record["gradient"] = array_summary(summary.gradient)
    record["rest"]["sum"] = array_summary(summary.rest_sum)
    return record


def _unlisted(graph: AnnotatedGraph, name: str, top: int, cost: int | None) -> dict[str, Any]:
    """An input whose paths the page does not list: all of them are `the rest`, whose sum is
    the gradient."""
    count = display.count_json(path_count(graph, name))
    gradient = array_summary(graph.gradient(name))
    why = (f"pulling their products back along them is up to {cost:,} elements' work, past "
           f"what is left of the page's {PAGE_PATH_ELEMENTS:,}"
           if cost is not None else f"listing {top} of them is past the listing limit")
    # The command line weighs a listing by the same estimate, so the K named here fits it.
    most = most_listed(graph, name)
    top_k = f"--top {most}" if most else "--top K"
    return {"wrt": name, "gradient": gradient, "path_count": count, "paths": [],
            "rest": {"count": count, "sum": gradient},
            "unlisted": f"Not listed: {why}. The command line lists them: `gad paths FILE "
                        f"--wrt {name} {top_k}`, `gad torch FILE.py --paths --wrt {name} "
                        f"{top_k}`, or through a module folded with `--fold GROUP`."}


def page_data(picture: Picture, expanded: list[tuple[str, Picture, str]],
              theme: str | None = None) -> dict[str, Any]:
    """What the script reads: the drawings (the picture, then each expansion), the sweeps as
    `gad trace --json` and the rows of `gad paths` give them, and the theme it opens in (None:
    the reader's system setting)."""
    records = picture.page_records
    return {"drawings": [drawing_json(picture, None)] + [drawing_json(other, name)
                                                          for name, other, _ in expanded],
            "output_name": picture.output_name, "wrt": picture.wrt, "notes": list(picture.notes),
            "trace": records.trace if records else None, "paths": records.paths if records else {},
            "colours": {"paths": list(PATH_COLOURS), "rest": LIGHT.rest}, "theme": theme}


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def page(picture: Picture, svg: str, expanded: list[tuple[str, Picture, str]] = (),
         theme: str | None = None) -> str:
    """The page of `picture` laid out as `svg` in the light theme; `expanded` are (group,
    picture, svg) of the expansions of its folded groups, kept in inert templates until opened;
    `theme` the one it opens in (None: the reader's system setting)."""
    script = _asset("page.js")
    output = next((node for node in picture.nodes if node.kind == OUTPUT), None)
    title = f"{picture.output_name} = {output.tooltip}" if output else picture.output_name
    policy = f"default-src 'none'; script-src '{_hash(script)}'; style-src 'unsafe-inline'"
    templates = "".join(f'<template id="drawing-{index}">{inline_svg(other)}</template>\n'
                        for index, (_, _, other) in enumerate(expanded, start=1))
    return "".join((
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{escape(title)} · graphviz-ad</title>\n",
        f"<style>\n{_asset('page.css')}"
        f"{dark_drawing_style([svg] + [other for _, _, other in expanded])}</style>\n",
        "</head>\n<body>\n",
        _asset("page.html").replace("<!--drawing-->", inline_svg(svg)),
        templates,
        '<script type="application/json" id="gad-data">',
        script_json(page_data(picture, list(expanded), theme)), "</script>\n",
        f"<script>{script}</script>\n</body>\n</html>\n"))
