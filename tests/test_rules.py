"""Every built-in rule, run through its real check on inventory rows built the way the store
builds them (scanner.transform then scanner.store.inventory.table_rows) from botocore-valid
responses: each fails, passes, and (where its data can be unknown) errors.

CASES is a table keyed by rule id; the registry walk at the end asserts that every
registered rule has a passing and a failing case here, complete metadata and a section in
docs/rules.md.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from sqlalchemy import select

from scanner import kinds, transform, transform_serving
from scanner.app.judging import judge_and_persist
from scanner.rules import catalog  # noqa: F401 - registers the built-in rules
from scanner.rules.base import REGISTRY, Rule, RuleDefinitionError
from scanner.store.inventory import table_rows
from scanner.store.read.deployed import DOCUMENTING, SERVED
from scanner.store.schema import Base, Endpoint, ModelPackage, ModelPackageGroup

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
MODEL = botocore.session.get_session().get_service_model("sagemaker")
ACCOUNT, OTHER, REGION = "123456789012", "210987654321", "eu-west-1"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
OWNER_TAG = [{"Key": "owner", "Value": "growth"}]
UNKNOWN = object()  # tags or a policy that were not read
PINNED = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/xgb@sha256:" + "0d1f" * 16
DIGEST = "sha256:" + "7e3a" * 16
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/churn"


def valid(response: dict, operation: str) -> dict:
    report = ParamValidator().validate(response, MODEL.operation_model(operation).output_shape)
    assert not report.has_errors(), report.generate_report()
    return response


def package(change: Callable[[dict], Any] | None = None, *, tags=OWNER_TAG, base="full") -> dict:
    """A model_packages row from the recorded response, changed, checked against botocore."""
    describe = copy.deepcopy(json.loads((DATA / f"describe_model_package_{base}.json").read_text()))
    if change:
        change(describe)
    document = {"describe": valid(describe, "DescribeModelPackage")}
    if tags is not UNKNOWN:
        document["tags"] = valid({"Tags": tags}, "ListTags")["Tags"]
    [row] = table_rows(ModelPackage, [transform.package_rows(document, ACCOUNT, REGION).package])
    return row


def group(policy: Any = None, *, status: str | None = None, error: str | None = None) -> dict:
    """A model_package_groups row whose GetModelPackageGroupPolicy said `policy` (a dict, or
    text), nothing (status none), or failed (status unknown, with the error)."""
    summary = {
        "ModelPackageGroupName": "churn",
        "ModelPackageGroupArn": GROUP_ARN,
        "CreationTime": "2026-01-01T00:00:00+00:00",
        "ModelPackageGroupStatus": "Completed",
    }
    describe = valid(
        {**summary, "CreatedBy": {"UserProfileName": "ana"}}, "DescribeModelPackageGroup"
    )
    if status == "unknown":
        collected = {"status": "unknown", "error": error}
    elif policy is None:
        collected = {"status": "none"}
    else:
        text = policy if isinstance(policy, str) else json.dumps(policy)
        valid({"ResourcePolicy": text}, "GetModelPackageGroupPolicy")
        collected = {"status": "present", "text": text}
    document = {
        "summary": summary,
        "shared": False,
        "describe": describe,
        "policy": collected,
        "tags": OWNER_TAG,
    }
    [row] = table_rows(ModelPackageGroup, [transform.group_rows(document, ACCOUNT, REGION).group])
    return row


def versions(*statuses: str) -> dict:
    """A group row with the versions the judge reads from model_packages (scanner.rules
    .derived): `statuses` newest first, numbered down to version 1."""
    row = group(None)
    row["latest_versions"] = [(len(statuses) - i, s) for i, s in enumerate(statuses)]
    return row


ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/live"
VERSION = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/7"


def endpoint(*served: dict, status: str = "InService") -> dict:
    """An endpoints row (DescribeEndpoint, checked against botocore) with what it serves
    as scanner.store.read.deployed gives it: one dict per variant and container."""
    describe = valid({
        "EndpointName": "live", "EndpointArn": ENDPOINT_ARN, "EndpointConfigName": "live-config",
        "EndpointStatus": status, "CreationTime": "2026-01-01T00:00:00+00:00",
        "LastModifiedTime": "2026-01-01T00:00:00+00:00",
        "ProductionVariants": [{"VariantName": s.get("variant_name") or "main",
                                "CurrentWeight": 1.0} for s in served],
    }, "DescribeEndpoint")  # fmt: skip
    rows = transform_serving.endpoint_rows({"describe": describe, "tags": []}, ACCOUNT, REGION)
    [row] = table_rows(Endpoint, rows["endpoints"])
    return {**row, SERVED: list(served)}


def serves(**change) -> dict:
    """A variant serving the approved version 7 of churn (the latest approved), in a
    region mpscan read, with no open finding; `change` overrides any of it."""
    return {
        "variant_kind": "production", "variant_name": "main", "current_weight": 1.0,
        "model_name": "churn-7", "model_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/churn-7",
        "container_index": 0, "model_package_arn": VERSION, "model_package_group_name": "churn",
        "model_package_version": 7, "model_package_status": "Completed",
        "model_approval_status": "Approved", "latest_approved_version": 7,
        "package_found": True, "package_region_read": True, "severe_findings": [], **change,
    }  # fmt: skip


GONE = {"model_package_status": None, "model_approval_status": None, "package_found": False,
        "model_package_version": None, "model_package_group_name": None}  # fmt: skip
ELSEWHERE = {
    **GONE,
    "package_region_read": False,
    "model_package_arn": "arn:aws:sagemaker:eu-central-1:210987654321:model-package/x/1",
}
LOOSE = {"model_package_arn": None, **{k: v for k, v in GONE.items() if k != "package_found"},
         "package_found": False}  # fmt: skip
CARD = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-card/churn-card"


def documented(*cards: tuple[str, str], **package_change) -> dict:
    row = package(**package_change)
    return {**row, DOCUMENTING: list(cards)}


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any, **extra) -> dict:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sagemaker:DescribeModelPackage",
        "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/*",
        **extra,
    }


def org(operator="StringEquals", key="aws:PrincipalOrgID", value="o-a1b2c3d4e5") -> dict:
    return {"Condition": {operator: {key: value}}}


def setter(**members) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        d.update(members)

    return change


def without(*members: str) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for m in members:
            d.pop(m)

    return change


def both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for c in changes:
            c(d)

    return change


def pin_every_image(d: dict) -> None:
    for c in d["InferenceSpecification"]["Containers"]:
        c["Image"] = PINNED
    for spec in d["AdditionalInferenceSpecifications"]:
        for c in spec["Containers"]:
            c["Image"] = PINNED


def all_checks_completed(d: dict) -> None:
    d["ModelPackageStatusDetails"] = {
        "ValidationStatuses": [{"Name": "smoke", "Status": "Completed"}],
        "ImageScanStatuses": [{"Name": "xgb", "Status": "Completed"}],
    }


def image_scan_failed(d: dict) -> None:
    all_checks_completed(d)
    d["ModelPackageStatusDetails"]["ImageScanStatuses"][0].update(
        Status="Failed", FailureReason="CVE-2026-0001 critical"
    )


def no_repository(d: dict) -> None:
    del d["MetadataProperties"]["Repository"]


@dataclass(frozen=True)
class Case:
    rule_id: str
    expect: str  # pass, fail or error
    name: str
    row: Callable[[], dict]
    params: dict[str, Any] = field(default_factory=dict)
    message: str = ""  # a part of the message the rule must give

    def __str__(self) -> str:
        return f"{self.rule_id}-{self.expect}-{self.name}"


PENDING = "PendingManualApproval"
APPROVED = "Approved"
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ml-pipeline/build-7"
CASES = [
    # MP-001: the KMS key of SecurityConfig
    Case("MP-001", "fail", "no security config", lambda: package(without("SecurityConfig")),
         message="SecurityConfig has no KmsKeyId"),
    Case("MP-001", "fail", "minimal response", lambda: package(base="minimal")),
    Case("MP-001", "pass", "customer key", lambda: package()),
    # MP-002: approved needs a model card
    Case("MP-002", "fail", "approved, no card", lambda: package(without("ModelCard")),
         message="no ModelCard"),
    Case("MP-002", "pass", "approved with card", lambda: package()),
    Case("MP-002", "pass", "pending, no card",
         lambda: package(both(without("ModelCard"), setter(ModelApprovalStatus=PENDING)))),
    Case("MP-002", "pass", "a standalone card for its group",
         lambda: documented((CARD, "Draft"), change=without("ModelCard"))),
    # MC-001: documented only by cards that are not Approved
    Case("MC-001", "fail", "its own card in draft",
         lambda: package(lambda d: d["ModelCard"].update(ModelCardStatus="Draft")),
         message="the package's ModelCard (Draft)"),
    Case("MC-001", "fail", "a standalone card pending review",
         lambda: documented((CARD, "PendingReview"), change=without("ModelCard")),
         message="churn-card (PendingReview)"),
    Case("MC-001", "pass", "one approved card among others",
         lambda: documented((CARD, "Approved"),
                            change=lambda d: d["ModelCard"].update(ModelCardStatus="Draft"))),
    Case("MC-001", "pass", "no card at all (MP-002's)", lambda: package(without("ModelCard"))),
    Case("MC-001", "pass", "rejected package",
         lambda: package(setter(ModelApprovalStatus="Rejected"))),
    # DEP-001: an in-service endpoint serving a version that is not Approved
    Case("DEP-001", "fail", "rejected canary",
         lambda: endpoint(serves(), serves(variant_name="canary", current_weight=0.1,
                                           model_approval_status="Rejected")),
         message="variant canary, weight 0.1 serves " + VERSION + " (Rejected)"),
    Case("DEP-001", "fail", "pending shadow",
         lambda: endpoint(serves(variant_kind="shadow", model_approval_status=PENDING)),
         message="variant main (shadow)"),
    Case("DEP-001", "pass", "approved", lambda: endpoint(serves())),
    Case("DEP-001", "pass", "not in service",
         lambda: endpoint(serves(model_approval_status="Rejected"), status="OutOfService")),
    Case("DEP-001", "error", "package in an unread account", lambda: endpoint(serves(**ELSEWHERE)),
         message="in account 210987654321 eu-central-1, which mpscan has not read"),
    Case("DEP-001", "error", "model deleted",
         lambda: endpoint(serves(model_arn=None, **LOOSE)), message="model 'churn-7'"),
    Case("DEP-001", "error", "configuration deleted",
         lambda: endpoint(serves(variant_name=None, model_name=None, model_arn=None, **LOOSE)),
         message="configuration 'live-config' is not in the inventory"),
    # DEP-002: a package that is not in the registry
    Case("DEP-002", "fail", "deleted", lambda: endpoint(serves(**GONE)),
         message="which is not in the registry (deleted)"),
    Case("DEP-002", "pass", "in the registry", lambda: endpoint(serves())),
    Case("DEP-002", "pass", "no package", lambda: endpoint(serves(**LOOSE))),
    Case("DEP-002", "error", "shared from an account not scanned",
         lambda: endpoint(serves(**ELSEWHERE)), message="scan it to judge"),
    # DEP-003: open critical or high findings on the version
    Case("DEP-003", "fail", "flagged",
         lambda: endpoint(serves(severe_findings=["MP-001", "MP-005"])),
         message=VERSION + ": MP-001, MP-005"),
    Case("DEP-003", "pass", "clean", lambda: endpoint(serves())),
    Case("DEP-003", "error", "unread", lambda: endpoint(serves(**ELSEWHERE))),
    # DEP-004: a model not from the registry
    Case("DEP-004", "fail", "image only", lambda: endpoint(serves(model_name="loose", **LOOSE)),
         message="serves model loose, whose containers name no model package"),
    Case("DEP-004", "pass", "from the registry",
         lambda: endpoint(serves(), serves(container_index=1, **LOOSE))),
    Case("DEP-004", "error", "model deleted",
         lambda: endpoint(serves(model_arn=None, **LOOSE))),
    # DEP-005: older than the group's latest approved
    Case("DEP-005", "fail", "version 5 of 7",
         lambda: endpoint(serves(model_package_version=5)),
         message="serves version 5 of churn; the latest approved is 7"),
    Case("DEP-005", "pass", "the latest", lambda: endpoint(serves())),
    Case("DEP-005", "error", "unread", lambda: endpoint(serves(**ELSEWHERE))),
    # MP-003: approved needs metrics
    Case("MP-003", "fail", "approved, no metrics", lambda: package(without("ModelMetrics")),
         message="no ModelMetrics"),
    Case("MP-003", "pass", "approved with metrics", lambda: package()),
    Case("MP-003", "pass", "rejected, no metrics",
         lambda: package(both(without("ModelMetrics"), setter(ModelApprovalStatus="Rejected")))),
    # MP-004: images by digest, every container of every specification
    Case("MP-004", "fail", "tags in two specifications", lambda: package(),
         message="postprocess:latest"),
    Case("MP-004", "fail", "additional specification only",
         lambda: package(lambda d: [
             c.update(Image=PINNED) for c in d["InferenceSpecification"]["Containers"]
         ]), message="AdditionalInferenceSpecifications 'gpu' container 0"),
    Case("MP-004", "fail", "tag, nothing recorded", lambda: package(),
         message="postprocess:latest (tag, no ImageDigest recorded)"),
    Case("MP-004", "fail", "tag with SageMaker's recorded digest",
         lambda: package(lambda d: d["InferenceSpecification"]["Containers"][1].update(
             ImageDigest=DIGEST)),
         message="postprocess:latest (tag with recorded ImageDigest " + DIGEST + ", not pinned: "
         "use 123456789012.dkr.ecr.eu-west-1.amazonaws.com/postprocess@" + DIGEST + ")"),
    Case("MP-004", "fail", "a registry's port is not a tag",
         lambda: package(both(pin_every_image, lambda d: d["InferenceSpecification"][
             "Containers"][0].update(Image="registry.example:5000/ml/xgb:1.2", ImageDigest=DIGEST)
         )), message="use registry.example:5000/ml/xgb@" + DIGEST + ")"),
    Case("MP-004", "pass", "all pinned", lambda: package(pin_every_image)),
    Case("MP-004", "pass", "no inference specification", lambda: package(base="minimal")),
    # MP-005: failed package, validation or image scan
    Case("MP-005", "fail", "validation failed", lambda: package(),
         message="ValidationStatuses 'smoke' Failed: Transform job failed"),
    Case("MP-005", "fail", "image scan failed", lambda: package(image_scan_failed),
         message="CVE-2026-0001"),
    Case("MP-005", "fail", "package failed",
         lambda: package(both(all_checks_completed, setter(ModelPackageStatus="Failed"))),
         message="ModelPackageStatus is Failed"),
    Case("MP-005", "pass", "all completed", lambda: package(all_checks_completed)),
    # MP-006: required tags; unknown tags are an error, never a pass
    Case("MP-006", "fail", "no owner", lambda: package(tags=[{"Key": "team", "Value": "x"}]),
         message="missing tags: owner"),
    Case("MP-006", "fail", "no tags at all", lambda: package(tags=[])),
    Case("MP-006", "fail", "a second required tag", lambda: package(),
         params={"required_tags": ["owner", "cost-center"]}, message="missing tags: cost-center"),
    Case("MP-006", "pass", "owner tag", lambda: package()),
    Case("MP-006", "error", "tags not read", lambda: package(tags=UNKNOWN),
         message="tags are unknown"),
    # MP-007: pending for too long (NOW is 2026-11-29)
    Case("MP-007", "fail", "pending 88 days",
         lambda: package(setter(ModelApprovalStatus=PENDING,
                                CreationTime="2026-09-01T00:00:00+00:00")),
         message="PendingManualApproval for 89 days (limit 30) since 2026-09-01"),
    Case("MP-007", "pass", "pending 27 days",
         lambda: package(setter(ModelApprovalStatus=PENDING))),
    Case("MP-007", "pass", "limit raised",
         lambda: package(setter(ModelApprovalStatus=PENDING,
                                CreationTime="2026-09-01T00:00:00+00:00")),
         params={"max_pending_days": 90}),
    Case("MP-007", "pass", "approved long ago",
         lambda: package(setter(CreationTime="2020-01-01T00:00:00+00:00"))),
    # MP-008: certified for AWS Marketplace
    Case("MP-008", "fail", "certified", lambda: package(setter(CertifyForMarketplace=True)),
         message="CertifyForMarketplace is true"),
    Case("MP-008", "pass", "not certified", lambda: package()),
    Case("MP-008", "pass", "not said", lambda: package(base="minimal")),
    # MP-009: approved without validation
    Case("MP-009", "fail", "skip all", lambda: package(setter(SkipModelValidation="All")),
         message="SkipModelValidation = All"),
    Case("MP-009", "fail", "no validation specification",
         lambda: package(without("ValidationSpecification")),
         message="without a ValidationSpecification"),
    Case("MP-009", "pass", "validated", lambda: package()),
    Case("MP-009", "pass", "rejected, skip all",
         lambda: package(setter(SkipModelValidation="All", ModelApprovalStatus="Rejected"))),
    # MP-010: approved without a description
    Case("MP-010", "fail", "no description", lambda: package(without("ApprovalDescription")),
         message="without an ApprovalDescription"),
    Case("MP-010", "fail", "blank description",
         lambda: package(setter(ApprovalDescription="   "))),
    Case("MP-010", "pass", "described", lambda: package()),
    # MP-011: lineage
    Case("MP-011", "fail", "no metadata properties",
         lambda: package(without("MetadataProperties")),
         message="lacks CommitId and Repository"),
    Case("MP-011", "fail", "no repository", lambda: package(no_repository),
         message="lacks Repository"),
    Case("MP-011", "pass", "commit and repository", lambda: package()),
    # MP-012: allowed buckets (not applicable until set)
    Case("MP-012", "fail", "another bucket", lambda: package(),
         params={"allowed_buckets": ["models-us"]}, message="s3://models-eu/churn/7/model.tar.gz"),
    Case("MP-012", "fail", "one metrics report elsewhere",
         lambda: package(lambda d: d["ModelMetrics"]["Bias"]["Report"].update(
             S3Uri="s3://scratch/bias.json")),
         params={"allowed_buckets": ["models-eu"]}, message="Bias.Report: s3://scratch/bias.json"),
    Case("MP-012", "pass", "allowed bucket", lambda: package(),
         params={"allowed_buckets": ["models-eu"]}),
    Case("MP-012", "pass", "not configured", lambda: package()),
    # MP-013: approved without drift baselines
    Case("MP-013", "fail", "no baselines", lambda: package(without("DriftCheckBaselines")),
         message="no DriftCheckBaselines"),
    Case("MP-013", "pass", "baselines", lambda: package()),
    # MP-014: registered as Approved, or approved by its author (the recorded response was
    # created by d-1/ana and last modified later by ben)
    Case("MP-014", "fail", "nothing recorded after creation",
         lambda: package(without("LastModifiedTime", "LastModifiedBy")),
         message="registered as Approved: no change was recorded after its creation"),
    Case("MP-014", "fail", "last modified at its creation",
         lambda: package(lambda d: d.update(LastModifiedTime=d["CreationTime"])),
         message="LastModifiedTime 2026-11-02T09:15:42.123000+00:00 is not after CreationTime"),
    Case("MP-014", "fail", "modified by the creator's user profile",
         lambda: package(setter(LastModifiedBy={"UserProfileName": "ana", "DomainId": "d-1"})),
         message="approved by its author: LastModifiedBy's user profile d-1/ana is CreatedBy's"),
    Case("MP-014", "fail", "modified by the creator's IAM identity",
         lambda: package(setter(CreatedBy={"IamIdentity": {"Arn": ROLE_SESSION}},
                                LastModifiedBy={"IamIdentity": {"Arn": ROLE_SESSION}})),
         message=f"IAM identity {ROLE_SESSION} is CreatedBy's"),
    Case("MP-014", "pass", "approved later by another user profile", lambda: package()),
    Case("MP-014", "pass", "approved later in another role session",
         lambda: package(setter(CreatedBy={"IamIdentity": {"Arn": ROLE_SESSION}},
                                LastModifiedBy={"IamIdentity": {"Arn": ROLE_SESSION + "-2"}}))),
    Case("MP-014", "pass", "no identity recorded",
         lambda: package(setter(CreatedBy={}, LastModifiedBy={}))),
    Case("MP-014", "pass", "pending, nothing recorded after creation",
         lambda: package(both(without("LastModifiedTime", "LastModifiedBy"),
                              setter(ModelApprovalStatus=PENDING)))),
    Case("MP-014", "pass", "unversioned, nothing recorded after creation",
         lambda: package(without("ModelPackageGroupName", "ModelPackageVersion",
                                 "LastModifiedTime", "LastModifiedBy"))),
    # MPG-003: every one of the latest N versions approved (newest first)
    Case("MPG-003", "fail", "five of five approved", lambda: versions(*[APPROVED] * 5),
         message="the latest 5 versions (versions 1 to 5) are all Approved"),
    Case("MPG-003", "fail", "the latest five approved, older ones rejected",
         lambda: versions(*[APPROVED] * 5, "Rejected", PENDING, "Rejected"),
         message="(versions 4 to 8)"),
    Case("MPG-003", "fail", "three asked for", lambda: versions(*[APPROVED] * 3),
         params={"versions": 3}, message="the latest 3 versions (versions 1 to 3)"),
    Case("MPG-003", "pass", "one of the latest rejected",
         lambda: versions(APPROVED, APPROVED, "Rejected", APPROVED, APPROVED, APPROVED)),
    Case("MPG-003", "pass", "the newest pending", lambda: versions(PENDING, *[APPROVED] * 5)),
    Case("MPG-003", "pass", "fewer versions than asked for", lambda: versions(*[APPROVED] * 4)),
    Case("MPG-003", "pass", "no versions", lambda: versions()),
    # MPG-001: any principal without a narrowing condition
    Case("MPG-001", "fail", "principal star", lambda: group(policy(allow("*", Sid="Everyone"))),
         message="Everyone"),
    Case("MPG-001", "fail", "AWS star", lambda: group(policy(allow({"AWS": "*"})))),
    Case("MPG-001", "fail", "AWS star in a list, single statement",
         lambda: group({"Version": "2012-10-17",
                        "Statement": allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]})})),
    Case("MPG-001", "fail", "negated org condition",
         lambda: group(policy(allow("*", **org("StringNotEquals"))))),
    Case("MPG-001", "fail", "negated IP condition",
         lambda: group(policy(allow("*", **org("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))))),
    Case("MPG-001", "fail", "Null condition only says the key exists",
         lambda: group(policy(allow("*", **org("Null", "aws:PrincipalOrgID", "false"))))),
    Case("MPG-001", "fail", "IfExists lets a request without the key in",
         lambda: group(policy(allow("*", **org("StringEqualsIfExists", "aws:SourceAccount",
                                               ACCOUNT))))),
    Case("MPG-001", "fail", "a condition on a key that narrows nothing",
         lambda: group(policy(allow("*", **org("Bool", "aws:SecureTransport", "true"))))),
    Case("MPG-001", "fail", "Allow with NotPrincipal",
         lambda: group(policy({"Effect": "Allow", "NotPrincipal": {"AWS": OTHER},
                               "Action": "sagemaker:*", "Resource": "*"}))),
    Case("MPG-001", "pass", "org condition", lambda: group(policy(allow("*", **org())))),
    Case("MPG-001", "pass", "source account, any case",
         lambda: group(policy(allow({"AWS": "*"}, **org("StringEquals", "AWS:SourceAccount",
                                                         ACCOUNT))))),
    Case("MPG-001", "pass", "named account", lambda: group(policy(allow({"AWS": OTHER})))),
    Case("MPG-001", "pass", "deny star", lambda: group(policy({**allow("*"), "Effect": "Deny"}))),
    Case("MPG-001", "pass", "no policy", lambda: group(None)),
    Case("MPG-001", "error", "policy not read",
         lambda: group(status="unknown", error="AccessDeniedException: not authorized"),
         message="AccessDeniedException"),
    Case("MPG-001", "error", "policy not JSON", lambda: group("{not json"),
         message="not valid JSON"),
    # MPG-002: accounts outside trusted_accounts (the owner is trusted)
    Case("MPG-002", "fail", "another account's root",
         lambda: group(policy(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}))), message=OTHER),
    Case("MPG-002", "fail", "bare account id and a role",
         lambda: group(policy(allow({"AWS": [OTHER, "arn:aws:iam::333333333333:role/ci"]}))),
         message=f"{OTHER}, 333333333333"),
    Case("MPG-002", "pass", "trusted account",
         lambda: group(policy(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}))),
         params={"trusted_accounts": [OTHER]}),
    Case("MPG-002", "pass", "owner only",
         lambda: group(policy(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/deploy"})))),
    Case("MPG-002", "pass", "no policy", lambda: group(None)),
    Case("MPG-002", "error", "policy not read",
         lambda: group(status="unknown", error="ThrottlingException: rate exceeded"),
         message="ThrottlingException"),
    Case("MPG-002", "error", "policy not a JSON object", lambda: group('["a", "list"]')),
]  # fmt: skip


def _one_complete_scan(conn) -> None:
    """Scan 1, complete in ACCOUNT's REGION: what rows stored directly are judged as of."""
    from sqlalchemy import insert

    from scanner.store.schema import Scan, ScanRegion

    conn.execute(insert(Scan), {"started_at": NOW, "status": "complete", "mpscan_version": "t"})
    conn.execute(
        insert(ScanRegion),
        {"scan_id": 1, "account_id": ACCOUNT, "region": REGION, "status": "complete",
         "started_at": NOW},
    )  # fmt: skip


