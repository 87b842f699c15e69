"""Render docs/schema.md from the models: `python -m scanner.store.docs > docs/schema.md`."""

from __future__ import annotations

import inspect
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Mapper

from scanner.store.schema import Base

HEADER = """# Schema

Generated from `scanner/store/schema.py` by `python -m scanner.store.docs`; a test keeps it
current. JSON columns hold AWS's own structures and keys (JSONB on PostgreSQL). Timestamps
are UTC. Column names of `model_packages` follow the StackQL resource
`awscc.sagemaker.model_packages` and botocore's `DescribeModelPackageOutput`.
"""


def _type(column) -> str:
    name = type(column.type).__name__
    return {"JSON": "json", "DateTime": "timestamp", "UtcDateTime": "timestamp"}.get(
        name, name.lower()
    )


def _table(mapper: Mapper) -> Table:
    # A declarative model's local_table is its Table; SQLAlchemy's stubs say FromClause.
    return cast(Table, mapper.local_table)


def render() -> str:
    parts = [HEADER]
    for mapper in sorted(Base.registry.mappers, key=lambda m: _table(m).name):
        table = _table(mapper)
        doc = inspect.getdoc(mapper.class_) or ""
        parts.append(f"\n## `{table.name}`\n")
        if doc and not doc.startswith(("Base", "DeclarativeBase")):
            parts.append(f"\n{doc}\n")
        parts.append("\n| column | type | null | notes |\n|---|---|---|---|\n")
        for column in table.columns:
            notes = column.comment or ""
            if column.primary_key:
                notes = ("primary key. " + notes).strip()
            for fk in column.foreign_keys:
                notes = (notes + f" → `{fk.target_fullname}`").strip()
            null = "yes" if column.nullable else "no"
            parts.append(f"| `{column.name}` | {_type(column)} | {null} | {notes} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
