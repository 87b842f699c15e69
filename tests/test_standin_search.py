"""The stand-in's SageMaker Search for ModelPackage and ModelPackageGroup (scanner/standin/search),
through boto3 over HTTP; every answer is checked against botocore's Search output shape."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from moto.sagemaker import models as sm_models

from scanner.standin import search as standin_search
from tests.standin_faults import FaultyStandIn, start_faulty_standin

OWN = "123456789012"
PARTNER = "210987654321"
MODEL = botocore.session.get_session().get_service_model("sagemaker")
SEARCH = MODEL.operation_model("Search")
SPEC = {
    "Containers": [{"Image": "111.dkr.ecr.us-east-1.amazonaws.com/m:latest"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["application/json"],
}
# Server-side checks are what these tests want to reach, not botocore's client-side ones.
UNCHECKED = Config(parameter_validation=False, retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def standin():
    server = start_faulty_standin()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated(standin: FaultyStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MOTO_ACCOUNT_ID", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    standin.reset()
    yield
    standin.reset()


@pytest.fixture
def sm(client):
    return client()


def valid(response: dict) -> dict:
    response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(response, SEARCH.output_shape)
    assert not report.has_errors(), report.generate_report()
    return response


def search(sm, resource="ModelPackage", **kw) -> dict:
    return valid(sm.search(Resource=resource, **kw))


def search_all(sm, resource="ModelPackage", **kw) -> list[dict]:
    """Every record, through boto3's paginator (each page checked)."""
    records = []
    for page in sm.get_paginator("search").paginate(Resource=resource, **kw):
        records += [r[resource] for r in valid(page)["Results"]]
    return records


def arns(records: list[dict], resource="ModelPackage") -> list[str]:
    return [r[f"{resource}Arn"] for r in records]


def where(*filters, operator=None, **kw) -> dict:
    keys = ("Name", "Operator", "Value")
    expression = {
        "Filters": [{k: v for k, v in zip(keys, f, strict=True) if v is not None} for f in filters]
    }
    if operator:
        expression["Operator"] = operator
    return {"SearchExpression": expression, **kw}


def found(sm, *filters, resource="ModelPackage", **kw) -> set[str]:
    return set(arns(search_all(sm, resource, **where(*filters, **kw)), resource))


def make_group(sm, name: str, versions: int = 1, tags=None, **package) -> list[str]:
    sm.create_model_package_group(ModelPackageGroupName=name, **({"Tags": tags} if tags else {}))
    out = []
    for _ in range(versions):
        out.append(
            sm.create_model_package(
                ModelPackageGroupName=name, InferenceSpecification=SPEC, **package
            )["ModelPackageArn"]
        )
        time.sleep(0.002)  # distinct millisecond creation times
    return out


def error(call) -> dict:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err.value.response["Error"]


def _backend(account=OWN, region="us-east-1"):
    return sm_models.sagemaker_backends[account][region]


# --- records -------------------------------------------------------------------------------


def test_record_members_follow_botocore():
    package = set(MODEL.shape_for("SearchRecord").members["ModelPackage"].members)
    describe = set(MODEL.operation_model("DescribeModelPackage").output_shape.members)
    assert package == describe - {"ManagedStorageType"} | {"Tags"}
    assert standin_search._record_members("ModelPackage") == package - {"Tags"}
    group = set(MODEL.shape_for("SearchRecord").members["ModelPackageGroup"].members)
    assert standin_search._record_members("ModelPackageGroup") == group - {"Tags"}


