"""WSGI middleware around the stand-in's app: fault/latency injection, stats, control API."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from scanner.standin.accounts import Environ, StartResponse, account_for, credential

from . import search_index
from .faults import Faults, Stats

_STATUS = {"InternalFailure": 500, "ServiceUnavailable": 503}
_JSON = "application/json"
_AMZ_JSON = "application/x-amz-json-1.1"


class FaultMiddleware:
    def __init__(self, app: Any, faults: Faults, stats: Stats, reset: Callable[[], None]) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats
        self._reset = reset

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_standin/"):
            return self._control(environ, start_response, path)
        access_key, region, service = credential(environ)
        if service == "sts" and self.faults.deny_assume_role:
            denied = self._assume_role_denied(environ)
            if denied:
                return denied(start_response)
        if service == "securityhub":
            return self._securityhub(environ, start_response, path, region)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("SageMaker."):
            return self.app(environ, start_response)
        return self._sagemaker(environ, start_response, target[10:], region, access_key)

    def _assume_role_denied(self, environ: Environ):
        """STS (query protocol): refuse AssumeRole into a denied account's roles, as a role
        whose trust policy does not name the caller does."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        form = parse_qs(body.decode())
        role = (form.get("RoleArn") or [""])[0]
        if (form.get("Action") or [""])[0] != "AssumeRole" or role.split(":")[4:5] == []:
            return None
        if role.split(":")[4] not in self.faults.deny_assume_role:
            return None
        message = (
            f"User: arn:aws:iam::123456789012:user/standin is not authorized to perform: "
            f"sts:AssumeRole on resource: {role}"
        )
        xml = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message>"
            "</Error><RequestId>standin-injected</RequestId></ErrorResponse>"
        ).encode()

        def respond(start_response: StartResponse) -> list[bytes]:
            start_response(
                "403 Forbidden",
                [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))],
            )
            return [xml]

        return respond

    def _sagemaker(
        self, environ: Environ, start_response: StartResponse, op: str, region: str, akid: str
    ) -> Iterable[bytes]:
        f = self.faults
        self.stats.seen()
        f.pass_or_hold()
        if f.latency_ms > 0:
            time.sleep(f.latency_ms / 1000.0)
        if region in f.deny_regions:
            self.stats.count(op, region, "denied")
            account = account_for(akid)
            return _error(
                start_response,
                "AccessDeniedException",
                f"User: arn:aws:iam::{account}:user/standin is not authorized to perform: "
                f"sagemaker:{op} on resource: arn:aws:sagemaker:{region}:{account}:* "
                "with an explicit deny in a service control policy",
            )
        code = f.fail_operations.get(op)
        if code:
            self.stats.count(op, region, "failed")
            return _error(start_response, code, f"Injected failure for {op}", _STATUS.get(code))
        if f.take_burst(op) or not f.admit(op, region):
            self.stats.count(op, region, "throttled")
            return _error(start_response, "ThrottlingException", "Rate exceeded")

        status_holder: list[str] = []

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_holder.append(status)
            return start_response(status, headers, exc_info)

        with search_index.serving(f):
            body = self.app(environ, capture)
        ok = bool(status_holder) and status_holder[0][:1] in "23"
        self.stats.count(op, region, "ok" if ok else "error")
        return body

    def _securityhub(
        self, environ: Environ, start_response: StartResponse, path: str, region: str
    ) -> Iterable[bytes]:
        """Security Hub (REST-JSON: the operation is the path): stats, throttling, failures
        and refused findings."""
        f = self.faults
        op = {"/findings/import": "BatchImportFindings", "/findings": "GetFindings"}.get(path, path)
        self.stats.seen()
        code = f.fail_operations.get(op)
        if code:
            self.stats.count(op, region, "failed")
            return _error(start_response, code, f"Injected failure for {op}", _STATUS.get(code))
        if f.take_burst(op):
            self.stats.count(op, region, "throttled")
            return _error(start_response, "LimitExceededException", "Rate exceeded", 429)
        if op == "BatchImportFindings" and f.refuse_findings:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            for finding in body.get("Findings", []):
                if any(part in str(finding.get("Id")) for part in f.refuse_findings):
                    finding["Resources"] = []  # what moto refuses a finding for
            raw = json.dumps(body).encode()
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        status_holder: list[str] = []

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_holder.append(status)
            return start_response(status, headers, exc_info)

        answer = self.app(environ, capture)
        ok = bool(status_holder) and status_holder[0][:1] in "23"
        self.stats.count(op, region, "ok" if ok else "error")
        return answer

    def _control(
        self, environ: Environ, start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path == "/_standin/stats" and method == "GET":
                return _json(start_response, self.stats.snapshot())
            if path == "/_standin/stats/clear" and method == "POST":
                self.stats.clear()
                return _json(start_response, self.stats.snapshot())
            if path == "/_standin/faults" and method == "GET":
                return _json(start_response, self.faults.snapshot())
            if path == "/_standin/faults" and method == "POST":
                self.faults.update(**_read_json(environ))
                return _json(start_response, self.faults.snapshot())
            if path == "/_standin/reset" and method == "POST":
                self._reset()
                return _json(start_response, {"reset": True})
        except (ValueError, TypeError) as exc:
            return _json(start_response, {"error": str(exc)}, "400 Bad Request")
        return _json(start_response, {"error": f"no route {method} {path}"}, "404 Not Found")


def _read_json(environ: Environ) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b"{}"
    data = json.loads(raw or b"{}")
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _json(start_response: StartResponse, payload: Any, status: str = "200 OK") -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", _JSON), ("Content-Length", str(len(body)))])
    return [body]


def _error(
    start_response: StartResponse, code: str, message: str, status: int | None = None
) -> list[bytes]:
    """An error in the JSON-1.1 shape botocore parses for SageMaker."""
    status = status or 400
    reason = {
        400: "Bad Request",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [
            ("Content-Type", _AMZ_JSON),
            ("Content-Length", str(len(body))),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", "standin-injected"),
        ],
    )
    return [body]
