"""MP-014 and MPG-003 on a scanned registry, on SQLite and PostgreSQL: what a report says
about versions registered as Approved, approved by their author, and groups whose latest
versions were all approved; MPG-003's parameter in the config; the group's versions as the
judge reads them (at most 100 a group, newest first, one group for an event's scope).

The case table of tests/test_rules.py runs each check on its own rows; here the rows come
from a scan of the stand-in (moto records CreatedBy, and LastModifiedBy = CreatedBy on an
update, as one identity does both)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from tests.support import make_group, make_unversioned

REGION = "us-east-1"
ACCOUNT = "123456789012"


def findings(mpscan, db_url: str, rule_id: str) -> dict[str, str]:
    """The report's failing findings of one rule: resource ARN -> message."""
    result = mpscan("report", "--db", db_url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {
        f["resource_arn"]: f["message"]
        for f in json.loads(result.stdout)["findings"]
        if f["rule_id"] == rule_id and f["status"] == "fail"
    }


def group_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{name}"


def test_versions_approved_at_registration_or_by_their_author(standin, sm, mpscan, db_url):
    east = sm[REGION]
    automatic = make_group(east, "automatic", 6, ModelApprovalStatus="Approved")
    reviewed = make_group(east, "reviewed", 6, ModelApprovalStatus="PendingManualApproval")
    for arn in reviewed[-2:]:  # approved afterwards by the identity that registered them
        east.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    young = make_group(east, "young", 3, ModelApprovalStatus="Approved")
    legacy = make_unversioned(east, "legacy", ModelApprovalStatus="Approved")
    assert mpscan("scan", "--regions", REGION, "--db", db_url, "-q").exit_code == 0

    mp014 = findings(mpscan, db_url, "MP-014")
    for arn in automatic + young:
        assert mp014[arn].startswith("registered as Approved: no change was recorded"), arn
    for arn in reviewed[-2:]:
        assert mp014[arn].startswith("approved by its author: LastModifiedBy's user profile")
    assert not set(mp014) & {*reviewed[:-2], legacy}  # pending, and not a version
    mpg003 = findings(mpscan, db_url, "MPG-003")
    assert mpg003 == {
        group_arn("automatic"): "the latest 5 versions (versions 2 to 6) are all Approved, "
        "none Rejected or PendingManualApproval"
    }  # reviewed has pending versions; young has 3, fewer than 5

    # An event's judgement of one group (scanner.app.listen) reads that group's versions.
    from scanner.config import Settings
    from scanner.rules import catalog, evaluate
    from scanner.store.db import make_engine
    from scanner.store.scope import Scope

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            for arn in (group_arn("automatic"), automatic[0]):
                _, batches = evaluate.judge(
                    conn, catalog.load(Settings()), scan_id=1, now=datetime.now(UTC),
                    scope=Scope.of_resource(ACCOUNT, REGION, arn),
                )  # fmt: skip
                judged = [j for batch in batches or [] for j in batch.results]
                verdicts = {j.rule_id for j in judged if j.status == "fail"}
                assert ("MPG-003" in verdicts) == (arn == group_arn("automatic")), arn
    finally:
        engine.dispose()

    Path("mpscan.toml").write_text("[rules.MPG-003]\nversions = 3\n")
    mpg003 = findings(mpscan, db_url, "MPG-003")  # the report re-judges with the config
    assert set(mpg003) == {group_arn("automatic"), group_arn("young")}
    assert "the latest 3 versions (versions 1 to 3)" in mpg003[group_arn("young")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "'rules.MPG-003.versions' must be from 1 to 100, got 0"),
        ("101", "'rules.MPG-003.versions' must be from 1 to 100, got 101"),
        ("'5'", "'rules.MPG-003.versions' must be int"),
        ("true", "'rules.MPG-003.versions' must be int"),
    ],
)
def test_mpg_003_versions_out_of_bounds_is_a_config_error(standin, mpscan, value, message):
    Path("mpscan.toml").write_text(f"[rules.MPG-003]\nversions = {value}\n")
    result = mpscan("rules")
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_mpscan_rules_lists_mpg_003_with_its_parameter_and_source(standin, mpscan):
    Path("mpscan.toml").write_text("[rules.MPG-003]\nversions = 8\n")
    result = mpscan("rules", "--format", "json")
    assert result.exit_code == 0, result.stderr
    listed = {r["id"]: r for r in json.loads(result.stdout)}
    assert listed["MPG-003"]["parameters"] == {"versions": 8}
    assert any("sample-aiml-security-assessment" in url for url in listed["MPG-003"]["references"])
    assert "sagemaker:ListModelPackages" in listed["MPG-003"]["needs"]


