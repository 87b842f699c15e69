"""SageMaker ``Search`` for ``ModelPackage`` and ``ModelPackageGroup``, as botocore describes it.

moto 5.2.5's ``search`` knows three operators, does not sort and does not page. For these two
resources this module answers instead (every other ``Resource`` is still moto's); botocore's
service model, not moto, decides the names and shapes:

* Records. A ``ModelPackage`` record is what DescribeModelPackage returns for the package
  (moto_ext's members included) minus ``ManagedStorageType``, which the SearchRecord shape
  lacks, plus ``Tags`` (what ListTags returns, ``[]`` when untagged). A ``ModelPackageGroup``
  record is what DescribeModelPackageGroup returns, kept to the SearchRecord shape's members,
  plus ``Tags``.
* ``SearchExpression``. ``Filters`` name a member of the record (``ModelApprovalStatus``), a
  nested one through structures, lists and maps (``InferenceSpecification.Containers.Image``,
  ``CustomerMetadataProperties.<key>``) or a tag (``Tags.<key>``); a name the record shape does
  not have is a ValidationException. Every operator of the Filter shape: Equals and NotEquals
  on text, numbers, booleans and timestamps; GreaterThan(OrEqualTo)/LessThan(OrEqualTo) on
  numbers and timestamps only; Contains (a substring, at most one per expression, as the docs
  say) and In (one of the comma-separated values) on text only; Exists/NotExists on anything.
  A filter with a Value and no Operator is Equals. Through a list a filter holds when any
  element matches, and NotEquals holds when none equals (so also when the property is absent).
  Timestamps compare at the millisecond precision they are served with; a Value is ISO 8601
  (``2026-05-01T12:00:00``, UTC unless it says otherwise) or epoch seconds. ``NestedFilters``
  hold when one element of ``NestedPropertyName`` satisfies all their filters, whose names
  start with it. ``SubExpressions`` nest; ``Operator`` And (default) or Or combines a level.
  An expression must hold a filter, a nested filter or a subexpression, and at most 50 of them
  in all.
* Input. The request is checked against botocore's input shape as AWS checks it (enums,
  lengths, ``MaxResults`` 1-100, required members): ``N validation error(s) detected: Value
  'X' at 'searchExpression.filters.1.member.operator' failed to satisfy constraint: ...``.
* Order and pages. ``SortBy`` is any scalar property a filter may name; its default is
  ``LastModifiedTime`` (botocore: "The default is LastModifiedTime"). A package moto never
  modified has no LastModifiedTime, and a group has none at all, so sorting by it uses the
  CreationTime of such a record (read: last modified = created). ``SortOrder`` defaults to
  Descending; records without the sort property come last in either order; ties go by ARN.
  ``MaxResults`` has no default in botocore's model (only the range 1-100); the stand-in
  answers ``DEFAULT_MAX_RESULTS`` (10) records when it is omitted. ``NextToken`` is a cursor
  (the last record's sort value and ARN, bound to the request's expression and order), so a
  record created or deleted between pages neither repeats nor shifts another one.
  ``TotalHits`` is the exact number of matching records, ``Relation`` ``EqualTo``.
* ``VisibilityConditions`` (``Tags.<key>`` = value): a record carrying the key is kept only
  when its value matches; records without the key are kept (botocore's docs).
* ``CrossAccountFilterOption``: SameAccount or absent searches the caller's account and region;
  CrossAccount searches only other accounts' groups in the region whose resource policy names
  the caller (moto_ext's sharing rule), and for ModelPackage the versions in those groups.

``entries`` is what Search looks through: the tests' fault injection wraps it to make the
index lag or go stale; nothing shipped does.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError

from . import serving
from .moto_ext import _REGISTRY_LOCK, Response, policy_names_account
from .search_filters import (
    _COMPLEX,
    _FALLBACK_SORT,
    _TIME,
    DEFAULT_MAX_RESULTS,
    DEFAULT_SORT,
    SERVED,
    _comparable,
    _Compiler,
    _record_members,
    _record_shape,
    _resolve,
    _utc,
    _values,
    _visible,
    validate_input,
)

# --- records -------------------------------------------------------------------------------


class Entry:
    """One record in the index: what Search matches, sorts and answers. The record is made
    when first read (``make``): a search sorted by creation with no expression reads only
    its page's records, as an index would, not every resource's."""

    __slots__ = ("_make", "_record", "account", "arn", "created", "region", "resource")

    def __init__(
        self,
        arn: str,
        resource: str,  # "ModelPackage" | "ModelPackageGroup"
        account: str,
        region: str,
        created: datetime,
        record: dict[str, Any] | None = None,
        make: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.arn, self.resource, self.account, self.region = arn, resource, account, region
        self.created = created
        self._record, self._make = record, make

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            assert self._make is not None
            self._record = self._make()
        return self._record

    def frozen(self) -> Entry:
        """A copy that later changes to the live resource cannot reach (a snapshot)."""
        return Entry(
            self.arn,
            self.resource,
            self.account,
            self.region,
            self.created,
            copy.deepcopy(self.record),
        )


def _record(resource: str, response: dict[str, Any], tags: Any) -> dict[str, Any]:
    members = _record_members(resource)
    record = {k: v for k, v in response.items() if k in members and v is not None}
    record["Tags"] = [dict(t) for t in tags or []]
    return record


def package_entry(pkg: Any, account: str, region: str) -> Entry:
    # The response DescribeModelPackage serializes (moto_ext's gen_response_object).
    def make() -> dict[str, Any]:
        return _record("ModelPackage", pkg.gen_response_object(), pkg.tags)

    created = _utc(pkg.creation_time)
    return Entry(pkg.arn, "ModelPackage", account, region, created, make=make)


def group_entry(group: Any, account: str, region: str) -> Entry:
    def make() -> dict[str, Any]:
        return _record("ModelPackageGroup", group.gen_response_object(), group.tags)

    created = _utc(group.creation_time)
    return Entry(group.arn, "ModelPackageGroup", account, region, created, make=make)


def _backend_entries(backend: Any, resource: str, groups: set[str] | None = None) -> list[Entry]:
    account, region = backend.account_id, backend.region_name
    if resource in serving.RESOURCES:  # (nothing of theirs is shared across accounts)
        if groups is not None:
            return []
        return [
            Entry(arn, resource, account, region, created, make=make)
            for arn, created, make in serving.records(backend, resource)
        ]
    if resource == "ModelPackageGroup":
        return [
            group_entry(g, account, region)
            for name, g in list(backend.model_package_groups.items())
            if groups is None or name in groups
        ]
    return [
        package_entry(p, account, region)
        for p in list(backend.model_packages.values())
        if groups is None or p.model_package_group_name in groups
    ]


def entries(account: str, region: str, resource: str, cross_account: bool) -> list[Entry]:
    """The records one Search looks through (before its expression): the caller's account and
    region, or with ``cross_account`` the other accounts' groups (and their versions) in the
    region shared with the caller."""
    accounts = sm_models.sagemaker_backends
    if not cross_account:
        return _backend_entries(accounts[account][region], resource)
    found: list[Entry] = []
    for other, per_region in list(accounts.items()):
        if other == account or region not in per_region.keys():
            continue
        backend = per_region[region]
        shared = {
            name
            for name, group in list(backend.model_package_groups.items())
            if policy_names_account(getattr(group, "resource_policy", None), account)
        }
        if shared:
            found += _backend_entries(backend, resource, shared)
    return found


# --- order and pages -----------------------------------------------------------------------


class _Order:
    def __init__(self, resource: str, sort_by: str | None, descending: bool) -> None:
        self.name = sort_by or DEFAULT_SORT
        self.descending = descending
        shape = _record_shape(resource)
        created = "Model.CreationTime" if resource == "Model" else _FALLBACK_SORT
        fallback = _resolve(shape, created, created, tags=False)
        if self.name == DEFAULT_SORT and DEFAULT_SORT not in shape.members:
            self.prop, self.fallback = fallback, None  # groups have no LastModifiedTime
        else:
            self.prop = _resolve(shape, self.name, self.name, tags=True)
            self.fallback = fallback if self.name == DEFAULT_SORT else None
        if self.prop.kind == _COMPLEX:
            raise ValidationError(f"The property {self.name} cannot be used to sort results.")
        # CreationTime is the entry's own `created` (the record's, at its precision)
        self.by_created = self.prop.steps == fallback.steps and self.fallback is None

    def key(self, entry: Entry) -> tuple[bool, Any, str]:
        if self.by_created:
            return (True, entry.created, entry.arn)
        values = [_comparable(v, self.prop.kind) for v in _values(entry.record, self.prop)]
        if not values and self.fallback is not None:
            values = [_comparable(v, _TIME) for v in _values(entry.record, self.fallback)]
        if not values:
            return (False, None, entry.arn)
        return (True, max(values) if self.descending else min(values), entry.arn)

    def compare(self, a: tuple[bool, Any, str], b: tuple[bool, Any, str]) -> int:
        if a[0] != b[0]:
            return -1 if a[0] else 1  # missing values last, in either order
        if a[0] and a[1] != b[1]:
            before = a[1] > b[1] if self.descending else a[1] < b[1]
            return -1 if before else 1
        return (a[2] > b[2]) - (a[2] < b[2])


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value


def _fingerprint(params: dict[str, Any], account: str, region: str) -> str:
    bound = {
        k: params.get(k)
        for k in (
            "Resource",
            "SearchExpression",
            "SortBy",
            "SortOrder",
            "CrossAccountFilterOption",
            "VisibilityConditions",
        )
    }
    text = json.dumps([account, region, bound], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(key: tuple[bool, Any, str], fingerprint: str) -> str:
    payload = {"q": fingerprint, "p": key[0], "v": _encode_value(key[1]), "a": key[2]}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _cursor(token: str, fingerprint: str) -> tuple[bool, Any, str]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["q"] == fingerprint:
            return (bool(payload["p"]), _decode_value(payload["v"]), str(payload["a"]))
    except (ValueError, TypeError, KeyError):
        pass
    raise ValidationError("Invalid pagination token: it does not belong to this search.")


# --- the operation -------------------------------------------------------------------------


def search(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """One Search call for a resource in ``SERVED``, in the caller's ``account`` and ``region``."""
    validate_input(params)
    resource = params["Resource"]
    expression = params.get("SearchExpression")
    matches = _Compiler(resource).expression(expression) if expression is not None else None
    conditions = params.get("VisibilityConditions") or []
    visible = _visible(conditions) if conditions else None
    order = _Order(resource, params.get("SortBy"), params.get("SortOrder") != "Ascending")
    limit = params.get("MaxResults") or DEFAULT_MAX_RESULTS
    fingerprint = _fingerprint(params, account, region)
    cursor = _cursor(params["NextToken"], fingerprint) if params.get("NextToken") else None

    cross = params.get("CrossAccountFilterOption") == "CrossAccount"
    by_key = functools.cmp_to_key(order.compare)
    with _REGISTRY_LOCK:  # records are made under it: a snapshot of the registry
        found = [
            (order.key(e), e)
            for e in entries(account, region, resource, cross)
            if (visible is None or visible(e.record)) and (matches is None or matches(e.record))
        ]
        found.sort(key=lambda pair: by_key(pair[0]))
        if cursor is not None:
            after = by_key(cursor)
            found_after = [pair for pair in found if by_key(pair[0]) > after]
        else:
            found_after = found
        page = found_after[:limit]
        records = [{resource: e.record} for _, e in page]
    result: dict[str, Any] = {
        "Results": records,
        "TotalHits": {"Value": len(found), "Relation": "EqualTo"},
    }
    if len(found_after) > limit:
        result["NextToken"] = _token(page[-1][0], fingerprint)
    return result


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return _utc(value).timestamp()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _wrap_search(orig: Any) -> Any:
    def search_handler(self: Any) -> Any:
        body = self.body
        try:
            params = json.loads(body or "{}") if isinstance(body, str | bytes) else {}
        except ValueError:
            params = {}
        if not isinstance(params, dict) or params.get("Resource") not in SERVED:
            return orig(self)
        # The body as AWS's JSON protocol writes it (timestamps as epoch seconds), written
        # here: moto's shape-walking serializer took 5x the search itself for 100 records.
        return json.dumps(search(params, self.current_account, self.region), default=_epoch)

    return search_handler


def apply() -> None:
    """Install the Search handler (called once from ``moto_ext.apply``)."""
    Response.search = _wrap_search(Response.search)
    serving.apply()
