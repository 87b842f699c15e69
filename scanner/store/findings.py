"""load for findings: merge one evaluation's results into `findings`, with their lifecycle.

An evaluation judges the inventory of some (account, region) pairs (its scope) with some
rules. For each result: a finding that did not exist is `new`; one that had passed is
`regressed`; one whose status, severity, message or waiver changed is `changed`. Every
open finding of those rules in that scope that the evaluation did not report again has
passed: `resolved`. Findings outside the scope (a region that failed its scan, a rule
not run) are left exactly as they were. Each change is also an event in
`finding_events`, so a report can tell what changed in any scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)

from scanner.store.db import driver_connection, driver_errors, type_processor
from scanner.store.schema import Finding, FindingEvent
from scanner.store.scope import Scope

GONE = "resolved: the rule passes now, or the resource left the inventory"


class Judged(NamedTuple):
    """One failing, unjudgeable or waived (rule, resource): what the evaluator hands over.
    A named tuple (made in C: an evaluation makes hundreds of thousands); `_replace` for a
    changed copy."""

    rule_id: str
    resource_arn: str
    account_id: str
    region: str
    resource_type: str
    severity: str
    status: str  # fail, error, waived
    message: str
    waiver_reason: str | None = None
    waiver_owner: str | None = None
    waiver_expires: date | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.resource_arn, self.account_id)


@dataclass
class MergeCounts:
    new: int = 0
    regressed: int = 0
    changed: int = 0
    resolved: int = 0
    open: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


_COMPARED = ("status", "severity", "message", "waiver_reason", "waiver_owner", "waiver_expires")
# The columns of a new finding: its key, place and type, what is compared, then _FIRST.
_FIRST = (
    "scan_id",
    "first_seen_at",
    "first_seen_scan_id",
    "last_seen_at",
    "opened_scan_id",
    "regressions",
)
_NEW = ("rule_id", "resource_arn", "account_id", "region", "resource_type", *_COMPARED, *_FIRST)


class Merge:
    """One evaluation's results merged into `findings`, a batch at a time (`add`), then
    `finish`. A batch holds every result of its rules for a span of resource keys (the
    judge's pages), or for the whole scope: the findings of those rules in that span that
    it does not report again are resolved, and nothing outside it is read or changed, so
    memory holds one batch whatever the inventory's size.

    `touch_seen`: a scan's evaluation stamps every open finding of its scope as seen by
    it; a re-judge of the stored inventory (no new scan) does not. `event_id`: the
    registry event whose refresh this evaluation judges (its `finding_events` say so)."""

    def __init__(
        self,
        conn: Connection,
        scan_id: int,
        at: datetime,
        scope: Scope,
        *,
        touch_seen: bool = True,
        event_id: int | None = None,
    ) -> None:
        self.conn = conn
        self.scan_id = scan_id
        self.at = at
        self.scope = scope
        self.touch_seen = touch_seen
        self.event_id = event_id
        self.counts = MergeCounts()
        self.rules: set[str] = set()
        self._scope_pairs: set[tuple[str, str]] | None = None
        self._held: dict[frozenset[str], bool] = {}  # rules -> any finding before the merge
        self._stamp = _copy_text(conn, at) if conn.dialect.driver == "psycopg" else at

    def add(
        self,
        rule_ids: Iterable[str],
        results: Iterable[Judged],
        after: str | None = None,
        upto: str | None = None,
        *,
        spanned: bool = False,
    ) -> None:
        """Merge the results of `rule_ids`; `spanned`: for resource keys in (after, upto]
        alone (None: unbounded on that side)."""
        rule_ids = list(rule_ids)
        if not rule_ids:
            return
        self.rules.update(rule_ids)
        conn, scan_id, at, event_id, counts = (
            self.conn,
            self.scan_id,
            self.at,
            self.event_id,
            self.counts,
        )
        where: ColumnElement[bool] = Finding.rule_id.in_(rule_ids)
        spanned = spanned and self.scope.resource is None  # one resource: its key in SQL
        if spanned:
            # The scope is checked here, not in SQL: with it there, the databases read every
            # finding of the scope through its index for each span, instead of the span's
            # through the (rule, resource) key.
            in_scope = self._pairs()
            if after is not None:
                where = and_(where, Finding.resource_arn > after)
            if upto is not None:
                where = and_(where, Finding.resource_arn <= upto)
        else:
            where = and_(where, self.scope.covers(Finding))
        # key -> (id, severity, (status, severity, message, waiver...)): compared as tuples
        existing: dict[tuple[str, str, str], tuple[Any, Any, tuple]] = {}
        if not spanned or self._held_before(rule_ids):
            existing = {
                (r[1], r[2], r[3]): (r[0], r[5], tuple(r[4:-1]))
                for r in conn.execute(
                    select(
                        Finding.id,
                        Finding.rule_id,
                        Finding.resource_arn,
                        Finding.account_id,
                        *(getattr(Finding, c) for c in _COMPARED),
                        Finding.region,
                    ).where(where)
                )
                if not spanned or (r[3], r[-1]) in in_scope
            }
        inserts, updates, events, seen = [], [], [], set()
        by_status = counts.by_status
        compared = attrgetter(*_COMPARED)  # a tuple, in the order of the query's columns
        stamp = self._stamp  # `at`, as the inserts take it
        first = (scan_id, stamp, scan_id, stamp, scan_id, 0)  # a new finding's _FIRST
        for judged in results:
            key = (judged.rule_id, judged.resource_arn, judged.account_id)
            if key in seen:
                continue  # one finding per rule, resource and account: the first result holds
            seen.add(key)
            by_status[judged.status] = by_status.get(judged.status, 0) + 1
            old = existing.get(key)
            values = compared(judged)
            if old is None:
                inserts.append((*key, judged.region, judged.resource_type, *values, *first))
                continue
            finding_id, _, old_values = old
            if old_values == values:
                counts.open += 1
                continue
            if old_values[0] == "pass":
                change = "regressed"
                counts.regressed += 1
            else:
                change = "changed"
                counts.changed += 1
            # Bind names must differ from column names in an executemany UPDATE.
            updates.append(
                {"finding_id": finding_id, "regress": int(change == "regressed")}
                | {f"v_{c}": v for c, v in zip(_COMPARED, values, strict=True)}
            )
            events.append(
                _event(
                    finding_id, scan_id, at, change, judged.status, judged.severity, judged.message
                )
                | {"event_id": event_id}
            )
        counts.new += len(inserts)
        resolved = [
            (finding_id, severity)
            for k, (finding_id, severity, old_values) in existing.items()
            if k not in seen and old_values[0] != "pass"
        ]
        counts.resolved += len(resolved)

        if inserts:
            _insert_many(conn, Finding.__table__, _NEW, inserts)
            self._new_events(where)
        if updates:
            conn.execute(
                update(Finding)
                .where(Finding.id == bindparam("finding_id"))
                .values(
                    **{c: bindparam(f"v_{c}") for c in _COMPARED},
                    regressions=Finding.regressions + bindparam("regress"),
                ),
                updates,
            )
            regressed = [u["finding_id"] for u in updates if u["regress"]]
            for chunk in _chunks(regressed):
                conn.execute(
                    update(Finding)
                    .where(Finding.id.in_(chunk))
                    .values(opened_scan_id=scan_id, resolved_at=None, resolved_scan_id=None)
                )
        for chunk in _chunks([finding_id for finding_id, _ in resolved]):
            conn.execute(
                update(Finding)
                .where(Finding.id.in_(chunk))
                .values(
                    status="pass",
                    message=GONE,
                    resolved_at=at,
                    resolved_scan_id=scan_id,
                    waiver_reason=None,
                    waiver_owner=None,
                    waiver_expires=None,
                )
            )
        events += [
            _event(i, scan_id, at, "resolved", "pass", sev, GONE) | {"event_id": event_id}
            for i, sev in resolved
        ]
        if events:
            conn.execute(insert(FindingEvent), events)

    def _held_before(self, rule_ids: list[str]) -> bool:
        """Whether the scope held any finding of these rules before this merge, asked at
        their first batch (before it inserts). Their spans follow each other without
        overlapping, so when it held none, no span of theirs has a finding to read: a first
        evaluation does not search, page after page, the findings it has just inserted
        (PostgreSQL, whose statistics still say the table is empty, scanned them all)."""
        rules = frozenset(rule_ids)
        if rules not in self._held:
            query = select(
                exists().where(Finding.rule_id.in_(sorted(rules)), self.scope.covers(Finding))
            )
            self._held[rules] = bool(self.conn.execute(query).scalar())
        return self._held[rules]

    def _pairs(self) -> set[tuple[str, str]]:
        if self._scope_pairs is None:
            self._scope_pairs = {(a, r) for a, r in self.conn.execute(self.scope.pairs())}
        return self._scope_pairs

    def _new_events(self, where: ColumnElement[bool]) -> None:
        """The `new` events of the findings a batch just inserted, straight from their rows
        (RETURNING with executemany is not portable): those of its rules and span first
        seen now. Page by page, while the judge goes on (scanner.app.judge_worker), not
        all at the end."""
        scan_id, at = self.scan_id, self.at
        self.conn.execute(
            insert(FindingEvent).from_select(
                ["finding_id", "scan_id", "at", "change", "status", "severity", "message"]
                + ["event_id"],
                select(
                    Finding.id,
                    literal(scan_id, Integer),
                    literal(at, Finding.first_seen_at.type),
                    literal("new", String),
                    Finding.status,
                    Finding.severity,
                    Finding.message,
                    literal(self.event_id, FindingEvent.event_id.type),
                ).where(where, Finding.first_seen_scan_id == scan_id, Finding.first_seen_at == at),
            )
        )

    def finish(self) -> MergeCounts:
        """The scan's mark on every open finding it judged."""
        if not self.rules:
            return self.counts
        conn, scan_id, at = self.conn, self.scan_id, self.at
        where = and_(Finding.rule_id.in_(sorted(self.rules)), self.scope.covers(Finding))
        # Every open finding in scope was judged by this evaluation (the rest just resolved);
        # the ones inserted just now already say so.
        if self.touch_seen:
            conn.execute(
                update(Finding)
                .where(
                    where,
                    Finding.status != "pass",
                    or_(Finding.scan_id != scan_id, Finding.last_seen_at != at),
                )
                .values(scan_id=scan_id, last_seen_at=at)
            )
        return self.counts


def _insert_many(conn: Connection, table, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Insert many rows, each a value per column of `columns`: COPY on PostgreSQL (a third
    of the client's CPU of executemany, and far less work for the server); on SQLite the
    driver's own executemany of SQLAlchemy's INSERT, with each value converted by its
    column type's own bind processor (what SQLAlchemy would store, byte for byte, without
    compiling its parameters row by row: most of the time of a first evaluation's
    inserts); SQLAlchemy's executemany elsewhere, or where a column left out has a default
    SQLAlchemy would fill."""
    columns = list(columns)
    if conn.dialect.driver == "psycopg":
        cursor = driver_connection(conn).cursor()  # the same transaction
        try:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    defaulted = [c for c in table.c if c.name not in columns and c.default is not None]
    if conn.dialect.driver != "pysqlite" or defaulted:
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    statement = insert(table).compile(dialect=conn.dialect, column_keys=columns)
    order = list(statement.positiontup or ())  # the table's order
    if sorted(order) != sorted(columns):  # never expected: say so, don't guess
        raise RuntimeError(f"INSERT INTO {table.name}: parameters {order}, rows {columns}")
    with driver_errors(conn, str(statement), None, many=True):
        cursor = driver_connection(conn).cursor()  # the same transaction
        try:
            cursor.executemany(str(statement), _bound(conn.dialect, table, columns, order, rows))
        finally:
            cursor.close()


def _copy_text(conn: Connection, value: Any) -> str:
    """A value as COPY's text format takes it, made once by psycopg's own text dumper: the
    merge's timestamp is in every new finding twice, and dumping it row by row took two
    thirds of COPY's CPU (0.67 s of 0.98 s for 183,336 findings)."""
    from psycopg.adapt import PyFormat

    raw = driver_connection(conn)
    dumper = raw.adapters.get_dumper(type(value), PyFormat.TEXT)(type(value), raw)
    return bytes(dumper.dump(value)).decode("ascii")


def _bound(dialect, table, columns: list[str], order: list[str], rows: Sequence[Sequence]):
    """Each row's values as the driver takes them, in the statement's `order`: through the
    bind processor of each column's type for this dialect (timestamps and dates as text,
    JSON serialised), as SQLAlchemy's execute would. A value shared by the rows (a merge's
    timestamp) is converted once: the last value of each column is kept, by identity."""
    at = [columns.index(name) for name in order]
    processors = [
        (i, process)
        for i, name in enumerate(order)
        if (process := type_processor(table.c[name].type, dialect, "bind"))
    ]
    last: list[Any] = [_UNSET] * len(order)
    done: list[Any] = [None] * len(order)
    for row in rows:
        values = [row[i] for i in at]
        for i, process in processors:
            value = values[i]
            if value is not last[i]:
                last[i], done[i] = value, process(value)
            values[i] = done[i]
        yield values


_UNSET = object()


def _event(finding_id, scan_id, at, change, status, severity, message) -> dict[str, Any]:
    return {
        "finding_id": finding_id,
        "scan_id": scan_id,
        "at": at,
        "change": change,
        "status": status,
        "severity": severity,
        "message": message,
    }


def _chunks(ids: list[int], size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
