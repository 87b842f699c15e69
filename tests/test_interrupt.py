"""A scan killed mid-write loses nothing: live rows stay as the last complete scan left them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import query
from tests.support import make_group


def test_kill_mid_scan_keeps_inventory_and_next_scan_recovers(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", 5)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    before = sorted(
        tuple(r)
        for r in query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    )
    make_group(sm["us-east-1"], "more", 60)
    Path("mpscan.toml").write_text("[scan]\nbatch_size = 5\n")  # stage in small batches
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

    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    statuses = [tuple(r) for r in query(db_url, "SELECT id, status FROM scans ORDER BY id")]
    assert statuses == [(1, "complete"), (2, "interrupted"), (3, "complete")]
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 65
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0
