"""Colours shared by the terminal tables and the pictures, so path k looks the same in both."""

# Path k (in the order of `gad paths`: largest |product| first) gets PATH_COLOURS[k]; paths past
# the end of the list share REST_COLOUR and one legend row.
PATH_COLOURS = (
    "#7a0000",  # dark red
    "#f03b20",  # red, lighter and warmer than the dark red, so the two tell apart
    "#ff9f1c",  # orange
    "#c9a400",  # dark yellow
    "#2ca02c",  # green
    "#17becf",  # teal
    "#1f77b4",  # blue
    "#6a3d9a",  # purple
    "#e377c2",  # pink
)
REST_COLOUR = "#8c8c8c"
INPUT_COLOUR = "#2e8b57"   # leaves: green
OUTPUT_COLOUR = "#8b5a2b"  # the root: brown


def path_colour(index: int) -> str:
    return PATH_COLOURS[index] if index < len(PATH_COLOURS) else REST_COLOUR
