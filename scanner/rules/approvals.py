"""Built-in rules on how versions get approved: a version approved as it was registered
(MP-014), and a group whose latest versions are all approved (MPG-003).

Both read what SageMaker records and nothing more: a package's CreationTime and CreatedBy,
its LastModifiedTime and LastModifiedBy (the last change of any kind, which an approval
status change is one of), and the approval statuses of a group's versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from scanner.rules.base import GROUP, PACKAGE, fail, rule
from scanner.rules.derived import LATEST

APPROVED = "Approved"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite: naive UTC


def _identities(user: Any) -> dict[str, Any]:
    """What names the person or role in a UserContext: its user profile (domain, name) and
    its IAM identity (ARN, else principal id)."""
    if not isinstance(user, dict):
        return {}
    found: dict[str, Any] = {}
    arn = user.get("UserProfileArn") or ""
    if ":user-profile/" in arn:
        domain, _, name = arn.split(":user-profile/", 1)[1].partition("/")
        found["user profile"] = (domain or None, name)
    elif user.get("UserProfileName"):
        found["user profile"] = (user.get("DomainId"), user["UserProfileName"])
    iam = user.get("IamIdentity") or {}
    if iam.get("Arn") or iam.get("PrincipalId"):
        found["IAM identity"] = iam.get("Arn") or iam.get("PrincipalId")
    return found


def _same(kind: str, created: Any, modified: Any) -> bool:
    if kind == "user profile":  # a domain not recorded on one side matches any
        (domain_a, name_a), (domain_b, name_b) = created, modified
        return name_a == name_b and (domain_a is None or domain_b is None or domain_a == domain_b)
    return created == modified


def _named(kind: str, identity: Any) -> str:
    if kind == "user profile":
        domain, name = identity
        return f"{domain}/{name}" if domain else name
    return str(identity)


@rule(
    id="MP-014",
    title="Version registered already Approved",
    severity="medium",
    resource_type=PACKAGE,
    rationale="An approval is a second person's decision recorded after registration. A version "
    "whose approval status never changed after it was created (no LastModifiedTime, or one no "
    "later than its CreationTime) was registered as Approved, by whoever registered it; one last "
    "modified by the identity that created it (the same user profile or IAM identity in "
    "LastModifiedBy and CreatedBy) was approved by its author, as far as SageMaker records "
    "(LastModifiedBy names the last change of any kind). The message says which evidence it "
    "used. Only versioned packages that are Approved are "
    "judged; where neither identity is recorded, there is no evidence and the rule passes.",
    remediation="Register versions as PendingManualApproval, and have a reviewer other than "
    "their author approve them (UpdateModelPackage) with an approval description.",
    remediation_cli="aws sagemaker update-model-package --model-package-arn <arn> "
    "--model-approval-status PendingManualApproval",
    controls=(
        ("iso-42001", "A.6.2.5"),
        ("soc2", "CC8.1"),
        # "clear segregation of duties", "security reviews before deployment to production"
        ("aws-ml-lens", "MLSEC03-BP01"),
    ),
    reads=(
        "model_package_type",
        "model_approval_status",
        "creation_time",
        "created_by",
        "last_modified_time",
        "last_modified_by",
    ),
)
def approved_at_registration(p, _):
    if p.get("model_package_type") != "Versioned" or p.get("model_approval_status") != APPROVED:
        return None  # not applicable
    created, modified = p.get("creation_time"), p.get("last_modified_time")
    if modified is None and not p.get("last_modified_by"):
        return fail(
            "registered as Approved: no change was recorded after its creation "
            "(no LastModifiedTime or LastModifiedBy)"
        )
    if modified is not None and created is not None and _utc(modified) <= _utc(created):
        return fail(
            f"registered as Approved: LastModifiedTime {_utc(modified).isoformat()} is not "
            f"after CreationTime {_utc(created).isoformat()}"
        )
    creator, modifier = _identities(p.get("created_by")), _identities(p.get("last_modified_by"))
    for kind in ("user profile", "IAM identity"):
        if kind in creator and kind in modifier and _same(kind, creator[kind], modifier[kind]):
            return fail(
                f"approved by its author: LastModifiedBy's {kind} "
                f"{_named(kind, modifier[kind])} is CreatedBy's"
            )
    return None


@rule(
    id="MPG-003",
    title="Every recent version of the group was approved",
    severity="low",
    resource_type=GROUP,
    rationale="When each of a group's latest versions is Approved, none of them Rejected or "
    "PendingManualApproval, approval is likely automatic (a pipeline registering versions as "
    "Approved) rather than a review: the heuristic of check SM-22 (Model Approval Workflow, "
    "'Auto-Approval Suspected') of the AWS sample AI/ML security assessment, which looks at "
    "every version of a group with more than 3. This rule looks at the latest `versions` (by "
    "ModelPackageVersion) and judges only groups that have that many; the message says how "
    "many it looked at.",
    remediation="Register new versions as PendingManualApproval and approve them after review; "
    "reject the versions that fail it.",
    remediation_cli="aws sagemaker list-model-packages --model-package-group-name <group> "
    "--sort-by CreationTime --sort-order Descending "
    "--query 'ModelPackageSummaryList[].[ModelPackageVersion,ModelApprovalStatus]'",
    controls=(
        ("soc2", "CC8.1"),
        # its step 5: "approval gates", which steps "require human intervention"
        ("aws-ml-lens", "MLOPS04-BP01"),
    ),
    references=(
        "https://github.com/aws-samples/sample-aiml-security-assessment/blob/main/docs/"
        "SECURITY_CHECKS.md#sm-22-model-approval-workflow",
        "https://github.com/aws-samples/sample-aiml-security-assessment/blob/"
        "0a5ed702282469e4b381441b3b59b6a26bdedb88/aiml-security-assessment/functions/security/"
        "sagemaker_assessments/app.py#L3012",
    ),
    reads=("latest_versions",),
    params={"versions": 5},
    bounds={"versions": (1, LATEST)},
)
def all_recent_versions_approved(g: Mapping[str, Any], params):
    wanted = params["versions"]
    latest = (g.get("latest_versions") or [])[:wanted]
    if len(latest) < wanted:
        return None  # too few versions to tell a habit
    if all(status == APPROVED for _, status in latest):
        newest, oldest = latest[0][0], latest[-1][0]
        return fail(
            f"the latest {wanted} versions (versions {oldest} to {newest}) are all Approved, "
            "none Rejected or PendingManualApproval"
        )
    return None