def judge(case: Case):
    rule = REGISTRY[case.rule_id]
    return rule.check(case.row(), {**rule.params, **case.params, "now": NOW})


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    result = judge(case)
    status = "pass" if result is None else result.status
    assert status == case.expect, result
    if case.message:
        assert case.message in result.message


def test_a_naive_creation_time_is_utc():
    """SQLite hands timestamps back without a zone: MP-007 reads them as UTC."""
    row = package(setter(ModelApprovalStatus=PENDING, CreationTime="2026-10-29T11:00:00+00:00"))
    row["creation_time"] = row["creation_time"].replace(tzinfo=None)
    check = REGISTRY["MP-007"].check
    assert check(row, {"max_pending_days": 30, "now": NOW}) is not None  # 31 days
    assert check(row, {"max_pending_days": 31, "now": NOW}) is None


@pytest.mark.parametrize(
    "value",
    [
        {"Key": "owner", "Value": "\x00\x1b\r\u2028 ünï \U0001f600"},  # what AWS patterns admit
        ["\ud800 a lone surrogate"],  # orjson refuses it: the standard library reads it
        {"nan": float("nan"), "inf": float("inf")},  # the same
        {"long": 2**63 - 1, "negative": -(2**63), "float": 0.1, "deep": [[[{"a": None}]]]},
    ],
)
def test_the_judge_reads_stored_json_as_the_standard_library_does(value):
    """The judge parses JSON columns with orjson; what SQLAlchemy stored (json.dumps) reads
    back as json.loads reads it, whatever orjson refuses. (Integers beyond 64 bits, which no
    botocore member has, read as floats: orjson's one difference that is not an error.)"""
    from scanner.rules.reading import _parse_json

    text = json.dumps(value)
    assert repr(_parse_json(text)) == repr(json.loads(text))


