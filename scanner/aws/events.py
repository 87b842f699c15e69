"""get: what an SQS message from EventBridge says changed in the registry. No calls here.

Two kinds of events name a resource mpscan refreshes (docs/operations.md, "Live refresh"):

- `SageMaker Model Package State Change` (source `aws.sagemaker`): the package in
  `detail.ModelPackageArn`, with its `LastModifiedTime`;
- `SageMaker Endpoint State Change`: the endpoint in `detail.EndpointName`, once its status
  has moved (a deployment's calls find it Creating, Updating or Deleting);
- `AWS API Call via CloudTrail` from `sagemaker.amazonaws.com`, for the changes that send
  no state event: tags, group policies, deletions, new groups, package updates, the
  endpoints' deployments (created, updated, re-weighted, deleted) and model cards.

`parse` turns a message body into the `Change` to refresh, or raises `NotApplicable` with
one line saying why the message is not for mpscan (another source, malformed JSON, a call
that failed, a resource outside the registry). EventBridge delivers the event itself as the
body; an SNS topic in between wraps it in a notification, which is unwrapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scanner.kinds import ENDPOINT, MODEL_CARD, MODEL_PACKAGE, MODEL_PACKAGE_GROUP

STATE_CHANGE = "SageMaker Model Package State Change"
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
API_CALL = "AWS API Call via CloudTrail"
SAGEMAKER_SOURCE = "aws.sagemaker"
CLOUDTRAIL_SOURCE = "sagemaker.amazonaws.com"

# CloudTrail's eventName -> (kind, where requestParameters (or responseElements) names it)
API_CALLS: dict[str, tuple[str, str]] = {
    "AddTags": ("", "resourceArn"),  # "": the kind comes from the ARN
    "DeleteTags": ("", "resourceArn"),
    "PutModelPackageGroupPolicy": (MODEL_PACKAGE_GROUP.name, "modelPackageGroupName"),
    "DeleteModelPackageGroupPolicy": (MODEL_PACKAGE_GROUP.name, "modelPackageGroupName"),
    "DeleteModelPackageGroup": (MODEL_PACKAGE_GROUP.name, "modelPackageGroupName"),
    "CreateModelPackageGroup": (MODEL_PACKAGE_GROUP.name, "modelPackageGroupName"),
    "DeleteModelPackage": (MODEL_PACKAGE.name, "modelPackageName"),
    "UpdateModelPackage": (MODEL_PACKAGE.name, "modelPackageArn"),
    # What is in production: an endpoint, read with its configuration and models
    "CreateEndpoint": (ENDPOINT.name, "endpointName"),
    "UpdateEndpoint": (ENDPOINT.name, "endpointName"),
    "UpdateEndpointWeightsAndCapacities": (ENDPOINT.name, "endpointName"),
    "DeleteEndpoint": (ENDPOINT.name, "endpointName"),
    # Model cards, which document packages (MP-002, MC-001)
    "CreateModelCard": (MODEL_CARD.name, "modelCardName"),
    "UpdateModelCard": (MODEL_CARD.name, "modelCardName"),
    "DeleteModelCard": (MODEL_CARD.name, "modelCardName"),
}
# The resource part of a registry ARN -> its kind (a group's before a package's: prefixes)
ARN_KINDS = (
    ("model-package-group/", MODEL_PACKAGE_GROUP.name),
    ("model-package/", MODEL_PACKAGE.name),
    ("endpoint/", ENDPOINT.name),
    ("model-card/", MODEL_CARD.name),
)


class NotApplicable(ValueError):
    """A message that names no registry change mpscan can refresh (the reason is the text)."""


@dataclass(frozen=True)
class Change:
    """One event: the resource to read again in its account and region."""

    event_id: str
    detail_type: str
    account_id: str
    region: str
    kind: str  # a kind's name: model_package, model_package_group, endpoint or model_card
    name: str  # what names it: an ARN, or its name (a group's, a package's, an endpoint's...)
    event_name: str | None = None  # CloudTrail's API call
    event_time: datetime | None = None
    modified: datetime | None = None  # the package's LastModifiedTime, as the event gives it

    @property
    def arn(self) -> str | None:
        """The resource's ARN when the event names it by one."""
        return self.name if self.name.startswith("arn:") else None


