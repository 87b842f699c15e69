"""What users may query, read from the models: tables, their descriptions, columns and kinds.

`mpscan tables` / `mpscan schema` print this, and `mpscan query` uses the kinds to give
SQLite's untyped results the types PostgreSQL returns.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import cast

from sqlalchemy import JSON, Boolean, DateTime, Table, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import sqlite

from scanner.store.schema import VIEWS, Base, UtcDateTime

# A running scan's scratch space and lock: empty between scans, and not part of the inventory.
INTERNAL_TABLES = {"staged_resources", "scan_lock"}
KINDS = ((Boolean, "boolean"), (UtcDateTime, "timestamp"), (DateTime, "timestamp"), (JSON, "json"))


@dataclass(frozen=True)
class ColumnInfo:
    table: str
    column: str
    type: str
    nullable: bool
    primary_key: bool
    references: str | None
    comment: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _models() -> dict[str, type]:
    # A declarative model's local_table is its Table; SQLAlchemy's stubs say FromClause.
    return {cast(Table, m.local_table).name: m.class_ for m in Base.registry.mappers}


def tables() -> list[Table]:
    """The queryable tables, then the views."""
    return [
        t
        for name, t in sorted(Base.metadata.tables.items())
        if name not in INTERNAL_TABLES and name in _models()
    ] + sorted(VIEWS.tables.values(), key=lambda t: t.name)


def table(name: str) -> Table | None:
    return next((t for t in tables() if t.name == name), None)


def description(tbl: Table) -> str:
    """The first line of the model's own docstring (not one inherited from a base class),
    or of a view's declaration."""
    if tbl.name in VIEWS.tables:
        return "(view) " + tbl.info["doc"].split("\n")[0].split(": ")[0]
    doc = _models()[tbl.name].__dict__.get("__doc__")
    return (inspect.cleandoc(doc).splitlines() or [""])[0] if doc else ""


def kind(column_type) -> str | None:
    return next((k for cls, k in KINDS if isinstance(column_type, cls)), None)


def type_name(column) -> str:
    return kind(column.type) or type(column.type).__name__.lower()


def columns(tbl: Table) -> list[ColumnInfo]:
    return [
        ColumnInfo(
            table=tbl.name,
            column=c.name,
            type=type_name(c),
            nullable=bool(c.nullable),
            primary_key=c.primary_key,
            references=", ".join(fk.target_fullname for fk in c.foreign_keys) or None,
            comment=c.comment,
        )
        for c in tbl.columns
    ]


def _unambiguous(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    found: dict[str, set[str | None]] = {}
    for key, k in pairs:
        found.setdefault(key, set()).add(k)
    return {
        key: k for key, ks in found.items() if len(ks) == 1 and (k := next(iter(ks))) is not None
    }


def kinds_by_name() -> dict[str, str]:
    """Column name → kind, for names that mean the same kind in every table."""
    every = [c for t in Base.metadata.tables.values() for c in t.columns]
    return _unambiguous((c.name, kind(c.type)) for c in every)


def kinds_by_sqlite_decltype() -> dict[str, str]:
    """The declared type SQLite keeps for each kind (e.g. DATETIME → timestamp)."""
    dialect = sqlite.dialect()
    every = [c for t in Base.metadata.tables.values() for c in t.columns]
    return _unambiguous(
        (c.type.compile(dialect=dialect).split("(")[0].strip().upper(), kind(c.type)) for c in every
    )


def row_counts(engine) -> dict[str, int]:
    """Rows per queryable table present in the database (an older one may lack some)."""
    inspector = sa_inspect(engine)
    present = set(inspector.get_table_names()) | set(inspector.get_view_names())
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables()
            if t.name in present
        }
