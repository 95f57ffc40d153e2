"""The path colours, and the heatmaps' diverging scale, stay apart for readers with the three
common colour-vision deficiencies."""

import itertools

import numpy as np
import pytest

from graphviz_ad.style import (HEAT_LEVELS, PATH_COLOURS, REST_COLOUR, TEXT_CONTRAST,
                               contrast_on_white, heat_colour, readable_on_white)

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


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_every_pair_of_path_colours_stays_apart(deficiency):
    matrix = np.array(DEFICIENCIES[deficiency])
    colours = PATH_COLOURS + (REST_COLOUR,)
    seen = {colour: lab(matrix @ linear_rgb(colour)) for colour in colours}
    for first, second in itertools.combinations(colours, 2):
        distance = float(np.linalg.norm(seen[first] - seen[second]))
        assert distance >= MIN_DISTANCE, (deficiency, first, second, distance)


def test_the_simulation_reproduces_the_reported_protanopia_clash():
    protanopia = np.array(DEFICIENCIES["protanopia"])
    old_orange, old_dark_yellow = "#ff9f1c", "#c9a400"
    distance = np.linalg.norm(lab(protanopia @ linear_rgb(old_orange))
                              - lab(protanopia @ linear_rgb(old_dark_yellow)))
    assert distance == pytest.approx(2.8, abs=0.1)


@pytest.mark.parametrize("colour", PATH_COLOURS + (REST_COLOUR,))
def test_label_text_in_a_path_colour_is_readable_on_white(colour):
    text = readable_on_white(colour)
    assert contrast_on_white(text) >= TEXT_CONTRAST
    if contrast_on_white(colour) >= TEXT_CONTRAST:
        assert text == colour.lower() or text == colour


def test_yellow_is_darkened_for_text_but_keeps_its_hue():
    assert readable_on_white("#F0E442") == "#7e7720"


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
