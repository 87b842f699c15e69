"""What a scan reports and records when resources come and go, vanish mid-scan, or mpscan
itself fails: the summary, `scan_regions`, and the inventory left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.backends import get_backend
from moto.sagemaker.models import SageMakerModelBackend

from tests.conftest import ACCOUNT, query
from tests.support import make_group, make_unversioned
from tests.support_process import SLOW_SCAN, start_scan, wait_until_staged


def scan(mpscan, db, *extra):
    return mpscan("scan", "--regions", "us-east-1,eu-west-1", "--db", db, *extra)


def test_summary_counts_new_and_removed_resources(sm, mpscan, db_url):
    arns = make_group(sm["us-east-1"], "g", 3)
    make_unversioned(sm["eu-west-1"], "u")

    first = scan(mpscan, db_url, "--format", "json")
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["status"] == "complete" and summary["exit_code"] == 0
    assert summary["totals"] == {
        "packages": 4,
        "groups": 1,
        "models": 0,
        "endpoint_configs": 0,
        "endpoints": 0,
        "model_cards": 0,
        "added": 5,
        "removed": 0,
        "vanished": 0,
    }
    assert [r["region"] for r in summary["regions"]] == ["eu-west-1", "us-east-1"]

    sm["us-east-1"].delete_model_package(ModelPackageName=arns[0])
    make_unversioned(sm["us-east-1"], "new")
    second = scan(mpscan, db_url)

    assert second.exit_code == 0, second.stderr
    assert second.stdout.startswith(f"scan {summary['scan_id'] + 1} complete")
    assert "4 model packages, 1 model package groups stored (1 new, 1 removed)" in second.stdout
    rows = query(
        db_url, "SELECT region, added, removed FROM scan_regions WHERE scan_id = 2 ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [("eu-west-1", 0, 0), ("us-east-1", 1, 1)]


@pytest.fixture
def vanishing(monkeypatch):
    """Packages deleted in AWS after they were listed and before they were described."""
    doomed: set[str] = set()
    describe = SageMakerModelBackend.describe_model_package

    def deleted_just_before(self, model_package_name):
        if model_package_name in doomed:
            self.model_packages.pop(model_package_name, None)
        return describe(self, model_package_name)

    monkeypatch.setattr(SageMakerModelBackend, "describe_model_package", deleted_just_before)
    return doomed


def test_package_deleted_between_listing_and_describe_is_counted_as_vanished(
    sm, mpscan, db_url, vanishing
):
    arns = make_group(sm["us-east-1"], "g", 3)
    assert scan(mpscan, db_url, "-q").exit_code == 0
    vanishing.add(arns[1])

    result = scan(mpscan, db_url, "--collect", "describe")  # (search mode: Search lagging)

    assert result.exit_code == 0, result.stderr
    assert "1 deleted while scanned" in result.stdout
    [(status, packages, vanished, removed)] = query(
        db_url,
        "SELECT status, packages, vanished, removed FROM scan_regions "
        "WHERE scan_id = 2 AND region = 'us-east-1'",
    )
    assert (status, packages, vanished, removed) == ("complete", 2, 1, 1)
    live = {
        r[0]: r[1]
        for r in query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    }
    assert live == {arns[0]: 2, arns[2]: 2}  # the others were seen again, not pruned
    [(arn,)] = query(db_url, "SELECT arn FROM removed_resources")
    assert arn == arns[1]  # it is gone from AWS: archived, as a user would expect


def test_a_bug_fails_its_region_with_a_traceback_and_the_others_are_stored(sm, mpscan, db_url):
    """A response mpscan cannot handle (here a tag without its required Key) is a bug:
    the region fails with kind `internal`, the traceback is logged, the rest is stored."""
    make_unversioned(sm["us-east-1"], "fine")
    odd = make_unversioned(sm["eu-west-1"], "kept")
    assert scan(mpscan, db_url, "-q").exit_code == 0
    get_backend("sagemaker")[ACCOUNT]["eu-west-1"].model_packages[odd].tags = [{"Value": "v"}]

    result = scan(mpscan, db_url)

    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "internal error" in result.stderr and "eu-west-1" in result.stderr
    [(status, kind)] = query(
        db_url,
        "SELECT status, error_kind FROM scan_regions WHERE scan_id = 2 AND region = 'eu-west-1'",
    )
    assert (status, kind) == ("failed", "internal")
    seen = dict(query(db_url, "SELECT model_package_name, last_seen_scan_id FROM model_packages"))
    assert seen == {"fine": 2, "kept": 1}  # eu-west-1 kept its last inventory


def test_a_usage_error_leaves_no_database(standin, mpscan, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = mpscan("scan")
    assert result.exit_code == 2
    assert "no region given" in result.stderr
    assert "Traceback" not in result.stderr
    assert not Path("mpscan.db").exists()


def test_database_lost_mid_scan_fails_the_scan_and_keeps_the_inventory(
    standin, sm, mpscan, postgres_url
):
    """The writer's connection is cut mid-scan (a failover, an admin's kill): exit 1, one
    line, the scan recorded as failed, the last inventory as it was."""
    make_group(sm["us-east-1"], "g", 5)
    assert mpscan("scan", "--regions", "us-east-1", "--db", postgres_url, "-q").exit_code == 0
    before = sorted(
        query(postgres_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    )
    make_group(sm["us-east-1"], "more", 60)
    Path("mpscan.toml").write_text(SLOW_SCAN)
    standin.faults.update(latency_ms=40)
    tagged = postgres_url + "&application_name=mpscan-cut-me"
    scan = start_scan(tagged)
    try:
        wait_until_staged(postgres_url, scan)
        query(
            postgres_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'mpscan-cut-me'",
        )
        _, stderr = scan.communicate(timeout=120)
    finally:
        if scan.poll() is None:
            scan.kill()

    assert scan.returncode == 1, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("mpscan: database error during the scan:"), stderr
    assert "Traceback" not in stderr
    after = sorted(
        query(postgres_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    )
    assert after == before
    assert query(postgres_url, "SELECT status FROM scans WHERE id = 2")[0][0] == "failed"


def test_json_logs_carry_the_traceback_and_verbose_says_what_happens(sm, mpscan, tmp_path):
    db = f"sqlite:///{tmp_path / 'logs.db'}"
    odd = make_unversioned(sm["eu-west-1"], "odd")
    get_backend("sagemaker")[ACCOUNT]["eu-west-1"].model_packages[odd].tags = [{"Value": "v"}]

    result = mpscan("-v", "--log-format", "json", "scan", "--regions", "eu-west-1", "--db", db)

    assert result.exit_code == 1  # the only region failed
    # every line of stderr is a JSON record, the region's failure included
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert any("failed, previous inventory kept" in e["message"] for e in entries)
    [bug] = [e for e in entries if e["level"] == "error"]
    assert "internal error" in bug["message"] and "KeyError" in bug["traceback"]
    assert any(e["level"] == "info" for e in entries), "-v adds the scan's progress lines"
