"""Scans as processes, for the tests that signal or cut them mid-way."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import query

# A config whose scan of 65 packages at 40 ms a call takes seconds, to be cut mid-way:
# describe mode (Search reads them in two calls) and small staging batches.
SLOW_SCAN = '[scan]\ncollect = "describe"\nbatch_size = 5\n'


def start_scan(db_url: str, *extra: str) -> subprocess.Popen:
    """`mpscan scan` of us-east-1 in its own process, stdout and stderr captured."""
    return subprocess.Popen(
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
            *extra,
        ],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_staged(db_url: str, scan: subprocess.Popen) -> None:
    """Until the scan has written part of its work (and is still running)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if query(db_url, "SELECT count(*) FROM staged_resources")[0][0] >= 1:
            return
        assert scan.poll() is None, "the scan ended before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError("the scan never staged anything")
