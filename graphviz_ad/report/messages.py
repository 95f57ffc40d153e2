"""What the command line prints for an error, a warning, or a bug: rustc-style messages."""

from __future__ import annotations

from rich.text import Text

from graphviz_ad.errors import GadError, excerpt
from graphviz_ad.text import printable


def error_message(error: GadError) -> Text:
    """`error[kind]: reason`, the source line with carets under the fault, and a hint."""
    message = Text.assemble(("error", "bold red"), (f"[{error.title}]", "red"), ": ",
                            (printable(error.reason), "bold"))
    if error.span is not None and error.source is not None:
        message.append("\n" + excerpt(error.source, error.span, error.origin), style="blue")
    if error.hint:
        message.append("\nhint: ", style="bold cyan")
        message.append(printable(error.hint))
    return message


def warning_message(note: str) -> Text:
    return Text.assemble(("warning:", "yellow"), " ", printable(note))


def internal_error_message(error: Exception) -> Text:
    return Text.assemble(("internal error", "bold red"), printable(
        f" (a bug in graphviz-ad): {type(error).__name__}: {error}\nhint: GAD_DEBUG=1 shows the "
        "traceback; please report it with the command line"))