def test_every_rule_has_metadata_docs_and_passing_and_failing_cases():
    """The registry walk: nothing is registered without all of this."""
    docs = (ROOT / "docs" / "rules.md").read_text()
    for rule in REGISTRY.values():
        assert rule.validate() is rule
        assert rule.check is not None and rule.sql is None and rule.source == "built-in"
        assert f"\n## {rule.id}: {rule.title}\n" in docs, f"{rule.id} is not in docs/rules.md"
        assert rule.remediation_cli in docs
        table = Base.metadata.tables[kinds.BY_NAME[rule.resource_type].table]
        derived = {name for k in kinds.KINDS for name, _, _ in k.derived}
        for column in rule.reads:
            assert column in table.c or column in derived, (rule.id, column)
        for resource_type, column in rule.joins:
            joined = Base.metadata.tables[kinds.BY_NAME[resource_type].table]
            assert column in joined.c, (rule.id, resource_type, column)
    with_case = {
        expect: {c.rule_id for c in CASES if c.expect == expect} for expect in ("pass", "fail")
    }
    assert with_case["pass"] == set(REGISTRY), "rules without a passing case"
    assert with_case["fail"] == set(REGISTRY), "rules without a failing case"


def test_rules_docs_are_current():
    from scanner.rules.docs import render

    current = (ROOT / "docs" / "rules.md").read_text()
    assert current == render(), "run: python -m scanner.rules.docs > docs/rules.md"


