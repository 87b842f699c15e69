"""A Search index that lags or goes stale, as AWS's eventually consistent one can (tests only).

``scanner.standin.search.entries`` is what a Search looks through; importing this module
wraps it (once) so that, inside a request the fault middleware serves (``serving``), that
stand-in's ``Faults`` may change the view: ``search_lag`` hides the newest records, and
``search_stale_arns`` answers records as they were when they were marked (``mark``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError

from scanner.standin import moto_ext, search
from scanner.standin.search import Entry

_SERVING: ContextVar[Any] = ContextVar("standin_search_faults", default=None)
_MARK = "_mpscan_standin_faults_index"


@contextlib.contextmanager
def serving(faults: Any) -> Iterator[None]:
    """Within this block (one request), Search answers through ``faults``' view."""
    token = _SERVING.set(faults)
    try:
        yield
    finally:
        _SERVING.reset(token)


def mark(arns: Iterable[str]) -> dict[str, Entry]:
    """Snapshot the Search record of each package or group ARN, now; ValueError if one is
    not a package or group of the stand-in."""
    marked: dict[str, Entry] = {}
    with moto_ext._REGISTRY_LOCK:
        for arn in arns:
            entry = _entry(arn)
            marked[entry.arn] = entry.frozen()
    return marked


def _entry(arn: str) -> Entry:
    parsed = moto_ext._parse_arn(arn)
    if parsed is None or parsed[2] not in ("model-package", "model-package-group"):
        raise ValueError(f"not a model package or group ARN: {arn!r}")
    region, account, kind, name = parsed
    accounts = sm_models.sagemaker_backends
    if account not in accounts or region not in accounts[account].keys():
        raise ValueError(f"no such resource: {arn}")
    backend = accounts[account][region]
    if kind == "model-package":
        try:
            return search.package_entry(moto_ext._lookup_package(backend, arn), account, region)
        except ValidationError:
            raise ValueError(f"no such model package: {arn}") from None
    group = backend.model_package_groups.get(name)
    if group is None:
        raise ValueError(f"no such model package group: {arn}")
    return search.group_entry(group, account, region)


def view(
    found: list[Entry],
    lag: int,
    stale: dict[str, Entry],
    account: str,
    region: str,
    resource: str,
    cross_account: bool,
) -> list[Entry]:
    """``found`` as a lagging, stale index holds it.

    A marked record replaces the live one; one whose resource has since been deleted is still
    found by its own account's searches (the index has not caught up with the delete). Then the
    ``lag`` newest records by CreationTime (ties: ARN) are left out.
    """
    stale = {arn: e for arn, e in stale.items() if e.resource == resource}
    out = [stale.pop(e.arn, e) for e in found]
    if not cross_account:
        out += [e for e in stale.values() if (e.account, e.region) == (account, region)]
    if lag > 0:
        newest = sorted(out, key=lambda e: (e.created, e.arn), reverse=True)[:lag]
        hidden = {e.arn for e in newest}
        out = [e for e in out if e.arn not in hidden]
    return out


def _wrap_entries(orig: Any) -> Any:
    def entries(account: str, region: str, resource: str, cross_account: bool) -> list[Entry]:
        found = orig(account, region, resource, cross_account)
        faults = _SERVING.get()
        if faults is None:
            return found
        return faults.search_view(found, account, region, resource, cross_account)

    return entries


def install() -> None:
    """Wrap ``search.entries``; safe to call repeatedly."""
    if getattr(search, _MARK, False):
        return
    search.entries = _wrap_entries(search.entries)
    setattr(search, _MARK, True)


install()
