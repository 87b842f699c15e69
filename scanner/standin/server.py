"""The stand-in server: moto's WSGI app, with the account gap filled, in a threaded werkzeug
server. Fault injection is not part of it: tests add theirs through ``wrap``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from . import moto_ext
from .accounts import AccountMiddleware

moto_ext.apply()

Wrap = Callable[[Any], Any]


class _QuietHandler(MotoRequestHandler):
    # A benchmark makes thousands of calls; werkzeug's per-request log line would dominate.
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class NoControlApi:
    """moto's own control API (/moto-api: reset, data dump, time travel) answers anyone who
    reaches the port; the shipped stand-in has no such routes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            body = b"not found: the mpscan stand-in has no control API"
            start_response(
                "404 Not Found",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.app(environ, start_response)


class StandIn:
    """A running stand-in. moto's state is per process, so every StandIn in one process shares
    the same registry."""

    def __init__(self, host: str, port: int, wrap: Wrap | None = None) -> None:
        app: Any = NoControlApi(AccountMiddleware(DomainDispatcherApplication(create_backend_app)))
        if wrap is not None:
            app = wrap(app)
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

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_standin(host: str = "127.0.0.1", port: int = 0, wrap: Wrap | None = None) -> StandIn:
    """Start a stand-in in a background thread; ``port=0`` picks a free port. ``wrap`` takes
    the WSGI app and returns the one to serve (the tests' fault injection)."""
    return StandIn(host, port, wrap).start()