def test_readme_links_the_rules_docs():
    assert "(docs/rules.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"id": "mp-1"}, "must look like MP-001"),
        ({"severity": "urgent"}, "severity must be one of"),
        ({"resource_type": "notebook_instance"}, "resource_type must be one of"),
        ({"title": " "}, "title is empty"),
        ({"rationale": ""}, "rationale is empty"),
        ({"remediation": ""}, "remediation is empty"),
        ({"remediation_cli": "click the console"}, "AWS CLI command"),
        ({"reads": ()}, "reads must name the columns"),
        ({"sql": "SELECT 1"}, "not both or neither"),
        ({"bounds": {"versions": (1, 100)}}, "versions must have an int default in its bounds"),
        ({"references": ("http://example.com/check",)}, "references must be https URLs"),
        ({"joins": (("notebook", "x"),)}, "joins name unknown resource types: notebook"),
    ],
)
def test_incomplete_metadata_is_refused(change, problem):
    good = REGISTRY["MP-001"]
    fields = {k: getattr(good, k) for k in Rule.__dataclass_fields__} | change
    with pytest.raises(RuleDefinitionError, match=problem):
        Rule(**fields).validate()


def test_a_rule_that_raises_on_odd_data_is_that_findings_error(tmp_path, monkeypatch):
    """Data no rule foresaw (here a tag without its Key, as a hand-edited row could hold)
    makes that rule's finding an error; the other rules and resources are still judged."""
    from sqlalchemy import insert

    from scanner.config import Settings
    from scanner.store.db import ensure_schema, make_engine
    from scanner.store.schema import Finding

    engine = make_engine(f"sqlite:///{tmp_path / 'odd.db'}")
    ensure_schema(engine)
    odd, fine = package(tags=OWNER_TAG), package(without("SecurityConfig"))
    fine["model_package_arn"] = fine["model_package_arn"].replace("/7", "/8")
    odd["tags"] = "not a list of tags"
    with engine.begin() as conn:
        _one_complete_scan(conn)
        for row in (odd, fine):
            row.update(first_seen_at=NOW, last_seen_at=NOW, first_seen_scan_id=1,
                       last_seen_scan_id=1)  # fmt: skip
            conn.execute(insert(ModelPackage), row)  # their columns differ
    evaluation = judge_and_persist(engine, catalog.load(Settings()), now=NOW)
    with engine.connect() as conn:
        found = {
            (f.rule_id, f.resource_arn.rsplit("/", 1)[1]): (f.status, f.message)
            for f in conn.execute(select(Finding))
        }
    engine.dispose()
    assert evaluation.resources == 2
    status, message = found[("MP-006", "7")]
    assert status == "error" and message.startswith("the rule could not judge this resource")
    assert found[("MP-001", "8")] == ("fail", "SecurityConfig has no KmsKeyId")