def test_package_record_is_describe_plus_tags(sm):
    extra = {
        "SecurityConfig": {"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc"},
        "ModelCard": {"ModelCardContent": "{}", "ModelCardStatus": "Draft"},
        "SourceUri": "s3://bucket/source.tar.gz",
        "ModelLifeCycle": {"Stage": "Production", "StageStatus": "Approved"},
        "CustomerMetadataProperties": {"team": "growth"},
        "MetadataProperties": {"CommitId": "abc123", "Repository": "git://r"},
        "ModelApprovalStatus": "PendingManualApproval",
        "ModelPackageDescription": "a <b>model</b>",
        "Domain": "MACHINE_LEARNING",
        "Task": "CLASSIFICATION",
        "SamplePayloadUrl": "s3://bucket/payload",
    }
    versioned = make_group(
        sm,
        "Churn",
        versions=2,
        tags=[{"Key": "g", "Value": "1"}],
        Tags=[{"Key": "t", "Value": "v"}],
    )
    versioned.append(
        sm.create_model_package(
            ModelPackageGroupName="Churn", InferenceSpecification=SPEC, **extra
        )["ModelPackageArn"]
    )
    unversioned = sm.create_model_package(ModelPackageName="solo", InferenceSpecification=SPEC)[
        "ModelPackageArn"
    ]
    sm.update_model_package(ModelPackageArn=versioned[0], ModelApprovalStatus="Approved")
    sm.add_tags(ResourceArn=versioned[1], Tags=[{"Key": "owner", "Value": "ml"}])
    sm.add_tags(ResourceArn=unversioned, Tags=[{"Key": "k", "Value": "v"}])
    # Members moto never sets but AWS returns: Describe has both, a record has only the one
    # botocore's SearchRecord shape has.
    pkg = _backend().model_packages[versioned[2]]
    pkg.managed_storage_type, pkg.model_package_registration_type = "Managed", "Logged"

    records = search_all(sm, MaxResults=2)
    assert sorted(arns(records)) == sorted(versioned + [unversioned])
    for record in records:
        arn = record["ModelPackageArn"]
        describe = sm.describe_model_package(ModelPackageName=arn)
        del describe["ResponseMetadata"]
        describe.pop("ManagedStorageType", None)
        assert record == {**describe, "Tags": sm.list_tags(ResourceArn=arn)["Tags"]}
    by_arn = {r["ModelPackageArn"]: r for r in records}
    assert by_arn[versioned[2]]["ModelPackageRegistrationType"] == "Logged"
    assert "ManagedStorageType" not in by_arn[versioned[2]]
    for key, value in extra.items():
        assert by_arn[versioned[2]][key] == value
    assert by_arn[versioned[2]]["Tags"] == []
    assert by_arn[versioned[1]]["Tags"] == [
        {"Key": "t", "Value": "v"},
        {"Key": "owner", "Value": "ml"},
    ]
    assert by_arn[unversioned]["ModelPackageName"] == "solo"
    assert "ModelPackageGroupName" not in by_arn[unversioned]
    assert by_arn[versioned[0]]["ModelPackageName"] == "Churn"
    assert by_arn[versioned[0]]["ModelApprovalStatus"] == "Approved"
    assert by_arn[versioned[0]]["LastModifiedTime"] >= by_arn[versioned[0]]["CreationTime"]


def test_group_record_is_describe_plus_tags(sm):
    make_group(sm, "tagged", versions=0, tags=[{"Key": "team", "Value": "a"}])
    sm.create_model_package_group(
        ModelPackageGroupName="described", ModelPackageGroupDescription="about it"
    )
    group_arn = sm.describe_model_package_group(ModelPackageGroupName="described")[
        "ModelPackageGroupArn"
    ]
    sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": "x", "Value": "y"}])
    records = search_all(sm, "ModelPackageGroup")
    assert sorted(r["ModelPackageGroupName"] for r in records) == ["described", "tagged"]
    for record in records:
        describe = sm.describe_model_package_group(
            ModelPackageGroupName=record["ModelPackageGroupName"]
        )
        del describe["ResponseMetadata"]
        tags = sm.list_tags(ResourceArn=record["ModelPackageGroupArn"])["Tags"]
        assert record == {**describe, "Tags": tags}
    assert {r["ModelPackageGroupName"]: r["Tags"] for r in records} == {
        "described": [{"Key": "x", "Value": "y"}],
        "tagged": [{"Key": "team", "Value": "a"}],
    }


def test_raw_bodies_hold_only_shape_members(sm):
    bodies: list[dict] = []
    sm.meta.events.register(
        "before-parse.sagemaker.Search",
        lambda response_dict, **_: bodies.append(json.loads(response_dict["body"])),
    )
    make_group(sm, "G", versions=2, SourceUri="s3://b/k")
    search(sm)
    search(sm, "ModelPackageGroup")
    record_shape = MODEL.shape_for("SearchRecord")
    assert len(bodies) == 2
    for body in bodies:
        assert set(body) == {"Results", "TotalHits"}
        for result in body["Results"]:
            ((resource, record),) = result.items()
            assert set(record) <= set(record_shape.members[resource].members)
            assert isinstance(record["CreationTime"], int | float)  # epoch seconds, as AWS sends


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def registry(sm):
    """Packages to filter: versions 1-6 of "fraud" (approval alternating, tags, two containers
    on v6), 1-2 of "churn", one unversioned."""
    fraud = make_group(sm, "fraud", versions=5, tags=[{"Key": "team", "Value": "risk"}])
    for i, arn in enumerate(fraud, 1):
        sm.update_model_package(
            ModelPackageArn=arn,
            ModelApprovalStatus="Approved" if i % 2 else "Rejected",
            CustomerMetadataProperties={"stage": f"s{i}"},
        )
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod" if i < 3 else "dev"}])
    two = {
        **SPEC,
        "Containers": [
            {"Image": "repo/a:1", "Framework": "XGBOOST"},
            {"Image": "repo/b:2", "Framework": "PYTORCH"},
        ],
    }
    fraud.append(
        sm.create_model_package(
            ModelPackageGroupName="fraud",
            InferenceSpecification=two,
            CertifyForMarketplace=True,
            ModelApprovalStatus="PendingManualApproval",
        )["ModelPackageArn"]
    )
    churn = make_group(sm, "churn", versions=2)
    solo = sm.create_model_package(
        ModelPackageName="solo-model", InferenceSpecification=SPEC, ModelApprovalStatus="Approved"
    )["ModelPackageArn"]
    return {"fraud": fraud, "churn": churn, "solo": solo}


