"""Built-in rules on model cards (MC-0xx), judged on the package they document: its own
ModelCard and the standalone cards for it, its group or a model built from it
(scanner.store.read.deployed)."""

from __future__ import annotations

from scanner.rules.base import PACKAGE, fail, rule
from scanner.store.read.deployed import DOCUMENTING

APPROVED = "Approved"
# The standalone cards documenting a package: their status, what they document
CARDS = (
    ("model_card", "model_card_status"),
    ("model_card", "content"),
    ("model", "primary_container"),
    ("model", "containers"),
)


@rule(
    id="MC-001",
    title="Approved model package documented only by an unapproved model card",
    severity="medium",
    resource_type=PACKAGE,
    rationale="A model card in Draft or PendingReview has not been reviewed: the package "
    "went through approval while what documents it did not.",
    remediation="Review the model card and set its status to Approved (or archive it and "
    "approve one that is current).",
    remediation_cli="aws sagemaker update-model-card --model-card-name <card> "
    "--model-card-status Approved",
    controls=(("iso-42001", "A.6.2.7"), ("eu-ai-act", "Art. 11")),
    reads=("model_approval_status", "model_card", "model_package_group_name"),
    joins=CARDS,
)
def documented_by_unapproved_card(p, _):
    if p.get("model_approval_status") != APPROVED:
        return None
    statuses = [("the package's ModelCard", (p.get("model_card") or {}).get("ModelCardStatus"))]
    statuses = [s for s in statuses if p.get("model_card")]
    statuses += [(arn.rsplit("/", 1)[-1], status) for arn, status in p.get(DOCUMENTING) or []]
    if statuses and all(status != APPROVED for _, status in statuses):
        return fail(
            "documented only by model cards that are not Approved: "
            + ", ".join(f"{name} ({status})" for name, status in statuses)
        )
    return None
