"""The one table of output formats: each a writer of the same `Picture` into bytes.

Adding a format is one `Format` entry here and one writer; the command line, the facade's
`save`, help texts and docs/pictures.md all list formats from this table. The options every
picture takes are typed here too, for the command line, the facade and the writers alike:
`PictureOptions` (what it shows) and `DrawOptions` (how it is laid out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from numbers import Integral, Real
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from graphviz_ad.errors import UsageError
from graphviz_ad.options import (DEFAULT_DPI, DEFAULT_MAX_BOXES, DEFAULT_MAX_NODES,
                                 DEFAULT_TIMEOUT, DEFAULT_TOP, DPI_RANGE, EDGE_LABELS,
                                 MAX_TIMEOUT, MIN_TIMEOUT, RANKDIRS, RENDERERS, THEMES, VIEWS)

if TYPE_CHECKING:
    from graphviz_ad.render.picture import Picture

FORWARD, BACKWARD, NETWORK = VIEWS
# The renderer subprocess machinery is loaded when a picture is drawn, not when a help text
# lists the formats.
AUTO, SYSTEM_DOT, PURE = RENDERERS


@dataclass(frozen=True)
class DrawOptions:
    """How a picture is laid out and rendered; every writer takes the same options."""

    view: str = FORWARD
    rankdir: str = "auto"
    renderer: str = AUTO
    timeout: float = DEFAULT_TIMEOUT
    dpi: int = DEFAULT_DPI
    max_nodes: int = DEFAULT_MAX_NODES
    theme: str | None = None  # light or dark; None: light, and a page follows its reader

    def __post_init__(self):
        if self.view not in VIEWS:
            raise UsageError(f"unknown view `{self.view}`", None,
                             f"use {', '.join(VIEWS[:-1])} or {VIEWS[-1]}")
        if self.rankdir not in RANKDIRS:
            raise UsageError(f"unknown rankdir `{self.rankdir}`", None,
                             f"use one of {', '.join(RANKDIRS)}")
        if self.theme is not None and self.theme not in THEMES:
            raise UsageError(f"unknown theme `{self.theme}`", None,
                             f"use {' or '.join(THEMES)}")
        if self.renderer not in RENDERERS:
            raise UsageError(f"unknown renderer `{self.renderer}`", None,
                             f"use one of {', '.join(RENDERERS)}")
        low, high = DPI_RANGE
        if not _whole(self.dpi) or not low <= self.dpi <= high:
            raise UsageError(f"dpi (--dpi) must be a whole number from {low} to {high}, got "
                             f"{self.dpi!r}", None, f"the default is {DEFAULT_DPI}")
        if not _whole(self.max_nodes) or self.max_nodes < 1:
            raise UsageError(f"max_nodes (--max-nodes) must be a whole number of at least 1, "
                             f"got {self.max_nodes!r}", None,
                             f"the default is {DEFAULT_MAX_NODES}")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, Real) \
                or not MIN_TIMEOUT <= self.timeout <= MAX_TIMEOUT:
            raise UsageError(f"timeout (--timeout) must be a number of seconds from "
                             f"{MIN_TIMEOUT:g} to {MAX_TIMEOUT:,.0f}, got {self.timeout!r}", None,
                             f"the default is {DEFAULT_TIMEOUT:g}")


def _whole(value: Any) -> bool:
    """An integer, and not True or False (which Python counts as 1 and 0)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class PictureOptions:
    """What a picture shows, in every format: the paths of `wrt` coloured (the `top` of them
    in the legend; None: all), the `edge_labels` (one of EDGE_LABELS), only the nodes on those
    paths (`only_paths`), chains of one-input operations as one node (`compact`); and how its
    groups fold: past `max_boxes` boxes until the picture fits (those on the paths of `wrt`
    last), `expand` keeping groups open (dotted names), `depth` folding exactly the groups
    nested deeper than it, `expand_all` folding none; repeated groups fold as one box per run
    unless `apart`; `heatmaps`: each array's value and grad drawn as a small picture in its box
    too."""

    wrt: str | None = None
    top: int | None = DEFAULT_TOP
    edge_labels: str = EDGE_LABELS[0]
    only_paths: bool = False
    compact: bool = False
    expand: tuple[str, ...] = ()
    depth: int | None = None
    expand_all: bool = False
    max_boxes: int = DEFAULT_MAX_BOXES
    apart: bool = False
    heatmaps: bool = True

    def __post_init__(self):
        # A list, or one name, from a notebook: the options stay hashable and frozen.
        expand = (self.expand,) if isinstance(self.expand, str) else tuple(self.expand or ())
        object.__setattr__(self, "expand", expand)
        if self.edge_labels not in EDGE_LABELS:
            raise UsageError(f"unknown edge labels `{self.edge_labels}`", None,
                             f"use {', '.join(EDGE_LABELS[:-1])} or {EDGE_LABELS[-1]}")
        for name, least in (("top", 1), ("depth", 0), ("max_boxes", 1)):
            value = getattr(self, name)
            if value is None and name != "max_boxes":
                continue
            if not _whole(value) or value < least:
                raise UsageError(f"{name} must be a whole number of at least {least}, got "
                                 f"{value!r}")


