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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session
from moto.core.responses import ActionResult
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError

from .moto_ext import _REGISTRY_LOCK, Response, policy_names_account

SERVED = ("ModelPackage", "ModelPackageGroup")
DEFAULT_MAX_RESULTS = 10
MAX_EXPRESSION_PARTS = 50
DEFAULT_SORT = "LastModifiedTime"
_FALLBACK_SORT = "CreationTime"
_OPERATORS = (
    "Equals",
    "NotEquals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Contains",
    "Exists",
    "NotExists",
    "In",
)
_TEXT, _NUMBER, _TIME, _BOOL, _COMPLEX = "text", "numeric", "timestamp", "boolean", "complex"
_ALLOWED = {
    "Equals": (_TEXT, _NUMBER, _TIME, _BOOL),
    "NotEquals": (_TEXT, _NUMBER, _TIME, _BOOL),
    "GreaterThan": (_NUMBER, _TIME),
    "GreaterThanOrEqualTo": (_NUMBER, _TIME),
    "LessThan": (_NUMBER, _TIME),
    "LessThanOrEqualTo": (_NUMBER, _TIME),
    "Contains": (_TEXT,),
    "In": (_TEXT,),
    "Exists": (_TEXT, _NUMBER, _TIME, _BOOL, _COMPLEX),
    "NotExists": (_TEXT, _NUMBER, _TIME, _BOOL, _COMPLEX),
}


@functools.cache
def _model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


def _record_shape(resource: str) -> Any:
    return _model().shape_for("SearchRecord").members[resource]


@functools.cache
def _record_members(resource: str) -> frozenset[str]:
    """The members a record carries: Describe's output that the SearchRecord shape has."""
    describe = "DescribeModelPackage" if resource == "ModelPackage" else "DescribeModelPackageGroup"
    output = _model().operation_model(describe).output_shape.members
    return frozenset(set(output) & set(_record_shape(resource).members))


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One record in the index: what Search matches, sorts and answers."""

    arn: str
    resource: str  # "ModelPackage" | "ModelPackageGroup"
    account: str
    region: str
    created: datetime
    record: dict[str, Any]

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
    record = _record("ModelPackage", pkg.gen_response_object(), pkg.tags)
    return Entry(pkg.arn, "ModelPackage", account, region, _utc(pkg.creation_time), record)


def group_entry(group: Any, account: str, region: str) -> Entry:
    record = _record("ModelPackageGroup", group.gen_response_object(), group.tags)
    return Entry(group.arn, "ModelPackageGroup", account, region, _utc(group.creation_time), record)


def _backend_entries(backend: Any, resource: str, groups: set[str] | None = None) -> list[Entry]:
    account, region = backend.account_id, backend.region_name
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


# --- input validation (botocore's input shape) ---------------------------------------------


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    return "null" if value is None else str(value)


def _shape_errors(shape: Any, value: Any, path: str, errors: list[str]) -> None:
    def fail(constraint: str) -> None:
        errors.append(
            f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: {constraint}"
        )

    meta, kind = shape.metadata, shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return fail("Member must be a structure")
        for name in shape.required_members:
            if value.get(name) is None:
                where = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                errors.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                where = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                _shape_errors(member, value[name], where, errors)
    elif kind == "list":
        if not isinstance(value, list):
            return fail("Member must be a list")
        if "min" in meta and len(value) < meta["min"]:
            fail(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            fail(f"Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value, 1):
            _shape_errors(shape.member, item, f"{path}.{i}.member", errors)
    elif kind == "string":
        if not isinstance(value, str):
            return fail("Member must be a string")
        if shape.enum and value not in shape.enum:
            fail(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        if "min" in meta and len(value) < meta["min"]:
            fail(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            fail(f"Member must have length less than or equal to {meta['max']}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return fail("Member must be a number")
        if "min" in meta and value < meta["min"]:
            fail(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            fail(f"Member must have value less than or equal to {meta['max']}")


def validate_input(params: dict[str, Any]) -> None:
    errors: list[str] = []
    _shape_errors(_model().operation_model("Search").input_shape, params, "", errors)
    if errors:
        n = len(errors)
        raise ValidationError(
            f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors)
        )


# --- properties ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Property:
    name: str
    steps: tuple[tuple[str, str], ...]  # ("member", name) | ("tag", key)
    kind: str
    shape: Any  # the leaf's shape, lists unwrapped


def _unlist(shape: Any) -> Any:
    while shape.type_name == "list":
        shape = shape.member
    return shape


def _kind(shape: Any) -> str:
    kind = shape.type_name
    if kind == "string":
        return _TEXT
    if kind in ("integer", "long", "float", "double"):
        return _NUMBER
    if kind == "timestamp":
        return _TIME
    if kind == "boolean":
        return _BOOL
    return _COMPLEX


def _unknown(name: str) -> ValidationError:
    return ValidationError(f"Unknown property name: {name}")


def _resolve(shape: Any, name: str, relative: str, tags: bool) -> _Property:
    """``relative`` (a dotted path) inside ``shape``; ``name`` is what the caller wrote."""
    parts = relative.split(".")
    if tags and parts[0] == "Tags" and len(parts) > 1:
        key = relative[len("Tags.") :]
        if not key:
            raise _unknown(name)
        return _Property(name, (("tag", key),), _TEXT, None)
    steps: list[tuple[str, str]] = []
    current = shape
    i = 0
    while i < len(parts):
        current = _unlist(current)
        part = parts[i]
        if not part:
            raise _unknown(name)
        if current.type_name == "structure" and part in current.members:
            steps.append(("member", part))
            current = current.members[part]
        elif current.type_name == "map":
            if _unlist(current.value).type_name in ("structure", "map"):
                steps.append(("member", part))
            else:  # a map of scalars: the rest is the key, dots and all
                steps.append(("member", ".".join(parts[i:])))
                i = len(parts)
            current = current.value
        else:
            raise _unknown(name)
        i += 1
    leaf = _unlist(current)
    return _Property(name, tuple(steps), _kind(leaf), leaf)


def _values(document: Any, prop: _Property) -> list[Any]:
    nodes = [document]
    for step, key in prop.steps:
        found: list[Any] = []
        for node in _flatten(nodes):
            if not isinstance(node, dict):
                continue
            if step == "tag":
                found += [t.get("Value") for t in node.get("Tags") or [] if t.get("Key") == key]
            elif node.get(key) is not None:
                found.append(node[key])
        nodes = found
    return [v for v in _flatten(nodes) if v is not None]


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list):
            out += _flatten(v)
        else:
            out.append(v)
    return out


# --- values --------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    """Aware UTC, truncated to the millisecond precision the stand-in serializes."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _comparable(value: Any, kind: str) -> Any:
    if kind == _TIME and isinstance(value, datetime):
        return _utc(value)
    if kind == _TIME and isinstance(value, int | float):
        return _utc(datetime.fromtimestamp(value, UTC))
    if kind == _TEXT:
        return str(value)
    return value


