"""The choices and defaults the layers share, each defined once.

Light enough for the command line to read at start-up: it imports only the engine's own
constants (engine/defaults.py, which imports nothing).
"""

# The engine's own, named here too so that the command line finds every choice in one module.
from graphviz_ad.engine.defaults import (ENUMERATION_LIMIT, FD_CENTRAL, FD_COMPLEX,  # noqa: F401
                                         FD_FORWARD, FD_METHODS, FD_STEPS)

# auto: reverse mode, except for an array output with more elements than its inputs have
MODES = ("auto", "reverse", "forward")
# A gradient agrees with its finite difference when max|g - fd| <= max(atol, rtol·max|g|).
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-5
# Runs of a traced PyTorch function that `gad torch --check` may make (two per number checked
# by central differences): a check where it is cheap.
MAX_CHECK_RUNS = 2_000
EDGE_LABELS = ("value", "formula", "both")
# network: a program of dense layers as neurons in columns, each weight a line (render/network.py)
VIEWS = ("forward", "backward", "network")
RANKDIRS = ("auto", "LR", "RL", "TB", "BT")
RENDERERS = ("auto", "dot", "graphviz-pure")
# Colours for a light or a dark background: the names of style.py's palettes (which the command
# line does not load to list them); a page without one follows its reader's system setting.
THEMES = ("light", "dark")

DEFAULT_TOP = 20
DEFAULT_DPI = 144
DPI_RANGE = (30, 1200)  # a PNG's resolution, from barely legible to print
DEFAULT_MAX_NODES = 150
# Past this many boxes a picture folds its groups, deepest and largest first, until it fits:
# about what a screen shows readably at once.
DEFAULT_MAX_BOXES = 60
# A picture that had to fold, and still has a longer chain of boxes than this, folds by whole
# levels until it does not: a deep network's 60 boxes in a row are a strip no screen shows.
MAX_CHAIN = 20
# A picture larger than this puts edge labels beside the edges (xlabel) and draws much-used
# leaves once per use: both keep Graphviz's layout from growing quadratically.
LARGE_PICTURE = 80
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 86_400.0  # a day: anything longer is a mistake, and inf would never stop
MIN_TIMEOUT = 0.1

