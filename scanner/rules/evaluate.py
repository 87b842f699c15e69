"""judge: run the rules in force over the stored inventory; the judged results, waivers
applied. Persisting them (scanner.store.findings keeps their lifecycle) is the application
layer's (scanner.app.judging): the judge only reads.

An evaluation belongs to a scan (the inventory it judges) and covers a scope: the
(account, region) pairs whose inventory that scan completed. Pairs outside it (a region
that failed) keep their findings untouched. Re-judging the same inventory with the same
rules changes nothing, so `mpscan evaluate`, `report` and `check` can re-judge at will:
a change of rules, parameters or waivers takes effect without a new scan.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from json.scanner import c_make_scanner  # type: ignore[attr-defined]  # C, untyped
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Text, cast, select

from scanner import kinds
from scanner.rules.base import ENDPOINT, GROUP, PACKAGE, error
from scanner.rules.catalog import ActiveRule, Catalog, Waiver
from scanner.store import user_sql
from scanner.store.db import driver_connection, driver_errors, type_processor
from scanner.store.findings import Judged, MergeCounts
from scanner.store.read import deployed
from scanner.store.schema import ModelPackageGroup, model
from scanner.store.scope import Scope

log = logging.getLogger(__name__)

# Every kind's table, in the kinds' order: packages are judged before the endpoints that
# serve them (DEP-003 reads their findings of this evaluation).
TABLES: dict[str, Any] = {k.name: model(k.table) for k in kinds.KINDS}  # Inventoried
KEYS = {k.name: k.key for k in kinds.KINDS}


@dataclass
class Evaluation:
    scan_id: int | None
    scope: Scope
    rules: list[str]
    counts: MergeCounts = field(default_factory=MergeCounts)
    rule_errors: dict[str, str] = field(default_factory=dict)  # a custom rule that broke
    stale_waivers: list[Waiver] = field(default_factory=list)  # matched nothing
    expired_waivers: list[Waiver] = field(default_factory=list)  # matched, but expired
    resources: int = 0
    seconds: float = 0.0
    at: datetime | None = None  # when it judged (its finding_events' time)

    @property
    def judged_rules(self) -> list[str]:
        """The rules whose verdicts are whole: the enabled ones that did not break."""
        return [r for r in self.rules if r not in self.rule_errors]


BATCH = 2000  # rows taken from the driver at a time


def _resources(conn, resource_type: str, rules: list[ActiveRule], scope) -> Iterator[dict]:
    table = TABLES[resource_type]
    wanted = {KEYS[resource_type], "account_id", "region"}
    for active in rules:
        wanted.update(active.rule.reads)
    names = sorted(wanted)
    columns = [table.__table__.c[n] for n in names]
    # JSON columns come as their text and are parsed here: psycopg's own JSONB loader costs
    # several times more CPU than json.loads on the same text (see benchmarks/README.md).
    parsed = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
    query = select(*(cast(c, Text) if isinstance(c.type, JSON) else c for c in columns))
    query = query.where(scope.covers(table))
    if resource_type == GROUP:
        query = query.where(ModelPackageGroup.shared.is_(False))  # the owner's policy
    for row in _rows(conn, query):
        values = list(row)
        for i in parsed:
            if values[i] is not None:
                values[i] = _parse_json(values[i])
        yield dict(zip(names, values, strict=True))


def _rows(conn, query) -> Iterator:
    """The query's rows as a stream, not a list, from the driver's own cursor in the same
    transaction, each value converted as SQLAlchemy's rows would convert it (its type's
    result processor, where it has one: SQLite's timestamps and booleans), without making
    SQLAlchemy's rows. On PostgreSQL the server sends the rows as it makes them (psycopg's
    stream, a chunk of BATCH rows at a time), so it turns the next rows' JSON into text
    while these are judged, instead of waiting for each FETCH of a server-side cursor;
    nothing else may run on the connection until the stream is read (psycopg holds its
    lock). SQLAlchemy's own rows for other drivers, for psycopg where it cannot stream in
    chunks, and wherever SQLAlchemy would convert a parameter."""
    dialect = conn.dialect
    stream = dialect.driver == "psycopg" and _chunked_stream()
    if stream or dialect.driver == "pysqlite":
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        if not any(type_processor(b.type, dialect, "bind") for b in compiled.binds.values()):
            converted = [
                (i, process)
                for i, c in enumerate(query.selected_columns)
                if (process := type_processor(c.type, dialect, "result"))
            ]
            sql, params = str(compiled), compiled.params
            with driver_errors(conn, sql, params):
                cursor = driver_connection(conn).cursor()  # the same transaction
                try:
                    if stream:
                        rows = cursor.stream(sql, params, size=BATCH)
                    else:
                        rows = cursor.execute(sql, [params[name] for name in compiled.positiontup])
                    if not converted:
                        yield from rows
                        return
                    for row in rows:
                        values = list(row)
                        for i, process in converted:
                            values[i] = process(values[i])
                        yield values
                finally:
                    cursor.close()
            return
    result = conn.execute(query.execution_options(yield_per=BATCH))
    for batch in result.partitions():  # the driver's rows, without a call per row
        yield from batch


@cache
def _chunked_stream() -> bool:
    """psycopg 3.2+ on libpq 17+ streams rows in chunks (single rows before: slower)."""
    try:
        from psycopg import capabilities
    except ImportError:
        return False
    return capabilities.has_stream_chunked()


_scan_json = c_make_scanner(json.JSONDecoder()) if c_make_scanner else None


def _parse_json(text: str):
    """json.loads without its per-call overhead (a third of the time on small documents):
    the C scanner it ends in, on text the database wrote; json.loads for anything else."""
    if _scan_json is not None:
        try:
            value, end = _scan_json(text, 0)
            if end == len(text):
                return value
        except (StopIteration, ValueError):
            pass
    return json.loads(text)


def _context(conn, resource_type: str, scope, severe: dict[str, list[str]]):
    """What a kind's rules read beyond its rows (scanner.store.read.deployed), or None."""
    if resource_type == PACKAGE:
        return deployed.documenting(conn, scope)
    if resource_type == ENDPOINT:
        return deployed.served(conn, scope, severe)
    return None


