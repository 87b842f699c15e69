"""The stand-in server: moto's WSGI app behind FaultMiddleware in a threaded werkzeug server."""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_api._internal import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from . import moto_ext
from .faults import Faults, Stats
from .middleware import FaultMiddleware

moto_ext.apply()


class _QuietHandler(MotoRequestHandler):
    # A benchmark makes thousands of calls; werkzeug's per-request log line would dominate.
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class StandIn:
    """A running stand-in. moto's state is per process, so every StandIn in one process shares
    the same registry (and ``reset`` wipes it for all of them)."""

    def __init__(self, host: str, port: int, faults: Faults) -> None:
        self.faults = faults
        self._stats = Stats()
        app = FaultMiddleware(
            DomainDispatcherApplication(create_backend_app), faults, self._stats, self.reset
        )
        self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"standin-{self.port}", daemon=True
        )

    def start(self) -> StandIn:
        self._thread.start()
        return self

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
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_standin(host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None) -> StandIn:
    """Start a stand-in in a background thread; ``port=0`` picks a free port."""
    return StandIn(host, port, faults if faults is not None else Faults()).start()
