"""What the judge reads: each kind's rows in scope, in key order, with the columns its
rules in force read, taken from the driver as they are judged.

A JSON column comes as its text, parsed here (psycopg's JSONB loader costs several times
more CPU than parsing the same text: benchmarks/README.md). A column every rule reading it
only tests for holding something (`Rule.present`) comes as that truth, answered by the
database (scanner.store.json_sql), not as its document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from itertools import chain, count
from typing import Any

import orjson
from sqlalchemy import JSON, Text, cast, select

from scanner import kinds
from scanner.prefetch import prefetched
from scanner.rules import derived
from scanner.rules.base import GROUP
from scanner.rules.catalog import ActiveRule
from scanner.rules.derived import Derived
from scanner.store.db import driver_connection, driver_errors, type_processor
from scanner.store.json_sql import holds
from scanner.store.schema import ModelPackageGroup, model

# Every kind's table, in the kinds' order: packages are judged before the endpoints that
# serve them (DEP-003 reads their findings of this evaluation).
TABLES: dict[str, Any] = {k.name: model(k.table) for k in kinds.KINDS}  # Inventoried
KEYS = {k.name: k.key for k in kinds.KINDS}
BATCH = 2000  # rows taken from the driver at a time


def resources(
    conn, resource_type: str, rules: list[ActiveRule], scope, made: Derived | None = None
) -> Iterator[dict]:
    """The resources of `scope` that `rules` judge, with the columns they read, in key
    order, read as they are taken: the merge writes through the same connection meanwhile
    (scanner.store.findings.Merge). `made`: the columns derived from other kinds' rows,
    shared by the judgement's passes."""
    table = TABLES[resource_type]
    key = KEYS[resource_type]
    made = made or Derived([(resource_type, r.rule.reads) for r in rules], scope)
    whole = {key, "account_id", "region"} | made.reads(resource_type)
    tested: set[str] = set()
    for active in rules:
        whole.update(c for c in active.rule.reads if c not in active.rule.present)
        tested.update(active.rule.present)
    add, see = made.adder(conn, resource_type, lambda q: _rows(conn, q)), made.see(resource_type)
    names = sorted((whole | tested) - derived.columns(resource_type))
    columns = [table.__table__.c[n] for n in names]
    truths = {n for n in tested - whole if isinstance(table.__table__.c[n].type, JSON)}
    parsed = [i for i, c in enumerate(columns) if isinstance(c.type, JSON) and c.name not in truths]
    query = select(
        *(
            holds(c).label(c.name)
            if c.name in truths
            else cast(c, Text)
            if isinstance(c.type, JSON)
            else c
            for c in columns
        )
    )
    query = query.where(scope.covers(table, in_key_order=True))
    query = query.order_by(table.__table__.c[key])
    if resource_type == GROUP:
        query = query.where(ModelPackageGroup.shared.is_(False))  # the owner's policy
    for row in _rows(conn, query):
        values = list(row)
        for i in parsed:
            if values[i] is not None:
                values[i] = _parse_json(values[i])
        resource = dict(zip(names, values, strict=True))
        if see is not None:
            see(resource)
        if add is not None:
            resource.update(add(resource))
        yield resource
    made.done(resource_type)


def _rows(conn, query) -> Iterator:
    """The query's rows as they are taken, not a list, from the driver's own cursor in the
    same transaction, each value converted as SQLAlchemy's rows would convert it (its
    type's result processor, where it has one: SQLite's timestamps and booleans), without
    making SQLAlchemy's rows. Other statements may run on the connection while the rows
    are read: SQLite steps its statement as rows are taken; PostgreSQL's rows come from a
    server-side cursor, FETCH by FETCH of BATCH rows, the next FETCH in flight while these
    are judged (psycopg's stream would hold the connection until its last row; psycopg
    serialises the FETCHes with the merge's statements). SQLAlchemy's own rows (a
    server-side cursor too) for other drivers, and wherever SQLAlchemy would convert a
    parameter."""
    dialect = conn.dialect
    if dialect.driver in ("psycopg", "pysqlite") and _driver_cursor():
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        if not any(type_processor(b.type, dialect, "bind") for b in compiled.binds.values()):
            converted = [
                (i, process)
                for i, c in enumerate(query.selected_columns)
                if (process := type_processor(c.type, dialect, "result"))
            ]
            sql, params = str(compiled), compiled.params
            with driver_errors(conn, sql, params):
                driver = driver_connection(conn)  # the same transaction
                if dialect.driver == "psycopg":
                    cursor = driver.cursor(name=f"mpscan_judge_{next(_CURSORS)}")
                    cursor.itersize = BATCH
                    cursor.execute(sql, params)
                    rows: Iterator = _fetched(cursor)
                else:
                    cursor = driver.cursor()
                    rows = cursor.execute(sql, [params[name] for name in compiled.positiontup])
                try:
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


_CURSORS = count()  # a server-side cursor's name is the transaction's to hold


def _fetched(cursor) -> Iterator:
    """A server-side cursor's rows, each FETCH made while the rows before are used."""
    return chain.from_iterable(prefetched(iter(partial(cursor.fetchmany, BATCH), [])))


def _driver_cursor() -> bool:
    """Whether rows come from the driver's cursor (tests turn it off: SQLAlchemy's rows)."""
    return True


def _parse_json(text: str):
    """A JSON column's text as Python values: orjson's parser, at half the CPU of the
    standard library's (the text of a 100,000-package inventory: 1.56 s against 0.75 s);
    json.loads for what orjson refuses and the standard library reads (NaN, lone
    surrogates), so a stored document reads as it always did. (orjson reads an integer
    beyond 64 bits as a float: no botocore member is that wide, Long being 64-bit.)"""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
