"""inventory: write one region's inventory rows, with their history, inside its promotion.

What was seen replaces the region's rows of a kind (`replace`, driven by scanner.kinds): an
unchanged row only has its seen markers moved, a new or changed one is rewritten with its
children, keeping when it was first seen, and `resource_changes` records it as added or
field by field. What was not seen is archived to `removed_resources`, recorded as removed
and deleted (`prune_unseen`). The functions take the promotion's connection and never
commit: scanner.store.promote holds the transaction, so a region is stored whole or not at
all. `table_rows` turns transform's rows into what a table takes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute

from scanner import transform
from scanner.kinds import KINDS, Kind
from scanner.stages import RegionOutcome
from scanner.store.schema import (
    Base,
    Endpoint,
    EndpointConfig,
    Model,
    ModelCard,
    ModelPackage,
    ModelPackageGroup,
    RemovedResource,
    ResourceChange,
    UtcDateTime,
    model,
)

# A table of the inventory (one row per resource), and its child tables with their rows.
Inventoried = (
    type[ModelPackage]
    | type[ModelPackageGroup]
    | type[Model]
    | type[EndpointConfig]
    | type[Endpoint]
    | type[ModelCard]
)
Row = dict[str, Any]
Children = Sequence[tuple[type[Base], list[Row]]]


def _seen(
    rows: list[Row], scan_id: int, first: dict[str, tuple[datetime, int]], key: str, at: datetime
) -> None:
    for row in rows:
        first_at, first_scan = first.get(row[key], (at, scan_id))
        row.update(
            first_seen_at=first_at,
            first_seen_scan_id=first_scan,
            last_seen_at=at,
            last_seen_scan_id=scan_id,
        )


def table_rows(table: type[Base], rows: Sequence[Row]) -> list[Row]:
    """Rows as the table takes them: executemany needs every row to name the same columns
    (an absent member is NULL); members with no column yet stay in `raw` only; ISO 8601
    text becomes a timestamp."""
    columns = table.__table__.columns
    timestamps = {c.name for c in columns if isinstance(c.type, (DateTime, UtcDateTime))}
    keys = {k for row in rows for k in row if k in columns}
    return [
        {
            k: datetime.fromisoformat(v) if k in timestamps and isinstance(v, str) else v
            for k in keys
            for v in (row.get(k),)
        }
        for row in rows
    ]


def _matching(
    model: type[Base], key: str, keys: Sequence[str] | Select, account_id: str
) -> ColumnElement[bool]:
    """Rows of `model` whose `key` is in `keys`, as seen from `account_id` where it says."""
    clause = getattr(model, key).in_(keys)
    if "account_id" in model.__table__.c:
        clause = clause & (model.__table__.c.account_id == account_id)
    return clause


# Statements of a region's promotion, built once per table with bound parameters (a scan
# of many small regions built each anew per region, at more cost than running it): the
# rows of `model` whose `key` is one of b_keys, as seen from b_account_id where it says.
@functools.cache
def _keyed(model: type[Base], key: str) -> ColumnElement[bool]:
    clause = getattr(model, key).in_(bindparam("b_keys", expanding=True))
    if "account_id" in model.__table__.c:
        clause = clause & (model.__table__.c.account_id == bindparam("b_account_id"))
    return clause


def _these(model: type[Base], keys: list[str], account_id: str) -> dict[str, Any]:
    """The parameters of `_keyed(model, ...)`."""
    if "account_id" in model.__table__.c:
        return {"b_keys": keys, "b_account_id": account_id}
    return {"b_keys": keys}


@functools.cache
def _stored(table: Inventoried, key: str) -> Select:
    columns = (table.first_seen_at, table.first_seen_scan_id, table.content_hash)
    return select(getattr(table, key), *columns).where(_keyed(table, key))


@functools.cache
def _stored_json(table: Inventoried, key: str) -> Select:
    columns = table.__table__.c  # a kind whose history compares no tags may have none
    tags = columns["tags"] if "tags" in columns else null().label("tags")
    return select(getattr(table, key), table.raw, tags).where(_keyed(table, key))


@functools.cache
def _seen_again(model: type[Base], key: str) -> Any:
    return update(model).where(_keyed(model, key))


@functools.cache
def _rewritten(model: type[Base], key: str) -> Any:
    return delete(model).where(_keyed(model, key))


@functools.cache
def _insert(model: type[Base]) -> Any:
    return insert(model)


def _replace(
    conn: Connection,
    table: Inventoried,
    key_column: InstrumentedAttribute[str],
    rows: list[Row],
    children: Children,
    scan_id: int,
    outcome: RegionOutcome,
    at: datetime,
    resource_type: str,
    event_id: int | None = None,
) -> int:
    """Store these rows as seen by this scan (or by the event `event_id`, amending the
    scan's inventory), keeping when each was first seen.

    A row whose content hash is unchanged is not rewritten (nor are its children): only its
    seen markers move. A new or changed one replaces the stored row and its children, and
    `resource_changes` records it as added, or each field that changed. Returns how many
    rows are new to the inventory."""
    key = key_column.key
    account_id = outcome.account_id
    keys = [r[key] for r in rows]
    stored = {r[0]: r for r in conn.execute(_stored(table, key), _these(table, keys, account_id))}
    same = [r[key] for r in rows if r[key] in stored and stored[r[key]][3] == r["content_hash"]]
    if same:
        seen = {"last_seen_at": at, "last_seen_scan_id": scan_id, "last_event_id": event_id}
        conn.execute(_seen_again(table, key), {**_these(table, same, account_id), **seen})
        for child, _ in children:
            these = _these(child, same, account_id)
            conn.execute(_seen_again(child, key), {**these, "last_seen_scan_id": scan_id})
    unchanged = set(same)
    rows = [r for r in rows if r[key] not in unchanged]
    if not rows:
        return 0
    # only a stored row has a row and children to replace (a new one has nothing to delete),
    # and stored JSON for history to compare: read (and parsed) only for the rows that
    # changed, not for every row seen again unchanged
    replaced = [r[key] for r in rows if r[key] in stored]
    before_of: dict[str, Any] = {}
    if replaced:
        these = _these(table, replaced, account_id)
        before_of = {r[0]: r for r in conn.execute(_stored_json(table, key), these)}
    history = []
    for row in rows:
        base = {
            "scan_id": scan_id,
            "detected_at": at,
            "resource_type": resource_type,
            "resource_arn": row[key],
            "account_id": account_id,
            "region": outcome.region,
            "event_id": event_id,
        }
        before = before_of.get(row[key])
        if before is None:
            history.append({**base, "change": "added", "field": None, "old": None, "new": None})
            continue
        view = transform.history_view
        for field_name, old, new in transform.changes(
            view(resource_type, before.raw or {}, before.tags),
            view(resource_type, row["raw"], row.get("tags")),
        ):
            history.append(
                {**base, "change": "modified", "field": field_name, "old": old, "new": new}
            )
    first = {k: (v[1], v[2]) for k, v in stored.items()}
    _seen(rows, scan_id, first, key, at)
    for row in rows:
        row["last_event_id"] = event_id
    rewritten = [r[key] for r in rows]
    if replaced:
        for child, _ in children:
            conn.execute(_rewritten(child, key), _these(child, replaced, account_id))
        conn.execute(_rewritten(table, key), _these(table, replaced, account_id))
    conn.execute(_insert(table), table_rows(table, rows))
    for child, child_rows in children:
        child_rows = [c for c in child_rows if c[key] not in unchanged]
        if child_rows:
            for row in child_rows:
                row["last_seen_scan_id"] = scan_id
            conn.execute(_insert(child), table_rows(child, child_rows))
    if history:
        conn.execute(_insert(ResourceChange), history)
    return len(set(rewritten) - set(stored))


def replace(
    conn: Connection,
    kind: Kind,
    scan_id: int,
    outcome: RegionOutcome,
    documents: Sequence[dict[str, Any]],
    at: datetime,
    event_id: int | None = None,
) -> int:
    """Store these staged documents of `kind` as seen (by the scan, or by the event
    `event_id`); returns how many are new."""
    built = [
        transform.rows_by_table(kind, d, outcome.account_id, outcome.region) for d in documents
    ]
    table = cast(Inventoried, model(kind.table))
    children: Children = [
        (model(child), [row for b in built for row in b[child]]) for child in kind.children
    ]
    rows = [row for b in built for row in b[kind.table]]
    key = getattr(table, kind.key)
    return _replace(conn, table, key, rows, children, scan_id, outcome, at, kind.name, event_id)


@functools.cache
def _count_unseen(table: Inventoried) -> Select:
    """Built once per table: every region's promotion counts (and mostly finds none)."""
    return (
        select(func.count())
        .select_from(table)
        .where(
            (table.account_id == bindparam("b_account_id"))
            & (table.region == bindparam("b_region"))
            & (table.last_seen_scan_id != bindparam("b_scan_id"))
        )
    )


def _prune(
    conn: Connection,
    scan_id: int,
    outcome: RegionOutcome,
    kind: Kind,
    at: datetime,
    which: Any = None,
    event_id: int | None = None,
) -> int:
    """Archive and delete the region's rows of `kind` this scan did not see (or those
    `which` picks, for an event saying they are gone)."""
    table = cast(Inventoried, model(kind.table))
    children = tuple(model(child) for child in kind.children)
    key_column = getattr(table, kind.key)
    resource_type = kind.name
    stale = (table.account_id == outcome.account_id) & (table.region == outcome.region)
    stale = stale & (table.last_seen_scan_id != scan_id if which is None else which(key_column))
    # Counted first: an INSERT ... SELECT's rowcount is -1 on some drivers (psycopg).
    if which is None:
        region = {
            "b_account_id": outcome.account_id,
            "b_region": outcome.region,
            "b_scan_id": scan_id,
        }
        archived = conn.execute(_count_unseen(table), region).scalar_one()
    else:
        archived = conn.execute(select(func.count()).select_from(table).where(stale)).scalar_one()
    if not archived:  # the usual re-scan: nothing left, so nothing to archive or delete
        return 0
    columns = [
        "resource_type",
        "arn",
        "account_id",
        "region",
        "first_seen_at",
        "last_seen_at",
        "last_seen_scan_id",
        "removed_at",
        "removed_scan_id",
        "raw",
    ]
    conn.execute(
        insert(RemovedResource).from_select(
            columns,
            select(
                literal(resource_type),
                key_column,
                table.account_id,
                table.region,
                table.first_seen_at,
                table.last_seen_at,
                table.last_seen_scan_id,
                literal(at, type_=RemovedResource.removed_at.type),
                literal(scan_id),
                table.raw,
            ).where(stale),
        )
    )
    conn.execute(
        insert(ResourceChange).from_select(
            [
                "scan_id",
                "detected_at",
                "resource_type",
                "resource_arn",
                "account_id",
                "region",
                "change",
                "event_id",
            ],
            select(
                literal(scan_id),
                literal(at, type_=ResourceChange.detected_at.type),
                literal(resource_type),
                key_column,
                table.account_id,
                table.region,
                literal("removed"),
                literal(event_id, type_=ResourceChange.event_id.type),
            ).where(stale),
        )
    )
    stale_keys = select(key_column).where(stale)
    for child in children:
        conn.execute(
            delete(child).where(_matching(child, key_column.key, stale_keys, outcome.account_id))
        )
    conn.execute(delete(table).where(stale))
    return archived


def prune_unseen(conn: Connection, scan_id: int, outcome: RegionOutcome, at: datetime) -> int:
    """Archive and delete the region's rows of every kind this scan did not see; returns
    how many rows left the inventory."""
    return sum(_prune(conn, scan_id, outcome, kind, at) for kind in KINDS)


def remove(
    conn: Connection,
    kind: Kind,
    scan_id: int,
    outcome: RegionOutcome,
    arn: str,
    at: datetime,
    event_id: int,
) -> int:
    """Archive and delete one resource an event says is gone, as the scan's prune would
    (recorded as removed, by that event); returns 1 if it was stored, else 0."""
    return _prune(conn, scan_id, outcome, kind, at, lambda key: key == arn, event_id)