PICTURE_OPTIONS = tuple(field.name for field in fields(PictureOptions))
DRAW_OPTIONS = tuple(field.name for field in fields(DrawOptions))


def keyword_options(wrt: str | None, keywords: Mapping[str, Any],
                    drawn: bool = True) -> tuple[PictureOptions, DrawOptions]:
    """The keyword options of the notebook's calls (`save("g.svg", wrt="x", only_paths=True)`)
    as the typed ones: PictureOptions, and DrawOptions where the picture is `drawn` (else only
    the first are known). An unknown keyword is an error that names the known ones."""
    known = PICTURE_OPTIONS + (DRAW_OPTIONS if drawn else ())
    unknown = [key for key in keywords if key not in known]
    if unknown:
        raise UsageError(f"unknown picture option `{unknown[0]}`", None,
                         f"the options are {', '.join(known)}")
    return (PictureOptions(wrt, **{key: value for key, value in keywords.items()
                                   if key in PICTURE_OPTIONS}),
            DrawOptions(**{key: value for key, value in keywords.items() if key in DRAW_OPTIONS}))


@dataclass(frozen=True)
class Drawing:
    """A written picture: its bytes, which renderer laid it out (None for DOT and JSON), how
    many nodes it has, and notes where it was drawn other than asked (folded groups, copies of
    much-used leaves, a PNG's lower dpi)."""

    data: bytes
    renderer: str | None
    nodes: int
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # not the bytes themselves
        laid_out = f", laid out by {self.renderer}" if self.renderer else ""
        return (f"Drawing: {len(self.data):,} bytes, {self.nodes:,} nodes{laid_out}"
                + "".join(f"\n{note}" for note in self.notes))


@dataclass(frozen=True)
class Format:
    name: str
    suffixes: tuple[str, ...]
    binary: bool
    renderers: tuple[str, ...]  # which renderers can write it; () when no layout is needed
    description: str
    write: Callable[[Picture, DrawOptions], Drawing]
    steps: bool = False  # steps through the sweeps: render/compose.py adds them to the picture

    @property
    def needs_layout(self) -> bool:
        return bool(self.renderers)


def dot_source(picture: Picture, options: DrawOptions, renderer: str | None = None) -> str:
    """The picture's DOT; for graphviz-pure, never wrapped into rows, which it lays out some
    forty times slower than the system `dot` (docs/pictures.md), and in the glyphs its font has."""
    from graphviz_ad.render.dot import to_digraph
    from graphviz_ad.style import theme_named

    return to_digraph(picture, options.view, options.rankdir, system_dot=renderer != PURE,
                      theme=theme_named(options.theme)).source