def _judge_code(conn, catalog: Catalog, scope, now: datetime, evaluation: Evaluation):
    severe: dict[str, list[str]] = {}  # package ARN -> its unwaived critical/high failures
    waivers = [w for w in catalog.waivers if w.active(now.date())]
    for resource_type in TABLES:
        rules = [r for r in catalog.enabled(resource_type) if r.rule.check is not None]
        if not rules:
            continue
        enrich = _context(conn, resource_type, scope, severe)
        # What each rule's verdicts need, looked up once, not once per resource.
        checks = [
            (r.rule.check, {**r.params, "now": now}, r.id, r.severity)
            for r in rules
            if r.rule.check is not None
        ]
        key = KEYS[resource_type]
        for resource in _resources(conn, resource_type, rules, scope):
            evaluation.resources += 1
            if enrich is not None:
                resource.update(enrich(resource))
            for check, params, rule_id, severity in checks:
                try:
                    result = check(resource, params)
                except Exception as exc:  # data no rule foresaw: that finding's error, not a crash
                    log.debug("rule %s on %s", rule_id, resource[key], exc_info=True)
                    result = error(f"the rule could not judge this resource: {exc!r}")
                if result is not None:
                    if (
                        resource_type == PACKAGE
                        and result.status == "fail"
                        and severity in deployed.SEVERE
                        and not any(w.matches(rule_id, resource[key]) for w in waivers)
                    ):
                        severe.setdefault(resource[key], []).append(rule_id)
                    yield Judged(
                        rule_id,
                        resource[key],
                        resource["account_id"],
                        resource["region"],
                        resource_type,
                        severity,
                        result.status,
                        result.message,
                    )


