"""Small tables as aligned text and as HTML: how the queries' results read in a REPL and a notebook.

A result that subclasses `Tabled` and says what its `table` is prints as that table's text (its
`repr`) and shows in a notebook as its HTML; the terminal's own tables are report/'s, with rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A longer listing is cut, saying how many rows are left out and where to see them all.
SHOWN_ROWS = 60
STYLE = ("border-collapse:collapse;font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,"
         "monospace;margin:4px 0")
CELL = "padding:2px 10px;border-bottom:1px solid rgba(128,128,128,.25);text-align:{}"
ALIGNED = {False: "left", True: "right"}


@dataclass(frozen=True)
class Table:
    """A title, a header, rows of texts and notes under them; `right` are the columns of
    numbers, aligned right; `more` says where to see the rows past SHOWN_ROWS."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    right: tuple[int, ...] = ()
    more: str = ""

    def _shown(self) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        if len(self.rows) <= SHOWN_ROWS:
            return self.rows, self.notes
        left = f"… {len(self.rows) - SHOWN_ROWS:,} more rows" + (f": {self.more}" if self.more
                                                                 else "")
        return self.rows[:SHOWN_ROWS], (left,) + self.notes

    def text(self) -> str:
        rows, notes = self._shown()
        lines = [self.title]
        if self.header:
            widths = [max(len(row[column]) for row in (self.header,) + rows)
                      for column in range(len(self.header))]
            for row in (self.header,) + rows:
                lines.append("  ".join(cell.rjust(width) if column in self.right
                                       else cell.ljust(width)
                                       for column, (cell, width) in enumerate(zip(row, widths)))
                             .rstrip())
        return "\n".join(lines + list(notes))

    def html(self) -> str:
        from html import escape  # html.entities is a large table: loaded for notebooks only

        rows, notes = self._shown()

        def cells(row: tuple[str, ...], tag: str) -> str:
            return "".join(f'<{tag} style="{CELL.format(ALIGNED[column in self.right])}">'
                           f"{escape(cell)}</{tag}>" for column, cell in enumerate(row))

        body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
        head = f"<tr>{cells(self.header, 'th')}</tr>" if self.header else ""
        caption = (f'<caption style="text-align:left;font-weight:bold;padding:2px 0">'
                   f"{escape(self.title)}</caption>")
        notes_html = "".join(f'<div style="font-size:12px;opacity:.75">{escape(note)}</div>'
                             for note in notes)
        return f'<table style="{STYLE}">{caption}{head}{body}</table>{notes_html}'

    def bundle(self) -> dict[str, str]:
        return {"text/plain": self.text(), "text/html": self.html()}


class Tabled:
    """A result that reads as its table: in a REPL its text, in a notebook its HTML. A dataclass
    that is one is declared with `repr=False`, so that its own `repr` is not generated."""

    def table(self) -> Table:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.table().text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.table().bundle()