def _write_dot(picture: Picture, options: DrawOptions) -> Drawing:
    return Drawing(dot_source(picture, options).encode(), None, len(picture.nodes),
                   picture.notes)


def _write_json(picture: Picture, options: DrawOptions) -> Drawing:
    """The drawn nodes and edges; in the network view, its layers, neurons and weights."""
    from graphviz_ad.display import json_text
    from graphviz_ad.render.export import picture_json

    if options.view == NETWORK:
        from graphviz_ad.render.network import network_json

        data = network_json(picture)
    else:
        data = picture_json(picture)
    return Drawing((json_text(data) + "\n").encode(), None, len(picture.nodes), picture.notes)


def _rendered(image_format: str) -> Callable[[Picture, DrawOptions], Drawing]:
    def write(picture: Picture, options: DrawOptions) -> Drawing:
        """Lay out and render `picture`, whose size render/compose.py accepted before it was
        built."""
        from graphviz_ad.render import backend

        renderer = backend.find_renderer(options.renderer, image_format)
        rendered = backend.render(dot_source(picture, options, renderer.name), image_format,
                                  renderer,
                                  options.timeout, options.dpi if image_format == "png" else None)
        return Drawing(rendered.data, renderer.name, len(picture.nodes),
                       picture.notes + ((rendered.note,) if rendered.note else ()))
    return write


def _tikz(standalone: bool) -> Callable[[Picture, DrawOptions], Drawing]:
    def write(picture: Picture, options: DrawOptions) -> Drawing:
        """TikZ drawn from Graphviz's layout of the picture (render/tikz.py)."""
        from graphviz_ad.render.tikz import tikz_file
        from graphviz_ad.style import theme_named

        if options.view == NETWORK:
            raise UsageError("TikZ draws the graph view, not the network view", None,
                             "draw the network as .pdf or .svg, or the graph with --view forward")
        layout = _rendered("json")(picture, options)
        return Drawing(tikz_file(picture, json.loads(layout.data), options.view, standalone,
                                 theme_named(options.theme)).encode(), layout.renderer,
                       layout.nodes, layout.notes)
    return write


def _write_html(picture: Picture, options: DrawOptions) -> Drawing:
    """The page: the picture laid out as for SVG, and each expansion of a folded group too,
    while their SVG stays within PAGE_EXPANSION_BYTES."""
    from graphviz_ad.render.page import PAGE_EXPANSION_BYTES, page
    from graphviz_ad.style import LIGHT

    if options.view == NETWORK:
        raise UsageError("the page steps through the sweeps of the graph view, not the network "
                         "view", None, "draw the network as SVG (its lines' tooltips give each "
                         "weight's value and grad), or the page with --view forward")
    # Drawn in the light theme, which the page's style maps to the dark one when the reader's
    # system or the toggle asks; `theme` is only the one it opens in.
    svg, light = _rendered("svg"), replace(options, theme=LIGHT.name)
    drawing = svg(picture, light)
    expanded, size = [], 0
    for name, other in (picture.page_records.expansions if picture.page_records else {}).items():
        laid_out = svg(other, light).data.decode()
        size += len(laid_out)
        if size > PAGE_EXPANSION_BYTES:
            break
        expanded.append((name, other, laid_out))
    return Drawing(page(picture, drawing.data.decode(), expanded, options.theme).encode(),
                   drawing.renderer, drawing.nodes, drawing.notes)


