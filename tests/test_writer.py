"""The scan's writer (scanner.store.staging): one thread writes, a region's start included,
in the order the scan handed things over; an abort drops what is queued but the starts.
On SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from scanner.stages import PACKAGE, RegionOutcome
from scanner.store import scans, staging
from scanner.store.db import ensure_schema, make_engine
from tests.conftest import ACCOUNT, query
from tests.test_org_scale import package


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


def regions(db_url: str) -> list[tuple]:
    return [
        tuple(r) for r in query(db_url, "SELECT region, status FROM scan_regions ORDER BY region")
    ]


def test_every_write_of_a_scan_is_the_writer_threads(engine, db_url):
    scan_id = scans.begin_scan(engine, ["eu-west-1", "us-east-1"], "test", 60.0)
    writes = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append((threading.current_thread().name, statement.split("(")[0]))

    writer = staging.Writer(engine, scan_id, batch_size=2)
    writer.region_started(ACCOUNT, "us-east-1")  # queued: nothing written by the caller
    assert writes == [] and regions(db_url) == []
    writer.start()
    writer.emit(PACKAGE, ACCOUNT, "us-east-1", package(ACCOUNT, "us-east-1"))
    writer.region_finished(RegionOutcome(ACCOUNT, "us-east-1", packages=1))
    done = threading.Thread(  # a region started and finished from another thread
        target=lambda: (
            writer.region_started(ACCOUNT, "eu-west-1"),
            writer.region_finished(RegionOutcome(ACCOUNT, "eu-west-1", status="failed")),
        )
    )
    done.start()
    done.join()
    writer.close()
    event.remove(engine, "before_cursor_execute", record)

    assert {name for name, _ in writes} == {"mpscan-writer"}
    assert writes[0][1].startswith("INSERT INTO scan_regions")  # the start, before staging
    assert regions(db_url) == [("eu-west-1", "failed"), ("us-east-1", "complete")]
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 1


def test_an_abort_drops_what_is_queued_but_the_regions_starts(engine, db_url, monkeypatch):
    scan_id = scans.begin_scan(engine, ["eu-west-1", "us-east-1"], "test", 60.0)
    promoting, release = threading.Event(), threading.Event()
    promoted = []

    def slow_promotion(engine, scan_id, outcome, batch):  # a long promotion under way
        promoted.append(outcome.region)
        promoting.set()
        assert release.wait(30)

    monkeypatch.setattr(staging, "promote_region", slow_promotion)
    writer = staging.Writer(engine, scan_id).start()
    writer.region_started(ACCOUNT, "us-east-1")
    writer.region_finished(RegionOutcome(ACCOUNT, "us-east-1"))
    assert promoting.wait(30)
    writer.region_started(ACCOUNT, "eu-west-1")  # queued behind the promotion
    writer.emit(PACKAGE, ACCOUNT, "eu-west-1", package(ACCOUNT, "eu-west-1"))
    writer.region_finished(RegionOutcome(ACCOUNT, "eu-west-1"))
    threading.Timer(0.5, release.set).start()
    writer.abort(timeout=30)
    scans.end_scan(engine, scan_id, "interrupted", "interrupted by the user")

    assert promoted == ["us-east-1"]  # eu-west-1's staging and promotion were dropped
    assert regions(db_url) == [("eu-west-1", "interrupted"), ("us-east-1", "interrupted")]
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0
