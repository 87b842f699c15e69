"""Monkeypatches that fill moto 5.2.5's SageMaker model-registry gaps.

Importing this module applies the patches once (idempotent). What it adds:

* CreateModelPackage keeps SecurityConfig, ModelCard, SourceUri, ModelLifeCycle and
  SkipModelValidation; DescribeModelPackage returns them when set; UpdateModelPackage
  accepts ModelCard, SourceUri, ModelLifeCycle and InferenceSpecification.
* ListTags/AddTags/DeleteTags work on versioned (``model-package/group/3``) and unversioned
  (``model-package/name``) package ARNs; AddTags overwrites an existing key as AWS does.
* Get/Put/DeleteModelPackageGroupPolicy.
* ListModelPackageGroups(CrossAccountFilterOption="CrossAccount") lists other moto accounts'
  groups (same region) whose resource policy names the caller as a Principal.
* Describe/List responses carry ModelPackageName for versioned packages too (AWS does).
* Describe*/ListModelPackages/GetModelPackageGroupPolicy accept another account's ARN and
  answer from that account's backend when its group policy names the caller.
* Search for ModelPackage and ModelPackageGroup as botocore describes it (``search``).
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import models as sm_models
from moto.sagemaker import responses as sm_responses
from moto.sagemaker.exceptions import ValidationError

Backend = sm_models.SageMakerModelBackend
Response = sm_responses.SageMakerResponse
ModelPackage = sm_models.ModelPackage
ModelPackageGroup = sm_models.ModelPackageGroup

# CreateModelPackage parameter -> attribute name. The attribute names are chosen so that
# BaseObject.gen_response_object's snake->Camel conversion yields the AWS member name.
_CREATE_EXTRAS = {
    "SecurityConfig": "security_config",
    "ModelCard": "model_card",
    "SourceUri": "source_uri",
    "ModelLifeCycle": "model_life_cycle",
    "SkipModelValidation": "skip_model_validation",
}
_DESCRIBE_EXTRAS = ("SecurityConfig", "ModelCard", "SourceUri", "ModelLifeCycle")
_DESCRIBE_ONLY = {
    "ModelPackageRegistrationType": "model_package_registration_type",
    "ManagedStorageType": "managed_storage_type",
}

_MARK = "_mpscan_standin_patched"
_REGISTRY_LOCK = threading.RLock()


class AccessDeniedException(ServiceException):
    code = "AccessDeniedException"


# --- helpers -----------------------------------------------------------------------------


def _parse_arn(value: str | None) -> tuple[str, str, str, str] | None:
    """(region, account, resource-type, rest) for a SageMaker ARN, else None."""
    if not value or not value.startswith("arn:"):
        return None
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[2] != "sagemaker":
        return None
    kind, _, rest = parts[5].partition("/")
    return parts[3], parts[4], kind, rest


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        aws = principal.get("AWS", [])
        return [aws] if isinstance(aws, str) else list(aws)
    return []


def policy_names_account(policy: str | None, account_id: str) -> bool:
    """True if an Allow statement's Principal is "*", the account id, or an IAM ARN in it.

    Actions and conditions are ignored: the stand-in only models *who* a group is shared
    with, which is what cross-account discovery depends on.
    """
    if not policy:
        return False
    try:
        doc = json.loads(policy)
    except ValueError:
        return False
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect", "Allow") != "Allow":
            continue
        for p in _principals(st):
            if p in ("*", account_id) or (
                p.startswith("arn:") and p.split(":")[4:5] == [account_id]
            ):
                return True
    return False


def _group_policy(group: Any) -> str | None:
    return getattr(group, "resource_policy", None)


def _foreign_backend(resp: Any, arn: str | None) -> Any | None:
    """Backend owning ``arn`` when it belongs to another account/region than the caller."""
    parsed = _parse_arn(arn)
    if parsed is None:
        return None
    region, account, _, _ = parsed
    if account == resp.current_account and region == resp.region:
        return None
    accounts = sm_models.sagemaker_backends
    if account not in accounts or region not in accounts[account].keys():
        raise ValidationError(f"Resource {arn} does not exist.")
    return accounts[account][region]


def _check_shared(resp: Any, backend: Any, group_name: str | None, arn: str) -> None:
    group = backend.model_package_groups.get(group_name or "")
    if group is None or not policy_names_account(_group_policy(group), resp.current_account):
        raise AccessDeniedException(
            f"User: arn:aws:iam::{resp.current_account}:user/standin is not authorized to "
            f"perform: sagemaker:{resp._get_action()} on resource: {arn} because no "
            "resource-based policy allows it"
        )


def _error_tuple(exc: ServiceException) -> tuple[str, dict[str, Any]]:
    body = json.dumps({"__type": exc.code, "message": exc.message})
    return body, {
        "status": 400,
        "x-amzn-ErrorType": exc.code,
        "Content-Type": "application/x-amz-json-1.1",
    }


def _resolve_group(backend: Any, name_or_arn: str) -> Any:
    parsed = _parse_arn(name_or_arn)
    name = parsed[3] if parsed else name_or_arn
    group = backend.model_package_groups.get(name)
    if group is None:
        arn = sm_models.arn_formatter(
            "model-package-group", name, backend.account_id, backend.region_name
        )
        raise ValidationError(f"ModelPackageGroup {arn} does not exist.")
    return group


def _lookup_package(backend: Any, arn: str) -> Any:
    mapping = backend.model_package_name_mapping
    key = mapping.get(arn) or mapping.get(arn.lower()) or arn.lower()
    pkg = backend.model_packages.get(key)
    if pkg is None:
        raise ValidationError(f"Model package {arn} not found")
    return pkg


# --- backend patches ---------------------------------------------------------------------


def _patched_get_resource_from_arn(orig: Any) -> Any:
    def _get_resource_from_arn(self: Any, arn: str) -> Any:
        parsed = _parse_arn(arn)
        if parsed and parsed[2] == "model-package":
            resource = _lookup_package(self, arn)
        elif parsed and parsed[2] == "model-package-group":
            resource = self.model_package_groups.get(parsed[3])
            if resource is None:
                raise ValidationError(f"ModelPackageGroup {arn} does not exist.")
        else:
            resource = orig(self, arn)
            if resource is None:
                raise ValidationError(f"Resource {arn} does not exist.")
        if getattr(resource, "tags", None) is None:
            resource.tags = []
        return resource

    return _get_resource_from_arn


def _add_tags(self: Any, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    resource = self._get_resource_from_arn(arn)
    new_keys = {t["Key"] for t in tags}
    resource.tags = [t for t in resource.tags if t["Key"] not in new_keys] + list(tags)
    return resource.tags


def _describe_response(orig: Any) -> Any:
    def gen_response_object(self: Any) -> dict[str, Any]:
        response = orig(self)
        # AWS always returns ModelPackageName (a versioned package's is its group's name);
        # moto drops it for versioned packages.
        response.setdefault("ModelPackageName", self.model_package_name)
        for member in _DESCRIBE_EXTRAS:
            value = getattr(self, _CREATE_EXTRAS[member], None)
            if value is not None:
                response[member] = value
        # Members moto never sets, returned when a seed or test sets them (AWS returns both).
        for member, attribute in _DESCRIBE_ONLY.items():
            value = getattr(self, attribute, None)
            if value is not None:
                response[member] = value
        return response

    return gen_response_object


# --- response patches --------------------------------------------------------------------


def _serialized(orig: Any) -> Any:
    """Run ``orig`` under the registry lock.

    moto numbers a new version by scanning ``model_packages`` and its list calls iterate the
    same dicts; concurrent creates (a threaded seeder) would race on both.
    """

    def handler(self: Any) -> Any:
        with _REGISTRY_LOCK:
            return orig(self)

    return handler


def _wrap_foreign(orig: Any, param: str) -> Any:
    """Serve ``orig`` from another account's backend when ``param`` is a foreign ARN."""

    def handler(self: Any) -> Any:
        arn = self._get_param(param)
        backend = _foreign_backend(self, arn)
        if backend is None:
            return orig(self)
        parsed = _parse_arn(arn)
        assert parsed is not None
        group_name = parsed[3]
        if parsed[2] == "model-package":
            # ARNs lower-case the group name; unversioned packages have no group to share them.
            group_name = _lookup_package(backend, arn).model_package_group_name
        try:
            if parsed[1] != self.current_account:
                _check_shared(self, backend, group_name, arn)
        except AccessDeniedException as exc:
            # Not via moto's serializer: SageMaker's model has no such error shape, so moto
            # would warn on every denial.
            return _error_tuple(exc)
        self._standin_backend = backend
        try:
            return orig(self)
        finally:
            self._standin_backend = None

    return handler


