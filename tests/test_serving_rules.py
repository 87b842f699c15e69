"""The rules on what is in production, judged by real scans through the stand-in on SQLite
and PostgreSQL: each DEP rule fails, passes and errors as a user reads it in `findings`,
a package shared from another account is resolved once that account is scanned, and
waiving a package's finding clears DEP-003 on the endpoint serving it."""

from __future__ import annotations

from pathlib import Path

import boto3

from tests.conftest import query
from tests.support import make_group, make_unversioned
from tests.support_serving import make_card, make_endpoint, make_model

A, B = "111111111111", "222222222222"  # a scanned account, and one sharing a package
REGION = "us-east-1"
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def sagemaker_of(account: str):
    return boto3.client(
        "sagemaker", region_name=REGION, aws_access_key_id=account, aws_secret_access_key="x"
    )


def config(*accounts: str, waivers: str = "") -> None:
    Path("mpscan.toml").write_text(
        "".join(
            f'[[accounts]]\nrole_arn = "arn:aws:iam::{a}:role/mpscan-reader"\n' for a in accounts
        )
        + waivers  # fmt: skip
    )


def endpoint_findings(db) -> dict[tuple[str, str], tuple[str, str]]:
    """(rule, endpoint name) -> (status, message), as `findings` holds them."""
    rows = query(
        db, "SELECT rule_id, resource_arn, status, message FROM findings "
        "WHERE resource_type = 'endpoint' AND rule_id LIKE 'DEP-%'"
    )  # fmt: skip
    return {(r[0], r[1].rsplit("/", 1)[1]): (r[2], r[3]) for r in rows}


def scan(mpscan, db):
    result = mpscan("scan", "--regions", REGION, "--db", db, "-q")
    assert result.exit_code == 0, result.stderr
    return result


def test_each_endpoint_is_judged_by_what_it_serves(standin, mpscan, db_url):
    a, b = sagemaker_of(A), sagemaker_of(B)
    old, rejected, latest = make_group(a, "churn", 3, ModelApprovalStatus="Approved",
                                       SecurityConfig={"KmsKeyId": KEY})  # fmt: skip
    a.update_model_package(ModelPackageArn=rejected, ModelApprovalStatus="Rejected")
    doomed = make_unversioned(a, "doomed")
    [shared] = make_group(b, "shared", 1, ModelApprovalStatus="Approved")
    for name, package in (
        ("m-old", old),
        ("m-rejected", rejected),
        ("m-latest", latest),
        ("m-doomed", doomed),
        ("m-shared", shared),
        ("m-loose", None),
    ):
        make_model(a, name, package)  # fmt: skip
    for name in ("old", "rejected", "latest", "doomed", "shared", "loose"):
        make_endpoint(a, name, ("main", f"m-{name}", 1.0))
    a.delete_model_package(ModelPackageName=doomed)
    make_card(a, "churn-card", "Approved", group="churn")
    [drafted] = make_group(a, "drafted", 1, ModelApprovalStatus="Approved")
    make_card(a, "drafted-card", "Draft", group="drafted")
    config(A)
    scan(mpscan, db_url)
    found = endpoint_findings(db_url)
    failing = query(db_url, "SELECT rule_id, resource_arn, message FROM findings "
                    "WHERE rule_id IN ('MP-002', 'MC-001') AND status = 'fail'")  # fmt: skip
    # the group's cards document its versions: approved, so neither rule fails on churn
    assert [(r[0], r[1], r[2]) for r in failing] == [
        ("MC-001", drafted, "documented only by model cards that are not Approved: "
         "drafted-card (Draft)")
    ]  # fmt: skip

    assert found[("DEP-001", "rejected")][0] == "fail"
    assert "(Rejected)" in found[("DEP-001", "rejected")][1]
    assert found[("DEP-002", "doomed")] == (
        "fail",
        f"variant main, weight 1 serves {doomed}, which is not in the registry (deleted)",
    )
    assert found[("DEP-002", "shared")][0] == "error"
    assert f"account {B} {REGION}, which mpscan has not read" in found[("DEP-002", "shared")][1]
    assert found[("DEP-004", "loose")][0] == "fail"
    assert found[("DEP-005", "old")] == (
        "fail",
        "variant main, weight 1 serves version 1 of churn; the latest approved is 3",
    )
    # the endpoint serving the latest approved version, with a KMS key, passes every rule
    assert [rule for rule, name in found if name == "latest"] == []
    assert ("DEP-001", "old") not in found  # Approved, only older

    # scanning the sharing account resolves the link: the error becomes a verdict
    config(A, B)
    scan(mpscan, db_url)
    found = endpoint_findings(db_url)
    assert found[("DEP-002", "shared")][0] == "pass"  # resolved
    assert found[("DEP-001", "shared")][0] == "pass"  # its version is Approved
    status, message = found[("DEP-003", "shared")]  # and has no KMS key (MP-001, high)
    assert status == "fail" and message.endswith(f"serves {shared}: MP-001")


