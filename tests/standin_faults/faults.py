"""Runtime-mutable fault settings and per-(operation, region) call statistics."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import search_index

_FIELDS = (
    "latency_ms",
    "rate_limit",
    "deny_regions",
    "throttle_next",
    "fail_operations",
    "deny_assume_role",
    "hold_after",
    "search_lag",
    "search_stale_arns",
    "refuse_findings",
)


@dataclass
class Faults:
    """What the stand-in does to SageMaker requests. Safe to mutate while serving.

    ``rate_limit`` is a token bucket per (operation, region): it holds at most ``rate_limit``
    tokens (one second of burst), refills at ``rate_limit`` tokens per second, and a call
    that finds it empty gets ThrottlingException (throttled calls spend no token).
    ``fail_operations`` maps an operation to an error code; ``InternalFailure`` and
    ``ServiceUnavailable`` answer HTTP 500/503, anything else 400.
    ``hold_after``: answer that many more SageMaker calls, then hold every further call
    unanswered until it is set to None (a scan that cannot finish until a test lets it).
    ``search_lag``: Search's index lags: the newest ``search_lag`` packages (and, in group
    searches, groups) by creation are missing from Search, though listed and describable.
    ``refuse_findings``: Security Hub's BatchImportFindings refuses each finding whose Id
    holds one of these strings (moto itself answers it in FailedFindings, as a finding
    without resources). ``throttle_next`` and ``fail_operations`` apply to Security Hub's
    operations too (its throttling answer is LimitExceededException, HTTP 429).
    ``search_stale_arns``: Search's index is stale for these package/group ARNs: setting them
    marks the moment, and Search answers (filters, sorts) each record as it was then, whatever
    UpdateModelPackage, AddTags or a delete did since; set them again to re-mark, ``[]`` to
    catch up (through ``update``: assigning the attribute marks nothing). See ``search_index``.
    """

    latency_ms: float = 0.0
    rate_limit: float | None = None
    deny_regions: set[str] = field(default_factory=set)
    deny_assume_role: set[str] = field(default_factory=set)  # account ids whose roles refuse
    throttle_next: dict[str, int] = field(default_factory=dict)
    fail_operations: dict[str, str] = field(default_factory=dict)
    hold_after: int | None = None
    search_lag: int = 0
    search_stale_arns: set[str] = field(default_factory=set)
    refuse_findings: set[str] = field(default_factory=set)
    _stale: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _open: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _buckets: dict[tuple[str, str], list[float]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def update(self, **changes: Any) -> None:
        """Replace the given fields (lists become sets for ``deny_regions``)."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if int(changes.get("search_lag") or 0) < 0:
            raise ValueError("search_lag must be >= 0")
        if "search_stale_arns" in changes:
            # Marked before taking the lock: a Search holds the registry lock, then this one.
            stale = search_index.mark(changes["search_stale_arns"] or ())
        with self._lock:
            for name, value in changes.items():
                if name == "search_stale_arns":
                    self._stale = stale
                    value = set(stale)
                elif name == "search_lag":
                    value = int(value or 0)
                elif name in ("deny_regions", "deny_assume_role", "refuse_findings"):
                    value = set(value or ())
                elif name in ("throttle_next", "fail_operations"):
                    value = dict(value or {})
                elif name == "latency_ms":
                    value = float(value or 0)
                elif name == "rate_limit" and value is not None:
                    value = float(value)
                setattr(self, name, value)
            self._buckets.clear()
            if self.hold_after is None:
                self._open.set()
            else:
                self._open.clear()

    def pass_or_hold(self) -> None:
        """Count a SageMaker call against ``hold_after``; past it, wait until released."""
        with self._lock:
            if self.hold_after is None:
                return
            if self.hold_after > 0:
                self.hold_after -= 1
                return
        self._open.wait()

    def clear(self) -> None:
        self.update(
            latency_ms=0.0,
            rate_limit=None,
            deny_regions=(),
            deny_assume_role=(),
            throttle_next={},
            fail_operations={},
            hold_after=None,
            search_lag=0,
            search_stale_arns=(),
            refuse_findings=(),
        )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "rate_limit": self.rate_limit,
                "deny_regions": sorted(self.deny_regions),
                "deny_assume_role": sorted(self.deny_assume_role),
                "throttle_next": dict(self.throttle_next),
                "fail_operations": dict(self.fail_operations),
                "hold_after": self.hold_after,
                "search_lag": self.search_lag,
                "search_stale_arns": sorted(self.search_stale_arns),
                "refuse_findings": sorted(self.refuse_findings),
            }

    def search_view(
        self, found: list[Any], account: str, region: str, resource: str, cross_account: bool
    ) -> list[Any]:
        """What Search finds of ``found`` with ``search_lag`` and ``search_stale_arns``."""
        with self._lock:
            lag = self.search_lag
            stale = {a: e for a, e in self._stale.items() if a in self.search_stale_arns}
        if not lag and not stale:
            return found
        return search_index.view(found, lag, stale, account, region, resource, cross_account)

    def take_burst(self, operation: str) -> bool:
        """Consume one of the ``throttle_next`` calls for ``operation``, if any remain."""
        with self._lock:
            left = self.throttle_next.get(operation, 0)
            if left <= 0:
                return False
            if left == 1:
                del self.throttle_next[operation]
            else:
                self.throttle_next[operation] = left - 1
            return True

    def admit(self, operation: str, region: str) -> bool:
        """Token-bucket check for ``rate_limit``; True when the call may proceed."""
        rate = self.rate_limit
        if rate is None:
            return True
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault((operation, region), [rate, now])
            tokens = min(rate, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= 1.0:
                bucket[0] = tokens - 1.0
                return True
            bucket[0] = tokens
            return False


class Stats:
    """Counts per (operation, region): ok, error (moto answered 4xx/5xx), throttled,
    denied, failed (``fail_operations``)."""

    KINDS = ("ok", "error", "throttled", "denied", "failed")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
                lambda: dict.fromkeys(self.KINDS, 0)
            )
            self._first: float | None = None
            self._last: float | None = None

    def seen(self) -> None:
        now = time.time()
        with self._lock:
            if self._first is None:
                self._first = now
            self._last = now

    def count(self, operation: str, region: str, kind: str) -> None:
        now = time.time()
        with self._lock:
            self._counts[(operation, region)][kind] += 1
            self._last = max(self._last or now, now)

    def snapshot(self) -> dict[str, Any]:
        """``{"operations": {op: {region: {kind: n}}}, "totals": {kind: n}, ...}``."""
        with self._lock:
            ops: dict[str, dict[str, dict[str, int]]] = {}
            totals = dict.fromkeys(self.KINDS, 0)
            for (op, region), kinds in sorted(self._counts.items()):
                ops.setdefault(op, {})[region] = dict(kinds)
                for k, n in kinds.items():
                    totals[k] += n
            elapsed = (self._last - self._first) if self._first and self._last else 0.0
            return {
                "operations": ops,
                "totals": totals,
                "requests": sum(totals.values()),
                "first_request_at": self._first,
                "last_request_at": self._last,
                "elapsed_s": elapsed,
            }
