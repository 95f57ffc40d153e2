"""How an analysis shows itself: as text in a REPL, and in a notebook as its picture or its page.

`analysis` alone, as a cell's last line, shows its value, gradients and node count above its
picture, an SVG fitted to the cell's width; `analysis.show("page", wrt="x2")` shows the page
(render/page.py) inline, in a sandboxed frame, where it fits PAGE_INLINE_BYTES, and the picture
with a note where it does not. Any picture option may be given to `show`, `theme` among them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphviz_ad import display
from graphviz_ad.errors import GadError, UsageError
from graphviz_ad.tables import Table

PICTURE, PAGE = "picture", "page"
FORMAT_OF = {PICTURE: "svg", PAGE: "html"}
# A notebook keeps its outputs in the file and sends them through a socket at a limited rate
# (Jupyter's default: 1 MB/s): a larger page is shown as the picture, with a note.
PAGE_INLINE_BYTES = 1_000_000
PAGE_HEIGHT = 600  # pixels of the cell the page takes; it pans and zooms inside them
LISTED_INPUTS = 12
ARRAY_DIGITS = 4
# The renderer's root element and its size: `<svg width="1014pt" height="359pt"`.
SVG_SIZE = re.compile(r'<svg\b([^>]*?)\swidth="([^"]+)"\s+height="[^"]+"')


@dataclass(frozen=True)
class Shown:
    """What a notebook shows: its text, and its HTML (the picture or the page); `svg` is the
    picture itself, for frontends that show no HTML."""

    text: str
    html: str
    svg: str | None = None

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": self.text, "text/html": self.html}
        if self.svg is not None:
            bundle["image/svg+xml"] = self.svg
        return bundle


class Showable:
    """What makes an analysis (api.Analysis) read well in a REPL and show in a notebook."""

    def __repr__(self) -> str:
        return summary(self).text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.show()._repr_mimebundle_(include, exclude)

    def show(self, kind: str = PICTURE, wrt: str | None = None, **options: Any) -> Shown:
        """In a notebook: the picture fitted to the cell (`"picture"`), or the page that steps
        through the sweeps, inline (`"page"`); options as `Analysis.draw`'s."""
        if kind not in FORMAT_OF:
            raise UsageError(f"unknown kind of showing `{kind}`", None,
                             f"use {PICTURE!r} or {PAGE!r}")
        from html import escape  # loaded by what shows, not by `gad grad`

        text = summary(self)
        try:
            drawing = self.draw(FORMAT_OF[kind], wrt, **options)
        except GadError as error:  # too large, no renderer: said in the cell, no traceback
            message = "; ".join(filter(None, (error.reason, error.hint)))
            return Shown(f"{text.text()}\n{message}",
                         f"{text.html()}<p>{escape(message)}</p>")
        if kind == PAGE and len(drawing.data) > PAGE_INLINE_BYTES:
            shown = self.show(PICTURE, wrt, **options)
            note = (f"the page is {len(drawing.data):,} bytes, more than a notebook is sent "
                    f"inline ({PAGE_INLINE_BYTES:,}); analysis.save('page.html') writes it")
            return Shown(f"{shown.text}\n{note}", f"{shown.html}<p>{escape(note)}</p>",
                         shown.svg)
        if kind == PAGE:
            return Shown(f"{text.text()}\nthe page, {len(drawing.data):,} bytes",
                         text.html() + inline_page(drawing.data.decode(), self.output_name))
        svg = drawing.data.decode()
        return Shown(text.text(), text.html() + fitted_svg(svg), svg)


def summary(analysis: Any) -> Table:
    """The output's value and expression, the graph's size, and each input's value and
    gradient (an array output's gradients are Jacobians: `analysis.gradient(name)`)."""
    graph = analysis.graph
    scalar = np.ndim(analysis.output_value) == 0
    names = analysis.inputs
    rows = tuple((name, _written(graph.values[graph.inputs[name]]),
                  _written(graph.gradient(name)) if scalar else "")
                 for name in names[:LISTED_INPUTS])
    notes = ((f"… and {len(names) - LISTED_INPUTS} more inputs",)
             if len(names) > LISTED_INPUTS else ())
    if not scalar:
        notes += ("the output is an array: analysis.gradient(name) gives each Jacobian",)
    expression = display.abbreviate(graph.text(graph.output), 80)
    return Table(f"{analysis.output_name} = {expression} = "
                 f"{display.summary(analysis.output_value, None)} · {len(graph):,} nodes",
                 ("input", "value", "gradient") if names else (), rows, notes, right=(1, 2))


def _written(item: Any) -> str:
    """A number with every digit, as `gad grad` prints it; an array rounded, to stay a line."""
    return display.summary(item, None if np.ndim(item) == 0 else ARRAY_DIGITS)


def fitted_svg(svg: str) -> str:
    """The renderer's SVG, as wide as drawn but never wider than the cell: scaled down whole
    to its width (the height follows the viewBox), never cut off on the right."""
    from graphviz_ad.render.page import inline_svg  # as the page does; `gad grad` never loads it

    return SVG_SIZE.sub(lambda match: f'<svg{match.group(1)} style="width:{match.group(2)};'
                        'max-width:100%;height:auto"', inline_svg(svg), count=1)


def inline_page(page: str, title: str) -> str:
    """The page in a frame of the cell's width: its text as the frame's document (`srcdoc`),
    run with scripts but no origin of its own, so it reaches neither the notebook nor the
    network (the page's own policy forbids every request too)."""
    from html import escape

    document = page.replace("&", "&amp;").replace("'", "&#39;")
    return (f"<iframe srcdoc='{document}' sandbox=\"allow-scripts\" "
            f'title="{escape(title)}: the page that steps through the sweeps" '
            f'style="width:100%;height:{PAGE_HEIGHT}px;border:1px solid #8884;'
            'border-radius:4px"></iframe>')
