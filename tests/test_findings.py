"""Findings end to end: real scans of the stand-in (boto3 over HTTP) into SQLite and
PostgreSQL, judged by the rules. Their lifecycle over scans, a failed region keeping its
findings, waivers, custom SQL rules, config errors and the `mpscan check` gate."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from scanner.app.judging import judge_and_persist
from scanner.config import load_settings
from scanner.rules import catalog
from scanner.rules.base import REGISTRY
from scanner.store.db import make_engine
from tests.conftest import ACCOUNT, query
from tests.support import INFERENCE, make_group, make_unversioned, public_policy

KMS = {"KmsKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
PINNED = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/model@sha256:" + "ab12" * 16
FINDING_COLUMNS = (
    "rule_id, resource_arn, account_id, region, resource_type, severity, status, message, "
    "scan_id, first_seen_at, first_seen_scan_id, last_seen_at, opened_scan_id, resolved_at, "
    "resolved_scan_id, regressions, waiver_reason, waiver_owner, waiver_expires"
)


def scan(mpscan, db, *extra):
    return mpscan("scan", "--regions", "us-east-1,eu-west-1", "--db", db, *extra)


def findings(db, where: str = "1 = 1", **params) -> list[dict]:
    rows = query(
        db,
        f"SELECT {FINDING_COLUMNS} FROM findings WHERE {where} ORDER BY rule_id, resource_arn",
        **params,
    )
    return [dict(r._mapping) for r in rows]


def finding(db, rule_id: str, arn: str) -> dict:
    [row] = findings(db, "rule_id = :r AND resource_arn = :a", r=rule_id, a=arn)
    return row


def write_config(text: str, name: str = "mpscan.toml") -> None:
    """A config in the test's cwd (the standin fixture chdirs to tmp_path): read by default."""
    with open(name, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text))


def pinned_inference() -> dict:
    return {**INFERENCE, "Containers": [{**INFERENCE["Containers"][0], "Image": PINNED}]}


