"""The one cleaning step for text we show: no control characters, and glyphs any terminal can print.

A program's comments may hold any character (an escape sequence, a NUL, a lone surrogate from a
command-line byte that is not UTF-8), and the text of a node is shown in tables, error excerpts,
tooltips and DOT. `printable` makes each character that is not printable one U+FFFD, so carets
under an excerpt stay aligned; a tab becomes a space and newlines stay. `encodable` spells our
glyphs (✓, →, ·, ...) in ASCII for a terminal whose encoding lacks them, before a table is laid
out; `for_the_terminal` makes the output streams do the same for everything else.
"""

from __future__ import annotations

import codecs
import warnings

REPLACEMENT = "\ufffd"
KEPT = {"\n": "\n", "\t": " ", "\r": " "}

# What each glyph we print becomes where the output encoding cannot hold it; anything else is "?".
ASCII_GLYPHS = {"✓": "ok", "✗": "no", "→": "->", "·": "*", "×": "x", "…": "...", "ᵀ": "^T",
                REPLACEMENT: "?"}
GLYPH_ERRORS = "graphviz_ad.glyphs"


def printable(text: str) -> str:
    """`text` with every character that is not printable (by Python's rule) replaced, one for one:
    control and format characters, surrogates and unassigned code points become U+FFFD."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else KEPT.get(char, REPLACEMENT) for char in text)


def _ascii_glyph(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler: the characters an encoding lacks, spelled in ASCII."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    spelled = "".join(ASCII_GLYPHS.get(char, "?") for char in error.object[error.start:error.end])
    return spelled, error.end


codecs.register_error(GLYPH_ERRORS, _ascii_glyph)


def for_the_terminal(*streams, quiet: bool = True) -> None:
    """Text streams that print on any terminal: a glyph their encoding lacks comes out spelled
    in ASCII (→ as ->), anything else as ?, never as an encoding error. With `quiet`, numpy's
    floating-point warnings are not shown: inf and nan are reported once, as our own warnings."""
    for stream in streams:
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=GLYPH_ERRORS)
    if quiet:
        warnings.filterwarnings("ignore", category=RuntimeWarning)


def encodable(text: str, encoding: str) -> str:
    """`text` as `encoding` can hold it: glyphs it lacks in ASCII (→ as ->), the rest as ?."""
    return text.encode(encoding, GLYPH_ERRORS).decode(encoding)
