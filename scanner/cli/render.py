"""Tables for people: whole values when piped, whole identifiers on a terminal."""

from __future__ import annotations

import re
import sys

import click
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Values people copy into the next command: cut, they are useless.
IDENTIFYING = re.compile(r"(?:^|_)(?:arn|name|id)$")
# On a terminal, other columns fold but keep at least this many characters a line.
FOLDED_MIN = 10
NARROW_HINT = (
    "mpscan: the terminal is too narrow for whole ARNs and names on one line, so they are "
    "folded; --format csv or json gives them whole"
)


def _width(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def render_table(console: Console, columns: list[str], rows: list[list[str]], *, fit: bool) -> bool:
    """Print rows. fit=False (not a terminal): as wide as the content, nothing cut or wrapped.
    fit=True: within the console's width; returns False when identifying columns could not
    stay on one line (they are folded instead, never cut)."""
    rows = [[cell.expandtabs() for cell in row] for row in rows]  # measured as printed
    natural = [max([_width(c)] + [_width(r[i]) for r in rows]) for i, c in enumerate(columns)]
    # Each cell has one space of padding a side; columns are separated by one border.
    frame = 3 * len(columns) + 1
    identifying = [bool(IDENTIFYING.search(c)) for c in columns]
    pairs = zip(natural, identifying, strict=True)
    minimum = [n if ident else min(n, FOLDED_MIN) for n, ident in pairs]
    whole = sum(minimum) + frame <= console.width
    if not fit:
        console.width = max(sum(natural) + frame, 20)
        whole = True
    table = Table()
    for name, ident, least in zip(columns, identifying, minimum, strict=True):
        if whole and ident:
            table.add_column(name, no_wrap=True, min_width=least)
        else:
            table.add_column(name, overflow="fold", min_width=least if whole else None)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    return whole


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    fit = sys.stdout.isatty()
    console = Console(markup=False, emoji=False, highlight=False)
    if not render_table(console, columns, rows, fit=fit):
        click.echo(NARROW_HINT, err=True)