def test_a_scan_stores_the_findings_of_each_rule(sm, mpscan, db_url):
    us = sm["us-east-1"]
    us.create_model_package_group(ModelPackageGroupName="open")
    us.put_model_package_group_policy(
        ModelPackageGroupName="open", ResourcePolicy=json.dumps(public_policy("us-east-1", "open"))
    )
    [loose] = make_group(us, "loose", 1)  # no SecurityConfig, image by tag
    us.create_model_package_group(ModelPackageGroupName="clean")
    clean = us.create_model_package(
        ModelPackageGroupName="clean",
        InferenceSpecification=pinned_inference(),
        SecurityConfig=KMS,
        MetadataProperties={"CommitId": "4f2a9c1", "Repository": "https://git.example.com/m"},
        Tags=[{"Key": "owner", "Value": "ml"}],
    )["ModelPackageArn"]

    result = scan(mpscan, db_url, "--format", "json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["findings"]
    assert summary["new"] == len(findings(db_url)) and summary["rule_errors"] == {}
    open_group = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/open"
    mpg = finding(db_url, "MPG-001", open_group)
    assert (mpg["status"], mpg["severity"], mpg["resource_type"]) == (
        "fail",
        "critical",
        "model_package_group",
    )
    assert "Everyone" in mpg["message"] and mpg["region"] == "us-east-1"
    kms = finding(db_url, "MP-001", loose)
    assert (kms["status"], kms["severity"], kms["message"]) == (
        "fail",
        "high",
        "SecurityConfig has no KmsKeyId",
    )
    assert kms["scan_id"] == kms["first_seen_scan_id"] == kms["opened_scan_id"] == 1
    assert "model:latest" in finding(db_url, "MP-004", loose)["message"]
    assert {f["rule_id"] for f in findings(db_url, "resource_arn = :a", a=loose)} == {
        "MP-001",
        "MP-004",
        "MP-006",
        "MP-011",
    }
    assert findings(db_url, "resource_arn = :a", a=clean) == []  # passes every rule
    assert findings(db_url, "rule_id LIKE 'MPG-%' AND resource_arn <> :a", a=open_group) == []


def events(db, arn: str, rule_id: str) -> list[tuple]:
    rows = query(
        db,
        "SELECT e.scan_id, e.change, e.status FROM finding_events e "
        "JOIN findings f ON f.id = e.finding_id "
        "WHERE f.resource_arn = :a AND f.rule_id = :r ORDER BY e.id",
        a=arn,
        r=rule_id,
    )
    return [tuple(r) for r in rows]


def test_lifecycle_new_still_open_resolved_regressed(sm, mpscan, db_url):
    us = sm["us-east-1"]
    [a] = make_group(us, "a", 1, Tags=[{"Key": "team", "Value": "growth"}])

    first = scan(mpscan, db_url, "--format", "json")  # scan 1: new
    assert first.exit_code == 0, first.stderr
    opened = finding(db_url, "MP-006", a)
    assert (opened["status"], opened["message"]) == ("fail", "missing tags: owner")
    assert opened["first_seen_scan_id"] == opened["opened_scan_id"] == opened["scan_id"] == 1
    assert json.loads(first.stdout)["findings"]["new"] >= 1

    second = scan(mpscan, db_url, "--format", "json")  # scan 2: still open, not new
    assert json.loads(second.stdout)["findings"]["new"] == 0
    still = finding(db_url, "MP-006", a)
    assert still["status"] == "fail" and still["scan_id"] == 2
    assert still["first_seen_at"] == opened["first_seen_at"]
    assert still["first_seen_scan_id"] == still["opened_scan_id"] == 1
    assert still["last_seen_at"] > opened["last_seen_at"]

    us.add_tags(ResourceArn=a, Tags=[{"Key": "owner", "Value": "growth"}])
    third = scan(mpscan, db_url, "--format", "json")  # scan 3: fixed, resolved
    assert json.loads(third.stdout)["findings"]["resolved"] == 1
    resolved = finding(db_url, "MP-006", a)
    assert resolved["status"] == "pass" and resolved["resolved_scan_id"] == 3
    assert resolved["resolved_at"] is not None and resolved["regressions"] == 0
    check = mpscan("check", "--db", db_url, "--fail-on", "low", "--format", "json")
    assert not any(
        w["rule_id"] == "MP-006" and w["resource_arn"] == a
        for w in json.loads(check.stdout)["worst"]
    )

    us.delete_tags(ResourceArn=a, TagKeys=["owner"])
    fourth = scan(mpscan, db_url, "--format", "json")  # scan 4: failing again, regressed
    assert json.loads(fourth.stdout)["findings"]["regressed"] == 1
    regressed = finding(db_url, "MP-006", a)
    assert (regressed["status"], regressed["regressions"]) == ("fail", 1)
    assert regressed["opened_scan_id"] == regressed["scan_id"] == 4
    assert regressed["first_seen_scan_id"] == 1
    assert regressed["resolved_at"] is None and regressed["resolved_scan_id"] is None
    assert events(db_url, a, "MP-006") == [
        (1, "new", "fail"),
        (3, "resolved", "pass"),
        (4, "regressed", "fail"),
    ]


def test_a_changed_approval_changes_the_finding(sm, mpscan, db_url):
    us = sm["us-east-1"]
    [a] = make_group(us, "a", 1, ModelApprovalStatus="PendingManualApproval")
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert findings(db_url, "rule_id = 'MP-010'") == []  # not approved: nothing to judge

    us.update_model_package(ModelPackageArn=a, ModelApprovalStatus="Approved")
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "MP-010", a)["status"] == "fail"

    us.update_model_package(
        ModelPackageArn=a, ModelApprovalStatus="Approved", ApprovalDescription="ok by ana"
    )
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "MP-010", a)["status"] == "pass"
    assert events(db_url, a, "MP-010") == [(2, "new", "fail"), (3, "resolved", "pass")]


def test_a_group_policy_removed_resolves_and_put_back_regresses(sm, mpscan, db_url):
    us = sm["us-east-1"]
    make_group(us, "g", policy=public_policy("us-east-1", "g"))
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/g"
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "MPG-001", arn)["status"] == "fail"

    us.delete_model_package_group_policy(ModelPackageGroupName="g")
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "MPG-001", arn)["status"] == "pass"

    us.put_model_package_group_policy(
        ModelPackageGroupName="g", ResourcePolicy=json.dumps(public_policy("us-east-1", "g"))
    )
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "MPG-001", arn)["regressions"] == 1
    assert events(db_url, arn, "MPG-001") == [
        (1, "new", "fail"),
        (2, "resolved", "pass"),
        (3, "regressed", "fail"),
    ]