def _sagemaker_backend(self: Any) -> Any:
    override = getattr(self, "_standin_backend", None)
    if override is not None:
        return override
    return sm_models.sagemaker_backends[self.current_account][self.region]


def get_model_package_group_policy(self: Any) -> ActionResult:
    group = _resolve_group(self.sagemaker_backend, self._get_param("ModelPackageGroupName"))
    policy = _group_policy(group)
    if not policy:
        raise ValidationError(f"Cannot find resource policy for {group.arn}")
    return ActionResult({"ResourcePolicy": policy})


def delete_model_package(self: Any) -> EmptyResult:
    """Missing in moto 5.2.5; a registry that only grows cannot test pruning."""
    backend = self.sagemaker_backend
    pkg = _lookup_package(backend, self._get_param("ModelPackageName"))
    del backend.model_packages[pkg.arn]
    for key in [k for k, v in backend.model_package_name_mapping.items() if v == pkg.arn]:
        del backend.model_package_name_mapping[key]
    return EmptyResult()


def delete_model_package_group(self: Any) -> EmptyResult:
    backend = self.sagemaker_backend
    group = _resolve_group(backend, self._get_param("ModelPackageGroupName"))
    del backend.model_package_groups[group.model_package_group_name]
    return EmptyResult()


def put_model_package_group_policy(self: Any) -> ActionResult:
    group = _resolve_group(self.sagemaker_backend, self._get_param("ModelPackageGroupName"))
    policy = self._get_param("ResourcePolicy")
    try:
        json.loads(policy)
    except (TypeError, ValueError) as exc:
        raise ValidationError("ResourcePolicy is not valid JSON.") from exc
    group.resource_policy = policy
    return ActionResult({"ModelPackageGroupArn": group.arn})


