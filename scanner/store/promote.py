"""promote: a region's end, in one transaction: staged documents become its inventory.

When a region completes, its staged documents are read back in keyset pages, replace the
region's rows (scanner.store.inventory, which records the history) and what was not seen
is pruned; then its staging is dropped and its `scan_regions` row records the outcome, in
the same transaction. A row the database refuses (ROW_ERRORS: a value AWS sent that a
column cannot hold) or a bug fails that region alone: the transaction rolls back, so its
previous rows stay, and a second one drops its staging and records the failure. A region
that failed to collect has its staging dropped and its outcome recorded, nothing else.
Runs on the writer thread (scanner.store.staging).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Delete, Engine, Select, Update, bindparam, delete, select, update
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from scanner.errors import one_line
from scanner.kinds import KINDS
from scanner.stages import RegionOutcome, Status
from scanner.store import lock
from scanner.store.inventory import prune_unseen, replace
from scanner.store.scans import now
from scanner.store.schema import ScanRegion, StagedResource

log = logging.getLogger(__name__)

# What a value AWS sent can do to a write: too long for a column, a NUL byte PostgreSQL
# refuses in text and JSONB, a value that cannot be converted. Such a write fails its
# region (recorded, the region keeps its previous rows), never the scan.
ROW_ERRORS = (DataError, IntegrityError, ValueError)


# A promotion's statements, built once with bound parameters: a scan of many small regions
# made each anew per region, and building them (and their cache keys) cost more than
# running them.
def _region_of(table: Any) -> Any:
    return (
        (table.scan_id == bindparam("b_scan_id"))
        & (table.account_id == bindparam("b_account_id"))
        & (table.region == bindparam("b_region"))
    )


@functools.cache
def _staged_page(size: int) -> Select:
    return (
        select(StagedResource.id, StagedResource.document)
        .where(
            _region_of(StagedResource),
            StagedResource.kind == bindparam("b_kind"),
            StagedResource.id > bindparam("b_last"),
        )
        .order_by(StagedResource.id)
        .limit(size)
    )


@functools.cache
def _drop_staging() -> Delete:
    return delete(StagedResource).where(_region_of(StagedResource))


@functools.cache
def _record_outcome() -> Update:
    return update(ScanRegion).where(_region_of(ScanRegion))


def _staged(
    conn: Connection, scan_id: int, outcome: RegionOutcome, kind: str, size: int
) -> Iterator[list[dict[str, Any]]]:
    """Staged documents of one region and kind, by keyset pages (no open cursor)."""
    last = 0
    region = {"b_scan_id": scan_id, "b_account_id": outcome.account_id, "b_region": outcome.region}
    while True:
        rows = conn.execute(_staged_page(size), {**region, "b_kind": kind, "b_last": last}).all()
        if rows:
            last = rows[-1].id
            yield [r.document for r in rows]
        if len(rows) < size:  # the last page: no query to find nothing after it
            return


def promote_region(engine: Engine, scan_id: int, outcome: RegionOutcome, batch: int) -> None:
    """Promote a complete region in one transaction; a row the database refuses fails the
    region instead (recorded, previous rows kept), and the other regions go on."""
    try:
        with engine.begin() as conn:
            _promote(conn, scan_id, outcome, batch)
        return
    except ROW_ERRORS as exc:
        log.warning(
            "region %s of account %s could not be stored: %s",
            outcome.region,
            outcome.account_id,
            one_line(exc),
        )
        fail_outcome(outcome, "store", type(exc).__name__, one_line(exc))
    except SQLAlchemyError:
        raise  # the database itself failed: that ends the scan
    except Exception as exc:  # a bug in transform or the store: this region fails, loudly
        log.error(
            "region %s of account %s could not be stored: internal error "
            "(please report it with this traceback)",
            outcome.region,
            outcome.account_id,
            exc_info=True,
        )
        fail_outcome(outcome, "internal", type(exc).__name__, one_line(exc))
    with engine.begin() as conn:
        _promote(conn, scan_id, outcome, batch)


def fail_outcome(outcome: RegionOutcome, kind: str, code: str, message: str) -> None:
    outcome.status = Status.FAILED
    outcome.error_kind = kind
    outcome.error_code = code
    outcome.error_message = f"a row could not be written to the database: {message}"
    outcome.added = outcome.removed = 0


def _promote(conn: Connection, scan_id: int, outcome: RegionOutcome, batch: int) -> None:
    at = now()
    region = {"b_scan_id": scan_id, "b_account_id": outcome.account_id, "b_region": outcome.region}
    if outcome.status == Status.COMPLETE:
        added = 0
        for kind in KINDS:
            for documents in _staged(conn, scan_id, outcome, kind.name, batch):
                added += replace(conn, kind, scan_id, outcome, documents, at)
        removed = prune_unseen(conn, scan_id, outcome, at)
        outcome.added, outcome.removed = added, removed
        log.info(
            "region %s of account %s stored: %d new, %d removed",
            outcome.region,
            outcome.account_id,
            added,
            removed,
        )
    conn.execute(_drop_staging(), region)
    conn.execute(
        _record_outcome(),
        dict(
            region,
            status=outcome.status,
            finished_at=at,
            packages=outcome.packages,
            groups=outcome.groups,
            models=outcome.models,
            endpoint_configs=outcome.endpoint_configs,
            endpoints=outcome.endpoints,
            model_cards=outcome.model_cards,
            added=outcome.added,
            removed=outcome.removed,
            vanished=outcome.vanished,
            error_kind=outcome.error_kind,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            collect=outcome.collect,
            collect_note=outcome.collect_note,
            searched=outcome.searched,
            described=outcome.described,
        ),
    )
    lock.touch(conn, scan_id)  # a long promotion ends with a fresh heartbeat (SQLite waits)