def test_a_group_whose_policy_could_not_be_read_is_an_error_not_a_pass(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", policy=public_policy("us-east-1", "g"))
    standin.faults.update(fail_operations={"GetModelPackageGroupPolicy": "AccessDeniedException"})
    result = scan(mpscan, db_url, "-q")
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/g"
    assert result.exit_code == 0, result.stderr  # the policy is unknown, the region stored
    for rule_id in ("MPG-001", "MPG-002"):
        row = finding(db_url, rule_id, arn)
        assert row["status"] == "error" and "unknown" in row["message"]


def test_a_failed_region_keeps_its_findings(standin, sm, mpscan, db_url):
    [eu] = make_group(sm["eu-west-1"], "eu", 1)
    [us] = make_group(sm["us-east-1"], "us", 1)
    assert scan(mpscan, db_url, "-q").exit_code == 0
    before = findings(db_url, "region = 'eu-west-1'")
    assert {f["rule_id"] for f in before} >= {"MP-001", "MP-006"}

    # Fixed in AWS, but the region cannot be read: its findings must not be resolved.
    sm["eu-west-1"].add_tags(ResourceArn=eu, Tags=[{"Key": "owner", "Value": "ml"}])
    sm["us-east-1"].add_tags(ResourceArn=us, Tags=[{"Key": "owner", "Value": "ml"}])
    standin.faults.update(deny_regions=["eu-west-1"])
    second = scan(mpscan, db_url, "--format", "json")

    assert second.exit_code == 3, second.stderr
    assert json.loads(second.stdout)["findings"]["resolved"] == 1  # us-east-1's MP-006 only
    assert findings(db_url, "region = 'eu-west-1'") == before
    assert finding(db_url, "MP-006", us)["status"] == "pass"
    assert finding(db_url, "MP-001", us)["scan_id"] == 2

    # Re-judging the stored inventory leaves the failed region alone as well.
    rejudge = mpscan("evaluate", "--db", db_url)
    assert rejudge.exit_code == 0, rejudge.stderr
    assert findings(db_url, "region = 'eu-west-1'") == before
    # ...but a waiver added now reaches its stored inventory all the same.
    Path("mpscan.toml").write_text(
        f'[[waivers]]\nrule = "MP-001"\nresource = "{eu}"\nreason = "r"\nowner = "o"\n'
        "expires = 2099-01-01\n"
    )
    assert mpscan("evaluate", "--db", db_url).exit_code == 0
    waived = finding(db_url, "MP-001", eu)
    assert waived["status"] == "waived" and waived["scan_id"] == 1  # still seen by scan 1
    Path("mpscan.toml").unlink()

    standin.faults.update(deny_regions=[])  # and once it is read again, the fix shows
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "MP-006", eu)["status"] == "pass"


LEGACY_WAIVER = """
    [[waivers]]
    rule = "MP-001"
    resource = "arn:aws:sagemaker:us-east-1:123456789012:model-package/legacy-*"
    reason = "legacy models, re-registered with KMS in Q1"
    owner = "ml-platform@example.com"
    expires = 2099-12-31
"""
WAIVERS_FILE = """
    [[waivers]]
    rule = "MP-001"
    resource = "arn:aws:sagemaker:us-east-1:123456789012:model-package/old"
    reason = "was to be deleted"
    owner = "ana@example.com"
    expires = 2020-01-31

    [[waivers]]
    rule = "MPG-001"
    resource = "arn:aws:sagemaker:*:123456789012:model-package-group/gone-*"
    reason = "nothing matches"
    owner = "ben@example.com"
    expires = 2099-01-01
"""


def test_waivers_active_expired_and_stale(sm, mpscan, db_url):
    us = sm["us-east-1"]
    legacy = make_unversioned(us, "legacy-churn")
    old = make_unversioned(us, "old")
    plain = make_unversioned(us, "plain")
    write_config('[rules]\nwaivers_file = "waivers.toml"\n' + textwrap.dedent(LEGACY_WAIVER))
    write_config(WAIVERS_FILE, "waivers.toml")

    result = scan(mpscan, db_url, "-q")

    assert result.exit_code == 0, result.stderr
    waived = finding(db_url, "MP-001", legacy)
    assert (waived["status"], waived["waiver_owner"], str(waived["waiver_expires"])) == (
        "waived",
        "ml-platform@example.com",
        "2099-12-31",  # a date on PostgreSQL, its text on SQLite
    )
    assert waived["waiver_reason"] == "legacy models, re-registered with KMS in Q1"
    expired = finding(db_url, "MP-001", old)
    assert expired["status"] == "fail"
    assert expired["message"] == (
        "SecurityConfig has no KmsKeyId (waiver by ana@example.com expired 2020-01-31)"
    )
    assert finding(db_url, "MP-001", plain)["waiver_reason"] is None
    assert finding(db_url, "MP-004", legacy)["status"] == "fail"  # a waiver is for one rule

    check = mpscan("check", "--db", db_url, "--fail-on", "high")
    assert check.exit_code == 4
    assert check.stdout.startswith("FAIL: 2 failing at or above high")  # old and plain
    assert legacy not in check.stdout
    assert check.stderr.strip() == (
        "mpscan: stale waiver: MPG-001 arn:aws:sagemaker:*:123456789012:"
        "model-package-group/gone-* matches nothing"
    )
    engine = make_engine(db_url)
    try:
        evaluation = judge_and_persist(engine, catalog.load(load_settings()))
    finally:
        engine.dispose()
    assert [w.rule_id for w in evaluation.stale_waivers] == ["MPG-001"]
    assert [w.resource.rsplit("/", 1)[1] for w in evaluation.expired_waivers] == ["old"]


