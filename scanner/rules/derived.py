"""The columns a rule reads that the judge makes from another kind's rows (scanner.kinds
`derived`): one `Derived` per judgement.

`latest_versions` of a model package group: its latest versions in the inventory, newest
first, as (version, approval status), at most LATEST of them. A group's versions are the
versioned packages stored in the group's own account and region under its name (a package
of a group shared from another account names the group by ARN, and belongs to that
account's inventory).

The judge reads the packages before the groups, so the versions are gathered from the
package rows it streams anyway (three narrow columns more), not read again: a second pass
over model_packages cost about 0.4 s of CPU at 100,000 packages on SQLite (a table of wide
rows), ~9% of the judgement. Where no package pass ran over the same inventory (no package
rule enabled, one resource's scope, or a caller reading groups alone), they are read by a
query of those columns, for the one group of a resource's scope. Either way a group holds
at most 2 x LATEST versions at a time: a group of thousands of versions costs no more than
one of 200.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select, tuple_

from scanner import kinds
from scanner.store.schema import ModelPackage
from scanner.store.scope import Scope

LATEST = 100  # the most versions a group rule can ask for (its parameter's upper bound)
GROUP_KEY = ("account_id", "region", "model_package_group_name")
VERSION = ("model_package_group_name", "model_package_version", "model_approval_status")
PACKAGE, GROUP = kinds.MODEL_PACKAGE.name, kinds.MODEL_PACKAGE_GROUP.name

Row = Mapping[str, Any]
Rows = Callable[[Any], Iterable[Any]]
Versions = dict[tuple, list[tuple[int | None, Any]]]


def columns(resource_type: str) -> set[str]:
    """The derived columns of a kind."""
    return {name for name, _, _ in kinds.BY_NAME[resource_type].derived}


class Derived:
    """What one judgement derives: built from the (resource type, reads) of the rules it
    runs, over one scope."""

    def __init__(self, reads: Iterable[tuple[str, Iterable[str]]], scope: Scope):
        self.scope = scope
        wanted = {c for kind, read in reads for c in read if c in columns(kind)}
        if wanted - {"latest_versions"}:  # kinds declares no other
            raise ValueError(f"no reader for derived columns {sorted(wanted)}")
        self.versions_wanted = bool(wanted)
        self._gather = self.versions_wanted and scope.resource is None
        self._versions: Versions = {}
        self._complete = False  # every package of the scope seen

    def reads(self, resource_type: str) -> set[str]:
        """The stored columns to read for a kind: what is gathered from its rows, or what
        keys its derived columns."""
        if resource_type == PACKAGE and self._gather:
            return set(VERSION)
        if resource_type == GROUP and self.versions_wanted:
            return set(GROUP_KEY)
        return set()

    def see(self, resource_type: str) -> Callable[[Row], None] | None:
        """What takes each streamed row of a kind, if anything is gathered from it."""
        if resource_type != PACKAGE or not self._gather:
            return None
        versions, get = self._versions, self._versions.get

        def gather(p: Row) -> None:
            name = p["model_package_group_name"]
            if name is not None:  # versioned (scanner.transform)
                key = (p["account_id"], p["region"], name)
                listed = get(key)
                if listed is None:
                    versions[key] = listed = []
                listed.append((p["model_package_version"], p["model_approval_status"]))
                if len(listed) > 2 * LATEST:  # a big group holds its newest LATEST at most
                    _cut(listed)

        return gather

    def done(self, resource_type: str) -> None:
        """The stream of a kind's rows ended: what it gathered is whole."""
        if resource_type == PACKAGE and self._gather:
            _newest(self._versions)
            self._complete = True

    def adder(self, conn: Connection, resource_type: str, rows: Rows | None = None):
        """A function giving a row of the kind its derived columns, None when no rule reads
        one. Reads now what was not gathered: the caller streams its rows afterwards on the
        same connection, where nothing else may run meanwhile."""
        if resource_type != GROUP or not self.versions_wanted:
            return None
        one = self.scope.resource
        if one is not None and ":model-package-group/" not in one[2]:
            self._complete = True  # a package's event: no group to judge
        if not self._complete:
            self._versions, self._complete = latest_versions(conn, self.scope, rows), True
        versions = self._versions

        def add(row: Row) -> dict[str, Any]:
            return {"latest_versions": versions.get(tuple(row[k] for k in GROUP_KEY), [])}

        return add


def latest_versions(conn: Connection, scope: Scope, rows: Rows | None = None) -> Versions:
    """(account, region, group name) -> [(version, approval status)], newest first, at most
    LATEST each, for the groups of the scope's regions (of its one group, for a resource's
    scope). `rows` runs the query (the judge's reader of the driver's rows); SQLAlchemy's
    rows without it."""
    p = ModelPackage
    query = select(p.account_id, p.region, *(p.__table__.c[c] for c in VERSION)).where(
        tuple_(p.account_id, p.region).in_(scope.pairs()),
        p.model_package_group_name.is_not(None),
    )
    if scope.resource is not None:  # one group: its name ends its ARN
        query = query.where(p.model_package_group_name == scope.resource[2].rsplit("/", 1)[-1])
    found: Versions = {}
    for account, region, name, version, status in (rows or conn.execute)(query):
        listed = found.setdefault((account, region, name), [])
        listed.append((version, status))
        if len(listed) > 2 * LATEST:
            _cut(listed)
    return _newest(found)


def _newest(found: Versions) -> Versions:
    for listed in found.values():
        _cut(listed)
    return found


def _cut(listed: list[tuple[int | None, Any]]) -> None:
    """Newest first, at most LATEST (a version without a number last)."""
    listed.sort(key=lambda v: -v[0] if v[0] is not None else 1)
    del listed[LATEST:]