def delete_model_package_group_policy(self: Any) -> EmptyResult:
    group = _resolve_group(self.sagemaker_backend, self._get_param("ModelPackageGroupName"))
    if not _group_policy(group):
        raise ValidationError(f"Cannot find resource policy for {group.arn}")
    group.resource_policy = None
    return EmptyResult()


def describe_model_package_group(self: Any) -> ActionResult:
    # moto only accepts a bare name; AWS also takes the group ARN.
    group = _resolve_group(self.sagemaker_backend, self._get_param("ModelPackageGroupName"))
    return ActionResult(group.gen_response_object())


def _matches(group: Any, after: Any, before: Any, name_contains: str | None) -> bool:
    created = group.creation_time.timestamp()
    return (
        (after is None or created > _ts(after))
        and (before is None or created < _ts(before))
        and (name_contains is None or name_contains in group.model_package_group_name)
    )


def _ts(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _cross_account_groups(self: Any) -> ActionResult:
    me, region = self.current_account, self.region
    after, before = self._get_param("CreationTimeAfter"), self._get_param("CreationTimeBefore")
    name_contains = self._get_param("NameContains")
    found = []
    for account, per_region in list(sm_models.sagemaker_backends.items()):
        if account == me or region not in per_region.keys():
            continue
        for group in list(per_region[region].model_package_groups.values()):
            if policy_names_account(_group_policy(group), me) and _matches(
                group, after, before, name_contains
            ):
                found.append(group)
    by_name = self._get_param("SortBy") == "Name"
    found.sort(
        key=lambda g: g.model_package_group_name if by_name else g.creation_time,
        reverse=self._get_param("SortOrder") == "Descending",
    )
    start = int(base64.b64decode(self._get_param("NextToken") or "MA==").decode())
    limit = int(self._get_param("MaxResults") or 100)
    page = found[start : start + limit]
    result: dict[str, Any] = {
        "ModelPackageGroupSummaryList": [g.gen_response_object() for g in page]
    }
    if start + limit < len(found):
        result["NextToken"] = base64.b64encode(str(start + limit).encode()).decode()
    return ActionResult(result)


def _wrap_list_groups(orig: Any) -> Any:
    def list_model_package_groups(self: Any) -> ActionResult:
        option = self._get_param("CrossAccountFilterOption")
        if option == "CrossAccount":
            return _cross_account_groups(self)
        if option not in (None, "SameAccount"):
            raise ValidationError(
                f"Value '{option}' at 'crossAccountFilterOption' failed to satisfy constraint: "
                "Member must satisfy enum value set: [SameAccount, CrossAccount]"
            )
        return orig(self)

    return list_model_package_groups


def apply() -> None:
    """Install the patches; safe to call repeatedly."""
    if getattr(Backend, _MARK, False):
        return
    Backend._get_resource_from_arn = _patched_get_resource_from_arn(Backend._get_resource_from_arn)
    Backend.add_tags = _add_tags
    ModelPackage.gen_response_object = _describe_response(ModelPackage.gen_response_object)

    Response.sagemaker_backend = property(_sagemaker_backend)
    from . import package_writes  # it imports this module's helpers

    package_writes.apply()
    Response.list_model_package_groups = _wrap_list_groups(Response.list_model_package_groups)
    Response.get_model_package_group_policy = get_model_package_group_policy
    Response.put_model_package_group_policy = put_model_package_group_policy
    Response.delete_model_package_group_policy = delete_model_package_group_policy
    Response.describe_model_package_group = describe_model_package_group
    Response.delete_model_package = delete_model_package
    Response.delete_model_package_group = delete_model_package_group
    for name, param in (
        ("describe_model_package", "ModelPackageName"),
        ("describe_model_package_group", "ModelPackageGroupName"),
        ("list_model_packages", "ModelPackageGroupName"),
        ("get_model_package_group_policy", "ModelPackageGroupName"),
    ):
        setattr(Response, name, _wrap_foreign(getattr(Response, name), param))
    for name in (
        "create_model_package_group",
        "list_model_packages",
        "list_model_package_groups",
        "add_tags",
        "list_tags",
        "delete_model_package",
    ):
        setattr(Response, name, _serialized(getattr(Response, name)))
    from . import search  # it imports this module's helpers

    search.apply()
    setattr(Backend, _MARK, True)


apply()