def _judge_sql(engine_ro: Engine | None, conn, catalog: Catalog, scope, evaluation: Evaluation):
    """Custom SQL rules run read-only; a broken one is that rule's error, not a crash."""
    rules = [r for r in catalog.enabled() if r.rule.sql is not None]
    if not rules:
        return
    where = {
        t: {
            row[0]: (row[1], row[2])
            for row in conn.execute(
                select(
                    TABLES[t].__table__.c[KEYS[t]],
                    TABLES[t].__table__.c.account_id,
                    TABLES[t].__table__.c.region,
                ).where(scope.covers(TABLES[t]))
            )
        }
        for t in {r.rule.resource_type for r in rules}
    }
    if engine_ro is None:  # the application layer passes one whenever a rule has SQL
        raise ValueError("custom SQL rules need a read-only engine")
    for active in rules:
        sql = active.rule.sql or ""
        try:
            with engine_ro.connect() as ro:
                try:
                    timeout = active.rule.timeout or catalog.sql_timeout
                    columns, values = user_sql.run(ro, _one_select(sql), timeout)
                finally:
                    ro.rollback()
                if not {"resource_arn", "message"} <= set(columns):
                    raise ValueError("the SELECT must return the columns resource_arn and message")
                rows = [dict(zip(columns, v, strict=True)) for v in values]
        except Exception as exc:  # the user's SQL: any failure is this rule's error
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
            evaluation.rule_errors[active.id] = reason
            log.info("rule %s could not run: %s", active.id, reason)  # the CLI reports it
            continue
        known = where[active.rule.resource_type]
        for row in rows:
            place = known.get(row["resource_arn"])
            if place is None:
                continue  # not in the judged inventory (another region, or not ours)
            yield Judged(
                active.id,
                row["resource_arn"],
                place[0],
                place[1],
                active.rule.resource_type,
                active.severity,
                "fail",
                str(row["message"]),
            )


def _one_select(sql: str) -> str:
    """The user's SELECT as a subquery, so that its result has the rule's shape and a
    data-modifying WITH is a syntax error. A second statement (a ';' that closes the
    subquery itself) is refused by user_sql.run, which admits exactly one. The newline ends
    a trailing -- comment."""
    body = sql.strip().rstrip(";").rstrip()
    return f"SELECT * FROM (\n{body}\n) AS mpscan_custom_rule"


def _waive(results, waivers: Sequence[Waiver], today: date, evaluation: Evaluation):
    """A failing result that a waiver matches is waived while the waiver is active. An
    active waiver wins over an expired one for the same finding (a renewal); with only
    expired ones, the result stays a failure and its message says so. Every waiver that
    matched a failure is used; the rest are stale."""
    by_rule: dict[str, list[tuple[int, Waiver]]] = {}
    for i, waiver in enumerate(waivers):
        by_rule.setdefault(waiver.rule_id, []).append((i, waiver))
    used: set[int] = set()
    expired: set[int] = set()
    for judged in results:
        candidates = by_rule.get(judged.rule_id) if judged.status == "fail" else None
        if candidates:
            matching = [
                (i, w) for i, w in candidates if w.matches(judged.rule_id, judged.resource_arn)
            ]
            used.update(i for i, _ in matching)
            active = [w for _, w in matching if w.active(today)]
            if active:
                waiver = active[0]
                judged = judged._replace(
                    status="waived",
                    waiver_reason=waiver.reason,
                    waiver_owner=waiver.owner,
                    waiver_expires=waiver.expires,
                )
            elif matching:
                i, waiver = matching[0]
                expired.add(i)
                note = f" (waiver by {waiver.owner} expired {waiver.expires.isoformat()})"
                judged = judged._replace(
                    message=judged.message + note,
                    waiver_reason=waiver.reason,
                    waiver_owner=waiver.owner,
                    waiver_expires=waiver.expires,
                )
        yield judged
    evaluation.stale_waivers = [w for i, w in enumerate(waivers) if i not in used]
    evaluation.expired_waivers = [w for i, w in enumerate(waivers) if i in expired]


def judge(
    conn: Connection,
    catalog: Catalog,
    *,
    scan_id: int | None,
    scope: Scope,
    now: datetime,
    read_only_engine: Engine | None = None,
) -> tuple[Evaluation, list[Judged] | None]:
    """Judge the inventory of `scope` as of `scan_id` with the rules in force, reading
    through `conn`; custom SQL rules run on `read_only_engine` (needed when the catalog has
    any). The evaluation (what was judged, rule errors, waivers) and the judged results,
    None when there is nothing to judge (no scan, or nothing stored in the scope)."""
    started = time.perf_counter()
    evaluation = Evaluation(scan_id, scope, [r.id for r in catalog.enabled()], at=now)
    if scan_id is None or scope.is_empty(conn):
        return evaluation, None
    results = list(_judge_code(conn, catalog, scope, now, evaluation))
    results += _judge_sql(read_only_engine, conn, catalog, scope, evaluation)
    judged = list(_waive(results, catalog.waivers, now.date(), evaluation))
    evaluation.seconds = time.perf_counter() - started
    return evaluation, judged
