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

from graphviz_ad.render.export import picture_json
from graphviz_ad.render.picture import OUTPUT, Picture
from graphviz_ad.style import PATH_COLOURS, REST_COLOUR

# Arrays with more numbers than this are embedded as their shape, least and greatest.
PAGE_ELEMENTS = 64
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


@cache
def _asset(name: str) -> str:
    return resources.files("graphviz_ad.render").joinpath("assets", name).read_text("utf-8")


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
        record.update(folded=node.folded, opens=node.opens)
    data["expands"] = expands
    return data


def page_data(picture: Picture, expanded: list[tuple[str, Picture, str]]) -> dict[str, Any]:
    """What the script reads: the drawings (the picture, then each expansion), and the sweeps
    as `gad trace --json` and the rows of `gad paths` give them."""
    sweeps = picture.sweeps
    return {"drawings": [drawing_json(picture, None)] + [drawing_json(other, name)
                                                          for name, other, _ in expanded],
            "output_name": picture.output_name, "wrt": picture.wrt, "notes": list(picture.notes),
            "trace": sweeps.trace if sweeps else None, "paths": sweeps.paths if sweeps else {},
            "colours": {"paths": list(PATH_COLOURS), "rest": REST_COLOUR}}


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def page(picture: Picture, svg: str, expanded: list[tuple[str, Picture, str]] = ()) -> str:
    """The page of `picture` laid out as `svg`; `expanded` are (group, picture, svg) of the
    expansions of its folded groups, kept in inert templates until opened."""
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
        f"<style>\n{_asset('page.css')}</style>\n</head>\n<body>\n",
        _asset("page.html").replace("<!--drawing-->", inline_svg(svg)),
        templates,
        '<script type="application/json" id="gad-data">',
        script_json(page_data(picture, list(expanded))), "</script>\n",
        f"<script>{script}</script>\n</body>\n</html>\n"))