def parse(body: str) -> Change:
    """The change a message body names; NotApplicable when it names none."""
    try:
        event = json.loads(body)
    except (TypeError, ValueError):
        raise NotApplicable("not JSON") from None
    if isinstance(event, dict) and event.get("Type") == "Notification" and "Message" in event:
        return parse(event["Message"])  # EventBridge -> SNS -> SQS
    if not isinstance(event, dict):
        raise NotApplicable("not an EventBridge event (not a JSON object)")
    missing = [k for k in ("id", "detail-type", "source", "region") if k not in event]
    if missing or not isinstance(event.get("detail"), dict):
        raise NotApplicable(f"not an EventBridge event (no {', '.join(missing) or 'detail'})")
    detail_type, source = event["detail-type"], event["source"]
    if isinstance(source, list) and len(source) == 1:  # as in AWS's own example (a pattern's)
        source = source[0]
    if detail_type == STATE_CHANGE and source == SAGEMAKER_SOURCE:
        return _state_change(event)
    if detail_type == ENDPOINT_STATE_CHANGE and source == SAGEMAKER_SOURCE:
        return _endpoint_state_change(event)
    if detail_type == API_CALL and event["detail"].get("eventSource") == CLOUDTRAIL_SOURCE:
        return _api_call(event)
    raise NotApplicable(f"not a registry event ({source}: {detail_type})")


def _common(event: dict[str, Any], arn: str | None = None) -> dict[str, Any]:
    # The envelope names the account; so does the resource's ARN (moto's EventBridge leaves
    # `account` out of what it delivers).
    account = str(
        event.get("account") or (arn.split(":")[4] if arn and arn.count(":") >= 5 else "")
    )
    region = str(event["region"])
    if not (len(account) == 12 and account.isdigit()):
        raise NotApplicable(f"no account id in the event ({account!r})")
    return {
        "event_id": str(event["id"]),
        "detail_type": event["detail-type"],
        "account_id": account,
        "region": region,
        "event_time": timestamp(event.get("time")),
    }


def _state_change(event: dict[str, Any]) -> Change:
    detail = event["detail"]
    arn = detail.get("ModelPackageArn") or next(iter(event.get("resources") or []), None)
    if not isinstance(arn, str) or kind_of(arn) != MODEL_PACKAGE.name:
        raise NotApplicable("a package state change without a model package ARN")
    return Change(
        **_common(event, arn),
        kind=MODEL_PACKAGE.name,
        name=arn,
        modified=timestamp(detail.get("LastModifiedTime")),
    )


def _endpoint_state_change(event: dict[str, Any]) -> Change:
    """An endpoint's status moved (Creating, Updating, InService, Deleting, Failed...): the
    calls that start a deployment find it in transition, this event says it has settled.
    Always read (no `modified`): its LastModifiedTime need not move with its status."""
    detail = event["detail"]
    arn = detail.get("EndpointArn") or next(iter(event.get("resources") or []), None)
    name = detail.get("EndpointName")
    if not isinstance(arn, str) or kind_of(arn) != ENDPOINT.name:
        raise NotApplicable("an endpoint state change without an endpoint ARN")
    return Change(
        **_common(event, arn),
        kind=ENDPOINT.name,
        name=name if isinstance(name, str) and name else arn,
    )


def _api_call(event: dict[str, Any]) -> Change:
    detail = event["detail"]
    call = detail.get("eventName")
    if call not in API_CALLS:
        raise NotApplicable(f"a SageMaker call that changes no registry resource ({call})")
    if detail.get("errorCode"):
        raise NotApplicable(f"{call} failed ({detail['errorCode']}): nothing changed")
    kind, member = API_CALLS[call]
    params = detail.get("requestParameters") or {}
    name = params.get(member) or (detail.get("responseElements") or {}).get(member)
    if not isinstance(name, str) or not name:
        raise NotApplicable(f"{call} without {member}")
    if not kind:
        kind = kind_of(name) or ""
        if not kind:
            raise NotApplicable(f"{call} on a resource outside the model registry")
    # CloudTrail's own record says where the call ran, when EventBridge forwarded it
    where = {
        **event,
        "account": detail.get("recipientAccountId") or event.get("account"),
        "region": detail.get("awsRegion") or event["region"],
    }
    common = _common(where, name if name.startswith("arn:") else None)
    return Change(**common, kind=kind, name=name, event_name=call)


def kind_of(arn: str) -> str | None:
    """The kind a registry ARN names; None for any other ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker":
        return None
    return next((kind for prefix, kind in ARN_KINDS if parts[5].startswith(prefix)), None)


def timestamp(value: Any) -> datetime | None:
    """An event's time: ISO 8601 text (the envelope, CloudTrail) or epoch milliseconds (the
    state change's detail, as in AWS's example)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        value = float(value)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