def test_a_waiver_added_later_applies_without_a_new_scan(sm, mpscan, db_url):
    [a] = make_group(sm["us-east-1"], "a", 1)
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert mpscan("check", "--db", db_url, "--fail-on", "high").exit_code == 4

    write_config(
        f"""
        [[waivers]]
        rule = "MP-001"
        resource = "{a}"
        reason = "accepted risk"
        owner = "sec@example.com"
        expires = 2099-01-01
        """
    )
    check = mpscan("check", "--db", db_url, "--fail-on", "high")  # a waived finding never blocks
    assert check.exit_code == 0, check.stdout
    assert check.stdout.startswith("pass: 0 failing at or above high")
    assert finding(db_url, "MP-001", a)["status"] == "waived"
    assert [e[1] for e in events(db_url, a, "MP-001")] == ["new", "changed"]

    write_config('[rules.MP-001]\nenabled = false\n[rules.MP-004]\nseverity = "critical"\n')
    check = mpscan("check", "--db", db_url, "--fail-on", "critical", "--format", "json")
    assert check.exit_code == 4
    report = json.loads(check.stdout)
    assert report["failing_by_severity"] == {"critical": 1, "low": 1, "info": 1}
    assert report["worst"][0]["rule_id"] == "MP-004"


def test_check_gate_exit_codes_and_json(sm, mpscan, db_url):
    [a] = make_group(sm["us-east-1"], "a", 1)  # high (MP-001), medium, low, info
    assert scan(mpscan, db_url, "-q").exit_code == 0

    high = mpscan("check", "--db", db_url)  # --fail-on high by default
    assert high.exit_code == 4
    assert high.stdout.splitlines()[0] == (
        "FAIL: 1 failing at or above high (scan 1; 0 critical, 1 high, 1 medium, 1 low, 1 info)"
    )
    assert f"high     MP-001   {a}  SecurityConfig has no KmsKeyId" in high.stdout
    critical = mpscan("check", "--db", db_url, "--fail-on", "critical", "--format", "json")
    assert critical.exit_code == 0, critical.stdout
    assert json.loads(critical.stdout) == {
        "scan_id": 1,
        "fail_on": "critical",
        "failing_by_severity": {"high": 1, "medium": 1, "low": 1, "info": 1},
        "blocking": 0,
        "worst": [],
        "stale_waivers": [],
    }
    info = mpscan("check", "--db", db_url, "--fail-on", "info", "--format", "json")
    assert info.exit_code == 4 and json.loads(info.stdout)["blocking"] == 4
    assert [w["severity"] for w in json.loads(info.stdout)["worst"]] == [
        "high",
        "medium",
        "low",
        "info",
    ]


