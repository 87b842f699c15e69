"""Open findings: their one definition, the gate's counts and worst, and the counts by
severity that `mpscan status` and the metrics show."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, func, select

from scanner.stages import SEVERITIES
from scanner.store.schema import Finding, FindingEvent


def open_of(rule_ids: Iterable[str]) -> ColumnElement[bool]:
    """mpscan's one definition of an open finding (status, metrics, check, reports):
    unwaived and failing, of a rule in force; a disabled rule's findings are kept but not
    counted."""
    return (Finding.status == "fail") & Finding.rule_id.in_(list(rule_ids))


def severity_rank(column=Finding.severity):
    """0 for critical … 4 for info, in SQL (for WHERE and ORDER BY)."""
    return case({s: i for i, s in enumerate(SEVERITIES)}, value=column, else_=len(SEVERITIES))


def _open_by_severity(conn: Connection, rules: Sequence[str]) -> dict[str, int]:
    """Open findings of `rules` by severity: only the severities that have some."""
    return dict(
        conn.execute(
            select(Finding.severity, func.count()).where(open_of(rules)).group_by(Finding.severity)
        ).all()
    )


def gate_counts(
    engine: Engine, fail_on: str, *, rules: Sequence[str], worst: int = 10
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Unwaived failing findings of the rules in force: counts by severity, and the worst."""
    with engine.connect() as conn:
        counts = _open_by_severity(conn, rules)
        top = conn.execute(
            select(
                Finding.severity,
                Finding.rule_id,
                Finding.resource_arn,
                Finding.account_id,
                Finding.region,
                Finding.message,
            )
            .where(open_of(rules), severity_rank() <= SEVERITIES.index(fail_on))
            .order_by(severity_rank(), Finding.rule_id, Finding.resource_arn)
            .limit(worst)
        ).mappings()
        return counts, [dict(r) for r in top]


def open_findings(engine: Engine, rules: Sequence[str]) -> dict[str, int]:
    """Open findings (open_of) by severity, every severity present, zeros included;
    `rules`: the enabled rule ids."""
    with engine.connect() as conn:
        counts = _open_by_severity(conn, rules)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def opened_by(
    engine: Engine,
    *,
    scan_id: int,
    at: datetime | None = None,
    event_id: int | None = None,
) -> list[dict[str, Any]]:
    """The findings one evaluation opened (new or regressed, still failing): a scan's (its
    `scan_id` and time `at`) or an event's (`event_id`)."""
    which = FindingEvent.scan_id == scan_id
    which = which & (
        FindingEvent.event_id == event_id
        if event_id is not None
        else FindingEvent.event_id.is_(None) & (FindingEvent.at == at)
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Finding.rule_id,
                Finding.severity,
                FindingEvent.change,
                Finding.resource_arn,
                Finding.account_id,
                Finding.region,
                Finding.message,
            )
            .join(Finding, Finding.id == FindingEvent.finding_id)
            .where(which, FindingEvent.change.in_(("new", "regressed")), Finding.status == "fail")
            .order_by(severity_rank(), Finding.rule_id, Finding.resource_arn)
        ).mappings()
        return [dict(r) for r in rows]
