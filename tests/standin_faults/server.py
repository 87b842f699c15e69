"""The shipped stand-in wrapped in FaultMiddleware: what the tests and benchmarks run."""

from __future__ import annotations

from typing import Any

from moto.moto_api._internal import moto_api_backend

from scanner.standin import start_standin

from .faults import Faults, Stats
from .middleware import FaultMiddleware


class FaultyStandIn:
    """A running stand-in with runtime-mutable ``faults``, call ``stats()`` and the
    ``/_standin/`` control routes. moto's state is per process, so ``reset`` wipes the registry
    of every stand-in in this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None):
        self.faults = faults if faults is not None else Faults()
        self._stats = Stats()
        self._server = start_standin(host, port, wrap=self._wrap)
        self.host, self.port, self.url = self._server.host, self._server.port, self._server.url

    def _wrap(self, app: Any) -> FaultMiddleware:
        return FaultMiddleware(app, self.faults, self._stats, self.reset)

    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot()

    def clear_stats(self) -> None:
        self._stats.clear()

    def reset(self) -> None:
        """Wipe moto's state (all accounts, all regions) and clear stats and faults."""
        moto_api_backend.reset()
        self._stats.clear()
        self.faults.clear()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FaultyStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_faulty_standin(
    host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
) -> FaultyStandIn:
    """Start a stand-in with fault injection in a background thread; ``port=0`` picks one."""
    return FaultyStandIn(host, port, faults)
