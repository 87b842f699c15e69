"""A full disk under SQLite: a small tmpfs the test mounts, so the kernel itself refuses the
writes (ENOSPC). The scan says so in one line, is recorded failed with its lock released, the
region keeps its last good inventory, and once there is space again the next scan completes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import query
from tests.support import make_group
from tests.support_process import SLOW_SCAN
from tests.test_interrupt import _wait_for
from tests.test_lock import HOLD_AFTER, _running, _scan_process

SMALL = "2m"  # a first scan of 5 packages fits (under 1 MB with its WAL); 300 more do not


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is made by mounting a small tmpfs, which needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_fails_the_scan_in_one_line_and_keeps_the_inventory(
    standin, sm, mpscan, small_disk
):
    db_url = f"sqlite:///{small_disk / 'inventory.db'}"
    scan = ("scan", "--regions", "us-east-1", "--db", db_url, "-q")
    make_group(sm["us-east-1"], "g", 5)
    assert mpscan(*scan).exit_code == 0

    make_group(sm["us-east-1"], "big", 300)
    full = mpscan(*scan)
    assert full.exit_code == 1, full.output
    assert full.stderr == "mpscan: database error during the scan: database or disk is full\n"

    [(status, error)] = query(db_url, "SELECT status, error FROM scans WHERE id = 2")
    assert (status, error) == ("failed", "OperationalError: database or disk is full")
    assert query(db_url, "SELECT status FROM scan_regions WHERE scan_id = 2") == [("failed",)]
    assert query(db_url, "SELECT count(*) FROM scan_lock")[0][0] == 0  # the lock went
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 5  # scan 1's
    status = mpscan("status", "--db", db_url)
    assert "failed" in status.stdout

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = mpscan(*scan)
    assert again.exit_code == 0, again.output
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 305
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0


def _fill(disk) -> None:
    """Take every byte the disk has left."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:  # ENOSPC
                continue
    finally:
        os.close(fd)


def test_a_disk_too_full_to_record_the_failure_says_so_and_the_next_scan_takes_over(
    standin, sm, mpscan, small_disk
):
    db_url = f"sqlite:///{small_disk / 'inventory.db'}"
    make_group(sm["us-east-1"], "g", 60)
    Path("mpscan.toml").write_text(SLOW_SCAN + "heartbeat_seconds = 1\nstale_after_seconds = 3\n")
    standin.faults.update(hold_after=HOLD_AFTER)
    first = _scan_process(db_url, "-q")
    try:
        _wait_for(lambda: first.poll() is not None or _running(db_url), "the scan never ran")
        _fill(small_disk)  # while the stand-in holds the scan's calls
        standin.faults.update(hold_after=None)
        assert first.wait(timeout=120) == 1
    finally:
        if first.poll() is None:
            first.kill()
    [line] = [x for x in first.stderr.read().splitlines() if x.startswith("mpscan: database")]
    assert line.startswith("mpscan: database error during the scan: database or disk is full; ")
    assert "recording the scan as failed was refused too" in line
    assert "once its heartbeat is older than scan.stale_after_seconds" in line

    (small_disk / "filler").unlink()
    again = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "--wait", "60", "-q")
    assert again.exit_code == 0, again.output
    assert query(db_url, "SELECT id, status FROM scans ORDER BY id") == [
        (1, "interrupted"),  # taken for dead: no heartbeat once the disk was full
        (2, "complete"),
    ]
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 60
