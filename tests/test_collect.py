"""Collect: the real get functions and `mpscan scan`, through boto3 over HTTP to the stand-in."""

from __future__ import annotations

import json

import boto3
import pytest

from scanner.aws import groups, model_packages
from tests.conftest import ACCOUNT, query
from tests.support import make_group, make_unversioned, public_policy


def _arns(pages):
    return {s["ModelPackageArn"] for page in pages for s in page}


def test_listing_finds_versioned_and_unversioned_packages(sm):
    client = sm["us-east-1"]
    versioned = set(make_group(client, "churn", 3))
    unversioned = {make_unversioned(client, "legacy")}

    # The API's documented default lists unversioned packages only...
    default = _arns([client.list_model_packages()["ModelPackageSummaryList"]])
    assert default == unversioned
    # ...so the scanner's get function must ask for both kinds.
    assert _arns(model_packages.list_model_packages(client)) == versioned | unversioned


def test_group_of_more_than_100_versions_is_stored_whole(sm, mpscan, standin, tmp_path):
    make_group(sm["us-east-1"], "big", 130)
    db = f"sqlite:///{tmp_path / 'inv.db'}"

    result = mpscan("scan", "--regions", "us-east-1", "--db", db, "--quiet")

    assert result.exit_code == 0, result.output
    rows = query(
        db,
        "SELECT model_package_version FROM model_packages WHERE model_package_group_name = 'big'",
    )
    assert sorted(r[0] for r in rows) == list(range(1, 131))
    pages = standin.stats()["operations"]["ListModelPackages"]["us-east-1"]["ok"]
    assert pages == 2  # 130 summaries in pages of 100


def test_paged_tags_are_all_stored(sm, mpscan, tmp_path):
    client = sm["us-east-1"]
    arn = make_unversioned(client, "tagged")
    tags = [{"Key": f"k{i:03}", "Value": f"v{i}"} for i in range(130)]
    client.add_tags(ResourceArn=arn, Tags=tags)
    assert "NextToken" in client.list_tags(ResourceArn=arn, MaxResults=100)
    db = f"sqlite:///{tmp_path / 'inv.db'}"

    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0

    stored = query(
        db, "SELECT key, value FROM model_package_tags WHERE model_package_arn = :a", a=arn
    )
    assert sorted(stored) == sorted((t["Key"], t["Value"]) for t in tags)


def test_group_without_policy_is_normal_and_policy_is_kept(sm, mpscan, tmp_path):
    client = sm["us-east-1"]
    make_group(client, "private", 1)
    make_group(client, "public", 1, policy=public_policy("us-east-1", "public"))
    assert groups.get_model_package_group_policy(client, "private") == {"status": "none"}
    db = f"sqlite:///{tmp_path / 'inv.db'}"

    result = mpscan("scan", "--regions", "us-east-1", "--db", db)

    assert result.exit_code == 0, result.output
    rows = {
        r[0]: r[1:]
        for r in query(
            db,
            "SELECT model_package_group_name, resource_policy, resource_policy_status, "
            "resource_policy_error FROM model_package_groups",
        )
    }
    assert rows["private"] == (None, "none", None)
    policy, status, error = rows["public"]
    assert json.loads(policy) == public_policy("us-east-1", "public")
    assert (status, error) == ("present", None)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("AccessDeniedException", "AccessDeniedException on GetModelPackageGroupPolicy"),
        # A ValidationException that does not say "no policy" (a malformed name, a new
        # check of AWS's) is not "no policy".
        ("ValidationException", "ValidationException on GetModelPackageGroupPolicy"),
    ],
)
def test_a_policy_that_could_not_be_read_is_unknown_not_absent(
    sm, mpscan, standin, db_url, code, reason
):
    make_group(sm["us-east-1"], "g", 1, policy=public_policy("us-east-1", "g"))
    standin.faults.update(fail_operations={"GetModelPackageGroupPolicy": code})

    result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")

    assert result.exit_code == 0, (
        result.stderr
    )  # the region is complete: only the policy is unknown
    [(policy, status, error)] = query(
        db_url,
        "SELECT resource_policy, resource_policy_status, resource_policy_error "
        "FROM model_package_groups",
    )
    assert policy is None and status == "unknown"
    assert error.startswith(reason)
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 1


def test_groups_shared_from_other_accounts_are_recorded_as_shared(standin, mpscan, tmp_path):
    other = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="210987654321",
        aws_secret_access_key="testing",
    )
    policy = public_policy("us-east-1", "partner-model", account="210987654321")
    policy["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    make_group(other, "partner-model", 1, policy=policy)
    mine = boto3.client("sagemaker", region_name="us-east-1")
    make_group(mine, "own-model", 1)
    db = f"sqlite:///{tmp_path / 'inv.db'}"

    assert mpscan("scan", "--regions", "us-east-1", "--db", db).exit_code == 0

    rows = query(
        db,
        "SELECT model_package_group_name, shared, owner_account_id, account_id "
        "FROM model_package_groups ORDER BY 1",
    )
    assert [tuple(r) for r in rows] == [
        ("own-model", False, ACCOUNT, ACCOUNT),
        ("partner-model", True, "210987654321", ACCOUNT),
    ]
    # The partner's packages belong to the partner's inventory, not ours.
    assert query(db, "SELECT count(*) FROM model_packages")[0][0] == 1


def test_fields_moto_drops_are_collected(sm, mpscan, tmp_path):
    arn = make_unversioned(
        sm["us-east-1"],
        "secured",
        SecurityConfig={"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc"},
        ModelCard={"ModelCardContent": '{"a": 1}', "ModelCardStatus": "Approved"},
        SourceUri="s3://bucket/source",
        ModelLifeCycle={"Stage": "Production", "StageStatus": "Approved"},
    )
    db = f"sqlite:///{tmp_path / 'inv.db'}"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db).exit_code == 0
    row = query(
        db,
        "SELECT kms_key_id, source_uri, model_card, model_life_cycle "
        "FROM model_packages WHERE model_package_arn = :a",
        a=arn,
    )[0]
    assert row[0] == "arn:aws:kms:us-east-1:123456789012:key/abc"
    assert row[1] == "s3://bucket/source"
    assert "Approved" in row[2] and "Production" in row[3]


@pytest.mark.parametrize(
    "collect, bursts",
    [
        (
            "describe",
            {
                "DescribeModelPackage": 6,
                "ListTags": 4,
                "ListModelPackages": 2,
                "GetModelPackageGroupPolicy": 3,
            },
        ),
        ("search", {"Search": 4, "ListModelPackages": 2, "GetModelPackageGroupPolicy": 3}),
    ],
)
def test_bursts_of_throttling_lose_nothing(sm, mpscan, standin, tmp_path, collect, bursts):
    make_group(sm["us-east-1"], "g", 40)
    standin.faults.update(throttle_next=bursts)
    db = f"sqlite:///{tmp_path / 'inv.db'}"

    result = mpscan(
        "scan",
        "--regions",
        "us-east-1",
        "--db",
        db,
        "--retry-mode",
        "standard",
        "--collect",
        collect,
    )

    assert result.exit_code == 0, result.output
    assert query(db, "SELECT collect FROM scan_regions") == [(collect,)]  # retried, no fallback
    assert query(db, "SELECT count(*) FROM model_packages")[0][0] == 40
    assert query(db, "SELECT count(*) FROM model_package_groups")[0][0] == 1
    throttled = standin.stats()["totals"]["throttled"]
    assert throttled == sum(bursts.values())  # every burst was met, and retried through
