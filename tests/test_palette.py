"""The path colours, and the heatmaps' diverging scale, stay apart for readers with the three
common colour-vision deficiencies, on the light theme's paper and the dark one's, and every text
and line reads on its background."""

import itertools

import numpy as np
import pytest

from graphviz_ad import options
from graphviz_ad.style import (DARK, HEAT_LEVELS, LIGHT, LINE_CONTRAST, PATH_COLOURS, TEXT_CONTRAST,
                               THEMES, Theme, contrast, counterparts, heat_colour,
                               label_counterparts, readable_on)

# Machado, Oliveira and Fernandes (2009), severity 1.0, applied to linear RGB.
DEFICIENCIES = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
    "typical": np.eye(3).tolist(),
}
# CIE76 distance in Lab; about 2.3 is just noticeable, and the old palette's orange and dark
# yellow were 2.8 apart under protanopia.
MIN_DISTANCE = 10.0


def linear_rgb(colour: str) -> np.ndarray:
    values = np.array([int(colour[index:index + 2], 16) for index in (1, 3, 5)]) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(linear, 0, 1)
    scaled = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(scaled > 216 / 24389, np.cbrt(scaled), (24389 / 27 * scaled + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def distance(first: str, second: str, deficiency: str) -> float:
    """CIE76 ΔE between two colours as a reader with `deficiency` sees them."""
    matrix = np.array(DEFICIENCIES[deficiency])
    return float(np.linalg.norm(lab(matrix @ linear_rgb(first))
                                - lab(matrix @ linear_rgb(second))))


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES)
@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_every_pair_of_path_colours_stays_apart(deficiency, theme):
    for first, second in itertools.combinations(PATH_COLOURS + (theme.rest,), 2):
        assert distance(first, second, deficiency) >= MIN_DISTANCE, (deficiency, first, second)


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES)
@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_leaves_root_cut_and_faded_edges_stay_apart_and_from_the_paper(deficiency, theme):
    marks = {"input": theme.input_line, "output": theme.output_line, "cut": theme.cut_line,
             "faded": theme.faded, "rest": theme.rest}
    for (first, one), (second, other) in itertools.combinations(marks.items(), 2):
        assert distance(one, other, deficiency) >= MIN_DISTANCE, (first, second)
    for name, colour in marks.items():
        if name != "faded":  # faded is meant to recede
            assert distance(colour, theme.paper, deficiency) >= 2 * MIN_DISTANCE, name


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES)
def test_text_and_lines_read_on_their_backgrounds(theme):
    for text, background in [(theme.ink, theme.paper), (theme.ink, theme.box),
                             (theme.ink, theme.input_fill), (theme.ink, theme.output_fill),
                             (theme.ink, theme.group_fill), (theme.ink, theme.data_fill),
                             (theme.muted, theme.paper), (theme.muted, theme.constant_fill),
                             (theme.grad, theme.box), (theme.grad, theme.input_fill),
                             (theme.grad, theme.output_fill), (theme.ink, theme.neuron_fill)]:
        assert contrast(text, background) >= TEXT_CONTRAST, (text, background)
    # A cut edge is grey and dashed, with a bar and `cut` on it (2.7:1 on white).
    for line in (theme.line, theme.input_line, theme.output_line, theme.rest, theme.group_line,
                 theme.data_line):
        assert contrast(line, theme.paper) >= LINE_CONTRAST, line


def test_the_page_can_show_a_light_picture_in_the_dark_theme():
    """Each light colour has one dark counterpart, so the page's mapping is a function."""
    roles: dict[str, str] = {}
    for field in Theme.__dataclass_fields__:
        if field != "name":
            light, dark = getattr(LIGHT, field).lower(), getattr(DARK, field).lower()
            assert roles.setdefault(light, dark) == dark, field
    mapping = counterparts(LIGHT, DARK)
    assert mapping["#222222"] == DARK.ink and mapping["#ffffff"] == DARK.paper
    # Yellow, darkened for text on white, is yellow again on dark paper.
    assert label_counterparts(LIGHT, DARK)["#7e7720"] == "#f0e442"


def test_the_simulation_reproduces_the_reported_protanopia_clash():
    protanopia = np.array(DEFICIENCIES["protanopia"])
    old_orange, old_dark_yellow = "#ff9f1c", "#c9a400"
    distance = np.linalg.norm(lab(protanopia @ linear_rgb(old_orange))
                              - lab(protanopia @ linear_rgb(old_dark_yellow)))
    assert distance == pytest.approx(2.8, abs=0.1)


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES)
@pytest.mark.parametrize("colour", PATH_COLOURS + (LIGHT.rest, DARK.rest))
def test_label_text_in_a_path_colour_is_readable_on_the_paper(colour, theme):
    text = readable_on(colour, theme.paper)
    assert contrast(text, theme.paper) >= TEXT_CONTRAST
    if contrast(colour, theme.paper) >= TEXT_CONTRAST:
        assert text == colour.lower()


def test_the_command_line_offers_every_palette():
    assert tuple(THEMES) == options.THEMES


def test_yellow_is_darkened_for_text_on_white_and_blue_lightened_on_dark():
    assert readable_on("#F0E442", LIGHT.paper) == "#7e7720"
    assert readable_on("#0072B2", DARK.paper) == "#2f8cc0"
    assert contrast("#000000", "#ffffff") == pytest.approx(21)


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_the_heatmap_scale_reads_by_sign_and_by_size(deficiency):
    matrix = np.array(DEFICIENCIES[deficiency])
    seen = {level: lab(matrix @ linear_rgb(heat_colour(level)))
            for level in range(-HEAT_LEVELS, HEAT_LEVELS + 1)}
    for level in range(1, HEAT_LEVELS + 1):
        # larger sizes darker on both sides (so it reads in grey too), each step noticeable
        for side in (level, -level):
            inner = side - 1 if side > 0 else side + 1
            assert seen[inner][0] - seen[side][0] >= 5.0, (deficiency, side)
        # a positive and a negative number of one size never look alike
        distance = float(np.linalg.norm(seen[level] - seen[-level]))
        assert distance >= MIN_DISTANCE, (deficiency, level, distance)