BOTH_RENDERERS = (SYSTEM_DOT, PURE)
TABLE: tuple[Format, ...] = (
    Format("dot", ("dot", "gv"), False, (), "Graphviz source, laid out by nobody yet",
           _write_dot),
    Format("svg", ("svg",), False, BOTH_RENDERERS, "vector picture with hover text",
           _rendered("svg")),
    Format("png", ("png",), True, BOTH_RENDERERS, "bitmap picture (--dpi)", _rendered("png")),
    Format("pdf", ("pdf",), True, BOTH_RENDERERS, "vector document (graphviz-pure's needs "
           "the pdf extra: pip install 'graphviz-ad[pdf]')", _rendered("pdf")),
    Format("tex", ("tex",), False, BOTH_RENDERERS,
           "a LaTeX document of the picture in TikZ, for pdflatex", _tikz(standalone=True)),
    Format("tikz", ("tikz",), False, BOTH_RENDERERS,
           "the bare tikzpicture, to \\input into a paper", _tikz(standalone=False)),
    Format("json", ("json",), False, (), "the drawn nodes and edges with exact numbers",
           _write_json),
    Format("html", ("html", "htm"), False, BOTH_RENDERERS,
           "a page that steps through both sweeps, with pan and zoom (gad docs pictures)",
           _write_html, steps=True),
)
FORMATS: dict[str, Format] = {entry.name: entry for entry in TABLE}
SUFFIXES: dict[str, Format] = {suffix: entry for entry in TABLE for suffix in entry.suffixes}
STDOUT = "-"


def suffix_list() -> str:
    """`.svg .png .pdf .dot .gv .json`, for help texts."""
    return " ".join(f".{suffix}" for entry in TABLE for suffix in entry.suffixes)


def name_list() -> str:
    return ", ".join(entry.name for entry in TABLE)


def format_named(name: str | Format) -> Format:
    """The table's entry for a format's name, in any case (an entry is its own)."""
    if isinstance(name, Format):
        return name
    entry = FORMATS.get(name.lower())
    if entry is None:
        raise UsageError(f"unknown format `{name}`", None, f"choose one of {name_list()}")
    return entry


def choose_format(output: str, chosen: str | None) -> Format:
    """The format from `chosen` (--format) or the output's suffix; standard output (`-`,
    `/dev/stdout`) without one is DOT."""
    from graphviz_ad.writing import is_standard_output

    if is_standard_output(output):
        output = STDOUT
    suffix = PurePath(output).suffix.lower().lstrip(".") if output != STDOUT else ""
    by_suffix = SUFFIXES.get(suffix)
    if chosen is not None:
        entry = format_named(chosen)
        if by_suffix is not None and by_suffix is not entry:
            raise UsageError(f"{output} ends in .{suffix} but --format is {entry.name}", None,
                             "make the suffix and --format agree")
        return entry
    if output == STDOUT:
        return FORMATS["dot"]
    if by_suffix is None:
        raise UsageError(f"cannot tell the format of {output}", None,
                         f"end the name in {suffix_list()}, or give --format")
    return by_suffix


def check_output(output: str, image_format: str | None = None, renderer: str = AUTO,
                 program: str | None = None, values: Iterable[str] = ()) -> Format:
    """The format an output will have, and that it can be written, checked before anything is
    evaluated: a folder that exists, never a file the run reads (the `program` file, the files
    of NAME=@FILE `values`), a suffix or format the table knows, a renderer that writes it, and
    nothing binary on a terminal."""
    from graphviz_ad.arguments import input_files
    from graphviz_ad.writing import (StandardOutput, check_target, is_standard_output,
                                     refuse_overwriting)

    if not is_standard_output(output):
        check_target(output)
        refuse_overwriting(output, input_files(program, list(values)))
    entry = choose_format(output, image_format)
    check_renderer(entry, renderer)
    if entry.binary and is_standard_output(output) and StandardOutput().isatty():
        raise UsageError(f"{entry.name.upper()} is binary and standard output is a terminal",
                         None, "write it to a file with -o FILE, or pipe it")
    return entry


def check_renderer(entry: Format, renderer: str) -> None:
    """Refuse a format the chosen renderer cannot write, before anything is evaluated."""
    if entry.needs_layout and renderer != AUTO and renderer not in entry.renderers:
        raise UsageError(f"{renderer} cannot write {entry.name.upper()}", None,
                         f"use --renderer {' or '.join(entry.renderers)}")
