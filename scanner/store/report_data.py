"""Reading findings for the gate and the reports: counts, the worst ones, streams."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, case, func, select

from scanner.stages import SEVERITIES
from scanner.store.findings import open_of
from scanner.store.schema import Finding


def severity_rank(column=Finding.severity):
    """0 for critical … 4 for info, in SQL (for WHERE and ORDER BY)."""
    return case({s: i for i, s in enumerate(SEVERITIES)}, value=column, else_=len(SEVERITIES))


def gate_counts(
    engine: Engine, fail_on: str, *, rules: Sequence[str], worst: int = 10
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Unwaived failing findings of the rules in force: counts by severity, and the worst."""
    failing = open_of(rules)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(Finding.severity, func.count()).where(failing).group_by(Finding.severity)
            ).all()
        )
        top = conn.execute(
            select(
                Finding.severity,
                Finding.rule_id,
                Finding.resource_arn,
                Finding.account_id,
                Finding.region,
                Finding.message,
            )
            .where(failing, severity_rank() <= SEVERITIES.index(fail_on))
            .order_by(severity_rank(), Finding.rule_id, Finding.resource_arn)
            .limit(worst)
        ).mappings()
        return counts, [dict(r) for r in top]