def test_a_waived_package_finding_is_not_in_production(standin, mpscan, db_url):
    a = sagemaker_of(A)
    [version] = make_group(a, "churn", 1, ModelApprovalStatus="Approved")  # no KMS key: MP-001
    make_model(a, "m", version)
    make_endpoint(a, "live", ("main", "m", 1.0))
    config(A)
    scan(mpscan, db_url)
    status, message = endpoint_findings(db_url)[("DEP-003", "live")]
    assert status == "fail" and f"{version}: " in message and "MP-001" in message

    waive = "".join(
        f'[[waivers]]\nrule = "{rule}"\nresource = "{version}"\nreason = "r"\nowner = "o"\n'
        "expires = 2099-01-01\n"
        for rule in message.split(": ", 1)[1].split(", ")
    )
    config(A, waivers=waive)
    assert mpscan("evaluate", "--db", db_url).exit_code == 0
    assert endpoint_findings(db_url)[("DEP-003", "live")][0] == "pass"


CRITICAL_SQL = """
[[rules.custom]]
id = "ORG-900"
title = "Version on the recall list"
severity = "critical"
resource_type = "model_package"
rationale = "Recalled versions must not serve."
remediation = "Deploy another version."
remediation_cli = "aws sagemaker update-endpoint --endpoint-name <endpoint>"
sql = '''SELECT model_package_arn AS resource_arn, 'recalled' AS message
         FROM model_packages WHERE model_package_version = 1'''
"""


def test_a_custom_rules_critical_finding_is_in_production_too(standin, mpscan, db_url):
    """DEP-003 reads every critical or high failure of the versions endpoints serve, the
    team's own SQL rules' as the built-in ones, also while such a rule cannot run (its
    findings stand); a waiver of it clears it there too."""
    a = sagemaker_of(A)
    [version] = make_group(
        a, "churn", 1, ModelApprovalStatus="Approved", SecurityConfig={"KmsKeyId": KEY}
    )
    make_model(a, "m", version)
    make_endpoint(a, "live", ("main", "m", 1.0))
    config(A, waivers=CRITICAL_SQL)
    scan(mpscan, db_url)
    status, message = endpoint_findings(db_url)[("DEP-003", "live")]
    assert status == "fail" and message.endswith(f"serves {version}: ORG-900"), message

    waiver = (
        f'[[waivers]]\nrule = "ORG-900"\nresource = "{version}"\nreason = "r"\nowner = "o"\n'
        "expires = 2099-01-01\n"
    )
    # A rule that breaks keeps its findings, and DEP-003 keeps reading them.
    config(A, waivers=CRITICAL_SQL.replace("model_package_version = 1", "no_such_column = 1"))
    broken = mpscan("evaluate", "--db", db_url)
    assert "ORG-900" in broken.output, broken.output  # said: the rule could not run
    assert endpoint_findings(db_url)[("DEP-003", "live")] == (status, message)

    config(A, waivers=CRITICAL_SQL + waiver)
    assert mpscan("evaluate", "--db", db_url).exit_code == 0
    assert endpoint_findings(db_url)[("DEP-003", "live")][0] == "pass"


def test_a_package_judged_alone_still_sees_its_groups_cards(standin, mpscan, db_url):
    """An event's refresh judges one package (Scope.of_resource): the model cards it reads
    are its region's, so MP-002 does not fail a package its group's card documents."""
    from datetime import UTC, datetime

    from scanner.config import Settings
    from scanner.rules import catalog, evaluate
    from scanner.store.db import make_engine
    from scanner.store.scope import Scope

    a = sagemaker_of(A)
    [version] = make_group(a, "churn", 1, ModelApprovalStatus="Approved")
    make_card(a, "churn-card", "Approved", group="churn")
    config(A)
    scan(mpscan, db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            _, batches = evaluate.judge(
                conn, catalog.load(Settings()), scan_id=1, now=datetime.now(UTC),
                scope=Scope.of_resource(A, REGION, version),
            )  # fmt: skip
            judged = [j for batch in batches or [] for j in batch.results]
    finally:
        engine.dispose()
    assert judged and {j.resource_arn for j in judged} == {version}
    assert "MP-002" not in {j.rule_id for j in judged if j.status == "fail"}
