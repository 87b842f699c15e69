"""Many accounts: [[accounts]] and [organization], through STS AssumeRole and Organizations
over HTTP against the stand-in (moto serves both), one account denied."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.conftest import ACCOUNT, query
from tests.support import make_group, make_unversioned

A, B, DENIED = "111111111111", "222222222222", "333333333333"


def sagemaker_of(account: str, region: str = "us-east-1"):
    """A client acting as `account` (the stand-in maps a 12-digit access key to it)."""
    return boto3.client(
        "sagemaker", region_name=region, aws_access_key_id=account, aws_secret_access_key="x"
    )


def accounts_toml(*ids: str, extra: str = "") -> str:
    return "".join(
        f'[[accounts]]\nrole_arn = "arn:aws:iam::{i}:role/mpscan-reader"\n{extra}\n' for i in ids
    )


def scan(mpscan, db, *extra):
    return mpscan("scan", "--regions", "us-east-1,eu-west-1", "--db", db, *extra)


def test_configured_accounts_are_scanned_through_their_roles(standin, mpscan, db_url):
    make_group(sagemaker_of(A), "a-models", 2)
    make_unversioned(sagemaker_of(B, "eu-west-1"), "b-model")
    make_unversioned(sagemaker_of(ACCOUNT), "base-account-model")  # not configured: not scanned
    Path("mpscan.toml").write_text(accounts_toml(A, B))

    result = scan(mpscan, db_url, "--format", "json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["accounts"] == [A, B] and summary["account_id"] is None
    rows = query(db_url, "SELECT account_id, region, model_package_name FROM model_packages")
    assert sorted(tuple(r) for r in rows) == [
        (A, "us-east-1", "a-models"),
        (A, "us-east-1", "a-models"),
        (B, "eu-west-1", "b-model"),
    ]
    regions = query(db_url, "SELECT account_id, region, status FROM scan_regions ORDER BY 1, 2")
    assert [tuple(r) for r in regions] == [
        (A, "eu-west-1", "complete"),
        (A, "us-east-1", "complete"),
        (B, "eu-west-1", "complete"),
        (B, "us-east-1", "complete"),
    ]


def test_a_denied_account_is_recorded_and_keeps_its_inventory(standin, mpscan, db_url):
    make_unversioned(sagemaker_of(A), "a-model")
    make_unversioned(sagemaker_of(DENIED), "kept-model")
    Path("mpscan.toml").write_text(accounts_toml(A, DENIED))
    assert scan(mpscan, db_url, "-q").exit_code == 0
    kept = query(db_url, "SELECT * FROM model_packages WHERE account_id = :a", a=DENIED)
    findings = query(db_url, "SELECT * FROM findings WHERE account_id = :a ORDER BY id", a=DENIED)
    assert kept and findings
    standin.faults.update(deny_assume_role=[DENIED])
    make_unversioned(sagemaker_of(A), "a-second")

    result = scan(mpscan, db_url)

    assert result.exit_code == 3
    assert f"account {DENIED}" in result.stderr and "AccessDenied" in result.stderr
    failed = query(
        db_url,
        "SELECT region, status, error_kind FROM scan_regions WHERE scan_id = 2 "
        "AND account_id = :a ORDER BY region",
        a=DENIED,
    )
    assert [tuple(r) for r in failed] == [
        ("eu-west-1", "failed", "denied"),
        ("us-east-1", "failed", "denied"),
    ]
    assert query(db_url, "SELECT * FROM model_packages WHERE account_id = :a", a=DENIED) == kept
    assert (
        query(db_url, "SELECT * FROM findings WHERE account_id = :a ORDER BY id", a=DENIED)
        == findings
    )
    names = {r[0] for r in query(db_url, "SELECT model_package_name FROM model_packages")}
    assert {"a-model", "a-second", "kept-model"} == names  # the other account went on


def test_an_organization_is_listed_and_suspended_accounts_skipped(standin, mpscan, db_url):
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    for name in ("data", "legacy", "sandbox"):
        org.create_account(Email=f"{name}@example.com", AccountName=name)
    ids = {a["Name"]: a["Id"] for a in org.list_accounts()["Accounts"]}
    org.close_account(AccountId=ids["legacy"])  # SUSPENDED
    for name in ("data", "legacy", "sandbox"):
        make_unversioned(sagemaker_of(ids[name]), f"{name}-model")
    Path("mpscan.toml").write_text(
        f'[organization]\nrole_name = "mpscan-reader"\nexclude = ["{ids["sandbox"]}"]\n'
    )

    result = scan(mpscan, db_url, "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["accounts"] == sorted([ACCOUNT, ids["data"]])
    names = {r[0] for r in query(db_url, "SELECT model_package_name FROM model_packages")}
    assert names == {"data-model"}


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[[accounts]]\nrole_arn = "mpscan-reader"\n', "accounts[0].role_arn"),
        (
            '[[accounts]]\nrole_arn = "arn:aws:iam::111111111111:role/r"\nrole = 1\n',
            "accounts[0].role",
        ),
        ("[organization]\ninclude = []\n", "organization.role_name"),
        ('[organization]\nrole_name = "r"\nexclude = ["12"]\n', "organization.exclude"),
        (accounts_toml(A) + '[organization]\nrole_name = "r"\n', "not both"),
    ],
)
def test_bad_account_settings_are_config_errors(standin, mpscan, toml, named):
    Path("mpscan.toml").write_text(toml)
    result = mpscan("scan", "--regions", "us-east-1")
    assert result.exit_code == 2
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not Path("mpscan.db").exists()
