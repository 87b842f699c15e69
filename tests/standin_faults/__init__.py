"""Fault injection for the local AWS stand-in, for the tests and benchmarks only (never
shipped): latency, rate limits, throttling bursts, denied regions, failing operations,
a lagging or stale Search index, per-(operation, region) call stats, and unauthenticated
control routes under ``/_standin/``.

``python -m tests.standin_faults`` (from the repository root) runs one in the foreground.
"""

from .faults import Faults, Stats
from .server import FaultyStandIn, start_faulty_standin

__all__ = ["Faults", "FaultyStandIn", "Stats", "start_faulty_standin"]
