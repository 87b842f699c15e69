"""Built-in rules on model packages (MP-0xx). Each check reads only the columns it names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from scanner.rules.base import PACKAGE, error, fail, rule
from scanner.store.read.deployed import DOCUMENTING

APPROVED = "Approved"


def _approved(p: Mapping[str, Any]) -> bool:
    return p.get("model_approval_status") == APPROVED


def _specifications(p: Mapping[str, Any]) -> list[tuple[dict[str, Any] | None, list]]:
    """(additional specification or None, its containers) for the InferenceSpecification
    and each additional one; `_where` names a container's place in them."""
    found: list[tuple[dict[str, Any] | None, list]] = [
        (None, (p.get("inference_specification") or {}).get("Containers") or [])
    ]
    for spec in p.get("additional_inference_specifications") or []:
        found.append((spec, spec.get("Containers") or []))
    return found


def _where(spec: Mapping[str, Any] | None, i: int) -> str:
    if spec is None:
        return f"InferenceSpecification container {i}"
    return f"AdditionalInferenceSpecifications {spec.get('Name')!r} container {i}"


def _place(image: Mapping[str, Any]) -> str:
    """`_where`, for a container of `container_images` (scanner.transform)."""
    if image.get("specification") == "InferenceSpecification":
        return f"InferenceSpecification container {image.get('container_index')}"
    name, i = image.get("specification_name"), image.get("container_index")
    return f"AdditionalInferenceSpecifications {name!r} container {i}"


