"""The choices and defaults the layers share, each defined once.

Light enough for the command line to read at start-up: no numpy, no subprocess.
"""

MODES = ("reverse", "forward")
EDGE_LABELS = ("value", "formula", "both")
VIEWS = ("forward", "backward")
RANKDIRS = ("LR", "RL", "TB", "BT")
RENDERERS = ("auto", "dot", "graphviz-pure")

DEFAULT_TOP = 20
ENUMERATION_LIMIT = 10_000  # paths listed one by one, at most (--all, --top)
DEFAULT_DPI = 144
DEFAULT_MAX_NODES = 150
# Past this many boxes a picture folds its groups, deepest and largest first, until it fits:
# about what a screen shows readably at once.
DEFAULT_MAX_BOXES = 60
# A picture larger than this puts edge labels beside the edges (xlabel) and draws much-used
# leaves once per use: both keep Graphviz's layout from growing quadratically.
LARGE_PICTURE = 80
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 86_400.0  # a day: anything longer is a mistake, and inf would never stop


def suffix_list() -> str:
    """`.dot .gv .svg ...`, from the format table."""
    from graphviz_ad.render.formats import suffix_list

    return suffix_list()


def format_names() -> str:
    from graphviz_ad.render.formats import name_list

    return name_list()
