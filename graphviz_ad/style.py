"""Colours shared by the terminal tables and the pictures, so path k looks the same in both."""

# Path k (in the order of `gad paths`: largest |product| first) gets PATH_COLOURS[k]: the
# Okabe–Ito palette without its black, which stays distinguishable under protanopia,
# deuteranopia and tritanopia (tests/test_palette.py simulates them). Paths past the end share
# REST_COLOUR and one legend row; its darker grey tells it from the faded rest of a picture.
PATH_COLOURS = (
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)
REST_COLOUR = "#666666"
# A signed number's colour wherever sign matters (the network view's weights, heatmaps, bars):
# blue below zero, vermillion above, two path colours that every simulated deficiency keeps apart.
NEGATIVE_COLOUR, POSITIVE_COLOUR = PATH_COLOURS[1], PATH_COLOURS[0]
# A heatmap's scale diverges from white at zero to those two at the largest |number|, in
# HEAT_LEVELS steps each side: lightness grows with size on both sides, so it reads in grey too
# (tests/test_palette.py).
HEAT_LEVELS = 5
INPUT_COLOUR = "#2e8b57"   # leaves: green
OUTPUT_COLOUR = "#8b5a2b"  # the root: brown
# Text on white needs a contrast ratio of 4.5 (WCAG AA); light path colours are darkened for
# labels until they reach it, keeping their hue.
TEXT_CONTRAST = 4.5


def _towards(colour: str, share: float) -> str:
    """White mixed with `share` of `colour` (0: white, 1: the colour), in sRGB."""
    channels = (int(colour[index:index + 2], 16) for index in (1, 3, 5))
    return "#" + "".join(f"{round(255 + (value - 255) * share):02x}" for value in channels)


# DIVERGING[HEAT_LEVELS + level] is the colour of a level from -HEAT_LEVELS to HEAT_LEVELS.
DIVERGING = tuple(_towards(NEGATIVE_COLOUR if level < 0 else POSITIVE_COLOUR,
                           abs(level) / HEAT_LEVELS)
                  for level in range(-HEAT_LEVELS, HEAT_LEVELS + 1))


def heat_colour(level: int) -> str:
    """The colour of a heatmap's cell at `level`, from -HEAT_LEVELS to HEAT_LEVELS."""
    return DIVERGING[HEAT_LEVELS + level]


def path_colour(index: int) -> str:
    return PATH_COLOURS[index] if index < len(PATH_COLOURS) else REST_COLOUR


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[index:index + 2]) for index in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_on_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def readable_on_white(colour: str) -> str:
    """`colour`, darkened in steps of 5% until text in it is readable on a white background."""
    channels = [int(colour[index:index + 2], 16) for index in (1, 3, 5)]
    while contrast_on_white("#" + "".join(f"{value:02x}" for value in channels)) < TEXT_CONTRAST:
        channels = [int(value * 0.95) for value in channels]
    return "#" + "".join(f"{value:02x}" for value in channels)
