"""Colours shared by the terminal tables and the pictures, so path k looks the same in both.

A picture is drawn in one of two themes, for a light or a dark background (`--theme`); the path
colours are the same in both, and every other colour has its counterpart in each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Path k (in the order of `gad paths`: largest |product| first) gets PATH_COLOURS[k]: the
# Okabe–Ito palette without its black, which stays distinguishable under protanopia,
# deuteranopia and tritanopia (tests/test_palette.py simulates them), on white and on the dark
# theme's paper alike. Paths past the end share the theme's `rest` colour and one legend row.
PATH_COLOURS = (
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)
# A signed number's colour wherever sign matters (the network view's weights, heatmaps, bars):
# blue below zero, vermillion above, two path colours that every simulated deficiency keeps apart.
NEGATIVE_COLOUR, POSITIVE_COLOUR = PATH_COLOURS[1], PATH_COLOURS[0]
# A heatmap's scale diverges from white at zero to those two at the largest |number|, in
# HEAT_LEVELS steps each side: lightness grows with size on both sides, so it reads in grey too
# (tests/test_palette.py).
HEAT_LEVELS = 5
# Text needs a contrast ratio of 4.5 with its background (WCAG AA); path colours are darkened
# (on light paper) or lightened (on dark) for labels until they reach it, keeping their hue.
TEXT_CONTRAST = 4.5
# A line or a border needs 3 (WCAG's non-text contrast).
LINE_CONTRAST = 3.0


@dataclass(frozen=True)
class Theme:
    """Every colour of a picture but the paths'. The page draws its picture in the light theme
    and shows it in the dark one by mapping each colour to its counterpart, so two fields whose
    light colours are the same have the same dark colour too (tests/test_palette.py)."""

    name: str
    paper: str          # the background
    box: str            # an operation's fill
    ink: str            # text
    muted: str          # captions, constants, a folded group's size
    faded: str          # what does not depend on --wrt
    line: str           # an operation's border, an edge
    grad: str           # a node's grad
    rest: str           # the paths past the coloured ones
    input_fill: str     # leaves: green
    input_line: str
    data_fill: str      # data: blue-grey
    data_line: str
    output_fill: str    # the root: brown
    output_line: str
    constant_fill: str
    constant_line: str
    cut_line: str       # a detach's edge and a no_grad result's border: dashed grey
    no_gradient: str    # an edge into nothing differentiable: dotted grey
    group_fill: str     # a folded group
    group_line: str
    cluster_line: str   # an expanded group's dashed border
    neuron_fill: str    # the network view
    weight_zero: str    # a weight near zero, before it takes its sign's colour


LIGHT = Theme(
    # A box one step off white, so that the page tells it from the paper when it maps the
    # picture to the dark theme.
    name="light", paper="#ffffff", box="#fffffe", ink="#222222", muted="#6b6b6b",
    faded="#c4c4c4", line="#606060", grad="#a0522d", rest="#666666",
    input_fill="#e2f3e7", input_line="#2e8b57", data_fill="#eaf0f8", data_line="#5b7aa8",
    output_fill="#f4e6d8", output_line="#8b5a2b", constant_fill="#f3f3f3",
    constant_line="#c8c8c8", cut_line="#9e9e9e", no_gradient="#b8b8b8",
    group_fill="#eef1f7", group_line="#4a5a7a", cluster_line="#9aa5b8",
    neuron_fill="#f7f7f7", weight_zero="#d9d9d9")
DARK = Theme(
    name="dark", paper="#1b1d21", box="#262a30", ink="#e6e6e6", muted="#a0a6ad",
    faded="#4b5058", line="#8a8f96", grad="#e0a27a", rest="#6c6c6c",
    input_fill="#183323", input_line="#5fd08a", data_fill="#1f2a3a", data_line="#7f9cc8",
    output_fill="#3b2a1a", output_line="#c47a3a", constant_fill="#2a2d33",
    constant_line="#5a5f66", cut_line="#8c8c8c", no_gradient="#6e737a",
    group_fill="#232b3a", group_line="#8fa3c7", cluster_line="#5d6a80",
    neuron_fill="#2a2d33", weight_zero="#4a4d52")
THEMES = {theme.name: theme for theme in (LIGHT, DARK)}  # in options.THEMES's order
# The terminal's tables are read on any background; they take the light theme's grey.
REST_COLOUR = LIGHT.rest


def theme_named(name: str | None) -> Theme:
    """The palette of a theme's name; None (none chosen) is the light one."""
    return THEMES[name or LIGHT.name]


def path_colour(index: int, theme: Theme = LIGHT) -> str:
    return PATH_COLOURS[index] if index < len(PATH_COLOURS) else theme.rest


def counterparts(source: Theme, target: Theme) -> dict[str, str]:
    """Each colour of `source` (lower case) to the same role's colour in `target`: how the page
    shows a picture drawn in one theme in the other."""
    return {getattr(source, field.name).lower(): getattr(target, field.name)
            for field in fields(Theme) if field.name != "name"}


def label_counterparts(source: Theme, target: Theme) -> dict[str, str]:
    """Each path colour's label text (`readable_on`) on `source`'s paper to its text on
    `target`'s, lower case: the lines themselves keep their colours."""
    return {readable_on(colour, source.paper): readable_on(colour, target.paper)
            for colour in PATH_COLOURS + (source.rest,)}


def _channels(colour: str) -> list[int]:
    return [int(colour[index:index + 2], 16) for index in (1, 3, 5)]


def _towards(colour: str, share: float) -> str:
    """White mixed with `share` of `colour` (0: white, 1: the colour), in sRGB."""
    return "#" + "".join(f"{round(255 + (value - 255) * share):02x}"
                         for value in _channels(colour))


# DIVERGING[HEAT_LEVELS + level] is the colour of a level from -HEAT_LEVELS to HEAT_LEVELS.
DIVERGING = tuple(_towards(NEGATIVE_COLOUR if level < 0 else POSITIVE_COLOUR,
                           abs(level) / HEAT_LEVELS)
                  for level in range(-HEAT_LEVELS, HEAT_LEVELS + 1))


def heat_colour(level: int) -> str:
    """The colour of a heatmap's cell at `level`, from -HEAT_LEVELS to HEAT_LEVELS."""
    return DIVERGING[HEAT_LEVELS + level]


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in _channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(colour: str, background: str) -> float:
    """WCAG's contrast ratio, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(colour), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(colour: str, background: str) -> str:
    """`colour`, darkened (on a light background) or lightened (on a dark one) in steps of 5%
    until text in it is readable there."""
    channels = _channels(colour)
    dark = _luminance(background) < 0.18
    while contrast("#" + "".join(f"{value:02x}" for value in channels),
                   background) < TEXT_CONTRAST:
        channels = [min(255, round(value + (255 - value) * 0.05)) if dark else int(value * 0.95)
                    for value in channels]
    return "#" + "".join(f"{value:02x}" for value in channels)
