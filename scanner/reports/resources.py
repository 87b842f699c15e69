"""The resource view's rows: each resource as the page's script takes it (the read model's
rows shaped: times as ISO text, long text cut, the console's page where it has one). No SQL
here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from scanner.reports.console import console_page
from scanner.reports.data import iso

# A resource of the resource view, as the page's script takes it (in this order).
RESOURCE_COLUMNS = (
    "arn",
    "type",
    "name",
    "account_id",
    "region",
    "group",
    "version",
    "approval",
    "status",
    "created",
    "kms_key_id",
    "description",
    "last_seen_at",
    "console",
    "history",
)
# A kind's resource type in its ARN, for its page in the AWS console (scanner.reports.console)
CONSOLE_KINDS = {"endpoint": "endpoint", "endpoint_config": "endpoint-config", "model": "model"}
TEXT = 500  # characters of a description or a changed value the page shows


def _short(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, bool)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= TEXT else text[: TEXT - 1] + "…"


def resources(rows: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """Each resource as a list of RESOURCE_COLUMNS, its times as ISO text, long text cut."""
    for row in rows:
        item = {c: iso(row[c]) for c in RESOURCE_COLUMNS if c not in ("console", "history")}
        item["console"] = console_page(row["arn"], CONSOLE_KINDS.get(row["type"], ""), row["name"])
        item["description"] = _short(item["description"])
        item["history"] = [
            [iso(h["at"]), h["change"], h["field"], _short(h["old"]), _short(h["new"]),
             h["scan_id"], h["event_id"]]
            for h in row["history"]
        ]  # fmt: skip
        yield [item[c] for c in RESOURCE_COLUMNS]
