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

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine, select

from scanner.rules.base import ENDPOINT, PACKAGE, error
from scanner.rules.catalog import ActiveRule, Catalog, Waiver
from scanner.rules.derived import Derived
from scanner.rules.reading import KEYS, TABLES, resources
from scanner.store import user_sql
from scanner.store.findings import Judged, MergeCounts
from scanner.store.read import deployed
from scanner.store.scope import Scope

log = logging.getLogger(__name__)


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
    seconds: float = 0.0  # judging and persisting
    at: datetime | None = None  # when it judged (its finding_events' time)

    @property
    def judged_rules(self) -> list[str]:
        """The rules whose verdicts are whole: the enabled ones that did not break."""
        return [r for r in self.rules if r not in self.rule_errors]


PAGE = 2000  # resources judged, and their findings merged, at a time


@dataclass
class Batch:
    """Every result of `rules` for the resources whose key lies in (after, upto] (None: no
    bound), or for the whole scope without a span (custom SQL rules): what one merge takes.
    Spans of one resource type follow each other and cover every key, so the merges of a
    judgement together resolve whatever it did not report again."""

    rules: list[str]
    results: list[Judged]
    after: str | None = None
    upto: str | None = None
    spanned: bool = False  # the results are of (after, upto] alone


def _context(conn, resource_type: str, scope, severe: dict[str, list[str]] | None):
    """What a kind's rules read beyond its rows (scanner.store.read.deployed), or None."""
    if resource_type == PACKAGE:
        return deployed.documenting(conn, scope)
    if resource_type == ENDPOINT:
        return deployed.served(conn, scope, severe)
    return None


def _judge_code(
    conn,
    catalog: Catalog,
    scope,
    now: datetime,
    evaluation: Evaluation,
    severe: dict[str, list[str]],
):
    """A Batch per PAGE resources of each resource type, in key order, each with its span
    (after, upto]; the last one's upto is None (it may be empty), so every key lies in one
    span, and a type with nothing left in scope has its findings resolved. Each resource
    is judged as it is read and let go: only the results of a page are held. The kinds
    go in their declared order: groups derive from the packages' rows, and endpoints read
    the failures judged on the packages they serve."""
    code = [r for r in catalog.enabled() if r.rule.check is not None]
    # A rule not applicable (a parameter it requires is empty) reads and judges nothing:
    # its findings resolve, as a rule passing everywhere would have them.
    idle = [r for r in code if not r.applicable]
    code = [r for r in code if r.applicable]
    made = Derived([(r.rule.resource_type, r.rule.reads) for r in code], scope)
    # `severe`: package ARN -> its unwaived critical/high failures (custom SQL rules' in it
    # already), for the packages endpoints serve
    served = deployed.served_packages(conn, scope) if catalog.enabled(ENDPOINT) else set()
    waivers = [w for w in catalog.waivers if w.active(now.date())]
    for resource_type in TABLES:
        rules = [r for r in code if r.rule.resource_type == resource_type]
        resting = [r.id for r in idle if r.rule.resource_type == resource_type]
        if not rules:
            if resting:
                yield Batch(resting, [], spanned=True)
            continue
        # Endpoints see the packages' failures judged just now where the packages were
        # judged with them (a whole inventory); one endpoint's judgement, the stored ones.
        enrich = _context(conn, resource_type, scope, severe if scope.resource is None else None)
        # What each rule's verdicts need, looked up once, not once per resource.
        checks = [
            (r.rule.check, {**r.params, "now": now}, r.id, r.severity)
            for r in rules
            if r.rule.check is not None
        ]
        rule_ids = [r.id for r in rules] + resting
        key = KEYS[resource_type]
        size = PAGE
        after: str | None = None
        results: list[Judged] = []
        judged = 0
        for resource in resources(conn, resource_type, rules, scope, made):
            if enrich is not None:
                resource.update(enrich(resource))
            for check, params, rule_id, severity in checks:
                try:
                    result = check(resource, params)
                except Exception as exc:  # data no rule foresaw: that finding's error
                    log.debug("rule %s on %s", rule_id, resource[key], exc_info=True)
                    result = error(f"the rule could not judge this resource: {exc!r}")
                if result is not None:
                    if (
                        resource_type == PACKAGE
                        and result.status == "fail"
                        and severity in deployed.SEVERE
                        and resource[key] in served
                        and not any(w.matches(rule_id, resource[key]) for w in waivers)
                    ):
                        severe.setdefault(resource[key], []).append(rule_id)
                    results.append(
                        Judged(
                            rule_id,
                            resource[key],
                            resource["account_id"],
                            resource["region"],
                            resource_type,
                            severity,
                            result.status,
                            result.message,
                        )
                    )
            judged += 1
            if judged == size:
                evaluation.resources += judged
                yield Batch(rule_ids, results, after, resource[key], spanned=True)
                after, results, judged = resource[key], [], 0
        evaluation.resources += judged
        yield Batch(rule_ids, results, after, None, spanned=True)


