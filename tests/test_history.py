"""History: what changed between scans (mpscan diff), unchanged resources left alone, and
retention (mpscan prune) that never touches the current inventory or open findings."""

from __future__ import annotations

import json

from sqlalchemy import create_engine

from tests.conftest import query
from tests.support import make_group, make_unversioned


def execute(db: str, sql: str) -> None:
    engine = create_engine(db)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def scan(mpscan, db):
    result = mpscan("scan", "--regions", "us-east-1", "--db", db, "-q")
    assert result.exit_code == 0, result.stderr
    return result


def diff(mpscan, db, *args):
    result = mpscan("diff", "--db", db, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_three_scans_record_what_changed_and_nothing_else(standin, sm, mpscan, db_url):
    client = sm["us-east-1"]
    first, second = make_group(client, "g", 2, ModelApprovalStatus="PendingManualApproval")
    tagged = make_unversioned(client, "u", Tags=[{"Key": "team", "Value": "ml"}])
    scan(mpscan, db_url)
    ids_before = query(db_url, "SELECT id FROM model_package_containers ORDER BY id")
    added = {r["resource_arn"] for r in diff(mpscan, db_url) if r["change"] == "added"}
    assert added == {
        first,
        second,
        tagged,
        client.describe_model_package_group(ModelPackageGroupName="g")["ModelPackageGroupArn"],
    }

    scan(mpscan, db_url)  # nothing changed in AWS
    assert diff(mpscan, db_url) == []
    # unchanged resources are not rewritten: their child rows keep their identity
    assert query(db_url, "SELECT id FROM model_package_containers ORDER BY id") == ids_before
    assert query(db_url, "SELECT DISTINCT last_seen_scan_id FROM model_packages") == [(2,)]

    client.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Approved")
    client.delete_tags(ResourceArn=tagged, TagKeys=["team"])
    client.delete_model_package(ModelPackageName=second)
    third = make_unversioned(client, "newcomer")
    scan(mpscan, db_url)

    changes = diff(mpscan, db_url)
    assert {c["scan_id"] for c in changes} == {3}
    by = {(c["resource_arn"], c["change"], c["field"]): c for c in changes}
    approval = by[(first, "modified", "model_approval_status")]
    assert (approval["old"], approval["new"]) == ("PendingManualApproval", "Approved")
    tag = by[(tagged, "modified", "tag:team")]
    assert (tag["old"], tag["new"]) == ("ml", None)
    assert (second, "removed", None) in by and (third, "added", None) in by
    assert {c["resource_arn"] for c in changes} == {first, second, tagged, third}
    for c in changes:
        assert c["detected_at"] and c["account_id"] == "123456789012"

    assert all(c["detected_at"].endswith("+00:00") for c in changes)
    unknown = mpscan("diff", "--db", db_url, "--since", "99")
    assert unknown.exit_code == 2 and "no scan 99" in unknown.stderr
    since_first = diff(mpscan, db_url, "--since", "1")
    assert since_first == changes  # scan 2 saw no change
    csv_out = mpscan("diff", "--db", db_url, "--since", "2", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("resource_arn,resource_type,account_id")
    assert len(csv_out.splitlines()) == len(changes) + 1


def test_prune_keeps_the_inventory_and_open_findings(standin, sm, mpscan, db_url):
    client = sm["us-east-1"]
    doomed = make_unversioned(client, "doomed")
    make_unversioned(client, "stays")
    for _ in range(3):
        scan(mpscan, db_url)
    client.delete_model_package(ModelPackageName=doomed)
    scan(mpscan, db_url)
    inventory = sorted(query(db_url, "SELECT model_package_arn FROM model_packages"))
    open_findings = sorted(query(db_url, "SELECT id, status FROM findings WHERE status != 'pass'"))
    assert open_findings and query(db_url, "SELECT count(*) FROM removed_resources")[0][0] == 1
    # every scan so far is older than the cut-off
    execute(db_url, "UPDATE scans SET started_at = '2020-01-01 00:00:00+00'")
    execute(db_url, "UPDATE removed_resources SET removed_at = '2020-01-02 00:00:00+00'")

    dry = mpscan("prune", "--older-than", "30d", "--dry-run", "--db", db_url)
    assert dry.exit_code == 0 and dry.stdout.startswith("would delete: ")
    assert query(db_url, "SELECT count(*) FROM scans")[0][0] == 4

    result = mpscan("prune", "--older-than", "30d", "--db", db_url)

    assert result.exit_code == 0, result.stderr
    assert sorted(query(db_url, "SELECT model_package_arn FROM model_packages")) == inventory
    assert (
        sorted(query(db_url, "SELECT id, status FROM findings WHERE status != 'pass'"))
        == open_findings
    )
    assert query(db_url, "SELECT count(*) FROM removed_resources")[0][0] == 0
    # scan 1 (first seen) and 4 (last seen) are pointed to by the inventory, 3 by the findings
    # resolved just now; scan 2 by nothing current: it goes, with its history
    kept = {r[0] for r in query(db_url, "SELECT id FROM scans")}
    assert {1, 3, 4} == kept
    assert query(db_url, "SELECT count(*) FROM scan_regions WHERE scan_id = 2")[0][0] == 0
    # the latest scan's changes stay, whatever their age: diff and reports show them
    assert [r["change"] for r in diff(mpscan, db_url)] == ["removed"]
    events = query(db_url, "SELECT count(*) FROM finding_events WHERE scan_id = 4")[0][0]
    assert events > 0