def test_filter_operators(sm, registry):
    fraud, churn, solo = registry["fraud"], registry["churn"], registry["solo"]
    every = set(fraud + churn + [solo])
    assert found(sm, ("ModelPackageGroupName", "Equals", "churn")) == set(churn)
    assert found(sm, ("ModelPackageGroupName", "NotEquals", "fraud")) == set(churn + [solo])
    assert found(sm, ("ModelApprovalStatus", "Equals", "Approved")) == {
        fraud[0],
        fraud[2],
        fraud[4],
        solo,
    }
    assert found(sm, ("ModelApprovalStatus", "In", "Rejected, PendingManualApproval")) == {
        fraud[1],
        fraud[3],
        fraud[5],
    }
    assert found(sm, ("ModelPackageName", "Contains", "solo")) == {solo}
    assert found(sm, ("ModelPackageVersion", "GreaterThan", "4")) == {fraud[4], fraud[5]}
    assert found(sm, ("ModelPackageVersion", "GreaterThanOrEqualTo", "2")) == set(
        fraud[1:] + churn[1:]
    )
    assert found(sm, ("ModelPackageVersion", "LessThan", "2")) == {fraud[0], churn[0]}
    assert found(sm, ("ModelPackageVersion", "LessThanOrEqualTo", "1.5")) == {fraud[0], churn[0]}
    assert found(sm, ("ModelPackageVersion", "Equals", "3")) == {fraud[2]}
    assert found(sm, ("ModelPackageGroupName", "NotExists", None)) == {solo}
    assert found(sm, ("ModelPackageGroupName", "Exists", None)) == every - {solo}
    assert found(sm, ("LastModifiedTime", "Exists", None)) == set(fraud[:5])
    assert found(sm, ("CertifyForMarketplace", "Equals", "true")) == {fraud[5]}
    assert found(sm, ("CertifyForMarketplace", "NotEquals", "TRUE")) == every - {fraud[5]}
    # A Value without an Operator is Equals.
    assert found(sm, ("ModelPackageGroupName", None, "churn")) == set(churn)


def test_filter_nested_names_maps_and_tags(sm, registry):
    fraud, churn, solo = registry["fraud"], registry["churn"], registry["solo"]
    assert found(sm, ("Tags.env", "Equals", "prod")) == set(fraud[:2])
    assert found(sm, ("Tags.env", "NotEquals", "prod")) == set(fraud[2:] + churn + [solo])
    assert found(sm, ("Tags.env", "Exists", None)) == set(fraud[:5])
    assert found(sm, ("Tags.env", "In", "dev,qa")) == set(fraud[2:5])
    assert found(sm, ("Tags.team", "Exists", None), resource="ModelPackageGroup") == {
        sm.describe_model_package_group(ModelPackageGroupName="fraud")["ModelPackageGroupArn"]
    }
    assert found(sm, ("CustomerMetadataProperties.stage", "Equals", "s3")) == {fraud[2]}
    assert found(sm, ("InferenceSpecification.Containers.Image", "Equals", "repo/b:2")) == {
        fraud[5]
    }
    assert found(sm, ("InferenceSpecification.Containers.Image", "Contains", "m:latest")) == set(
        fraud[:5] + churn + [solo]
    )
    assert found(sm, ("InferenceSpecification.SupportedContentTypes", "Equals", "text/csv")) == (
        set(fraud + churn + [solo])
    )
    assert found(sm, ("CreatedBy.UserProfileName", "Equals", "fake-user-profile-name")) == set(
        fraud + churn + [solo]
    )
    assert found(sm, ("SecurityConfig", "NotExists", None)) == set(fraud + churn + [solo])


