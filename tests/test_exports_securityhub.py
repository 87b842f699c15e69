"""`mpscan export securityhub` end to end: boto3 over HTTP to moto's Security Hub (the
stand-in), on SQLite and PostgreSQL: batches of 100, updates by Id, resolved findings
archived, throttling retried by botocore, refused findings and failed batches reported
with exit 8, each account's findings imported through its own role."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import boto3
import pytest

from scanner import kinds
from scanner.errors import EXIT_NOT_IMPORTED
from scanner.reports import asff as asff_format
from tests.export_support import scanned_with_every_status
from tests.support import make_group, make_unversioned
from tests.test_accounts import A, B, accounts_toml, sagemaker_of
from tests.test_schedule import BASE, Service

ACCOUNT = "123456789012"


def hub_findings() -> dict[str, dict]:
    """Every finding moto's Security Hub holds in us-east-1, by Id."""
    client = boto3.client("securityhub", region_name="us-east-1")
    found: dict[str, dict] = {}
    for page in client.get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 100}):
        found.update({f["Id"]: f for f in page["Findings"]})
    return found


def calls(standin, operation="BatchImportFindings") -> dict[str, int]:
    return standin.stats()["operations"].get(operation, {}).get("us-east-1", {})


def asff(mpscan, db_url) -> list[dict]:
    result = mpscan("report", "--format", "asff", "--db", db_url)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def export(mpscan, db_url, *extra):
    return mpscan("export", "securityhub", "--db", db_url, *extra)


def test_export_imports_every_finding_in_batches_and_updates_them_by_id(
    standin, sm, mpscan, db_url
):
    boto3.client("securityhub", region_name="us-east-1").enable_security_hub()
    arns = scanned_with_every_status(sm, mpscan, db_url, plain=60)
    sent = asff(mpscan, db_url)
    assert len(sent) > 100  # more than one batch
    standin.clear_stats()

    result = export(mpscan, db_url)
    assert result.exit_code == 0, result.stderr
    assert calls(standin) == {"ok": math.ceil(len(sent) / 100), **_zero("ok")}
    # the calls it made are the ones the IAM policy's export statement allows
    made = {f"securityhub:{op}" for op in standin.stats()["operations"]}
    assert made == set(kinds.EXPORT_STATEMENT["Action"])
    assert f"imported {len(sent)} of {len(sent)} findings of scan 2" in result.stderr
    held = hub_findings()
    assert held == {f["Id"]: f for f in sent}  # each as it was sent

    # the package's findings resolve: the next export updates them in place, archived
    sm["us-east-1"].delete_model_package(ModelPackageName=arns["plain"][1])
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    assert export(mpscan, db_url).exit_code == 0
    again = hub_findings()
    assert set(again) == set(held)
    resolved = [f for f in again.values() if f["Resources"][0]["Id"] == arns["plain"][1]]
    assert resolved and all(f["RecordState"] == "ARCHIVED" for f in resolved)
    assert all(f["Compliance"]["Status"] == "PASSED" for f in resolved)
    assert all(f["UpdatedAt"] > held[f["Id"]]["UpdatedAt"] for f in resolved)
    open_ones = [f for f in again.values() if f["RecordState"] == "ACTIVE"]
    assert open_ones and all(f["Workflow"]["Status"] in ("NEW", "SUPPRESSED") for f in open_ones)


def _zero(*but: str) -> dict[str, int]:
    return {k: 0 for k in ("ok", "error", "throttled", "denied", "failed") if k not in but}


def test_throttling_is_retried_by_botocore_and_nothing_is_lost(standin, sm, mpscan, db_url):
    scanned_with_every_status(sm, mpscan, db_url)
    sent = asff(mpscan, db_url)
    standin.clear_stats()
    standin.faults.update(throttle_next={"BatchImportFindings": 2})
    result = export(mpscan, db_url)
    assert result.exit_code == 0, result.stderr
    assert calls(standin) == {"ok": 1, "throttled": 2, **_zero("ok", "throttled")}
    assert set(hub_findings()) == {f["Id"] for f in sent}


def test_refused_findings_are_listed_by_batch_and_exit_8(standin, sm, mpscan, db_url):
    scanned_with_every_status(sm, mpscan, db_url)
    sent = asff(mpscan, db_url)
    refused = {f["Id"] for f in sent if f["GeneratorId"] == "MP-001"}
    standin.faults.update(refuse_findings=["/MP-001/"])
    result = export(mpscan, db_url)
    assert result.exit_code == EXIT_NOT_IMPORTED == 8
    assert (
        f"mpscan: batch 1 (account {ACCOUNT}, us-east-1): Security Hub refused {len(refused)} "
        f"of {len(sent)} findings:"
    ) in result.stderr
    assert f"{len(refused)} not imported" in result.stderr
    named = [line.split(":")[0].strip() for line in result.stderr.splitlines()[1:]]
    assert set(named[: min(5, len(refused))]) <= refused
    assert set(hub_findings()) == {f["Id"] for f in sent} - refused


