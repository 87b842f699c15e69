"""What scanner.config declares its settings' checks with, and how their failures are told.

A check is a pydantic validator that fails with the problem's text, not naming the key:
`one_line` is the one place where pydantic's errors become the line mpscan prints, with
the key in front. With several mistakes in a file, the first in the file is the one told.
The kinds of value that a file shares with the command line (regions, durations) are read
here as well, the same way for both.
"""

import re
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NoReturn, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from scanner.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from pydantic import TypeAdapter


def fail(problem: str, at: tuple = ()) -> NoReturn:
    """`at`: where the problem lies under the value checked (a check of a whole table)."""
    # one_line reads the text back from the context: pydantic's own rendering of a message
    # would fill in any "{...}" that a user's value happens to hold.
    raise PydanticCustomError("setting", "{problem}", {"problem": problem, "at": at})


def check(ok, problem, *, before: bool = False):
    """Fails with `problem` (a text, or one made from the value) unless ok(value). before:
    on the value as the file has it, so the check is its type check too; else once typed."""

    def run(value):
        if not ok(value):
            fail(problem(value) if callable(problem) else problem)
        return value

    return BeforeValidator(run) if before else AfterValidator(run)


def between(low, high):
    return check(lambda v: low <= v <= high, lambda v: f"must be between {low} and {high}, got {v}")


def string(problem: str):
    return check(lambda v: isinstance(v, str), problem, before=True)


def tables(problem: str):
    def ok(value):
        return isinstance(value, list) and all(isinstance(t, dict) for t in value)

    return check(ok, problem, before=True)


def one_of(values: tuple, problem: str, *, before: bool = True):
    return check(lambda v: v in values, lambda v: f"{problem}, got {v!r}", before=before)


def matches(pattern: re.Pattern, problem):
    return check(lambda v: isinstance(v, str) and pattern.search(v), problem, before=True)


def above(low, problem):
    return check(lambda v: v > low, problem)


def at_least(low, problem):
    return check(lambda v: v >= low, problem)


POSITIVE = above(0, lambda v: f"must be greater than 0, got {v!r}")
AT_LEAST_0 = at_least(0, lambda v: f"must be 0 or more, got {v}")
STRINGS = check(
    lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "must be a list of strings",
    before=True,
)


def _not_a_key(value: Any) -> NoReturn:
    raise PydanticCustomError("unexpected_keyword_argument", "not a key of the file")


NOT_A_KEY = BeforeValidator(_not_a_key)  # a field the file may not set


def each_matches(pattern: re.Pattern, problem: str):
    def run(values):
        bad = [v for v in values if not pattern.search(v)]
        if bad:
            fail(f"{problem}, got {bad[0]!r}")
        return values

    return AfterValidator(run)


def unique(key: str, problem: str):
    """No two of the tables checked have the same `key`."""

    def run(values):
        seen = [getattr(v, key) for v in values]
        for i, value in enumerate(seen):
            if value in seen[:i]:
                fail(f"{value!r} {problem}", at=(i, key))
        return values

    return AfterValidator(run)


