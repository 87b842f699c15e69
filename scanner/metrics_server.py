"""The HTTP server of `mpscan schedule --metrics-port`: Prometheus metrics at /metrics, and
/healthz for liveness and readiness probes.

/healthz answers from memory (the service is up and its scheduler runs), never from the
database: a slow or unreachable database must not get a pod restarted mid-scan. /metrics
reads the status gauges from the database at scrape time (scanner.metrics).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scrape never holds the service's shutdown


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args) -> None:  # scrapes are not log lines
        pass


def serve(
    registry: CollectorRegistry, host: str, port: int, alive: Callable[[], bool]
) -> WSGIServer:
    """Listen on host:port in a daemon thread; the server (its address: server_address)."""
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        if environ.get("PATH_INFO") in HEALTH_PATHS:
            ok = alive()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok\n" if ok else b"stopping\n"]
        return metrics(environ, start_response)

    server_class = _Server6 if ":" in host else _Server
    server = make_server(host, port, app, server_class=server_class, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="mpscan-metrics", daemon=True).start()
    return server