def _store(conn, rows) -> None:
    from scanner.store.schema import ModelPackage, Scan, ScanRegion

    now = datetime(2026, 12, 1, tzinfo=UTC)
    conn.execute(insert(Scan), {"started_at": now, "status": "complete", "mpscan_version": "t"})
    conn.execute(
        insert(ScanRegion),
        [
            {"scan_id": 1, "account_id": ACCOUNT, "region": r, "status": "complete",
             "started_at": now}
            for r in (REGION, "eu-west-1")
        ],
    )  # fmt: skip
    seen = {"first_seen_at": now, "last_seen_at": now, "first_seen_scan_id": 1,
            "last_seen_scan_id": 1, "raw": {}}  # fmt: skip
    conn.execute(insert(ModelPackage), [row | seen for row in rows])


def _package(region: str, group: str | None, version: int | None, status: str) -> dict:
    name = f"{group or 'solo'}/{version or 0}"
    return {
        "model_package_arn": f"arn:aws:sagemaker:{region}:{ACCOUNT}:model-package/{name}",
        "account_id": ACCOUNT,
        "region": region,
        "model_package_type": "Versioned" if group else "Unversioned",
        "model_package_group_name": group,
        "model_package_version": version,
        "model_approval_status": status,
    }


def test_the_judge_reads_a_groups_latest_100_versions_newest_first(db_url):
    """A group of 450 versions stored in any order gives its newest 100, whether read by a
    query or gathered from the package rows as the judge streams them; a group of the same
    name in another region is another group; an unversioned package is nobody's."""
    from scanner.rules.derived import LATEST, Derived, latest_versions
    from scanner.store.db import ensure_schema, make_engine
    from scanner.store.scope import Scope

    versions = list(range(1, 451))
    random.Random(7).shuffle(versions)
    rows = [_package(REGION, "big", v, "Approved" if v % 4 else "Rejected") for v in versions]
    rows += [_package("eu-west-1", "big", v, "Approved") for v in (1, 2)]
    rows.append(_package(REGION, None, None, "Approved"))
    engine = make_engine(db_url)
    try:
        ensure_schema(engine)
        with engine.begin() as conn:
            _store(conn, rows)
        with engine.connect() as conn:
            every = latest_versions(conn, Scope.stored())
            one = latest_versions(conn, Scope.of_resource(ACCOUNT, REGION, group_arn("big")))
            made = Derived([("model_package_group", ("latest_versions",))], Scope.stored())
            see = made.see("model_package")
            for row in rows:  # as the package pass streams them
                see(row)
            made.done("model_package")
            add = made.adder(conn, "model_package_group")
    finally:
        engine.dispose()

    big = every[(ACCOUNT, REGION, "big")]
    assert [v for v, _ in big] == list(range(450, 450 - LATEST, -1))
    assert big[:4] == [(450, "Approved"), (449, "Approved"), (448, "Rejected"), (447, "Approved")]
    gathered = add({"account_id": ACCOUNT, "region": REGION, "model_package_group_name": "big"})
    assert gathered == {"latest_versions": big}
    assert every[(ACCOUNT, "eu-west-1", "big")] == [(2, "Approved"), (1, "Approved")]
    assert set(every) == {(ACCOUNT, REGION, "big"), (ACCOUNT, "eu-west-1", "big")}
    assert one == {(ACCOUNT, REGION, "big"): big}  # an event's group: its versions alone