def _parse_value(prop: _Property, operator: str, raw: str) -> Any:
    kind = prop.kind
    if kind == _TEXT:
        if operator == "In":
            return {v.strip() for v in raw.split(",")}
        return raw
    if kind == _NUMBER:
        try:
            return float(raw)
        except ValueError:
            pass
    elif kind == _BOOL and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    elif kind == _TIME:
        try:
            return _utc(datetime.fromtimestamp(float(raw), UTC))
        except (ValueError, OverflowError, OSError):
            pass
        try:
            return _utc(datetime.fromisoformat(raw))
        except ValueError:
            pass
    raise ValidationError(
        f"Value '{raw}' is not a valid {kind} value for the property {prop.name}."
    )


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda v, x: v == x,
    "GreaterThan": lambda v, x: v > x,
    "GreaterThanOrEqualTo": lambda v, x: v >= x,
    "LessThan": lambda v, x: v < x,
    "LessThanOrEqualTo": lambda v, x: v <= x,
    "Contains": lambda v, x: x in v,
    "In": lambda v, x: v in x,
}

Predicate = Callable[[dict[str, Any]], bool]


# --- expressions ---------------------------------------------------------------------------


class _Compiler:
    def __init__(self, resource: str) -> None:
        self.shape = _record_shape(resource)
        self.parts = 0
        self.contains = 0

    def expression(self, expr: dict[str, Any]) -> Predicate:
        filters = expr.get("Filters") or []
        nested = expr.get("NestedFilters") or []
        subs = expr.get("SubExpressions") or []
        if not (filters or nested or subs):
            raise ValidationError(
                "A SearchExpression must contain at least one Filter, NestedFilter or "
                "SubExpression."
            )
        self.parts += len(filters) + len(nested) + len(subs)
        predicates = [self.filter(self.shape, f, f.get("Name", ""), True) for f in filters]
        predicates += [self.nested(n) for n in nested]
        predicates += [self.expression(s) for s in subs]
        if self.parts > MAX_EXPRESSION_PARTS:
            raise ValidationError(
                f"A SearchExpression can contain at most {MAX_EXPRESSION_PARTS} SubExpressions, "
                "NestedFilters and Filters in all."
            )
        combine = any if expr.get("Operator") == "Or" else all
        return lambda doc: combine(p(doc) for p in predicates)

    def nested(self, nested: dict[str, Any]) -> Predicate:
        base = nested["NestedPropertyName"]
        prop = _resolve(self.shape, base, base, tags=False)
        if prop.shape.type_name != "structure":
            raise ValidationError(
                f"NestedPropertyName {base} does not name a property holding objects."
            )
        predicates = []
        for f in nested["Filters"]:
            name = f.get("Name", "")
            if not name.startswith(base + "."):
                raise ValidationError(
                    f"The filter name {name} does not start with the NestedPropertyName {base}."
                )
            predicates.append(self.filter(prop.shape, f, name[len(base) + 1 :], False, name))
        self.parts += len(predicates)

        def holds(doc: dict[str, Any]) -> bool:
            return any(all(p(e) for p in predicates) for e in _values(doc, prop))

        return holds

    def filter(
        self, shape: Any, f: dict[str, Any], relative: str, tags: bool, name: str | None = None
    ) -> Predicate:
        name = name or relative
        prop = _resolve(shape, name, relative, tags)
        raw = f.get("Value")
        operator = f.get("Operator") or "Equals"
        if prop.kind not in _ALLOWED[operator]:
            raise ValidationError(
                f"The operator {operator} is not supported for the {prop.kind} property {name}."
            )
        if operator == "Contains":
            self.contains += 1
            if self.contains > 1:
                raise ValidationError("'CONTAINS' operator usage limit of 1 exceeded.")
        if operator in ("Exists", "NotExists"):
            present = operator == "Exists"
            return lambda doc: bool(_values(doc, prop)) == present
        if raw is None:
            raise ValidationError(
                f"The filter on {name} with operator {operator} must have a Value."
            )
        expected = _parse_value(prop, operator, raw)
        kind = prop.kind
        if operator == "NotEquals":
            return lambda doc: all(_comparable(v, kind) != expected for v in _values(doc, prop))
        test = _COMPARE[operator]
        return lambda doc: any(test(_comparable(v, kind), expected) for v in _values(doc, prop))


