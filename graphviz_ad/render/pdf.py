"""PDF without a system Graphviz: graphviz-pure's SVG converted by svglib and reportlab.

Both are pure Python wheels (with lxml and pillow, whose wheels carry their own libraries), in
the `pdf` extra: a system `dot` writes PDF itself, and SVG and PNG need neither. They are
imported only when a PDF is drawn (about 0.3 s). The text stays text, in PDF's own Helvetica,
the font Graphviz measured the boxes with.
"""

from __future__ import annotations

from importlib.util import find_spec
from io import BytesIO

from graphviz_ad.errors import RenderError

PDF_HINT = ("pip install 'graphviz-ad[pdf]' (svglib, for the bundled graphviz-pure), or install "
            "Graphviz (Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz; "
            "conda: conda install graphviz); or write .svg or .png")


def require_converter() -> None:
    """Refuse before anything is laid out when the converter is not installed."""
    if find_spec("svglib") is None:
        raise RenderError("no system Graphviz `dot` on PATH, and graphviz-pure's PDF needs "
                          "svglib, which is not installed", None, PDF_HINT)


def svg_to_pdf(svg: bytes) -> bytes:
    """A PDF of one page the size of the SVG."""
    require_converter()
    from reportlab.graphics import renderPDF
    from svglib.svglib import svg2rlg

    drawing = svg2rlg(BytesIO(svg))
    if drawing is None:
        raise RenderError("svglib could not read the renderer's SVG")
    return renderPDF.drawToString(drawing)
