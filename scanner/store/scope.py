"""Which stored inventories an evaluation covers: a relation the database joins.

A scope is the (account, region) pairs of `scan_regions` that one scan completed, or every
pair with a stored inventory, or one resource of a stored inventory (an event's refresh).
It is always a subquery over `scan_regions`, never a clause
per pair: one `OR` term per account and region is refused by SQLite beyond ~1,000 pairs
("Expression tree is too large") and grows PostgreSQL's plan with every account, and a
list of bound values would meet SQLite's limit on parameters at 16,000 pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, exists, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnClause

from scanner.stages import Status
from scanner.store.schema import ScanRegion

# The column naming the resource, in the tables a scope filters (findings, inventories).
_RESOURCE_KEYS = (
    "resource_arn",
    "model_card_arn",  # (before model_package_arn: a card's row names the package it documents)
    "model_package_arn",
    "model_package_group_arn",
    "model_arn",
    "endpoint_config_arn",
    "endpoint_arn",
)


@dataclass(frozen=True)
class Scope:
    scan_id: int | None = None  # the regions this scan stored; None: every stored inventory
    upto: int | None = None  # stored(): only what scans up to this one stored
    resource: tuple[str, str, str] | None = None  # of_resource(): account, region, ARN

    @classmethod
    def of_scan(cls, scan_id: int) -> Scope:
        """The regions a scan completed (its failed ones keep their findings untouched)."""
        return cls(scan_id)

    @classmethod
    def stored(cls, upto: int | None = None) -> Scope:
        """Every (account, region) with a stored inventory (one complete scan at least,
        up to scan `upto`), what a re-judge covers: a region whose last scan failed still
        has its last good inventory, and a change of rules or waivers must reach it too.
        `upto` fixes the scope for the whole evaluation: each statement reads the
        subquery again, and a scan completing a new region meanwhile (PostgreSQL's READ
        COMMITTED) must not have its findings resolved by a judgement that never saw it."""
        return cls(None, upto)

    @classmethod
    def of_resource(cls, account_id: str, region: str, arn: str) -> Scope:
        """One resource, as an event refreshed it: its findings alone are judged (and
        resolved if it is gone), in a region with a stored inventory."""
        return cls(None, None, (account_id, region, arn))

    def pairs(self) -> Select:
        query = select(ScanRegion.account_id, ScanRegion.region).where(
            ScanRegion.status == Status.COMPLETE
        )
        if self.scan_id is not None:
            query = query.where(ScanRegion.scan_id == self.scan_id)
        if self.upto is not None:
            query = query.where(ScanRegion.scan_id <= self.upto)
        if self.resource is not None:
            account_id, region, _ = self.resource
            query = query.where(ScanRegion.account_id == account_id, ScanRegion.region == region)
        return query.distinct()

    def covers(self, table, *, in_key_order: bool = False) -> ColumnElement[bool]:
        """True for the rows of `table` (with account_id and region columns) in scope.
        `in_key_order`: for a query that reads the rows in key order (the judge's); SQLite
        must then not find them through an index on account_id or region, or it sorts the
        whole rows in a temporary B-tree (at 100,000 packages, seconds of work and hundreds
        of MB of temporary file) instead of walking the key's index."""
        account, region = table.account_id, table.region
        if in_key_order:
            account, region = _NotIndexed(account), _NotIndexed(region)
        clause = tuple_(account, region).in_(self.pairs())
        if self.resource is not None:
            columns = table.__table__.c
            key = next(c for c in _RESOURCE_KEYS if c in columns)
            clause = clause & (columns[key] == self.resource[2])
        return clause

    def is_empty(self, conn: Connection) -> bool:
        return not conn.execute(select(exists(self.pairs()))).scalar()


class _NotIndexed(ColumnClause):
    """A column that SQLite's planner may not look up by an index: `+column` (SQLite's
    documented way, a no-op on the value); the column itself elsewhere."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column.name, type_=column.type)
        self.column = column


@compiles(_NotIndexed)
def _column(element: _NotIndexed, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(_NotIndexed, "sqlite")
def _unary_plus(element: _NotIndexed, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)