def _visible(conditions: list[dict[str, Any]]) -> Predicate:
    pairs = []
    for c in conditions:
        key = c.get("Key", "")
        if not key.startswith("Tags.") or len(key) == len("Tags."):
            raise ValidationError(f"VisibilityConditions key {key} must have the form Tags.<key>.")
        pairs.append((key[len("Tags.") :], c.get("Value", "")))

    def holds(doc: dict[str, Any]) -> bool:
        tags = {t.get("Key"): t.get("Value") for t in doc.get("Tags") or []}
        return all(tags[k] == v for k, v in pairs if k in tags)

    return holds


# --- order and pages -----------------------------------------------------------------------


class _Order:
    def __init__(self, resource: str, sort_by: str | None, descending: bool) -> None:
        self.name = sort_by or DEFAULT_SORT
        self.descending = descending
        shape = _record_shape(resource)
        fallback = _resolve(shape, _FALLBACK_SORT, _FALLBACK_SORT, tags=False)
        if self.name == DEFAULT_SORT and DEFAULT_SORT not in shape.members:
            self.prop, self.fallback = fallback, None  # groups have no LastModifiedTime
        else:
            self.prop = _resolve(shape, self.name, self.name, tags=True)
            self.fallback = fallback if self.name == DEFAULT_SORT else None
        if self.prop.kind == _COMPLEX:
            raise ValidationError(f"The property {self.name} cannot be used to sort results.")

    def key(self, entry: Entry) -> tuple[bool, Any, str]:
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
    visible = _visible(params.get("VisibilityConditions") or [])
    order = _Order(resource, params.get("SortBy"), params.get("SortOrder") != "Ascending")
    limit = params.get("MaxResults") or DEFAULT_MAX_RESULTS
    fingerprint = _fingerprint(params, account, region)
    cursor = _cursor(params["NextToken"], fingerprint) if params.get("NextToken") else None

    cross = params.get("CrossAccountFilterOption") == "CrossAccount"
    with _REGISTRY_LOCK:
        found = [
            (order.key(e), e)
            for e in entries(account, region, resource, cross)
            if visible(e.record) and (matches is None or matches(e.record))
        ]
    by_key = functools.cmp_to_key(order.compare)
    found.sort(key=lambda pair: by_key(pair[0]))
    if cursor is not None:
        after = by_key(cursor)
        found_after = [pair for pair in found if by_key(pair[0]) > after]
    else:
        found_after = found
    page = found_after[:limit]
    result: dict[str, Any] = {
        "Results": [{resource: e.record} for _, e in page],
        "TotalHits": {"Value": len(found), "Relation": "EqualTo"},
    }
    if len(found_after) > limit:
        result["NextToken"] = _token(page[-1][0], fingerprint)
    return result


def _wrap_search(orig: Any) -> Any:
    def search_handler(self: Any) -> Any:
        body = self.body
        try:
            params = json.loads(body or "{}") if isinstance(body, str | bytes) else {}
        except ValueError:
            params = {}
        if not isinstance(params, dict) or params.get("Resource") not in SERVED:
            return orig(self)
        return ActionResult(search(params, self.current_account, self.region))

    return search_handler


def apply() -> None:
    """Install the Search handler (called once from ``moto_ext.apply``)."""
    Response.search = _wrap_search(Response.search)
