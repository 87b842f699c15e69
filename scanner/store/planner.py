"""The planner's statistics after a scan: PostgreSQL plans the judgement's queries with them.

A scan writes its inventory in bulk and the judgement reads it straight after, before
autovacuum has looked (it is off on some servers, and wakes once a minute at best). A
table never analysed plans as if it held a handful of rows: the judge's ordered read of
100,000 packages became a sort of every row and its JSON, spilled to disk, before the
first row came back (1.5 s of waiting, and no overlap of the server's work with the
judge's). PostgreSQL's own advice after a bulk load is to run ANALYZE
(https://www.postgresql.org/docs/current/populate.html#POPULATE-ANALYZE). SQLite plans
without statistics (scanner.store.scope keeps its plans on the right index).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from scanner.errors import one_line
from scanner.kinds import KINDS

log = logging.getLogger(__name__)

# autovacuum's defaults: analyse once this many rows plus this share of the table changed
THRESHOLD, SCALE = 50, 0.1


def refresh(engine: Engine, changed: int) -> list[str]:
    """ANALYZE each inventory table (the kinds' and their children's) never analysed, or
    smaller than `changed` (the rows the scan added and removed) makes worthwhile, on
    PostgreSQL; the tables analysed. Statistics only speed queries up: a failure is
    logged, never the scan's."""
    if engine.dialect.name != "postgresql":
        return []
    tables = [t for kind in KINDS for t in (kind.table, *kind.children)]
    try:
        with engine.connect() as conn:
            tuples: dict[str, float] = dict(
                conn.execute(
                    text(
                        "SELECT c.relname, c.reltuples FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relname IN :tables AND c.relkind = 'r' "
                        "AND n.nspname = current_schema()"
                    ).bindparams(bindparam("tables", expanding=True)),
                    {"tables": tables},
                ).all()
            )
            stale = [
                t
                for t in tables
                if t in tuples and (tuples[t] < 0 or changed > THRESHOLD + SCALE * tuples[t])
            ]
            # Never waiting long behind a VACUUM FULL or a migration: statistics can wait.
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            for table in stale:  # names from the kinds' declarations, not from input
                conn.execute(text(f'ANALYZE "{table}"'))
            conn.commit()
    except SQLAlchemyError as exc:
        log.warning("could not refresh the planner's statistics: %s", one_line(exc))
        return []
    if stale:
        log.debug("analysed %s", ", ".join(stale))
    return stale
