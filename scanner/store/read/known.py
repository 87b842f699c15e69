"""What a scan in search mode reads back from the stored inventory while it collects: for
resources Search answered, the members its records lack (kept from the last describe) and
the last-modified time that tells a stale record from a fresh one (scanner.aws.matching).

Read-only, through its own short connections: the scan's writer thread holds the writes.
(The collector gets it as a function: scanner/aws never imports the store.)
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Engine, Select, bindparam, select

from scanner.kinds import Kind
from scanner.store.inventory import Inventoried
from scanner.store.schema import model
from scanner.transform import column_for


class KnownRows:
    def __init__(self, engine: Engine, members: dict[str, tuple[str, ...]]) -> None:
        """members: per kind name, the members to read (API names: LastModifiedTime)."""
        self.engine = engine
        self.members = members

    def __call__(self, kind: Kind, account_id: str, arns: list[str]) -> dict[str, dict[str, Any]]:
        wanted = self.members.get(kind.name, ())
        if not wanted or not arns:
            return {}
        query = _query(kind.table, kind.key, wanted)
        with self.engine.connect() as conn:
            return {
                row[0]: {m: v for m, v in zip(wanted, row[1:], strict=True) if v is not None}
                for row in conn.execute(query, {"arns": arns, "account_id": account_id})
            }


@functools.cache
def _query(table_name: str, key_name: str, wanted: tuple[str, ...]) -> Select:
    """Built once per kind: a scan of many accounts asks it for every listed page."""
    table = cast(Inventoried, model(table_name))
    key = getattr(table, key_name)
    columns = [getattr(table, column_for(member)) for member in wanted]
    return select(key, *columns).where(
        key.in_(bindparam("arns", expanding=True)), table.account_id == bindparam("account_id")
    )