def test_the_judge_reads_every_case_as_it_was_built(db_url, monkeypatch):
    """What the judge reads back from the store (the columns the rules read, JSON parsed)
    judges every case exactly as the case's own row does, on SQLite and PostgreSQL (read
    from the driver's own cursor, and from SQLAlchemy's rows, the fallback): the rows
    above are the judge's rows."""
    from sqlalchemy import insert

    from scanner.config import Settings
    from scanner.rules import reading
    from scanner.store.db import ensure_schema, make_engine
    from scanner.store.scope import Scope

    engine = make_engine(db_url)
    ensure_schema(engine)
    built, members = {}, set()
    seen = {"first_seen_at": NOW, "last_seen_at": NOW, "first_seen_scan_id": 1,
            "last_seen_scan_id": 1}  # fmt: skip
    with engine.begin() as conn:
        _one_complete_scan(conn)
        for i, case in enumerate(CASES):
            row = case.row()
            context = {k: row.pop(k) for k in (SERVED, DOCUMENTING) if k in row}
            kind = kinds.BY_NAME[REGISTRY[case.rule_id].resource_type]
            row[kind.key] = f"{row[kind.key]}-case-{i}"
            stored = {k: v for k, v in row.items() if k != "latest_versions"} | seen
            if "latest_versions" in row:  # the group's versions, stored as packages
                stored["model_package_group_name"] = name = f"churn-case-{i}"
                for version, status in row["latest_versions"]:
                    member = package(setter(ModelPackageGroupName=name, ModelPackageVersion=version,
                                            ModelApprovalStatus=status))  # fmt: skip
                    member["model_package_arn"] += f"-case-{i}-{version}"
                    conn.execute(insert(ModelPackage), member | seen)
                    members.add(member["model_package_arn"])
            conn.execute(insert(Base.metadata.tables[kind.table]), stored)
            built[row[kind.key]] = (case, {**row, **context})
    rules = catalog.load(Settings())
    dialect = engine.dialect.name
    # With MP-012 in force, the metrics and baselines are read whole; without it (its
    # buckets unset), only whether they are there (Rule.present): the judge's two ways.
    for stream, whole in [(True, True), (False, True), (True, False), (False, False)]:
        monkeypatch.setattr(reading, "_driver_cursor", lambda stream=stream: stream)
        read = {}
        with engine.connect() as conn:
            for kind in kinds.KINDS:
                active = [
                    r
                    for r in rules.enabled(kind.name)
                    if r.rule.check is not None and (whole or r.id != "MP-012")
                ]
                for r in reading.resources(conn, kind.name, active, Scope.stored()):
                    read[r[kind.key]] = r
        assert read.keys() == built.keys() | members
        if not whole:  # packages' truths, not their documents
            got = {r.get("validation_specification") for r in read.values() if "kms_key_id" in r}
            assert got == {True, False}
        for arn, (case, row) in built.items():
            if not whole and case.rule_id == "MP-012":
                continue
            rule = REGISTRY[case.rule_id]
            params = {**rule.params, **case.params, "now": NOW}
            context = {k: row[k] for k in (SERVED, DOCUMENTING) if k in row}
            got, want = rule.check({**read[arn], **context}, params), rule.check(row, params)
            if dialect == "postgresql" and case.rule_id == "MP-012" and got and want:
                # The metrics' sources in JSONB's key order (shorter keys first), not AWS's.
                assert got.status == want.status, case
                assert sorted(got.message.split("; ")) == sorted(want.message.split("; ")), case
                continue
            assert got == want, (case, stream)
    engine.dispose()


