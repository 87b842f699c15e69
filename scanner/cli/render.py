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


# What a terminal acts on instead of printing: C0 controls (but newline and tab), DEL and C1
# controls (ESC [2J, OSC titles and OSC-8 links start with these). Shown as escapes.
_CONTROLS = {
    c: ("\\r" if c == 0x0D else f"\\x{c:02x}")
    for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]
    if c not in (0x09, 0x0A)
}


def visible(text: str) -> str:
    """Text as a terminal may print it: control characters as escapes (\\x1b, \\r)."""
    return text.translate(_CONTROLS)


def data(text: str, nl: bool = True) -> None:
    """Machine output (CSV, JSON) exactly as made: click strips ANSI sequences from text
    echoed to a pipe, which would silently change values that hold them."""
    click.echo(text, nl=nl, color=True)


def _width(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def render_table(
    console: Console,
    columns: list[str],
    rows: list[list[str]],
    *,
    fit: bool,
    keep_whole: tuple[str, ...] = (),
) -> bool:
    """Print rows. fit=False (not a terminal): as wide as the content, nothing cut or wrapped.
    fit=True: within the console's width; returns False when identifying columns could not
    stay on one line (they are folded instead, never cut)."""
    rows = [[visible(cell).expandtabs() for cell in row] for row in rows]  # as printed
    natural = [max([_width(c)] + [_width(r[i]) for r in rows]) for i, c in enumerate(columns)]
    # Each cell has one space of padding a side; columns are separated by one border.
    frame = 3 * len(columns) + 1
    identifying = [bool(IDENTIFYING.search(c)) or c in keep_whole for c in columns]
    pairs = zip(natural, identifying, strict=True)
    minimum = [n if ident else min(n, FOLDED_MIN) for n, ident in pairs]
    whole = sum(minimum) + frame <= console.width
    if not fit:
        console.width = max(sum(natural) + frame, 20)
        whole = True
    table = Table()
    columns = [visible(c) for c in columns]
    for name, ident, least in zip(columns, identifying, minimum, strict=True):
        if whole and ident:
            table.add_column(name, no_wrap=True, min_width=least)
        else:
            table.add_column(name, overflow="fold", min_width=least if whole else None)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    return whole


def print_table(
    columns: list[str], rows: list[list[str]], keep_whole: tuple[str, ...] = ()
) -> None:
    """The one table renderer of the CLI. keep_whole: more columns that are identifiers
    (besides *_arn, *_name, *_id), never cut."""
    fit = sys.stdout.isatty()
    console = Console(markup=False, emoji=False, highlight=False)
    if not render_table(console, columns, rows, fit=fit, keep_whole=keep_whole):
        click.echo(NARROW_HINT, err=True)
