"""HTML: one self-contained page (no network: inline CSS and script, no fonts, a CSP that
forbids fetching anything) from Jinja2 templates with autoescape on.

Templates come from reports/templates/ (scanner/_data/templates in the wheel); a folder in
the config's `[report] templates` overrides any of them by name. The findings go into a
`<script type="application/json">` block, written in chunks as the database yields them,
with `<`, `>`, `&` and U+2028/2029 escaped so text from AWS cannot close the tag; the
page's script builds the table from it with textContent, a page of rows at a time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from importlib import resources
from itertools import chain, islice
from pathlib import Path
from typing import Any, TextIO

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from scanner import __version__
from scanner.errors import ConfigError
from scanner.reports.console import console_page
from scanner.reports.data import CHANGES, COLUMNS, SEVERITIES, STATUSES, ReportData
from scanner.reports.resources import RESOURCE_COLUMNS
from scanner.reports.svg import trend_chart
from scanner.stages import Status

TEMPLATE = "report.html"
CHUNK = 500  # findings per written piece
FIRST_PAGE = 100  # findings rendered in the page itself, for readers without JavaScript


def templates_dir() -> Path:
    """Templates travel inside the wheel; in a checkout they sit in reports/templates."""
    packaged = resources.files("scanner") / "_data" / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "reports" / "templates"


def environment(user_templates: str | None = None) -> Environment:
    loaders = []
    if user_templates:
        if not Path(user_templates).is_dir():
            raise ConfigError(
                f"config error: 'report.templates' {user_templates!r} is not a directory"
            )
        loaders.append(FileSystemLoader(user_templates))
    loaders.append(FileSystemLoader(str(templates_dir())))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def script_json(value: Any) -> Markup:
    """JSON safe inside a <script> element: nothing in it can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return Markup(text)


def minute(value: str | None) -> str:
    """An ISO 8601 UTC time as people read it: to the minute, the zone said."""
    if not value:
        return ""
    return value.replace("T", " ")[:16] + " UTC"


def wbr(value: str | None) -> Markup:
    """An identifier (an ARN) that may wrap after its separators only, never mid-token."""
    text = str(escape(value or ""))
    for sep in (":", "/"):
        text = text.replace(sep, sep + "<wbr>")
    return Markup(text)


def _rows(findings: Iterable[dict[str, Any]], counter: list[int]) -> Iterator[Markup]:
    """The findings as a JSON array of arrays (COLUMNS order), in pieces; `counter` counts
    them as they go."""

    def counted() -> Iterator[list[Any]]:
        for finding in findings:
            counter[0] += 1
            yield [finding[c] for c in COLUMNS]

    return _pieces(counted())


def _pieces(rows: Iterable[list[Any]]) -> Iterator[Markup]:
    """Rows (lists) as one JSON array, in pieces of CHUNK rows."""
    yield Markup("[")
    batch: list[list[Any]] = []
    first = True
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield Markup(("" if first else ",") + script_json(batch)[1:-1])
            first, batch = False, []
    if batch:
        yield Markup(("" if first else ",") + script_json(batch)[1:-1])
    yield Markup("]")


def write(
    out: TextIO,
    data: ReportData,
    findings: Iterable[dict[str, Any]],
    *,
    templates: str | None = None,
    resources: Iterable[list[Any]] | None = None,
) -> int:
    env = environment(templates)
    env.filters["script_json"] = script_json
    env.filters["minute"] = minute
    env.filters["wbr"] = wbr
    env.globals["console_page"] = console_page
    template = env.get_template(TEMPLATE)
    counter = [0]
    findings = iter(findings)
    first = list(islice(findings, FIRST_PAGE))  # shown without JavaScript too
    context = {
        "data": data,
        "summary": data.summary(),
        "scan": data.scan,
        "rules": data.rules,
        "coverage": data.coverage,
        "failed_regions": [c for c in data.coverage if c["status"] != Status.COMPLETE],
        "severities": SEVERITIES,
        "statuses": STATUSES,
        "changes": CHANGES,
        "columns": COLUMNS,
        "findings_json": _rows(chain(first, findings), counter),
        "first_rows": first,
        "resources_json": _pieces(resources or ()),
        "resource_columns": RESOURCE_COLUMNS,
        "trend_svg": trend_chart(data.trend, SEVERITIES),
        "nonce": secrets.token_urlsafe(16),
        "version": __version__,
    }
    for piece in template.generate(**context):
        out.write(piece)
    return counter[0]
