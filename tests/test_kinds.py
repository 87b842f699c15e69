"""The resource kinds are declared once (scanner.kinds): each declaration is complete and
agrees with the schema, botocore's service model, the docs and the rules; a scan calls
exactly the operations they declare; and the README's IAM policy is the one they make."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
import pytest

from scanner import kinds
from scanner.rules import catalog  # noqa: F401 - registers the built-in rules
from scanner.rules.base import REGISTRY, RESOURCE_TYPES
from scanner.store.schema import Base
from tests.support import make_group, make_unversioned, public_policy
from tests.support_serving import make_card, make_endpoint, make_model

ROOT = Path(__file__).resolve().parent.parent
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_every_kind_is_complete_and_agrees_with_the_schema(kind):
    tables = Base.metadata.tables
    table = tables[kind.table]
    # the ARN, with the account that sees it where a resource is seen from several
    # (a group shared into other accounts)
    primary = [c.name for c in table.primary_key.columns]
    assert kind.key in primary and set(primary) <= {kind.key, "account_id"}
    for name in kind.children:
        references = {
            fk.column.name for fk in tables[name].foreign_keys if fk.column.table is table
        }
        assert references == set(primary), name
    for operation in kind.operations:
        assert operation in SAGEMAKER.operation_names, operation
        assert operation.startswith(("List", "Describe", "Get", "Search")), operation  # reads
    assert set(kind.history) <= {"members", "tags", "policy"} and kind.history
    schema_docs = (ROOT / "docs" / "schema.md").read_text()
    for name in (kind.table, *kind.children):
        assert f"## `{name}`" in schema_docs, name


def test_rules_judge_only_declared_kinds():
    assert set(RESOURCE_TYPES) == {k.name for k in kinds.KINDS}
    assert {rule.resource_type for rule in REGISTRY.values()} <= set(RESOURCE_TYPES)


@pytest.mark.parametrize("collect", ["search", "describe"])
def test_a_scan_calls_exactly_the_declared_operations(standin, sm, mpscan, tmp_path, collect):
    """Cloud Custodian's test_resource_permissions, for mpscan: what a scan calls is what
    the IAM policy allows, no more and no less (each collection mode its share of it, the
    other share too when Search lags: then what it lags on is described)."""
    region = "us-east-1"
    make_group(sm[region], "with-policy", 2, policy=public_policy(region, "with-policy"))
    make_group(sm[region], "plain", 1)
    loose = make_unversioned(sm[region], "loose", Tags=[{"Key": "team", "Value": "ml"}])
    make_model(sm[region], "served", loose)
    make_endpoint(sm[region], "live", ("main", "served", 1.0))
    make_card(sm[region], "card", "Approved", group="plain")
    db = f"sqlite:///{tmp_path / 'kinds.db'}"
    standin.clear_stats()  # the calls above made the registry; count the scan's own
    scanned = mpscan("scan", "--regions", region, "--db", db, "-q", "--collect", collect)
    assert scanned.exit_code == 0

    called = set(standin.stats()["operations"])
    assert called == {op for kind in kinds.KINDS for op in kind.calls(collect)}
    if collect == "search":
        standin.faults.update(search_lag=1)
        make_unversioned(sm[region], "new")
        make_model(sm[region], "new-model")
        make_endpoint(sm[region], "new-live", ("main", "new-model", 1.0))
        make_card(sm[region], "new-card")
        standin.clear_stats()
        assert mpscan("scan", "--regions", region, "--db", db, "-q").exit_code == 0
        called = set(standin.stats()["operations"])
        assert called == {op for kind in kinds.KINDS for op in kind.operations}


def test_the_readme_iam_policy_is_the_declared_one(mpscan):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Least-privilege IAM policy", 1)[1]
    [block] = re.findall(r"```json\n(.*?)```", section, re.DOTALL)[:1]
    assert json.loads(block) == kinds.iam_policy()
    printed = mpscan("iam-policy")
    assert printed.exit_code == 0 and json.loads(printed.stdout) == kinds.iam_policy()
    for action in kinds.iam_actions():
        assert action in block


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_every_kind_is_collected_by_the_listings_it_declares(kind):
    from scanner import aws

    listings = [listing for listing in aws.LISTINGS if listing.kind is kind]
    assert listings, f"no listing collects {kind.name}"
    assert {listing.operation for listing in listings} == set(kind.lists)
    for listing in listings:
        assert (listing.fetch is None) != (listing.document is None)
        assert listing.fetch is None or listing.fetch_operation in kind.fills


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_transform_makes_rows_for_exactly_the_declared_tables(kind):
    from scanner import transform

    document = {
        "model_package": {
            "describe": {
                "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/m",
                "ModelPackageName": "m",
                "CreationTime": "2026-01-01T00:00:00+00:00",
                "ModelPackageStatus": "Completed",
            },
            "tags": [],
        },
        "model_package_group": {
            "summary": {
                "ModelPackageGroupName": "g",
                "ModelPackageGroupArn": "arn:aws:sagemaker:us-east-1:123456789012:"
                "model-package-group/g",
                "CreationTime": "2026-01-01T00:00:00+00:00",
                "ModelPackageGroupStatus": "Completed",
            },
            "tags": [],
        },
        "model": {
            "describe": {
                "ModelName": "m",
                "ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/m",
                "PrimaryContainer": {"ModelPackageName": "p"},
            },
            "tags": [],
        },
        "endpoint_config": {
            "describe": {
                "EndpointConfigName": "c",
                "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c",
                "ProductionVariants": [{"VariantName": "v", "ModelName": "m"}],
            }
        },
        "endpoint": {
            "describe": {
                "EndpointName": "e",
                "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
                "ProductionVariants": [{"VariantName": "v", "CurrentWeight": 1.0}],
            },
            "tags": [],
        },
        "model_card": {
            "describe": {
                "ModelCardName": "c",
                "ModelCardArn": "arn:aws:sagemaker:us-east-1:123456789012:model-card/c",
                "Content": "{}",
            },
            "tags": [],
        },
    }[kind.name]
    tables = transform.rows_by_table(kind, document, "123456789012", "us-east-1")
    assert set(tables) == {kind.table, *kind.children}
    [row] = tables[kind.table]
    assert row[kind.key].startswith("arn:aws:sagemaker:")


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_every_column_source_is_a_declared_call_and_a_real_column(kind):
    table = Base.metadata.tables[kind.table]
    assert kind.record in kind.fills
    for column, operation in kind.sources:
        assert column in table.c, column
        assert operation in kind.operations, operation


@pytest.mark.parametrize("rule", sorted(REGISTRY.values(), key=lambda r: r.id), ids=lambda r: r.id)
def test_every_rule_needs_only_actions_the_iam_policy_allows(rule):
    """Each rule declares what it reads; what it reads says which calls' answers its
    verdicts rest on, and the README's policy must allow every one of them."""
    assert rule.needs, rule.id
    assert set(rule.needs) <= set(kinds.iam_actions())


def test_rules_that_rest_on_tags_or_a_policy_say_so():
    # Search's records carry tags and describe's members; describe is the fallback
    assert REGISTRY["MP-006"].needs == ("sagemaker:Search", "sagemaker:ListTags")
    assert REGISTRY["MP-001"].needs == ("sagemaker:Search", "sagemaker:DescribeModelPackage")
    # no bulk API returns a group's policy
    assert "sagemaker:GetModelPackageGroupPolicy" in REGISTRY["MPG-001"].needs
    # a rule on production rests on what the endpoint serves: configurations, models, packages
    needs = set(REGISTRY["DEP-001"].needs)
    assert {"sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"} <= needs
    assert {"sagemaker:DescribeModelPackage", "sagemaker:DescribeEndpoint"} <= needs
    assert "sagemaker:DescribeModelCard" in REGISTRY["MC-001"].needs
    policy_only = kinds.MODEL_PACKAGE_GROUP.operations_for("resource_policy_status")
    assert policy_only == ("GetModelPackageGroupPolicy",)
