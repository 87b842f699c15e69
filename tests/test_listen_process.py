"""`mpscan listen` as a process: beside a running scan, and under SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

from tests.conftest import query
from tests.support import make_group, make_unversioned
from tests.support_events import api_call, send, state_change
from tests.support_process import SLOW_SCAN, start_scan, wait_until_staged

REGION = "us-east-1"
FACTS = {
    "packages": "SELECT model_package_arn, model_approval_status, model_package_description, "
    "content_hash FROM model_packages",
    "package tags": "SELECT model_package_arn, key, value FROM model_package_tags",
    "groups": "SELECT model_package_group_arn, resource_policy_status, content_hash "
    "FROM model_package_groups",
    "open findings": "SELECT rule_id, resource_arn, status, message FROM findings "
    "WHERE status <> 'pass'",
}


def _listen(db_url: str, queue_url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scanner",
            "-v",
            "listen",
            "--queue-url",
            queue_url,
            "--db",
            db_url,
            *extra,
        ],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def queue(standin):
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs, sqs.create_queue(QueueName="events")["QueueUrl"]


def _facts(db_url: str) -> dict[str, list]:
    return {name: sorted(map(tuple, query(db_url, sql))) for name, sql in FACTS.items()}


def test_events_during_a_scan_leave_what_a_fresh_scan_finds(
    standin, sm, mpscan, db_url, queue, tmp_path
):
    client = sm[REGION]
    arns = make_group(client, "g", 5, ModelApprovalStatus="PendingManualApproval")
    solo = make_unversioned(client, "solo")
    assert mpscan("scan", "--regions", REGION, "--db", db_url, "-q").exit_code == 0
    make_group(client, "more", 150)  # a scan that runs for seconds after the burst
    Path("mpscan.toml").write_text(SLOW_SCAN + "[listen]\nwait_seconds = 1\n")
    standin.faults.update(latency_ms=40)

    scan = start_scan(db_url, "-q")
    listener = None
    try:
        wait_until_staged(db_url, scan)
        # A burst of changes while the scan runs, each with its event (and one twice).
        for arn in arns[:3]:
            client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
            event = state_change(client.describe_model_package(ModelPackageName=arn), REGION)
            send(*queue, event, event)
        client.add_tags(ResourceArn=arns[4], Tags=[{"Key": "owner", "Value": "ml"}])
        send(*queue, api_call("AddTags", REGION, {"resourceArn": arns[4]}))
        client.delete_model_package(ModelPackageName=solo)
        send(*queue, api_call("DeleteModelPackage", REGION, {"modelPackageName": solo}))
        # Started with the events queued and the scan running: --drain ends once the queue
        # is empty, which it would be at once if started earlier on a slow machine.
        listener = _listen(db_url, queue[1], "--drain")
        scan_out, scan_err = scan.communicate(timeout=120)
        listen_out, listen_err = listener.communicate(timeout=120)
    finally:
        for process in (scan, listener):
            if process is not None and process.poll() is None:
                process.kill()
    assert listener is not None
    assert scan.returncode == 0, scan_err
    assert listener.returncode == 0, listen_err
    assert "5 applied" in listen_err, listen_err
    standin.faults.update(latency_ms=0)

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    Path("mpscan.toml").unlink()
    fresh_scan = mpscan("scan", "--regions", REGION, "--db", fresh, "-q", "--collect", "describe")
    assert fresh_scan.exit_code == 0
    assert _facts(db_url) == _facts(fresh)
    applied = query(db_url, "SELECT count(*) FROM registry_events")[0][0]
    assert applied == 5  # the duplicate was not applied twice


def test_sigterm_while_idle_exits_0_at_once(standin, queue, mpscan, db_url, sm):
    make_group(sm[REGION], "g", 1)
    assert mpscan("scan", "--regions", REGION, "--db", db_url, "-q").exit_code == 0
    listener = _listen(db_url, queue[1])
    lines = Lines(listener)
    try:
        lines.wait_for("listening to", listener)
        time.sleep(0.5)  # into its long poll
        started = time.monotonic()
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=15)
        stderr = lines.text()
    finally:
        if listener.poll() is None:
            listener.kill()
    assert listener.returncode == 0, stderr
    assert time.monotonic() - started < 5  # not the 20 s of a long poll
    assert "Traceback" not in stderr


def test_sigterm_finishes_the_event_in_hand(standin, queue, mpscan, db_url, sm):
    client = sm[REGION]
    arn = make_group(client, "g", 1, ModelApprovalStatus="PendingManualApproval")[0]
    assert mpscan("scan", "--regions", REGION, "--db", db_url, "-q").exit_code == 0
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    send(*queue, state_change(client.describe_model_package(ModelPackageName=arn), REGION))
    standin.clear_stats()
    standin.faults.update(hold_after=0)  # its describe waits until the test lets it
    listener = _listen(db_url, queue[1])
    try:
        deadline = time.monotonic() + 30
        while standin.stats()["first_request_at"] is None:  # the refresh is in hand
            assert time.monotonic() < deadline and listener.poll() is None
            time.sleep(0.05)
        listener.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        standin.faults.update(hold_after=None)
        _, stderr = listener.communicate(timeout=30)
    finally:
        standin.faults.update(hold_after=None)
        if listener.poll() is None:
            listener.kill()
    assert listener.returncode == 0, stderr
    assert query(
        db_url,
        "SELECT model_approval_status FROM model_packages WHERE model_package_arn = :a",
        a=arn,
    ) == [("Approved",)]
    sqs, url = queue
    left = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert sum(int(v) for v in left.values()) == 0  # applied, then deleted


class Lines:
    """A process's stderr, read line by line as it comes (a thread), for waiting on it."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + 30
        while not any(text in line for line in self.lines):
            assert process.poll() is None and time.monotonic() < deadline, self.text()
            time.sleep(0.05)

    def text(self) -> str:
        self._thread.join(timeout=5)
        return "".join(self.lines)
