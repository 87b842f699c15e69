"""`mpscan status`: the health of the inventory, for people, scripts and monitoring."""

from __future__ import annotations

import json
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ACCOUNT
from tests.support import make_group, make_unversioned, public_policy


def scan(mpscan, db, regions="us-east-1,eu-west-1"):
    return mpscan("scan", "--regions", regions, "--db", db, "-q")


def status(mpscan, db, *args):
    return mpscan("status", "--db", db, *args)


def test_complete_and_fresh_is_exit_0_and_old_is_exit_6(standin, sm, mpscan, db_url):
    make_unversioned(sm["us-east-1"], "m")
    assert scan(mpscan, db_url).exit_code == 0

    fresh = status(mpscan, db_url, "--max-age", "1h", "--format", "json")
    assert fresh.exit_code == 0, fresh.stderr
    regions = json.loads(fresh.stdout)["regions"]
    assert {(r["account_id"], r["region"], r["status"]) for r in regions} == {
        (ACCOUNT, "us-east-1", "complete"),
        (ACCOUNT, "eu-west-1", "complete"),
    }
    assert all(0 <= r["age_seconds"] < 60 and not r["stale"] for r in regions)

    time.sleep(1.1)
    old = status(mpscan, db_url, "--max-age", "1s")
    assert old.exit_code == 6
    assert "(stale)" in old.stdout


def test_a_failed_region_is_exit_3(standin, sm, mpscan, db_url):
    make_unversioned(sm["eu-west-1"], "m")
    assert scan(mpscan, db_url).exit_code == 0
    standin.faults.update(deny_regions=["eu-west-1"])
    assert scan(mpscan, db_url).exit_code == 3

    result = status(mpscan, db_url, "--format", "json")

    assert result.exit_code == 3
    by_region = {r["region"]: r for r in json.loads(result.stdout)["regions"]}
    assert by_region["eu-west-1"]["status"] == "failed" and by_region["eu-west-1"]["scan_id"] == 2
    assert "AccessDenied" in by_region["eu-west-1"]["error"]
    assert by_region["eu-west-1"]["packages"] == 1  # what is stored: scan 1's inventory
    assert by_region["us-east-1"]["status"] == "complete"


def test_a_configured_region_never_scanned_is_exit_6(standin, sm, mpscan, db_url):
    assert scan(mpscan, db_url, "us-east-1").exit_code == 0
    Path("mpscan.toml").write_text("[aws]\nregions = ['us-east-1', 'ap-south-1']\n")

    result = status(mpscan, db_url, "--format", "json")

    assert result.exit_code == 6
    never = [r for r in json.loads(result.stdout)["regions"] if r["status"] == "never"]
    assert [r["region"] for r in never] == ["ap-south-1"]


def test_an_empty_database_is_stale_and_a_missing_one_is_exit_1(standin, mpscan, tmp_path):
    assert mpscan("db", "upgrade", "--db", "sqlite:///empty.db").exit_code == 0
    assert status(mpscan, "sqlite:///empty.db").exit_code == 6
    missing = status(mpscan, "sqlite:///absent.db")
    assert missing.exit_code == 1 and not Path("absent.db").exists()


def test_prometheus_text_for_the_textfile_collector(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", 2, policy=public_policy("us-east-1", "g"))
    assert scan(mpscan, db_url, "us-east-1").exit_code == 0

    result = status(mpscan, db_url, "--format", "prometheus")

    assert result.exit_code == 0
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(result.stdout)
        for s in family.samples
    }
    where = (("account_id", ACCOUNT), ("region", "us-east-1"))
    assert samples[("mpscan_last_scan_success", where)] == 1
    assert samples[("mpscan_resources", (*where, ("type", "model_package")))] == 2
    assert samples[("mpscan_resources", (*where, ("type", "model_package_group")))] == 1
    assert samples[("mpscan_open_findings", (("severity", "critical"),))] == 1  # MPG-001
    assert samples[("mpscan_last_scan_age_seconds", where)] >= 0


def test_a_bad_max_age_is_a_usage_error(standin, mpscan):
    result = mpscan("status", "--max-age", "soon")
    assert result.exit_code == 2
    assert "--max-age" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_open_findings_have_one_definition(standin, sm, mpscan, db_url):
    """status (table, JSON, Prometheus) and check count the same findings: unwaived
    failures of the rules in force; a disabled rule's findings are kept, not counted."""
    from pathlib import Path

    make_unversioned(sm["us-east-1"], "no-kms")  # MP-001 (high) fails
    assert scan(mpscan, db_url).exit_code == 0
    before = json.loads(status(mpscan, db_url, "--format", "json").stdout)["open_findings"]
    assert before["high"] >= 1
    assert mpscan("check", "--db", db_url, "--fail-on", "high").exit_code == 4

    Path("mpscan.toml").write_text("[rules.MP-001]\nenabled = false\n")

    after = json.loads(status(mpscan, db_url, "--format", "json").stdout)["open_findings"]
    assert after["high"] == before["high"] - 1
    prometheus = status(mpscan, db_url, "--format", "prometheus").stdout
    assert f'mpscan_open_findings{{severity="high"}} {after["high"]}.0' in prometheus
    gate = mpscan("check", "--db", db_url, "--fail-on", "high")
    assert gate.exit_code == (4 if after["high"] else 0)