def _judge_sql(engine_ro: Engine | None, conn, catalog: Catalog, scope, evaluation: Evaluation):
    """Custom SQL rules run read-only; a broken one is that rule's error, not a crash. One
    Batch of the rules that ran, unspanned (a SELECT answers for the whole scope)."""
    rules = [r for r in catalog.enabled() if r.rule.sql is not None]
    if not rules:
        return
    if engine_ro is None:  # the application layer passes one whenever a rule has SQL
        raise ValueError("custom SQL rules need a read-only engine")
    answered: list[tuple[ActiveRule, list[dict]]] = []
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
                answered.append((active, [dict(zip(columns, v, strict=True)) for v in values]))
        except Exception as exc:  # the user's SQL: any failure is this rule's error
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
            evaluation.rule_errors[active.id] = reason
            log.info("rule %s could not run: %s", active.id, reason)  # the CLI reports it
    results = []
    for active, rows in answered:
        known = _places(conn, active.rule.resource_type, scope, [r["resource_arn"] for r in rows])
        for row in rows:
            place = known.get(row["resource_arn"])
            if place is None:
                continue  # not in the judged inventory (another region, or not ours)
            results.append(
                Judged(
                    active.id,
                    row["resource_arn"],
                    place[0],
                    place[1],
                    active.rule.resource_type,
                    active.severity,
                    "fail",
                    str(row["message"]),
                )
            )
    yield Batch([active.id for active, _ in answered], results)


def _places(conn, resource_type: str, scope, arns: list) -> dict[str, tuple[str, str]]:
    """ARN -> (account, region) of the resources of `scope` among `arns`: looked up in
    chunks, so a rule's answer costs what it returned, not the size of the inventory."""
    table = TABLES[resource_type].__table__
    key = table.c[KEYS[resource_type]]
    wanted = sorted({a for a in arns if isinstance(a, str)})
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(key, table.c.account_id, table.c.region).where(
            key.in_(chunk), scope.covers(TABLES[resource_type])
        )
        found.update({row[0]: (row[1], row[2]) for row in conn.execute(query)})
    return found


def _one_select(sql: str) -> str:
    """The user's SELECT as a subquery, so that its result has the rule's shape and a
    data-modifying WITH is a syntax error. A second statement (a ';' that closes the
    subquery itself) is refused by user_sql.run, which admits exactly one. The newline ends
    a trailing -- comment."""
    body = sql.strip().rstrip(";").rstrip()
    return f"SELECT * FROM (\n{body}\n) AS mpscan_custom_rule"