def test_check_without_a_database_is_one_line_exit_1(standin, mpscan, tmp_path):
    result = mpscan("check", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "no database" in result.stderr
    assert not (tmp_path / "none.db").exists()


CUSTOM = """
    id = "{id}"
    title = "A custom rule"
    severity = "{severity}"
    resource_type = "{resource_type}"
    rationale = "Because."
    remediation = "Fix it."
    remediation_cli = "aws sagemaker update-model-package --model-package-arn <arn>"
    sql = \"\"\"
    {sql}
    \"\"\"
"""


def custom(id, sql, severity="low", resource_type="model_package") -> str:
    return textwrap.dedent(CUSTOM).format(
        id=id, sql=sql, severity=severity, resource_type=resource_type
    )


def test_custom_sql_rules_from_the_config_and_a_folder(sm, mpscan, db_url, tmp_path):
    us = sm["us-east-1"]
    bare = make_unversioned(us, "bare")
    described = make_unversioned(us, "described", ModelPackageDescription="churn model")
    make_group(sm["eu-west-1"], "nothing-in-it")
    described_sql = (
        "SELECT model_package_arn AS resource_arn, 'no description: ' || model_package_name "
        "AS message FROM model_packages WHERE model_package_description IS NULL"
    )
    write_config(
        "[rules]\nfolder = 'rules'\n\n[[rules.custom]]\n" + custom("ACME-001", described_sql)
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "empty-groups.toml").write_text(
        custom(
            "ACME-002",
            "WITH counted AS (SELECT g.model_package_group_arn AS arn, count(p.model_package_arn) "
            "AS n FROM model_package_groups g LEFT JOIN model_packages p ON "
            "p.model_package_group_name = g.model_package_group_name GROUP BY 1) "
            "SELECT arn AS resource_arn, 'a group with ' || n || ' versions' AS message "
            "FROM counted WHERE n = 0 -- a trailing comment",
            severity="info",
            resource_type="model_package_group",
        )
    )
    listed = json.loads(mpscan("rules", "--format", "json").stdout)
    assert {r["id"]: r["source"] for r in listed if r["id"].startswith("ACME")} == {
        "ACME-001": "[[rules.custom]]",
        "ACME-002": str(tmp_path / "rules" / "empty-groups.toml"),
    }

    result = scan(mpscan, db_url, "-q")

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    mine = finding(db_url, "ACME-001", bare)
    assert (mine["status"], mine["severity"], mine["message"]) == (
        "fail",
        "low",
        "no description: bare",
    )
    assert findings(db_url, "rule_id = 'ACME-001' AND resource_arn = :a", a=described) == []
    group = finding(
        db_url,
        "ACME-002",
        f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package-group/nothing-in-it",
    )
    assert (group["region"], group["message"]) == ("eu-west-1", "a group with 0 versions")

    us.update_model_package(ModelPackageArn=bare, CustomerMetadataProperties={"a": "b"})
    write_config("[[rules.custom]]\n" + custom("ACME-001", described_sql + " AND 1 = 0"))
    assert mpscan("evaluate", "--db", db_url).exit_code == 0  # the rule changed: resolved
    assert finding(db_url, "ACME-001", bare)["status"] == "pass"


BROKEN = {
    "ACME-101": ("SELECT no_such_column AS resource_arn, 'x' AS message FROM model_packages", ""),
    "ACME-102": (
        "SELECT model_package_arn AS arn, 'x' AS message FROM model_packages WHERE 1 = 0",
        "resource_arn and message",
    ),
    "ACME-103": (
        "SELECT model_package_arn AS resource_arn, 'x' AS message FROM model_packages; "
        "DELETE FROM model_packages",
        "",
    ),
    "ACME-104": (
        "WITH gone AS (DELETE FROM model_packages RETURNING model_package_arn) "
        "SELECT model_package_arn AS resource_arn, 'x' AS message FROM gone",
        "",
    ),
    "ACME-105": (
        "SELECT 'x' AS resource_arn, 'x' AS message; COMMIT; SET TRANSACTION READ WRITE; "
        "DELETE FROM findings; DELETE FROM model_packages",
        "",
    ),
}


def test_a_broken_or_writing_custom_rule_is_its_own_error(sm, mpscan, db_url):
    [a] = make_group(sm["us-east-1"], "a", 2)[:1]
    write_config("".join("[[rules.custom]]\n" + custom(i, sql) for i, (sql, _) in BROKEN.items()))

    result = scan(mpscan, db_url, "-q")

    assert result.exit_code == 0, result.stderr
    errors = result.stderr.splitlines()
    assert [line.split()[2] for line in errors] == list(BROKEN)
    for line, (_, reason) in zip(errors, BROKEN.values(), strict=True):
        assert line.startswith("mpscan: rule ACME-1") and "could not run: " in line
        assert reason in line
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 2  # nothing written
    assert finding(db_url, "MP-001", a)["status"] == "fail"  # the other rules ran
    assert findings(db_url, "rule_id LIKE 'ACME-%'") == []

    again = mpscan("evaluate", "--db", db_url)
    assert again.exit_code == 0
    assert again.stderr.count("could not run") == len(BROKEN)
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 2
    assert finding(db_url, "MP-001", a)["status"] == "fail"


def test_a_custom_rule_that_broke_keeps_its_findings(sm, mpscan, db_url):
    bare = make_unversioned(sm["us-east-1"], "bare")
    sql = (
        "SELECT model_package_arn AS resource_arn, 'no description' AS message "
        "FROM model_packages WHERE model_package_description IS NULL"
    )
    write_config("[[rules.custom]]\n" + custom("ACME-001", sql))
    assert scan(mpscan, db_url, "-q").exit_code == 0
    assert finding(db_url, "ACME-001", bare)["status"] == "fail"

    write_config("[[rules.custom]]\n" + custom("ACME-001", sql.replace("FROM", "FROM nope_")))
    result = mpscan("evaluate", "--db", db_url)
    assert result.exit_code == 0 and "rule ACME-001 could not run" in result.stderr
    assert finding(db_url, "ACME-001", bare)["status"] == "fail"  # not resolved by the breakage


@pytest.mark.parametrize(
    ("config", "files", "message"),
    [
        ("[rules.MP-999]\nenabled = false\n", {}, "unknown rule 'rules.MP-999'"),
        (
            "[rules.MP-006]\nrequired_tag = ['owner']\n",
            {},
            "unknown parameter 'rules.MP-006.required_tag'",
        ),
        (
            "[rules.MP-006]\nrequired_tags = 'owner'\n",
            {},
            "'rules.MP-006.required_tags' must be list",
        ),
        (
            "[rules.MP-007]\nmax_pending_days = true\n",
            {},
            "'rules.MP-007.max_pending_days' must be int",
        ),
        ("[rules.MP-001]\nseverity = 'urgent'\n", {}, "'rules.MP-001.severity' must be one of"),
        ("[rules.MP-001]\nenabled = 'no'\n", {}, "'rules.MP-001.enabled' must be true or false"),
        (
            "[[waivers]]\nrule = 'MP-001'\nresource = '*'\nreason = 'r'\nowner = 'o'\n",
            {},
            "waiver in [[waivers]]: missing expires",
        ),
        (
            "[[waivers]]\nrule = 'MP-404'\nresource = '*'\nreason = 'r'\nowner = 'o'\n"
            "expires = 2099-01-01\n",
            {},
            "unknown rule 'MP-404'",
        ),
        (
            "[[waivers]]\nrule = 'MP-001'\nresource = '*'\nreason = 'r'\nowner = 'o'\n"
            "expires = 'soon'\n",
            {},
            "'expires' must be a date",
        ),
        ("[rules]\nwaivers_file = 'w.toml'\n", {}, "waivers file"),
        (
            "[rules]\nwaivers_file = 'w.toml'\n",
            {"w.toml": "[[waivers]]\nrule = 'MP-001'\nresource = '*'\n"},
            "missing reason, owner, expires",
        ),
        (
            "[[rules.custom]]\nid = 'ACME-001'\ntitle = 't'\nseverity = 'low'\nsql = 'SELECT 1'\n",
            {},
            "custom rule in [[rules.custom]]: missing resource_type, rationale, remediation, "
            "remediation_cli",
        ),
        ("[[rules.custom]]\n" + custom("ACME-1", "SELECT 1"), {}, "must look like MP-001"),
        ("[[rules.custom]]\n" + custom("MP-001", "SELECT 1"), {}, "reuses an id"),
        (
            "[[rules.custom]]\n" + custom("ACME-001", "SELECT 1", resource_type="notebook"),
            {},
            "resource_type must be one of",
        ),
        (
            "[[rules.custom]]\n" + custom("ACME-001", "DELETE FROM model_packages"),
            {},
            "sql must be a SELECT",
        ),
        ("[rules]\nfolder = 'rules'\n", {"rules/bad.toml": "id = ["}, "bad.toml"),
        (
            "[rules]\nfolder = 'rules'\n",
            {"rules/ok.toml": custom("ACME-001", "SELECT 1"), "rules/short.toml": "id = 'X-001'\n"},
            "short.toml: missing title",
        ),
        ("[rules]\nfolder = 'no-such-folder'\n", {}, "is not a directory"),
    ],
)
def test_config_errors_are_one_line_exit_2(standin, mpscan, tmp_path, config, files, message):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    write_config(config)
    for command in (("rules",), ("scan", "--db", f"sqlite:///{tmp_path / 'x.db'}"), ("check",)):
        result = mpscan(*command)
        assert result.exit_code == 2, (command, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("mpscan: config error") or "config error" in result.stderr
        assert message in result.stderr, result.stderr
    assert not (tmp_path / "x.db").exists()


def test_rules_lists_metadata_with_the_overrides(standin, mpscan):
    write_config(
        "[rules.MP-011]\nenabled = false\n[rules.MP-006]\nseverity = 'high'\n"
        "required_tags = ['owner', 'cost-center']\n"
    )
    listed = {r["id"]: r for r in json.loads(mpscan("rules", "--format", "json").stdout)}
    assert set(listed) == set(REGISTRY)  # every built-in rule, disabled ones too
    assert listed["MP-011"]["enabled"] is False
    mp6 = listed["MP-006"]
    assert (mp6["severity"], mp6["default_severity"]) == ("high", "low")
    assert mp6["parameters"] == {"required_tags": ["owner", "cost-center"]}
    assert mp6["remediation_cli"].startswith("aws sagemaker add-tags")
    assert mp6["reads"] == ["tags"] and mp6["rationale"] and mp6["remediation"]
    table = mpscan("rules")
    assert table.exit_code == 0 and "MPG-001" in table.stdout and "critical" in table.stdout


def test_a_custom_rule_naming_a_resource_twice_is_one_finding(sm, mpscan, db_url):
    """One row per tag, say: still one finding per rule, resource and account."""
    bare = make_unversioned(sm["us-east-1"], "bare")
    sql = (
        "SELECT model_package_arn AS resource_arn, 'first' AS message FROM model_packages "
        "UNION ALL SELECT model_package_arn, 'second' FROM model_packages"
    )
    write_config("[[rules.custom]]\n" + custom("ACME-001", sql))
    result = scan(mpscan, db_url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert finding(db_url, "ACME-001", bare)["status"] == "fail"
    assert mpscan("evaluate", "--db", db_url).exit_code == 0
    assert len(findings(db_url, "rule_id = 'ACME-001'")) == 1


def test_a_renewed_waiver_wins_over_the_expired_one(sm, mpscan, db_url):
    old = make_unversioned(sm["us-east-1"], "old")
    waiver = """
        [[waivers]]
        rule = "MP-001"
        resource = "{resource}"
        reason = "{reason}"
        owner = "ana@example.com"
        expires = {expires}
    """
    write_config(
        waiver.format(resource=old, reason="first", expires="2020-01-31")
        + waiver.format(resource="*/old", reason="renewed", expires="2099-01-31")
    )
    assert scan(mpscan, db_url, "-q").exit_code == 0
    row = finding(db_url, "MP-001", old)
    assert (row["status"], row["waiver_reason"]) == ("waived", "renewed")
    assert row["message"] == "SecurityConfig has no KmsKeyId"
    check = mpscan("check", "--db", db_url)
    assert check.exit_code == 0 and check.stderr == ""  # neither waiver is stale


def test_many_findings_are_stored_byte_for_byte_as_sqlalchemy_stores_them(db_url):
    """The merge's bulk insert (the driver's executemany on SQLite, COPY on PostgreSQL)
    stores every value as SQLAlchemy's own executemany does: the same text of timestamps
    (UTC, another offset, naive; one object shared by many rows, equal instants apart), of
    dates, of JSON (SQLite's path takes any table) and of odd text, the same types."""
    from datetime import UTC, date, datetime, timedelta, timezone

    from sqlalchemy import Text, cast, func, insert, select

    from scanner.store import findings as store_findings
    from scanner.store.db import ensure_schema
    from scanner.store.schema import Finding, ResourceChange, Scan

    at = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
    same_instant = at.astimezone(timezone(timedelta(hours=2)))  # equal to `at`, other text
    texts = ["plain", "é ✓ 'single' \"double\"\nsecond line\ttab", "x" * 5000, ""]

    def finding_rows(prefix: str) -> list[dict]:
        return [
            {
                "rule_id": f"MP-00{i % 3}",
                "resource_arn": f"{prefix}/{i}",
                "account_id": ACCOUNT,
                "region": "eu-west-1",
                "resource_type": "model_package",
                "severity": "high",
                "status": ("fail", "error", "waived")[i % 3],
                "message": texts[i % len(texts)],
                "waiver_reason": None if i % 2 else "reason",
                "waiver_owner": None if i % 2 else "owner@example.com",
                "waiver_expires": None if i % 2 else date(2027, 3, 31),
                "scan_id": 1,
                "first_seen_at": at,
                "first_seen_scan_id": 1,
                "last_seen_at": (at, same_instant, datetime(2026, 1, 2, 3, 4, 5))[i % 3],
                "opened_scan_id": 1,
                "regressions": i,
            }
            for i in range(12)
        ]

    def change_rows(prefix: str) -> list[dict]:
        values = [None, {"b": 1, "a": [1.5, None, "é"]}, ["x", {"k": True}], "text", 3, False]
        return [
            {
                "scan_id": 1,
                "detected_at": (at, same_instant)[i % 2],
                "resource_type": "model_package",
                "resource_arn": f"{prefix}/{i}",
                "account_id": ACCOUNT,
                "region": "eu-west-1",
                "change": "modified",
                "field": None if i % 2 else "tags",
                "old": values[i % len(values)],
                "new": values[(i + 1) % len(values)],
            }
            for i in range(12)
        ]

    engine = make_engine(db_url)
    ensure_schema(engine)
    tables = [(Finding, finding_rows)]
    if engine.dialect.name == "sqlite":
        tables.append((ResourceChange, change_rows))
    with engine.begin() as conn:
        conn.execute(insert(Scan), {"started_at": at, "status": "complete", "mpscan_version": "t"})
        for table, rows in tables:
            conn.execute(insert(table), rows("sqlalchemy"))
            bulk = rows("bulk")
            columns = list(bulk[0])
            store_findings._insert_many(
                conn, table.__table__, columns, [tuple(r[c] for c in columns) for r in bulk]
            )
        if engine.dialect.name == "postgresql":  # the merge's timestamp, dumped once
            stamped = [
                tuple(
                    store_findings._copy_text(conn, v) if isinstance(v, datetime) else v
                    for v in r.values()
                )
                for r in finding_rows("stamped")
            ]
            store_findings._insert_many(conn, Finding.__table__, columns, stamped)
    with engine.connect() as conn:
        for table, _ in tables:
            columns = [c for c in table.__table__.c if c.name not in ("id", "resource_arn")]
            shown = [cast(c, Text) for c in columns]
            if engine.dialect.name == "sqlite":
                shown += [func.typeof(c) for c in columns]
            stored = {
                prefix: conn.execute(
                    select(*shown)
                    .where(table.resource_arn.startswith(prefix + "/"))
                    .order_by(table.id)
                ).all()
                for prefix in ("sqlalchemy", "bulk", "stamped")
            }
            assert len(stored["bulk"]) == 12
            assert stored["bulk"] == stored["sqlalchemy"], table.__tablename__
            if engine.dialect.name == "postgresql":
                assert stored["stamped"] == stored["sqlalchemy"]
    engine.dispose()


def test_the_driver_cursors_errors_are_sqlalchemys(db_url):
    """The judge reads, and the merge inserts on SQLite, through the driver's own cursor; a
    failure there is raised as SQLAlchemy raises it (what callers catch as SQLAlchemyError:
    a scan's "database error" line), not as the driver's own exception."""
    from sqlalchemy import select, text
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from scanner.rules.reading import _rows
    from scanner.store import findings as store_findings
    from scanner.store.db import ensure_schema
    from scanner.store.schema import Finding, ModelPackage

    engine = make_engine(db_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        conn.execute(select(Finding.id)).all()  # the transaction SQLAlchemy rolls back below
        broken = select(ModelPackage.model_package_arn).where(text("no_such_column = 1"))
        with pytest.raises(DBAPIError) as raised:
            list(_rows(conn, broken))
        assert "no_such_column" in str(raised.value.orig)
        conn.rollback()
        if engine.dialect.name == "sqlite":
            with pytest.raises(IntegrityError):  # resource_arn and the rest are NOT NULL
                store_findings._insert_many(conn, Finding.__table__, ["rule_id"], [("MP-001",)])
    engine.dispose()


def test_the_judge_pages_resources_and_merges_each_page_alone(sm, mpscan, db_url, monkeypatch):
    """The judge reads a page of resources at a time and merges each page's findings alone
    (memory flat with the inventory's size). Judged in pages of two, an inventory gets
    exactly the findings one page would give it; a re-scan after deletions resolves the
    findings of a resource between two pages' keys and of the last key, and leaves the
    rest open as they were."""
    from scanner.rules import evaluate

    us = sm["us-east-1"]
    versions = make_group(us, "paged", 5)
    loose = [make_unversioned(us, f"loose-{i}") for i in range(3)]
    for name in ("g-a", "g-b", "g-c"):  # groups page too: MPG-002 (no description)
        us.create_model_package_group(ModelPackageGroupName=name)
    monkeypatch.setattr(evaluate, "PAGE", 2)

    first = scan(mpscan, db_url, "--format", "json")
    assert first.exit_code == 0, first.stderr
    paged = {(f["rule_id"], f["resource_arn"]): f for f in findings(db_url)}
    assert json.loads(first.stdout)["findings"]["new"] == len(paged)
    judged = {arn for _, arn in paged}
    assert set(versions + loose) <= judged  # every page's resources were judged

    monkeypatch.setattr(evaluate, "PAGE", 1000)  # one page: the same verdicts, nothing new
    again = mpscan("evaluate", "--db", db_url)
    assert "0 new, 0 regressed, 0 changed, 0 resolved" in again.stdout, again.stdout
    assert {(f["rule_id"], f["resource_arn"]): f for f in findings(db_url)} == paged

    monkeypatch.setattr(evaluate, "PAGE", 2)
    arns = sorted(set(versions + loose))  # the judge's key order (text: both engines agree here)
    middle, last = arns[3], arns[-1]
    for arn in (middle, last):
        us.delete_model_package(ModelPackageName=arn)
    us.delete_model_package_group(ModelPackageGroupName="g-c")
    second = scan(mpscan, db_url, "--format", "json")
    assert second.exit_code == 0, second.stderr
    gone = {middle, last, f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/g-c"}
    after = {(f["rule_id"], f["resource_arn"]): f for f in findings(db_url)}
    assert after.keys() == paged.keys()
    for key, f in after.items():
        if key[1] in gone:
            assert (f["status"], f["resolved_scan_id"]) == ("pass", 2), key
        else:
            assert f["status"] == paged[key]["status"] != "pass", key
            assert (f["first_seen_scan_id"], f["scan_id"]) == (1, 2), key
    resolved = sum(1 for key in paged if key[1] in gone)
    assert json.loads(second.stdout)["findings"]["resolved"] == resolved > 2
