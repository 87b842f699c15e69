"""transform on recorded, botocore-valid responses: pure functions, no AWS, no database."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator

from scanner import transform
from scanner.store.inventory import table_rows
from scanner.store.schema import ModelPackage, ModelPackageContainer, ModelPackageGroup

DATA = Path(__file__).parent / "data"
MODEL = botocore.session.get_session().get_service_model("sagemaker")
ACCOUNT, REGION = "123456789012", "eu-west-1"


def recorded(name: str, operation: str) -> dict:
    """A recorded response, checked against botocore's shape for that operation."""
    response = json.loads((DATA / name).read_text())
    report = ParamValidator().validate(response, MODEL.operation_model(operation).output_shape)
    assert not report.has_errors(), report.generate_report()
    return response


@pytest.fixture
def full():
    return recorded("describe_model_package_full.json", "DescribeModelPackage")


def test_every_container_of_every_specification_is_a_row(full):
    rows = transform.package_rows({"describe": full, "tags": []}, ACCOUNT, REGION)
    placed = [
        (c["specification"], c["specification_name"], c["container_index"]) for c in rows.containers
    ]
    assert placed == [
        ("InferenceSpecification", None, 0),
        ("InferenceSpecification", None, 1),
        ("AdditionalInferenceSpecifications", "gpu", 0),
    ]
    first, second, gpu = table_rows(ModelPackageContainer, rows.containers)
    main = full["InferenceSpecification"]["Containers"]
    assert first["image_digest"] == main[0]["ImageDigest"]
    assert first["model_input"] == {"DataInputConfig": '{"input": [1, 10]}'}
    assert first["additional_s3_data_source"]["S3Uri"] == "s3://models-eu/churn/7/extra.json"
    assert first["model_data_e_tag"] == '"9b2cf535f27731c974343645a3985328"'
    assert first["is_checkpoint"] is False and first["product_id"] == "prod-abc123"
    assert first["environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}
    assert second["base_model"]["HubContentName"] == "meta-llama"
    assert second["additional_model_data_sources"][0]["ChannelName"] == "draft"
    assert second["image_digest"] is None and second["raw"] == main[1]
    assert gpu["image"].endswith("xgb-gpu:2.0") and gpu["model_data_url"].endswith("gpu.tar.gz")


def test_statuses_and_metric_sources_are_rows(full):
    rows = transform.package_rows({"describe": full, "tags": []}, ACCOUNT, REGION)
    assert [
        (s["kind"], s["name"], s["status"], s.get("failure_reason"))
        for s in rows.validation_statuses
    ] == [
        ("ValidationStatuses", "smoke", "Failed", "Transform job failed: ClientError"),
        (
            "ImageScanStatuses",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/xgb",
            "Completed",
            None,
        ),
    ]
    sources = {(m["section"], m["category"], m["name"]): m["s3_uri"] for m in rows.metric_sources}
    assert sources == {
        ("ModelMetrics", "ModelQuality", "Statistics"): "s3://models-eu/churn/7/quality.json",
        ("ModelMetrics", "Bias", "Report"): "s3://models-eu/churn/7/bias.json",
        ("ModelMetrics", "Bias", "PostTrainingReport"): "s3://models-eu/churn/7/bias-post.json",
        (
            "DriftCheckBaselines",
            "ModelQuality",
            "Constraints",
        ): "s3://models-eu/churn/7/constraints.json",
        (
            "DriftCheckBaselines",
            "ModelDataQuality",
            "Statistics",
        ): "s3://models-eu/churn/7/data-stats.json",
    }


def test_package_row_has_every_member_and_the_lifted_out_values(full):
    tags = [{"Key": "owner", "Value": "growth"}]
    rows = transform.package_rows({"describe": full, "tags": tags}, ACCOUNT, REGION)
    [row] = table_rows(ModelPackage, [rows.package])
    for member in full:
        assert transform.column_for(member) in row, member
    assert row["model_package_type"] == "Versioned"
    assert row["kms_key_id"].endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert row["creation_time"].isoformat() == "2026-11-02T09:15:42.123000+00:00"
    assert row["model_package_version"] == 7 and row["certify_for_marketplace"] is False
    assert row["raw"] == full and row["tags"] == tags
    assert rows.tags == [
        {"model_package_arn": full["ModelPackageArn"], "key": "owner", "value": "growth"}
    ]


def test_absent_members_are_null_not_empty():
    minimal = recorded("describe_model_package_minimal.json", "DescribeModelPackage")
    rows = transform.package_rows({"describe": minimal, "tags": []}, ACCOUNT, "us-east-1")
    assert rows.containers == rows.validation_statuses == rows.metric_sources == rows.tags == []
    full_row = transform.package_rows(
        {"describe": recorded("describe_model_package_full.json", "DescribeModelPackage")},
        ACCOUNT,
        REGION,
    ).package
    [row] = table_rows(ModelPackage, [rows.package, full_row])[:1]
    assert row["model_package_type"] == "Unversioned"
    assert row["kms_key_id"] is None and row["security_config"] is None
    assert row["model_card"] is None and row["inference_specification"] is None
    assert row["model_approval_status"] is None and row["approval_description"] is None


def test_a_member_aws_adds_later_stays_in_raw():
    minimal = recorded("describe_model_package_minimal.json", "DescribeModelPackage")
    newer = {**minimal, "ModelPackageSustainabilityReport": {"Co2": 1}}
    rows = transform.package_rows({"describe": newer, "tags": []}, ACCOUNT, "us-east-1")
    [row] = table_rows(ModelPackage, [rows.package])
    assert "model_package_sustainability_report" not in row
    assert row["raw"]["ModelPackageSustainabilityReport"] == {"Co2": 1}


GROUP = {
    "ModelPackageGroupName": "churn",
    "ModelPackageGroupArn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn",
    "CreationTime": "2026-01-01T00:00:00+00:00",
    "ModelPackageGroupStatus": "Completed",
}


def _group(policy=None, shared=False, describe=True):
    summary = {
        k: GROUP[k]
        for k in (
            "ModelPackageGroupName",
            "ModelPackageGroupArn",
            "CreationTime",
            "ModelPackageGroupStatus",
        )
    }
    document = {"summary": summary, "shared": shared}
    if describe:
        document["describe"] = {
            **GROUP,
            "ModelPackageGroupDescription": "churn models",
            "CreatedBy": {"UserProfileName": "ana"},
        }
        recorded_describe = ParamValidator().validate(
            document["describe"], MODEL.operation_model("DescribeModelPackageGroup").output_shape
        )
        assert not recorded_describe.has_errors(), recorded_describe.generate_report()
        document["policy"] = policy
        document["tags"] = [{"Key": "team", "Value": "growth"}]
    rows = transform.group_rows(document, ACCOUNT, REGION)
    return table_rows(ModelPackageGroup, [rows.group])[0], rows


def test_an_unparsable_policy_is_kept_as_text_and_present():
    row, _ = _group({"status": "present", "text": "{not json"})
    assert row["resource_policy"] == {"unparsed": "{not json"}
    assert row["resource_policy_status"] == "present" and row["resource_policy_error"] is None


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"status": "none"}, (None, "none", None)),
        (
            {
                "status": "unknown",
                "error": "AccessDeniedException on GetModelPackageGroupPolicy: no",
            },
            (None, "unknown", "AccessDeniedException on GetModelPackageGroupPolicy: no"),
        ),
        (
            {"status": "present", "text": '{"Statement": []}'},
            ({"Statement": []}, "present", None),
        ),
    ],
)
def test_policy_status_says_what_aws_said(policy, expected):
    row, rows = _group(policy)
    assert (
        row["resource_policy"],
        row["resource_policy_status"],
        row["resource_policy_error"],
    ) == expected
    assert row["model_package_group_description"] == "churn models"
    assert rows.tags[0]["key"] == "team" and row["owner_account_id"] == ACCOUNT


def test_a_shared_group_is_its_summary_and_its_policy_is_unknown():
    row, rows = _group(shared=True, describe=False)
    assert row["shared"] is True and rows.tags == [] and row["tags"] is None
    assert row["resource_policy"] is None and row["resource_policy_status"] == "unknown"
    assert "owner" in row["resource_policy_error"]