@pytest.mark.parametrize("plain", [False, True], ids=["jsonb", "json"])
@pytest.mark.parametrize(
    "value",
    [None, "json null", {}, [], "", 0, 0.0, False, True, {"A": 1}, {"": None}, [0], "x", 1, -0.5]
    + [float("nan"), {"a": float("-inf")}],
    ids=repr,
)
def test_what_the_database_says_a_json_column_holds_is_pythons_truth(db_url, value, plain):
    """A rule that only asks whether a column holds something (Rule.present) gets the
    database's answer instead of the document: the same truth Python gives the value the
    judge would have parsed, SQL NULL and JSON null both false; on PostgreSQL for `jsonb`
    columns and `json` ones (container_images), on SQLite whatever the text (NaN, which
    Python writes and SQLite's JSON functions refuse, is true as in Python)."""
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

    from scanner.store.db import make_engine
    from scanner.store.json_sql import holds
    from scanner.store.schema import Json

    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        if db_url.startswith("postgresql"):
            pytest.skip("PostgreSQL's json types refuse NaN and Infinity: nothing to read")
    column = Column("v", JSON(none_as_null=True) if plain else Json)
    table = Table("truths", MetaData(), Column("id", Integer, primary_key=True), column)
    engine = make_engine(db_url)
    try:
        table.create(engine)
        stored = JSON.NULL if value == "json null" else value  # 'null', not SQL NULL
        with engine.begin() as conn:
            conn.execute(insert(table), {"id": 1, "v": stored})
            answer = conn.execute(select(holds(table.c.v))).scalar_one()
        assert answer is bool(None if value == "json null" else value)
    finally:
        table.drop(engine)
        engine.dispose()
