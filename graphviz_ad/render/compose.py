"""Composing a picture for a format: its detail chosen and its size refused once, then drawn.

`plan` decides before anything is drawn (`gad explain` plans before it prints its tables): the
graph at the detail that fits --max-boxes (groups folded by engine/fold.py), and its node count
against the format's budget, --max-nodes for a layout, MAX_EXPORT_NODES for DOT and JSON. `draw`
then builds the picture (render/picture.py), adds a page's records for a format that steps
through the sweeps, and hands it to the format's writer (render/formats.py). An analysis is read
through `Drawable`, what composing needs of one: the facade (api.py) is above, never imported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from graphviz_ad.engine.annotated import AnnotatedGraph, has_backward
from graphviz_ad.engine.fold import (Detail, Folding, choose_detail, dotted, fold, run_label,
                                     run_path)
from graphviz_ad.engine.paths import path_counts, paths_to_output, summarize
from graphviz_ad.errors import LimitError, UsageError
from graphviz_ad.options import LARGE_PICTURE, MAX_CHAIN
from graphviz_ad.render.formats import Drawing, DrawOptions, Format, PictureOptions
from graphviz_ad.render.picture import (MAX_EXPORT_NODES, PageRecords, Picture, build_picture,
                                        drawn_nodes, parameter_counts, split_fanout)

if TYPE_CHECKING:
    from graphviz_ad import records


class Drawable(Protocol):
    """What composing reads of an analysis (api.Analysis): its annotated graph and inputs, the
    total derivatives of the groups it folded so far, its checks, its groups and its trace."""

    graph: AnnotatedGraph

    @property
    def inputs(self) -> list[str]: ...

    @property
    def group_derivatives(self) -> Any: ...

    def require_input(self, name: str) -> None: ...

    def require_scalar_output(self, what: str) -> None: ...

    def groups_named(self, names: Iterable[str]) -> list[tuple[str, ...]]: ...

    def trace(self, mode: str) -> records.Trace: ...


@dataclass(frozen=True)
class PictureGraph:
    """The graph a picture draws, at the detail its options chose: the analysis's own, or with
    groups folded (the `folding`), and whether inputs used only inside a group fold with it."""

    options: PictureOptions
    graph: AnnotatedGraph
    folding: Folding | None
    detail: Detail
    many_inputs: bool
    parameters: tuple[int, ...] = ()  # folded: each node's input elements (picture.py)


def picture_graph(source: Drawable, options: PictureOptions) -> PictureGraph:
    """Choose the detail of a picture: past `max_boxes` nodes, groups fold until it fits (the
    groups on the paths of `wrt` last), as PictureOptions says."""
    source.require_scalar_output("a picture of grads")
    graph, wrt = source.graph, options.wrt
    # Inputs stay leaves of the picture, unless there are so many (a network's weights) that
    # those used only inside a group fold into it; --wrt's input always stays.
    many_inputs = len(graph.inputs) > options.max_boxes // 4
    keep = [] if many_inputs else list(graph.inputs.values())
    on_paths = []
    if wrt is not None:
        source.require_input(wrt)
        keep.append(graph.inputs[wrt])
        reach, back = path_counts(graph, keep[-1], 1), paths_to_output(graph, 1)
        on_paths = [node for node in range(len(graph)) if reach[node] and back[node]]
    detail = choose_detail(graph, options.max_boxes, source.groups_named(options.expand),
                           options.depth, options.expand_all, keep, on_paths, MAX_CHAIN,
                           graph.inputs[wrt] if wrt is not None else None,
                           merge=not options.apart)
    folding = fold(graph, detail.fold, keep, source.group_derivatives, detail.runs) \
        if detail.fold or detail.runs else None
    return PictureGraph(options, folding.graph if folding else graph, folding, detail,
                        many_inputs,
                        parameter_counts(graph, folding.stands_for) if folding else ())


class TooManyNodes(UsageError):
    """A picture past --max-nodes, refused before it is built: a page leaves out an expansion
    that would be, rather than refuse the page."""


def refuse_oversized(chosen: PictureGraph, entry: Format, drawing: DrawOptions) -> None:
    """Refuse a picture past its format's budget before it is built, its nodes counted in
    linear time: DOT and JSON past MAX_EXPORT_NODES; a picture to lay out past --max-nodes, the
    hint naming only what would draw fewer (--compact, --only-paths, DOT, a larger budget)."""
    graph, options = chosen.graph, chosen.options
    wrt, only_paths, compact = options.wrt, options.only_paths, options.compact
    nodes = drawn_nodes(graph, wrt, only_paths, compact)
    if not entry.needs_layout:
        what = entry.name.upper()
        if nodes > MAX_EXPORT_NODES:
            raise LimitError(f"the {what} would have {nodes:,} nodes; {what} output is limited "
                             f"to {MAX_EXPORT_NODES:,}", None,
                             "fold more (--depth N, or leave out --expand-all), or draw less: "
                             "--only-paths (with --wrt), --compact")
        return
    if nodes <= drawing.max_nodes:
        return
    alternatives = []
    if not compact:
        alternatives.append((drawn_nodes(graph, wrt, only_paths, True), "--compact"))
    if wrt is not None and not only_paths:
        alternatives.append((drawn_nodes(graph, wrt, True, compact), "--only-paths"))
    hints = [f"{flags} draws {count:,}" for count, flags in sorted(alternatives)
             if count < nodes][:2]
    if nodes <= MAX_EXPORT_NODES:
        hints.append("DOT (-o FILE.dot) needs no layout")
    hints.append(f"--max-nodes {nodes} lays it out anyway, which can take Graphviz minutes")
    raise TooManyNodes(f"the picture would have {nodes:,} nodes, more than --max-nodes "
                       f"{drawing.max_nodes:,}", None, "; ".join(hints))


@dataclass(frozen=True)
class Plan:
    """A picture planned for one format, its detail chosen and its size accepted: drawing it
    chooses and refuses nothing more."""

    entry: Format
    drawing: DrawOptions
    chosen: PictureGraph

    @property
    def options(self) -> PictureOptions:
        return self.chosen.options


def plan(source: Drawable, entry: Format, options: PictureOptions,
         drawing: DrawOptions) -> Plan:
    """The picture `entry` will draw, refused now if it is past the format's budget."""
    chosen = picture_graph(source, options)
    refuse_oversized(chosen, entry, drawing)
    return Plan(entry, drawing, chosen)


