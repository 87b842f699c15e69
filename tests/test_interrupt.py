"""A scan killed mid-write loses nothing: live rows stay as the last complete scan left them,
and the next scan finds it dead by its heartbeat alone (not its host or PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import query
from tests.support import make_group
from tests.support_process import SLOW_SCAN, start_scan, wait_until_staged


def scan_lock_held(db_url: str) -> bool:
    """Whether some session holds the scan lock of the test's PostgreSQL schema."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE relation = 'scan_lock'::regclass "
                        "AND mode = 'ExclusiveLock' AND granted"
                    )
                ).scalar()
            )
    finally:
        engine.dispose()


def query_write(db_url: str, sql: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _wait_for(condition, message: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def test_kill_mid_scan_keeps_inventory_and_next_scan_recovers(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", 5)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    before = sorted(
        tuple(r)
        for r in query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    )
    make_group(sm["us-east-1"], "more", 60)
    Path("mpscan.toml").write_text(  # stage in small batches; dead after 3 s without heartbeat
        # describe mode: a collection of 65 packages long enough to cut mid-way
        '[scan]\ncollect = "describe"\nbatch_size = 5\nheartbeat_seconds = 0.5\n'
        "stale_after_seconds = 3\n"
    )
    standin.faults.update(latency_ms=40)

    scan = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            "--regions",
            "us-east-1",
            "--db",
            db_url,
            "--concurrency",
            "2",
            "-q",
        ],
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the scan has written part of its work
            if query(db_url, "SELECT count(*) FROM staged_resources")[0][0] >= 1:
                break
            assert scan.poll() is None, "the scan ended before it could be interrupted"
            time.sleep(0.05)
        else:
            raise AssertionError("the scan never staged anything")
        scan.send_signal(signal.SIGKILL)
        scan.wait(timeout=10)
    finally:
        if scan.poll() is None:
            scan.kill()

    after = sorted(
        tuple(r)
        for r in query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    )
    assert after == before
    standin.faults.update(latency_ms=0)
    # As if it ran in a container gone with its hostname: liveness is the heartbeat alone.
    query_write(db_url, "UPDATE scans SET host = 'gone-container', pid = 1 WHERE id = 2")
    if db_url.startswith("postgresql"):  # the table lock went with the killed process
        _wait_for(lambda: not scan_lock_held(db_url), "the scan lock stayed")

    busy = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")  # heartbeat fresh
    assert busy.exit_code == 5, busy.output
    assert busy.stderr.startswith("mpscan: another scan is running: scan 2 started ")
    assert query(db_url, "SELECT status FROM scans WHERE id = 2")[0][0] == "running"

    # --wait: the heartbeat goes stale (3 s here), then the scan runs and cleans up.
    done = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q", "--wait", "30")
    assert done.exit_code == 0, done.output
    statuses = [tuple(r) for r in query(db_url, "SELECT id, status FROM scans ORDER BY id")]
    assert statuses == [(1, "complete"), (2, "interrupted"), (3, "complete")]
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 65
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0


@pytest.mark.parametrize(
    ("sent", "code", "said"),
    [
        (signal.SIGINT, 130, "mpscan: interrupted"),
        (signal.SIGTERM, 143, "mpscan: terminated (SIGTERM)"),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_mid_scan_records_interrupted_and_keeps_inventory(
    standin, sm, mpscan, db_url, sent, code, said
):
    make_group(sm["us-east-1"], "g", 5)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    before = query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    make_group(sm["us-east-1"], "more", 60)
    Path("mpscan.toml").write_text(SLOW_SCAN)
    standin.faults.update(latency_ms=40)

    scan = start_scan(db_url, "-q")
    try:
        wait_until_staged(db_url, scan)
        scan.send_signal(sent)
        _, stderr = scan.communicate(timeout=60)
    finally:
        if scan.poll() is None:
            scan.kill()

    assert scan.returncode == code, stderr
    assert stderr.strip() == said  # one line, no traceback
    assert sorted(query(db_url, "SELECT id, status FROM scans ORDER BY id")) == [
        (1, "complete"),
        (2, "interrupted"),
    ]
    assert tuple(
        query(db_url, "SELECT status, error_kind FROM scan_regions WHERE scan_id = 2")[0]
    ) == (
        "interrupted",
        "interrupted",
    )
    after = query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    assert sorted(after) == sorted(before)
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0
    # the lock went with it: the next scan runs at once
    again = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")
    assert again.exit_code == 0, again.stderr
