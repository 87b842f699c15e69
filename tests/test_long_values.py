"""No AWS value can break the schema: every string member of a package, its containers, its
statuses, metric sources and its group at the longest AWS allows (4,096 characters where
botocore sets no maximum), odd characters included, scanned into SQLite and PostgreSQL.
SQLite ignores lengths; PostgreSQL refuses what does not fit, so both must pass, whether the
records come from Search or from describe calls.
"""

from __future__ import annotations

import botocore.session
import pytest
from moto.backends import get_backend

from scanner import kinds
from scanner.transform import column_for
from tests.conftest import ACCOUNT, query

MODEL = botocore.session.get_session().get_service_model("sagemaker")
NO_MAXIMUM = 4096
# Quotes, backslash, SQL LIKE wildcards, markup, a combining accent, CJK, an emoji (4 bytes in
# UTF-8, 1 character): lengths are characters, as AWS and PostgreSQL count them.
ODD = "a'\"\\%_<b>é\u0301漢😀;"


def long_text(length: int) -> str:
    return (ODD * (length // len(ODD) + 1))[:length]


def longest(member_shape) -> str:
    return long_text(member_shape.metadata.get("max") or NO_MAXIMUM)


def filled(shape_name: str, **keep) -> dict:
    """Every string member of a structure at its longest; `keep` overrides some members
    (names that must stay valid identifiers, enums that must stay values)."""
    shape = MODEL.shape_for(shape_name)
    values = {}
    for member, member_shape in shape.members.items():
        if member in keep:
            values[member] = keep[member]
        elif member_shape.type_name == "string" and not member_shape.enum:
            values[member] = longest(member_shape)
    return values


# Members that identify the resource (moto looks it up by them) keep their valid values.
IDENTITY = {"ModelPackageArn", "ModelPackageName", "ModelPackageGroupName", "ModelPackageGroupArn"}


def longest_members(moto_object, shape_name: str) -> dict[str, str]:
    """Set every other top-level string member on a moto object at its longest; returns
    {column: value} as the store should keep them."""
    values = {}
    for member, member_shape in MODEL.shape_for(shape_name).members.items():
        if member_shape.type_name != "string" or member in IDENTITY:
            continue
        value = longest(member_shape)
        setattr(moto_object, column_for(member), value)
        values[column_for(member)] = value
    return values


@pytest.mark.parametrize("collect", ["search", "describe"])
def test_every_string_at_its_longest_is_stored_whole(sm, mpscan, standin, db_url, collect):
    client = sm["us-east-1"]
    group = "g" * 63  # EntityName: 63 characters, the API's maximum
    client.create_model_package_group(
        ModelPackageGroupName=group, ModelPackageGroupDescription=long_text(1024)
    )
    container = filled(
        "ModelPackageContainerDefinition",
        IsCheckpoint=True,
        Environment={long_text(1024): long_text(1024)},
    )
    metrics = filled("MetricsSource")
    spec = "s" * 63
    arn = client.create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=long_text(1024),
        InferenceSpecification={
            "Containers": [container],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        AdditionalInferenceSpecifications=[
            {
                "Name": spec,
                "Description": long_text(1024),
                "Containers": [container],
                "SupportedContentTypes": ["text/csv"],
            }
        ],
        ModelMetrics={"ModelQuality": {"Statistics": metrics}},
        DriftCheckBaselines={"ModelQuality": {"Constraints": metrics}},
        ModelApprovalStatus="Approved",
        Domain=long_text(NO_MAXIMUM),
        Task=long_text(NO_MAXIMUM),
        SamplePayloadUrl=long_text(NO_MAXIMUM),
        SourceUri=long_text(1024),
        SecurityConfig={"KmsKeyId": long_text(2048)},
        CustomerMetadataProperties={long_text(128): long_text(256)},
        Tags=[{"Key": long_text(128), "Value": long_text(256)}],
    )["ModelPackageArn"]
    # moto makes its own status details; AWS's can name anything and explain at length.
    package = get_backend("sagemaker")[ACCOUNT]["us-east-1"].model_packages[arn]
    status = filled("ModelPackageStatusItem", Status="Failed")
    package.model_package_status_details = {
        "ValidationStatuses": [status],
        "ImageScanStatuses": [status],
    }

    # Every other string member of the describe outputs, enums included (AWS may add longer
    # values), set on moto's objects: what DescribeModelPackage(Group) then returns.
    backend = get_backend("sagemaker")[ACCOUNT]["us-east-1"]
    package_strings = longest_members(package, "DescribeModelPackageOutput")
    group_strings = longest_members(
        backend.model_package_groups[group], "DescribeModelPackageGroupOutput"
    )

    result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q", "--collect", collect)

    assert result.exit_code == 0, result.stderr
    if collect == "search":  # Search's records lack these: unknown until a describe reads them
        package_strings.update(dict.fromkeys(kinds.MODEL_PACKAGE.describe_only))
    columns = ", ".join(package_strings)
    [stored_package] = query(db_url, f"SELECT {columns} FROM model_packages")
    assert dict(zip(package_strings, stored_package, strict=True)) == package_strings
    columns = ", ".join(group_strings)
    [stored_group] = query(db_url, f"SELECT {columns} FROM model_package_groups")
    assert dict(zip(group_strings, stored_group, strict=True)) == group_strings
    [(kms, group_name)] = query(
        db_url, "SELECT kms_key_id, model_package_group_name FROM model_packages"
    )
    assert (kms, group_name) == (long_text(2048), group)
    stored = query(
        db_url,
        "SELECT specification_name, container_hostname, image, image_digest, model_data_url, "
        "product_id, framework, framework_version, nearest_model_name, model_data_e_tag, "
        "is_checkpoint FROM model_package_containers ORDER BY specification",
    )
    expected = tuple(
        container[m]
        for m in (
            "ContainerHostname",
            "Image",
            "ImageDigest",
            "ModelDataUrl",
            "ProductId",
            "Framework",
            "FrameworkVersion",
            "NearestModelName",
            "ModelDataETag",
        )
    )
    assert [tuple(r) for r in stored] == [
        (spec, *expected, True),
        (None, *expected, True),
    ]
    assert len(container["ProductId"]) == 256 and len(container["Framework"]) == NO_MAXIMUM
    statuses = query(
        db_url, "SELECT kind, name, status, failure_reason FROM model_package_validation_statuses"
    )
    assert sorted(tuple(r) for r in statuses) == [
        ("ImageScanStatuses", status["Name"], "Failed", status["FailureReason"]),
        ("ValidationStatuses", status["Name"], "Failed", status["FailureReason"]),
    ]
    sources = query(
        db_url, "SELECT s3_uri, content_type, content_digest FROM model_package_metric_sources"
    )
    assert [tuple(r) for r in sources] == [
        (metrics["S3Uri"], metrics["ContentType"], metrics["ContentDigest"])
    ] * 2
    tags = query(db_url, "SELECT key, value FROM model_package_tags")
    assert [tuple(r) for r in tags] == [(long_text(128), long_text(256))]
    [name] = query(db_url, "SELECT model_package_group_name FROM model_package_groups")
    assert name == (group,)