def _containers(p: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, container) for every container of every inference specification."""
    for spec, containers in _specifications(p):
        for i, c in enumerate(containers):
            yield _where(spec, i), c


@rule(
    id="MP-001",
    title="Model package has no KMS key",
    severity="high",
    resource_type=PACKAGE,
    rationale="Without a customer managed KMS key in SecurityConfig, the package's artifacts "
    "are encrypted with an AWS owned key: you cannot audit, restrict or revoke their use.",
    remediation="Register a new version with SecurityConfig.KmsKeyId set to a customer managed "
    "key (the key of a package cannot be changed after it is created).",
    remediation_cli="aws sagemaker create-model-package --model-package-group-name <group> "
    "--security-config KmsKeyId=<kms-key-arn> ...",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.7"),
        ("eu-ai-act", "Art. 15"),
        ("soc2", "CC6.1"),
        # its step "Secure ML model artifacts": encrypt them with SageMaker's features
        ("aws-ml-lens", "MLSEC02-BP01"),
    ),
    reads=("kms_key_id",),
)
def no_kms_key(p, _):
    if not p.get("kms_key_id"):
        return fail("SecurityConfig has no KmsKeyId")
    return None


@rule(
    id="MP-002",
    title="Approved model package has no model card",
    severity="medium",
    resource_type=PACKAGE,
    rationale="An approved model without a model card has no documented intended use, risk "
    "rating or evaluation for reviewers and auditors. A standalone model card counts when it "
    "documents the package, its group or a model built from it.",
    remediation="Attach a model card to the package version (or create a model card for its "
    "group).",
    remediation_cli="aws sagemaker update-model-package --model-package-arn <arn> "
    "--model-card ModelCardContent=<json>,ModelCardStatus=Draft",
    controls=(
        ("iso-42001", "A.6.2.7"),
        ("eu-ai-act", "Art. 11"),
        ("aws-ml-lens", "MLOPS04-BP01"),  # its step 8: SageMaker Model Cards document models
    ),
    reads=("model_approval_status", "model_card", "model_package_group_name"),
    present=("model_card",),
    joins=(("model_card", "content"), ("model", "primary_container"), ("model", "containers")),
)
def approved_without_model_card(p, _):
    if _approved(p) and not p.get("model_card") and not p.get(DOCUMENTING):
        return fail("Approved, but the package has no ModelCard and no model card documents it")
    return None


@rule(
    id="MP-003",
    title="Approved model package has no model metrics",
    severity="medium",
    resource_type=PACKAGE,
    rationale="Approval should rest on recorded evidence: quality, bias or explainability "
    "metrics that a reviewer can inspect later.",
    remediation="Register the package with ModelMetrics (for example from a SageMaker Clarify "
    "or Model Monitor job) before approving it.",
    remediation_cli="aws sagemaker create-model-package --model-package-group-name <group> "
    "--model-metrics file://metrics.json ...",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.1"),
        ("iso-42001", "A.6.2.4"),
        ("eu-ai-act", "Art. 11"),
    ),
    reads=("model_approval_status", "model_metrics"),
    present=("model_metrics",),
)
def approved_without_metrics(p, _):
    if _approved(p) and not p.get("model_metrics"):
        return fail("Approved, but the package has no ModelMetrics")
    return None


@rule(
    id="MP-004",
    title="Container image not pinned by digest",
    severity="medium",
    resource_type=PACKAGE,
    rationale="An image referenced by tag (':latest', ':1.0') can be replaced in the registry "
    "after approval, so what runs is not what was reviewed. The ImageDigest SageMaker records "
    "beside a tag does not pin it: AWS documents it only as identifying the image, while the "
    "Image path (registry/repository[:tag] or [@digest]) is what a model is created from. "
    "The message says whether a digest was recorded, and if so the reference that pins it.",
    remediation="Reference every image by digest (repository@sha256:...); where SageMaker "
    "recorded an ImageDigest, that digest is the image that was registered.",
    remediation_cli="aws ecr describe-images --repository-name <repo> --image-ids imageTag=<tag> "
    "--query 'imageDetails[0].imageDigest'",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.7"),
        ("eu-ai-act", "Art. 15"),
    ),
    reads=("container_images",),
)
def image_not_pinned(p, _):
    loose = [
        f"{_place(c)}: {image} ({_unpinned(image, c.get('image_digest'))})"
        for c in p.get("container_images") or []
        if (image := c.get("image")) and "@sha256:" not in image.lower()
    ]  # a pinned container's place is never formatted
    if loose:
        return fail("image not pinned by digest: " + "; ".join(loose))
    return None


def _unpinned(image: str, digest: str | None) -> str:
    """Which case an image by tag is: with SageMaker's recorded digest (and the reference
    that would pin it), or with none."""
    if not digest:
        return "tag, no ImageDigest recorded"
    path, slash, last = image.rpartition("/")
    repository = path + slash + last.split(":", 1)[0]  # a registry's :port stays
    return f"tag with recorded ImageDigest {digest}, not pinned: use {repository}@{digest}"


@rule(
    id="MP-005",
    title="Model package, validation or image scan failed",
    severity="medium",
    resource_type=PACKAGE,
    rationale="A failed package, validation or image scan means the model did not pass the "
    "checks it was registered with.",
    remediation="Read the failure reason, fix the model or its container, and register a new "
    "version.",
    remediation_cli="aws sagemaker describe-model-package --model-package-name <arn> "
    "--query ModelPackageStatusDetails",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.1"),
        ("iso-42001", "A.6.2.4"),
    ),
    reads=("model_package_status", "model_package_status_details"),
)
def failed_status(p, _):
    reasons = []
    if p.get("model_package_status") == "Failed":
        reasons.append("ModelPackageStatus is Failed")
    details = p.get("model_package_status_details") or {}
    for kind in ("ValidationStatuses", "ImageScanStatuses"):
        for item in details.get(kind) or []:
            if item.get("Status") == "Failed":
                why = item.get("FailureReason") or "no reason given"
                reasons.append(f"{kind} {item.get('Name')!r} Failed: {why}")
    return fail("; ".join(reasons)) if reasons else None


@rule(
    id="MP-006",
    title="Required tag missing",
    severity="low",
    resource_type=PACKAGE,
    rationale="Ownership and cost tags are how a finding reaches the team that can fix it.",
    remediation="Add the missing tags to the model package.",
    remediation_cli="aws sagemaker add-tags --resource-arn <arn> --tags Key=owner,Value=<team>",
    controls=(("nist-ai-rmf", "GOVERN 1.6"),),
    reads=("tags",),
    params={"required_tags": ["owner"]},
)
def required_tags(p, params):
    tags = p.get("tags")
    if tags is None:
        return error("the package's tags are unknown (ListTags was not read)")
    present = {t.get("Key") for t in tags}
    missing = [k for k in params["required_tags"] if k not in present]
    return fail("missing tags: " + ", ".join(missing)) if missing else None


@rule(
    id="MP-007",
    title="Approval pending for too long",
    severity="low",
    resource_type=PACKAGE,
    rationale="Packages left in PendingManualApproval pile up unreviewed; either review them "
    "or reject them.",
    remediation="Approve or reject the package version.",
    remediation_cli="aws sagemaker update-model-package --model-package-arn <arn> "
    "--model-approval-status Rejected --approval-description '<why>'",
    controls=(
        ("iso-42001", "A.6.2.5"),
        ("soc2", "CC8.1"),
    ),
    reads=("model_approval_status", "creation_time"),
    params={"max_pending_days": 30},
)
def pending_too_long(p, params):
    if p.get("model_approval_status") != "PendingManualApproval":
        return None
    created = p.get("creation_time")
    if created is None:
        return error("PendingManualApproval, but the creation time is unknown")
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=UTC)
    days = (params.get("now") or datetime.now(UTC)) - created
    if days.days > params["max_pending_days"]:
        return fail(
            f"PendingManualApproval for {days.days} days "
            f"(limit {params['max_pending_days']}) since {created.date().isoformat()}"
        )
    return None


@rule(
    id="MP-008",
    title="Model package certified for AWS Marketplace",
    severity="medium",
    resource_type=PACKAGE,
    rationale="CertifyForMarketplace lists the model for sale to other AWS customers; an "
    "internal model should never carry it.",
    remediation="Register internal models without CertifyForMarketplace.",
    remediation_cli="aws sagemaker create-model-package --model-package-group-name <group> "
    "--no-certify-for-marketplace ...",
    reads=("certify_for_marketplace",),
)
def marketplace(p, _):
    if p.get("certify_for_marketplace"):
        return fail("CertifyForMarketplace is true")
    return None


@rule(
    id="MP-009",
    title="Approved model package skipped validation",
    severity="low",
    resource_type=PACKAGE,
    rationale="Validation runs a transform job on the package before it is trusted; an approved "
    "package that skipped it was never exercised by SageMaker.",
    remediation="Register the package with a ValidationSpecification and without "
    "SkipModelValidation=All.",
    remediation_cli="aws sagemaker create-model-package --model-package-group-name <group> "
    "--validation-specification file://validation.json ...",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.1"),
        ("iso-42001", "A.6.2.4"),
        ("eu-ai-act", "Art. 17"),
        ("soc2", "CC8.1"),
    ),
    reads=("model_approval_status", "validation_specification", "skip_model_validation"),
    present=("validation_specification",),
)
def skipped_validation(p, _):
    if not _approved(p):
        return None
    if p.get("skip_model_validation") == "All":
        return fail("Approved with SkipModelValidation = All")
    if not p.get("validation_specification"):
        return fail("Approved without a ValidationSpecification")
    return None


@rule(
    id="MP-010",
    title="Approved model package has no approval description",
    severity="low",
    resource_type=PACKAGE,
    rationale="The approval description records who approved the model and why: the audit "
    "trail of the approval.",
    remediation="Set an approval description naming the approver and the evidence.",
    remediation_cli="aws sagemaker update-model-package --model-package-arn <arn> "
    "--model-approval-status Approved --approval-description '<who and why>'",
    controls=(
        ("iso-42001", "A.6.2.5"),
        ("eu-ai-act", "Art. 17"),
        ("soc2", "CC8.1"),
    ),
    reads=("model_approval_status", "approval_description"),
)
def approved_without_description(p, _):
    if _approved(p) and not (p.get("approval_description") or "").strip():
        return fail("Approved without an ApprovalDescription")
    return None


@rule(
    id="MP-011",
    title="Model package has no lineage",
    severity="info",
    resource_type=PACKAGE,
    rationale="Without the commit and repository that built it, a model cannot be rebuilt or "
    "traced back to its code.",
    remediation="Register packages with MetadataProperties CommitId and Repository (SageMaker "
    "Pipelines can fill them).",
    remediation_cli="aws sagemaker create-model-package --model-package-group-name <group> "
    "--metadata-properties CommitId=<sha>,Repository=<url> ...",
    controls=(
        ("nist-ai-rmf", "GOVERN 1.6"),
        ("iso-42001", "A.7.5"),
        ("aws-ml-lens", "MLSEC03-BP04"),  # its step 5: track code changes in version control
    ),
    reads=("metadata_properties",),
)
def no_lineage(p, _):
    meta = p.get("metadata_properties") or {}
    missing = [k for k in ("CommitId", "Repository") if not meta.get(k)]
    return fail("MetadataProperties lacks " + " and ".join(missing)) if missing else None


def _s3_uris(p: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for where, c in _containers(p):
        if c.get("ModelDataUrl"):
            yield where, c["ModelDataUrl"]
        source = (c.get("ModelDataSource") or {}).get("S3DataSource") or {}
        if source.get("S3Uri"):
            yield where, source["S3Uri"]
        for extra in c.get("AdditionalModelDataSources") or []:
            uri = (extra.get("S3DataSource") or {}).get("S3Uri")
            if uri:
                yield f"{where} {extra.get('ChannelName')!r}", uri
    for section in ("model_metrics", "drift_check_baselines"):
        for category, entries in (p.get(section) or {}).items():
            for name, source in (entries or {}).items():
                if isinstance(source, dict) and source.get("S3Uri"):
                    yield f"{category}.{name}", source["S3Uri"]


@rule(
    id="MP-012",
    title="Model artifact or metrics outside the allowed buckets",
    severity="medium",
    resource_type=PACKAGE,
    rationale="Artifacts in buckets outside the governed set escape their retention, "
    "encryption and access policies. Not applicable until allowed_buckets is set.",
    remediation="Copy the artifacts into an allowed bucket and register a new version that "
    "points there.",
    remediation_cli="aws s3 cp s3://<bucket>/<key> s3://<allowed-bucket>/<key>",
    reads=(
        "inference_specification",
        "additional_inference_specifications",
        "model_metrics",
        "drift_check_baselines",
    ),
    params={"allowed_buckets": []},
    requires=("allowed_buckets",),
)
def outside_allowed_buckets(p, params):
    allowed = set(params["allowed_buckets"])
    if not allowed:
        return None  # not applicable
    outside = [
        f"{where}: {uri}"
        for where, uri in _s3_uris(p)
        if urlparse(uri).scheme == "s3" and urlparse(uri).netloc not in allowed
    ]
    return fail("outside allowed buckets: " + "; ".join(outside)) if outside else None


@rule(
    id="MP-013",
    title="Approved model package has no drift check baselines",
    severity="low",
    resource_type=PACKAGE,
    rationale="Without drift check baselines, Model Monitor has nothing to compare production "
    "traffic with once the model is deployed.",
    remediation="Register the package with DriftCheckBaselines (from a QualityCheck or "
    "ClarifyCheck step).",
    remediation_cli="aws sagemaker create-model-package --model-package-group-name <group> "
    "--drift-check-baselines file://baselines.json ...",
    controls=(
        ("nist-ai-rmf", "MANAGE 4.1"),
        ("iso-42001", "A.6.2.6"),
        ("eu-ai-act", "Art. 72"),
        ("aws-ml-lens", "MLOPS04-BP01"),  # its step 6: Model Monitor's drift monitoring
    ),
    reads=("model_approval_status", "drift_check_baselines"),
    present=("drift_check_baselines",),
)
def approved_without_baselines(p, _):
    if _approved(p) and not p.get("drift_check_baselines"):
        return fail("Approved, but the package has no DriftCheckBaselines")
    return None