def test_timestamp_filters(sm):
    early = make_group(sm, "early", versions=2)
    time.sleep(1.05)
    late = make_group(sm, "late", versions=2)

    def created(resource, group):
        name = "ModelPackageGroupName"
        records = search_all(sm, resource, **where((name, "Equals", group)))
        return [r["CreationTime"].astimezone(UTC) for r in records]

    last_early = max(created("ModelPackage", "early") + created("ModelPackageGroup", "early"))
    first_late = min(created("ModelPackage", "late") + created("ModelPackageGroup", "late"))
    assert first_late - last_early >= timedelta(seconds=1.05)
    # A whole second between them, in botocore's format YYYY-mm-ddTHH:MM:SS (UTC).
    cut = datetime.fromtimestamp(round((last_early.timestamp() + first_late.timestamp()) / 2), UTC)
    assert last_early < cut < first_late
    iso = cut.strftime("%Y-%m-%dT%H:%M:%S")
    assert found(sm, ("CreationTime", "GreaterThan", iso)) == set(late)
    assert found(sm, ("CreationTime", "GreaterThanOrEqualTo", iso)) == set(late)
    assert found(sm, ("CreationTime", "LessThan", iso)) == set(early)
    assert found(sm, ("CreationTime", "LessThanOrEqualTo", iso)) == set(early)
    assert found(sm, ("CreationTime", "LessThan", iso + "Z")) == set(early)
    in_paris = (cut + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    assert found(sm, ("CreationTime", "LessThan", in_paris)) == set(early)
    assert found(sm, ("CreationTime", "GreaterThan", str(cut.timestamp()))) == set(late)
    groups = found(sm, ("CreationTime", "GreaterThan", iso), resource="ModelPackageGroup")
    assert groups == {
        sm.describe_model_package_group(ModelPackageGroupName="late")["ModelPackageGroupArn"]
    }
    # Equality at the millisecond a record is served with.
    newest = max(created("ModelPackage", "late"))
    exact = newest.isoformat(timespec="milliseconds")
    assert found(sm, ("CreationTime", "Equals", exact)) == {late[1]}

    sm.update_model_package(ModelPackageArn=early[0], ModelApprovalStatus="Approved")
    since = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S")
    assert found(sm, ("LastModifiedTime", "GreaterThan", since)) == {early[0]}


def test_nested_filters_match_one_element(sm, registry):
    fraud = registry["fraud"]
    containers = "InferenceSpecification.Containers"

    def nested(*filters):
        expression = {
            "NestedFilters": [
                {
                    "NestedPropertyName": containers,
                    "Filters": [
                        {"Name": f"{containers}.{n}", "Operator": o, "Value": v}
                        for n, o, v in filters
                    ],
                }
            ]
        }
        return set(arns(search_all(sm, SearchExpression=expression)))

    assert nested(("Image", "Equals", "repo/a:1"), ("Framework", "Equals", "XGBOOST")) == {fraud[5]}
    # Flat filters may hold on different containers; nested ones must hold on the same one.
    assert nested(("Image", "Equals", "repo/a:1"), ("Framework", "Equals", "PYTORCH")) == set()
    assert found(
        sm,
        (f"{containers}.Image", "Equals", "repo/a:1"),
        (f"{containers}.Framework", "Equals", "PYTORCH"),
    ) == {fraud[5]}
    tags = {
        "NestedFilters": [
            {
                "NestedPropertyName": "Tags",
                "Filters": [
                    {"Name": "Tags.Key", "Operator": "Equals", "Value": "env"},
                    {"Name": "Tags.Value", "Operator": "Equals", "Value": "prod"},
                ],
            }
        ]
    }
    assert set(arns(search_all(sm, SearchExpression=tags))) == set(fraud[:2])


def test_sub_expressions_and_or(sm, registry):
    fraud, churn, solo = registry["fraud"], registry["churn"], registry["solo"]
    either = where(
        ("ModelPackageGroupName", "Equals", "churn"),
        ("ModelPackageName", "Equals", "solo-model"),
        operator="Or",
    )
    assert set(arns(search_all(sm, **either))) == set(churn + [solo])
    expression = {
        "Operator": "And",
        "Filters": [{"Name": "ModelApprovalStatus", "Operator": "Equals", "Value": "Approved"}],
        "SubExpressions": [
            {
                "Operator": "Or",
                "Filters": [
                    {"Name": "ModelPackageGroupName", "Operator": "NotExists"},
                    {"Name": "ModelPackageVersion", "Operator": "GreaterThan", "Value": "4"},
                ],
            },
        ],
    }
    assert set(arns(search_all(sm, SearchExpression=expression))) == {fraud[4], solo}
    nested_or = {
        "Operator": "Or",
        "SubExpressions": [
            {"Filters": [{"Name": "ModelPackageVersion", "Operator": "Equals", "Value": "1"}]},
            {
                "SubExpressions": [
                    {"Filters": [{"Name": "Tags.env", "Operator": "Equals", "Value": "dev"}]}
                ]
            },
        ],
    }
    assert set(arns(search_all(sm, SearchExpression=nested_or))) == {
        fraud[0],
        churn[0],
        *fraud[2:5],
    }


def test_malformed_requests_are_validation_exceptions(client, registry):
    sm = client(config=UNCHECKED)

    def bad(**kw):
        kw.setdefault("Resource", "ModelPackage")
        e = error(lambda: sm.search(**kw))
        assert e["Code"] == "ValidationException", e
        return e["Message"]

    f = {"Name": "ModelApprovalStatus", "Operator": "Equals", "Value": "Approved"}
    assert bad(SearchExpression={"Filters": [{**f, "Operator": "Like"}]}) == (
        "1 validation error detected: Value 'Like' at 'searchExpression.filters.1.member.operator'"
        " failed to satisfy constraint: Member must satisfy enum value set: [Equals, NotEquals, "
        "GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, Contains, Exists, "
        "NotExists, In]"
    )
    message = bad(SearchExpression={"Filters": [f], "Operator": "Xor"}, MaxResults=101)
    assert message.startswith("2 validation errors detected: ")
    assert "at 'searchExpression.operator'" in message and "at 'maxResults'" in message
    assert "Member must have value less than or equal to 100" in message
    assert "greater than or equal to 1" in bad(MaxResults=0)
    assert "at 'sortOrder'" in bad(SortOrder="Down")
    assert "at 'crossAccountFilterOption'" in bad(CrossAccountFilterOption="Everyone")
    assert "Member must have length less than or equal to 20" in bad(
        SearchExpression={"Filters": [f] * 21}
    )
    assert "at 'searchExpression.filters.1.member.name'" in bad(
        SearchExpression={"Filters": [{"Operator": "Exists"}]}
    )
    assert "Member must not be null" in bad(SearchExpression={"Filters": [{"Operator": "Exists"}]})
    assert "at least one" in bad(SearchExpression={})
    assert "at least one" in bad(SearchExpression={"SubExpressions": [{"Operator": "And"}]})
    deep: dict = {"Filters": [f]}
    for _ in range(50):
        deep = {"SubExpressions": [deep]}
    assert "at most 50" in bad(SearchExpression=deep)
    assert bad(SearchExpression={"Filters": [{**f, "Name": "Nope"}]}) == (
        "Unknown property name: Nope"
    )
    for name in ("ModelApprovalStatus.X", "Tags.", "InferenceSpecification..Image", "LastModified"):
        assert "Unknown property name" in bad(SearchExpression={"Filters": [{**f, "Name": name}]})
    gt = {**f, "Operator": "GreaterThan"}
    assert "not supported for the text property" in bad(SearchExpression={"Filters": [gt]})
    contains = {"Name": "ModelPackageVersion", "Operator": "Contains", "Value": "1"}
    assert "not supported for the numeric" in bad(SearchExpression={"Filters": [contains]})
    complex_eq = {"Name": "InferenceSpecification", "Operator": "Equals", "Value": "x"}
    assert "not supported" in bad(SearchExpression={"Filters": [complex_eq]})
    twice = [
        {"Name": "ModelPackageGroupName", "Operator": "Contains", "Value": "a"},
        {"Name": "ModelPackageName", "Operator": "Contains", "Value": "b"},
    ]
    assert bad(SearchExpression={"Filters": twice}) == (
        "'CONTAINS' operator usage limit of 1 exceeded."
    )
    assert "must have a Value" in bad(SearchExpression={"Filters": [{**f, "Value": None}]})
    when = {"Name": "CreationTime", "Operator": "GreaterThan", "Value": "yesterday"}
    assert "not a valid timestamp" in bad(SearchExpression={"Filters": [when]})
    number = {"Name": "ModelPackageVersion", "Operator": "GreaterThan", "Value": "two"}
    assert "not a valid numeric" in bad(SearchExpression={"Filters": [number]})
    flag = {"Name": "CertifyForMarketplace", "Operator": "Equals", "Value": "yes"}
    assert "not a valid boolean" in bad(SearchExpression={"Filters": [flag]})
    stray = {
        "NestedPropertyName": "InferenceSpecification.Containers",
        "Filters": [{"Name": "ModelPackageName", "Operator": "Exists"}],
    }
    assert "does not start with" in bad(SearchExpression={"NestedFilters": [stray]})
    scalar = {"NestedPropertyName": "ModelPackageName", "Filters": stray["Filters"]}
    assert "does not name a property holding objects" in bad(
        SearchExpression={"NestedFilters": [scalar]}
    )
    assert "Unknown property name" in bad(SortBy="Nope")
    assert "cannot be used to sort" in bad(SortBy="InferenceSpecification")
    assert "Invalid pagination token" in bad(NextToken="not-a-token")
    assert "Tags.<key>" in bad(VisibilityConditions=[{"Key": "env", "Value": "prod"}])


def test_other_resources_stay_motos(sm):
    assert search(sm, "TrainingJob")["Results"] == []


# --- order and pages -----------------------------------------------------------------------


def test_default_order_last_modified_then_created_descending(sm):
    pkgs = make_group(sm, "order", versions=5)
    assert arns(search_all(sm)) == pkgs[::-1]  # never modified: by CreationTime
    time.sleep(0.002)
    sm.update_model_package(ModelPackageArn=pkgs[1], ModelApprovalStatus="Approved")
    assert arns(search_all(sm)) == [pkgs[1], pkgs[4], pkgs[3], pkgs[2], pkgs[0]]
    assert arns(search_all(sm, SortBy="LastModifiedTime")) == arns(search_all(sm))
    assert arns(search_all(sm, SortOrder="Ascending")) == [
        pkgs[0],
        pkgs[2],
        pkgs[3],
        pkgs[4],
        pkgs[1],
    ]
    assert arns(search_all(sm, SortBy="CreationTime")) == pkgs[::-1]
    assert arns(search_all(sm, SortBy="ModelPackageVersion", SortOrder="Ascending")) == pkgs
    # A property some records lack: those come last in either order.
    assert arns(search_all(sm, SortBy="ModelApprovalStatus"))[0] == pkgs[1]
    assert arns(search_all(sm, SortBy="ModelApprovalStatus", SortOrder="Ascending"))[0] == pkgs[1]


def test_group_order(sm):
    for name in ("b-group", "a-group", "c-group"):
        make_group(sm, name, versions=0)
        time.sleep(0.002)
    sm.add_tags(
        ResourceArn=sm.describe_model_package_group(ModelPackageGroupName="c-group")[
            "ModelPackageGroupArn"
        ],
        Tags=[{"Key": "rank", "Value": "1"}],
    )

    def names(**kw):
        return [g["ModelPackageGroupName"] for g in search_all(sm, "ModelPackageGroup", **kw)]

    assert names() == ["c-group", "a-group", "b-group"]  # no LastModifiedTime: CreationTime
    assert names(SortBy="LastModifiedTime", SortOrder="Ascending") == [
        "b-group",
        "a-group",
        "c-group",
    ]
    assert names(SortBy="ModelPackageGroupName", SortOrder="Ascending") == [
        "a-group",
        "b-group",
        "c-group",
    ]
    assert names(SortBy="Tags.rank", SortOrder="Ascending")[0] == "c-group"
    assert names(SortBy="Tags.rank")[0] == "c-group"


def test_max_results_default_and_paging(sm):
    pkgs = make_group(sm, "big", versions=23)
    first = search(sm)
    assert len(first["Results"]) == standin_search.DEFAULT_MAX_RESULTS == 10
    assert first["TotalHits"] == {"Value": 23, "Relation": "EqualTo"}
    pages, token = [], None
    while True:
        page = search(sm, MaxResults=7, **({"NextToken": token} if token else {}))
        assert page["TotalHits"] == {"Value": 23, "Relation": "EqualTo"}
        pages.append(arns([r["ModelPackage"] for r in page["Results"]]))
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [7, 7, 7, 2]
    assert [a for p in pages for a in p] == pkgs[::-1]
    one = search(sm, MaxResults=100)
    assert (
        "NextToken" not in one and arns([r["ModelPackage"] for r in one["Results"]]) == (pkgs[::-1])
    )
    exact = search(sm, MaxResults=23)
    assert "NextToken" not in exact
    filtered = search(sm, MaxResults=1, **where(("ModelPackageVersion", "LessThan", "3")))
    assert filtered["TotalHits"]["Value"] == 2 and filtered["NextToken"]
    assert search(sm, **where(("ModelPackageVersion", "GreaterThan", "99")))["TotalHits"] == {
        "Value": 0,
        "Relation": "EqualTo",
    }


def test_pages_are_stable_when_the_registry_changes(sm):
    pkgs = make_group(sm, "moving", versions=12)
    order = pkgs[::-1]
    first = search(sm, MaxResults=5, SortOrder="Descending")
    assert arns([r["ModelPackage"] for r in first["Results"]]) == order[:5]
    # Between pages: a new (newest) version, and a deleted one not yet seen.
    newest = sm.create_model_package(ModelPackageGroupName="moving", InferenceSpecification=SPEC)
    sm.delete_model_package(ModelPackageName=order[6])
    rest, token = [], first["NextToken"]
    while token:
        page = search(sm, MaxResults=5, SortOrder="Descending", NextToken=token)
        rest += arns([r["ModelPackage"] for r in page["Results"]])
        token = page.get("NextToken")
    assert rest == order[5:6] + order[7:]
    assert newest["ModelPackageArn"] not in rest
    # A token belongs to its search: another expression or order refuses it.
    with pytest.raises(ClientError) as err:
        sm.search(Resource="ModelPackage", SortOrder="Ascending", NextToken=first["NextToken"])
    assert "Invalid pagination token" in err.value.response["Error"]["Message"]
    payload = json.loads(base64.urlsafe_b64decode(first["NextToken"]))
    assert payload["a"] == order[4]  # a cursor: the last record seen, not an offset


# --- visibility and accounts ---------------------------------------------------------------


def test_visibility_conditions(sm):
    pkgs = make_group(sm, "vis", versions=3)
    sm.add_tags(ResourceArn=pkgs[0], Tags=[{"Key": "team", "Value": "a"}])
    sm.add_tags(ResourceArn=pkgs[1], Tags=[{"Key": "team", "Value": "b"}])
    seen = set(arns(search_all(sm, VisibilityConditions=[{"Key": "Tags.team", "Value": "a"}])))
    assert seen == {pkgs[0], pkgs[2]}  # untagged ones are kept


def test_cross_account_only_with_the_option(client):
    me, partner = client(), client(key=PARTNER)
    mine = make_group(me, "mine", versions=1)
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": [OWN]}, "Action": "*"}]}
    shared = make_group(partner, "shared", versions=2)
    partner.put_model_package_group_policy(
        ModelPackageGroupName="shared", ResourcePolicy=json.dumps(policy)
    )
    private = make_group(partner, "private", versions=1)
    make_group(client(region="eu-west-1", key=PARTNER), "elsewhere", versions=1)
    partner.put_model_package_group_policy(
        ModelPackageGroupName="private",
        ResourcePolicy=json.dumps({"Statement": [{"Effect": "Allow", "Principal": "999"}]}),
    )

    assert arns(search_all(me)) == mine
    assert arns(search_all(me, CrossAccountFilterOption="SameAccount")) == mine
    assert set(arns(search_all(me, CrossAccountFilterOption="CrossAccount"))) == set(shared)
    groups = search_all(me, "ModelPackageGroup", CrossAccountFilterOption="CrossAccount")
    assert [g["ModelPackageGroupName"] for g in groups] == ["shared"]
    assert groups[0]["ModelPackageGroupArn"].split(":")[4] == PARTNER
    cross = search_all(
        me,
        CrossAccountFilterOption="CrossAccount",
        **where(("ModelPackageVersion", "Equals", "2")),
    )
    assert arns(cross) == [shared[1]]
    assert cross[0] == {
        **{
            k: v
            for k, v in me.describe_model_package(ModelPackageName=shared[1]).items()
            if k != "ResponseMetadata"
        },
        "Tags": [],
    }
    assert set(arns(search_all(partner))) == set(shared + private)


def test_search_calls_are_counted(standin, sm):
    make_group(sm, "counted", versions=1)
    standin.clear_stats()
    search(sm)
    search(sm, "ModelPackageGroup")
    with pytest.raises(ClientError):
        sm.search(Resource="ModelPackage", SortBy="Nope")
    counts = standin.stats()["operations"]["Search"]["us-east-1"]
    assert counts["ok"] == 2 and counts["error"] == 1


# --- test controls: a lagging or stale index -----------------------------------------------


def test_lag_hides_the_newest_from_search_only(standin, sm):
    pkgs = make_group(sm, "lagging", versions=6)
    make_group(sm, "newest-group", versions=0)
    standin.faults.update(search_lag=2)
    assert standin.faults.snapshot()["search_lag"] == 2
    page = search(sm, MaxResults=100)
    assert arns([r["ModelPackage"] for r in page["Results"]]) == pkgs[3::-1]
    assert page["TotalHits"]["Value"] == 4
    assert [g["ModelPackageGroupName"] for g in search_all(sm, "ModelPackageGroup")] == []
    # Listed and describable all the same.
    listed = sm.list_model_packages(ModelPackageGroupName="lagging")["ModelPackageSummaryList"]
    assert len(listed) == 6
    assert sm.describe_model_package(ModelPackageName=pkgs[5])["ModelPackageArn"] == pkgs[5]
    # The index keeps lagging: a new version hides the next one too.
    newer = make_group(sm, "later", versions=1)
    assert arns(search_all(sm)) == pkgs[4::-1]  # newer[0] and pkgs[5] missing now
    assert newer[0] not in arns(search_all(sm))
    standin.faults.update(search_lag=0)
    assert len(search_all(sm)) == 7


def test_stale_records_are_as_marked(standin, sm):
    pkgs = make_group(sm, "stale", versions=3)
    group_arn = sm.describe_model_package_group(ModelPackageGroupName="stale")[
        "ModelPackageGroupArn"
    ]
    before = {r["ModelPackageArn"]: r for r in search_all(sm)}
    # Any spelling of a package ARN's group name (ARNs lower-case it) marks the package.
    standin.faults.update(
        search_stale_arns=[pkgs[0], group_arn, pkgs[2].replace("/stale/", "/STALE/")]
    )
    assert standin.faults.snapshot()["search_stale_arns"] == sorted([pkgs[0], pkgs[2], group_arn])
    sm.update_model_package(ModelPackageArn=pkgs[0], ModelApprovalStatus="Approved")
    sm.add_tags(ResourceArn=pkgs[0], Tags=[{"Key": "late", "Value": "1"}])
    sm.update_model_package(ModelPackageArn=pkgs[1], ModelApprovalStatus="Approved")
    sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": "late", "Value": "1"}])
    sm.delete_model_package(ModelPackageName=pkgs[2])

    records = {r["ModelPackageArn"]: r for r in search_all(sm)}
    assert records[pkgs[0]] == before[pkgs[0]]  # as marked, not as updated and tagged
    assert records[pkgs[1]]["ModelApprovalStatus"] == "Approved"  # not marked: live
    assert records[pkgs[2]] == before[pkgs[2]]  # deleted since: the index has not caught up
    assert sm.describe_model_package(ModelPackageName=pkgs[0])["ModelApprovalStatus"] == (
        "Approved"
    )
    # Filters and sorting see the stale record.
    assert found(sm, ("ModelApprovalStatus", "Equals", "Approved")) == {pkgs[1]}
    assert found(sm, ("Tags.late", "Exists", None)) == set()
    assert arns(search_all(sm))[0] == pkgs[1]
    (group,) = search_all(sm, "ModelPackageGroup")
    assert group["Tags"] == []
    # Re-marking catches up with the present; [] drops the stale view.
    standin.faults.update(search_stale_arns=[pkgs[0]])
    assert search_all(sm, **where(("Tags.late", "Equals", "1")))[0]["ModelPackageArn"] == pkgs[0]
    assert pkgs[2] not in arns(search_all(sm))
    standin.faults.update(search_stale_arns=[])
    assert search_all(sm, "ModelPackageGroup")[0]["Tags"] == [{"Key": "late", "Value": "1"}]


def test_lag_and_stale_together_and_reset(standin, sm):
    pkgs = make_group(sm, "both", versions=3)
    standin.faults.update(search_stale_arns=[pkgs[2]], search_lag=1)
    sm.update_model_package(ModelPackageArn=pkgs[2], ModelApprovalStatus="Rejected")
    assert arns(search_all(sm)) == [pkgs[1], pkgs[0]]  # the newest, stale or not, is missing
    standin.faults.update(search_lag=0)
    assert "ModelApprovalStatus" not in search_all(sm)[0]
    standin.reset()
    assert standin.faults.snapshot()["search_stale_arns"] == []
    assert standin.faults.search_lag == 0


def test_index_controls_validate_and_serve_http(standin, sm):
    (pkg,) = make_group(sm, "http", versions=1)
    for bad in (
        {"search_stale_arns": ["arn:aws:sagemaker:us-east-1:123456789012:model-package/none/1"]},
        {"search_stale_arns": ["not-an-arn"]},
        {"search_lag": -1},
    ):
        with pytest.raises(ValueError):
            standin.faults.update(**bad)
    request = urllib.request.Request(
        f"{standin.url}/_standin/faults",
        data=json.dumps({"search_stale_arns": [pkg], "search_lag": 0}).encode(),
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert json.loads(resp.read())["search_stale_arns"] == [pkg]
    sm.add_tags(ResourceArn=pkg, Tags=[{"Key": "k", "Value": "v"}])
    assert search_all(sm)[0]["Tags"] == []


def test_the_shipped_standin_serves_search_without_the_controls():
    from scanner.standin import start_standin

    with start_standin() as plain:
        sm = boto3.client(
            "sagemaker",
            endpoint_url=plain.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        sm.create_model_package_group(ModelPackageGroupName="plain-search")
        sm.create_model_package(ModelPackageGroupName="plain-search", InferenceSpecification=SPEC)
        page = valid(sm.search(Resource="ModelPackage"))
        assert page["TotalHits"]["Value"] >= 1