class Table:
    """A TOML table (the settings' dataclasses): no keys but its fields."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    # True: an unknown key's message lists the known ones alphabetically, as those of
    # [[accounts]] and [organization] always have.
    keys_sorted = False
    if TYPE_CHECKING:  # every Table is a dataclass (scanner.config)
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @model_validator(mode="before")
    @classmethod
    def _absent_as_none(cls, data: Any) -> Any:
        # A required key left out is checked as None, so that its own check says what it is.
        if not isinstance(data, dict):
            return data
        required = [f.name for f in fields(cls) if f.default is f.default_factory is MISSING]
        return dict.fromkeys(required) | data


# One adapter per root: a dict, as functools.cache's Hashable takes no class in mypy's eyes
# (python/mypy#11470).
_ADAPTERS: "dict[type, TypeAdapter]" = {}


def _adapter(root: type[Table]) -> "TypeAdapter":
    from pydantic import TypeAdapter  # here: settings that need no validation never load it

    if root not in _ADAPTERS:
        _ADAPTERS[root] = TypeAdapter(root)
    return _ADAPTERS[root]


def validate(root: type[Table], data: dict, sections: list, file: Path | None = None, options=None):
    """`data` validated as a `root` (whose keys are `sections`), read from `file`, or else
    given by command-line `options`: (section, keys given, {key: option named otherwise})."""
    context = {"file": file} if file else {"options": True}
    try:
        return _adapter(root).validate_python(data, context=context)
    except ValidationError as exc:
        raise one_line(exc, data, root, sections, options) from None


_TYPES = {"int_type": "int", "float_type": "float", "string_type": "str", "bool_type": "bool"}


def one_line(exc: ValidationError, data: Any, root: type[Table], sections: list, options=None):
    """pydantic's first error in the file as mpscan's one line: a UsageError naming the
    option when a command-line option gave the value, else a ConfigError naming the key."""
    errors = [(e["loc"] + tuple(e.get("ctx", {}).get("at", ())), e) for e in exc.errors()]
    loc, error = min(errors, key=lambda pair: _place(data, pair[0]))
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    kind, value = error["type"], error["input"]
    if kind == "unexpected_keyword_argument":
        table = _table_at(root, loc[:-1])
        if table is root:
            known = ", ".join(sections)
            return ConfigError(f"config error: unknown key '{key}' (known sections: {known})")
        names = [f.name for f in fields(table)]
        known = ", ".join(sorted(names) if table.keys_sorted else names)
        return ConfigError(f"config error: unknown key '{key}' (known: {known})")
    if kind == "setting":
        problem = error["ctx"]["problem"]
    elif kind in _TYPES:
        problem = f"must be {_TYPES[kind]}, got {type(value).__name__} {value!r}"
    else:
        problem = "must be a table" if kind == "dataclass_type" else error["msg"]
    section, given, named = options or ("", (), {})
    if len(loc) == 2 and loc[0] == section and loc[1] in given:
        option = named.get(loc[1], "--" + loc[1].replace("_", "-"))
        return UsageError(f"usage error: {option} {problem}")
    return ConfigError(f"config error: '{key}' {problem}" if loc else f"config error: {problem}")


def _place(data: Any, loc: tuple) -> list[int]:
    """Where a key is in the file: keys it lacks come after those of their table."""
    place = []
    for part in loc:
        if isinstance(data, dict):
            place.append(list(data).index(part) if part in data else len(data))
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            place.append(part)
            data = data[part]
        else:
            break
    return place


def _table_at(root: type[Table], path: tuple) -> type[Table]:
    table = root
    for part in path:
        if isinstance(part, str):
            inner = _table_in(next(f.type for f in fields(table) if f.name == part))
            assert inner is not None, path  # pydantic's error is at a key of a table
            table = inner
    return table


def _table_in(hint: Any) -> type[Table] | None:
    """The table in a field's type (AccountTarget in tuple[AccountTarget, ...])."""
    if isinstance(hint, type) and issubclass(hint, Table):
        return hint
    return next(filter(None, map(_table_in, get_args(hint))), None)


def beside_the_file(value: str | None, info: ValidationInfo) -> str | None:
    """A path in the config file is relative to that file, as users expect."""
    file: Path | None = (info.context or {}).get("file")
    return value if value is None or file is None else str((file.parent / value).resolve())


FilePath = Annotated[str | None, string("must be a path (str)"), AfterValidator(beside_the_file)]


def parse_regions(text: str) -> tuple[str, ...] | str:
    """`--regions us-east-1,eu-west-1` or `--regions all`."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if names == ("all",):
        return "all"
    if "all" in names:
        raise ConfigError("usage error: 'all' cannot be combined with region names")
    return names


def _regions(value: Any, info: ValidationInfo) -> tuple[str, ...] | str:
    if isinstance(value, str):
        if not (info.context or {}).get("options"):
            return parse_regions(value)  # its ConfigError goes through pydantic as it is
        if value != "all":  # an option's text has been through parse_regions already
            fail(f'must be a list of region names or "all", got {value!r}')
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    fail('must be a list of strings or "all"')


Regions = Annotated[tuple[str, ...] | str, PlainValidator(_regions)]

_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")
DURATION_EXAMPLES = "90s, 15min, 6h, 2d or 12w"


def seconds(text: Any) -> tuple[float, str | None]:
    """A duration's seconds, or what is wrong with it (see parse_duration)."""
    match = _DURATION.match(str(text).lower())
    number, unit = match.groups() if match else ("0", None)
    if unit == "m":
        return 0.0, (
            f"{text!r} is ambiguous ('m' could mean minutes or months): "
            f"write {number}min for minutes, or days (30d) or weeks (12w)"
        )
    value = float(number) * _UNITS[unit] if unit in _UNITS else 0.0
    if value <= 0:
        return (
            0.0,
            f"must be a positive duration with its unit, like {DURATION_EXAMPLES}, got {text!r}",
        )
    return value, None


def parse_duration(text: str, what: str = "duration") -> float:
    """'90s', '15min', '6h', '2d', '12w' -> seconds. The unit is required and never
    ambiguous: a bare number, or 'm' (minutes or months?), is refused."""
    value, problem = seconds(text)
    if problem:
        raise UsageError(f"usage error: {what} {problem}")
    return value