def test_a_batch_that_fails_is_reported_and_the_export_goes_on(standin, sm, mpscan, db_url):
    scanned_with_every_status(sm, mpscan, db_url)
    sent = asff(mpscan, db_url)
    standin.faults.update(fail_operations={"BatchImportFindings": "InvalidAccessException"})
    result = export(mpscan, db_url)
    assert result.exit_code == 8
    line = f"mpscan: batch 1 (account {ACCOUNT}, us-east-1): {len(sent)} findings not imported: "
    assert line + "InvalidAccessException on BatchImportFindings" in result.stderr
    assert f"imported 0 of {len(sent)} findings" in result.stderr
    assert "testing" not in result.stderr  # no credential in what is printed


def test_each_account_imports_its_own_findings_through_its_role(standin, mpscan, db_url):
    make_group(sagemaker_of(A), "a-models", 2)
    make_unversioned(sagemaker_of(B, "eu-west-1"), "b-model")
    Path("mpscan.toml").write_text(accounts_toml(A, B))
    scanned = mpscan("scan", "--regions", "us-east-1,eu-west-1", "--db", db_url, "-q")
    assert scanned.exit_code == 0, scanned.stderr
    sent = asff(mpscan, db_url)
    standin.clear_stats()

    result = export(mpscan, db_url)
    assert result.exit_code == 0, result.stderr
    assert "in 2 calls (2 accounts, 2 regions)" in result.stderr
    for account, region in ((A, "us-east-1"), (B, "eu-west-1")):
        hub = boto3.client(
            "securityhub", region_name=region, aws_access_key_id=account, aws_secret_access_key="x"
        )
        held = hub.get_findings()["Findings"]
        assert held and {f["Id"] for f in held} == {
            f["Id"] for f in sent if f["AwsAccountId"] == account
        }
        assert all(
            f["ProductArn"].startswith(f"arn:aws:securityhub:{region}:{account}:") for f in held
        )


@pytest.fixture
def schedule():
    """`mpscan schedule` processes (tests/test_schedule.py's), ended after the test."""
    started: list[Service] = []

    def start(*args) -> Service:
        started.append(Service(*args))
        return started[-1]

    yield start
    for service in started:
        service.close()


def test_an_export_job_imports_after_the_scans_and_logs_what_was_refused(
    standin, sm, mpscan, db_url, tmp_path, schedule
):
    make_group(sm["us-east-1"], "plain", 3)
    scan_job = '[[schedule.jobs]]\nname = "scan"\ncommand = "scan"\nevery = "1s"\n'
    export_job = '[[schedule.jobs]]\nname = "hub"\ncommand = "export"\nevery = "1s"\n'
    service = schedule(tmp_path, db_url, BASE + scan_job + export_job)
    service.wait_for(lambda: "job hub: imported" in service.log(), "an export")
    service.wait_for(lambda: hub_findings(), "findings in Security Hub")
    sent = asff(mpscan, db_url)
    assert set(hub_findings()) == {f["Id"] for f in sent}

    standin.faults.update(refuse_findings=["/MP-001/"])
    service.wait_for(lambda: "findings not imported: mpscan/" in service.log(), "a refusal")
    assert service.stop() == 0
    log = service.log()
    assert re.search(r"job hub: batch \d+ \(account 123456789012, us-east-1\): \d+ of \d+", log)
    assert re.search(r"job hub: imported \d+ of \d+ findings .*; \d+ not imported", log)
    assert "job hub: partial in" in log and "testing" not in log


def test_without_a_scan_or_credentials_it_exits_1_in_one_line(standin, sm, mpscan, monkeypatch):
    missing = export(mpscan, "sqlite:///missing.db")
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1
    make_group(sm["us-east-1"], "plain", 1)
    assert mpscan("scan", "--regions", "us-east-1", "--db", "sqlite:///one.db", "-q").exit_code == 0
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = export(mpscan, "sqlite:///one.db")
    assert result.exit_code == 1
    assert "no AWS credentials" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_findings_of_an_account_the_config_does_not_cover_are_not_sent(standin, mpscan, db_url):
    make_unversioned(sagemaker_of(A), "a-model")
    Path("mpscan.toml").write_text(accounts_toml(A))
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    Path("mpscan.toml").unlink()  # the base credentials' own account only, now
    standin.clear_stats()
    result = export(mpscan, db_url)
    assert result.exit_code == 8
    assert f"account {A} is not one mpscan scans: its findings can only be imported" in (
        result.stderr
    )
    assert "BatchImportFindings" not in standin.stats()["operations"]


def test_a_finding_larger_than_security_hub_takes_is_not_sent(
    standin, sm, mpscan, db_url, monkeypatch
):
    scanned_with_every_status(sm, mpscan, db_url)
    sent = asff(mpscan, db_url)
    sizes = sorted(len(json.dumps(f).encode()) for f in sent)
    limit = sizes[len(sizes) // 2]  # as if half of them were over 240 KB
    monkeypatch.setattr(asff_format, "MAX_FINDING_BYTES", limit)
    large = {f["Id"] for f in sent if len(json.dumps(f).encode()) > limit}
    result = export(mpscan, db_url)
    assert result.exit_code == 8 and large
    assert f"{len(large)} not imported" in result.stderr
    for finding_id in large:
        assert f"mpscan: finding {finding_id}: larger than Security Hub takes" in result.stderr
    assert set(hub_findings()) == {f["Id"] for f in sent} - large