class _Waiving:
    """Waivers over the results of one judgement, batch by batch: a failing result that a
    waiver matches is waived while the waiver is active. An active waiver wins over an
    expired one for the same finding (a renewal); with only expired ones, the result stays
    a failure and its message says so. Every waiver that matched a failure is used; the
    rest are stale (known once every batch is through: `finish`)."""

    def __init__(self, waivers: Sequence[Waiver], today: date) -> None:
        self.waivers = list(waivers)
        self.today = today
        self.by_rule: dict[str, list[tuple[int, Waiver]]] = {}
        for i, waiver in enumerate(self.waivers):
            self.by_rule.setdefault(waiver.rule_id, []).append((i, waiver))
        self.used: set[int] = set()
        self.expired: set[int] = set()

    def apply(self, results: list[Judged]) -> list[Judged]:
        if not self.by_rule:
            return results
        return [self._one(judged) for judged in results]

    def _one(self, judged: Judged) -> Judged:
        candidates = self.by_rule.get(judged.rule_id) if judged.status == "fail" else None
        if not candidates:
            return judged
        matching = [(i, w) for i, w in candidates if w.matches(judged.rule_id, judged.resource_arn)]
        self.used.update(i for i, _ in matching)
        active = [w for _, w in matching if w.active(self.today)]
        if active:
            waiver = active[0]
            return judged._replace(
                status="waived",
                waiver_reason=waiver.reason,
                waiver_owner=waiver.owner,
                waiver_expires=waiver.expires,
            )
        if matching:
            i, waiver = matching[0]
            self.expired.add(i)
            note = f" (waiver by {waiver.owner} expired {waiver.expires.isoformat()})"
            return judged._replace(
                message=judged.message + note,
                waiver_reason=waiver.reason,
                waiver_owner=waiver.owner,
                waiver_expires=waiver.expires,
            )
        return judged

    def finish(self, evaluation: Evaluation) -> None:
        evaluation.stale_waivers = [w for i, w in enumerate(self.waivers) if i not in self.used]
        evaluation.expired_waivers = [w for i, w in enumerate(self.waivers) if i in self.expired]


def judge(
    conn: Connection,
    catalog: Catalog,
    *,
    scan_id: int | None,
    scope: Scope,
    now: datetime,
    read_only_engine: Engine | None = None,
) -> tuple[Evaluation, Iterator[Batch] | None]:
    """Judge the inventory of `scope` as of `scan_id` with the rules in force, reading
    through `conn`; custom SQL rules run on `read_only_engine` (needed when the catalog has
    any). The evaluation (what was judged, rule errors, waivers) and the judged results in
    batches, None when there is nothing to judge (no scan, or nothing stored in the scope).
    The batches are judged as they are taken, a page of resources at a time, so memory
    holds one page whatever the inventory's size; the caller may write through `conn`
    between them. The evaluation is whole once the last batch has been taken."""
    evaluation = Evaluation(scan_id, scope, [r.id for r in catalog.enabled()], at=now)
    if scan_id is None or scope.is_empty(conn):
        return evaluation, None
    return evaluation, _batches(conn, catalog, scope, now, read_only_engine, evaluation)


def _batches(conn, catalog, scope, now, read_only_engine, evaluation) -> Iterator[Batch]:
    """Custom SQL rules first (one batch for the whole scope), so that their critical and
    high failures on packages are in what DEP-003 reads of the packages endpoints serve;
    then the code rules, kind by kind."""
    waiving = _Waiving(catalog.waivers, now.date())
    severe: dict[str, list[str]] = {}
    for batch in _judge_sql(read_only_engine, conn, catalog, scope, evaluation):
        batch.results = waiving.apply(batch.results)
        for j in batch.results:
            if j.resource_type == PACKAGE and j.status == "fail" and j.severity in deployed.SEVERE:
                listed = severe.setdefault(j.resource_arn, [])
                if j.rule_id not in listed:  # a SELECT may name a resource twice
                    listed.append(j.rule_id)
        yield batch
    # A rule that broke keeps its findings as they were: DEP-003 reads them as they are.
    broken = [r for r in evaluation.rule_errors if catalog.get(r).rule.resource_type == PACKAGE]
    for arn, rule_ids in deployed.severe_of_rules(conn, broken, scope).items():
        severe.setdefault(arn, []).extend(rule_ids)
    for batch in _judge_code(conn, catalog, scope, now, evaluation, severe):
        batch.results = waiving.apply(batch.results)
        yield batch
    waiving.finish(evaluation)