def build(chosen: PictureGraph) -> Picture:
    """The picture of a graph at its chosen detail, noting what folded, a large picture's
    much-used leaves drawn once per use."""
    graph, folding, options = chosen.graph, chosen.folding, chosen.options
    summary = summarize(graph, options.wrt, options.top) if options.wrt is not None else None
    picture = build_picture(graph, summary, options.edge_labels, options.only_paths,
                            options.compact, chosen.parameters, options.heatmaps)
    notes = []
    if folding is not None:
        picture = _members_unfolded(picture, folding.stands_for)
        notes.append(_folded_note(chosen))
    picture = replace(picture, notes=picture.notes + tuple(notes),
                      clusters=folding is not None or bool(options.expand)
                      or options.depth is not None or has_backward(graph.groups))
    if len(picture.nodes) > LARGE_PICTURE:
        picture = split_fanout(picture)
    return picture


def _folded_note(chosen: PictureGraph) -> str:
    """What folded and why, and how to open it."""
    folding, detail, options = chosen.folding, chosen.detail, chosen.options
    named = {run_path(run): run_label(run) for run in detail.runs}
    shown = ", ".join(named.get(path) or dotted(path) for path in folding.folded[:6])
    more = f" and {len(folding.folded) - 6} more" if len(folding.folded) > 6 else ""
    boxes = options.max_boxes
    why = (f"below depth {options.depth}" if not detail.automatic
           else f"to draw at most {boxes} boxes" if detail.chain is None
           else f"to draw at most {boxes} boxes, {MAX_CHAIN} in a row"
           if detail.chain <= MAX_CHAIN else
           f"to draw at most {boxes} boxes, by whole levels ({detail.chain} in a row)")
    repeated = "; groups alike in a row are one box (× N), --apart draws them one by one" \
        if detail.runs else ""
    return (f"folded {len(folding.folded)} group(s) {why}: {shown}{more}"
            + ("; inputs used only inside a group fold with it" if chosen.many_inputs else "")
            + repeated + "; --expand NAME opens one, --depth N or --expand-all more")


def _members_unfolded(picture: Picture, stands_for: tuple[tuple[int, ...], ...]) -> Picture:
    """The picture with each box's members as nodes of the unfolded graph, as the trace and
    the paths of the analysis name them."""
    return replace(picture, nodes=tuple(
        replace(node, members=tuple(original for member in node.members
                                    for original in stands_for[member]))
        for node in picture.nodes))


def picture(source: Drawable, options: PictureOptions) -> Picture:
    """What every format draws, with no budget: nothing is laid out."""
    return build(picture_graph(source, options))


def draw(source: Drawable, planned: Plan) -> Drawing:
    """The planned picture written in its format, with a page's records where it steps through
    the sweeps."""
    drawn = build(planned.chosen)
    if planned.entry.steps:
        drawn = replace(drawn, page_records=page_records(source, drawn, planned))
    return planned.entry.write(drawn, planned.drawing)


def page_records(source: Drawable, drawn: Picture, planned: Plan) -> PageRecords:
    """What a page steps through beside `drawn`: the trace, each input's paths as the rows of
    their table (render/page.path_rows: over arrays summarised, within the page's budget), and
    for the first PAGE_EXPANSIONS groups `drawn` folded, the picture with that group expanded.
    (Its imports are here: only a page needs them, and a PNG starts faster without.)"""
    from graphviz_ad import records
    from graphviz_ad.render.page import PAGE_ELEMENTS, PAGE_EXPANSIONS, path_rows

    options = planned.options
    folded: dict[str, int] = {}  # each folded group, and how many nodes it holds
    for node in drawn.nodes:
        if node.opens:
            folded[node.opens] = folded.get(node.opens, 0) + len(node.members)
    expansions = {}
    for name, size in list(folded.items())[:PAGE_EXPANSIONS]:
        # Room for the opened group's nodes, up to a budget more: a larger group shows its own
        # groups folded. One that still passes --max-nodes is left out, and the page says how
        # to draw it open.
        opened = replace(options, expand=options.expand + (name,),
                         max_boxes=options.max_boxes + min(size, options.max_boxes))
        try:
            expansions[name] = build(plan(source, planned.entry, opened, planned.drawing).chosen)
        except TooManyNodes:
            continue
    return PageRecords(records.trace_json(source.trace(mode=records.BOTH), PAGE_ELEMENTS),
                       path_rows(source.graph, list(source.inputs), options.wrt, options.top),
                       expansions)
