"""The Search expression of the stand-in's SageMaker ``Search`` (scanner.standin.search): the
request checked against botocore's input shape, filter names resolved against the record
shape, values parsed, and expressions compiled into predicates. The rules it follows are in
scanner.standin.search's docstring."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session
from moto.sagemaker.exceptions import ValidationError

SERVED = ("ModelPackage", "ModelPackageGroup", "Model", "Endpoint", "ModelCard")
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
