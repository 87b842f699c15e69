"""Logging for every command: `-v` for INFO, `-vv` for DEBUG, `--log-format json` for services.

Logs go to stderr. A user error is one line from the CLI and never a traceback; a bug (an
exception mpscan did not expect) is logged with its traceback wherever it is caught.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime

# Modules log with logging.getLogger(__name__), so every mpscan logger sits under "scanner".
LOGGER = "scanner"

# Credentials never reach a log line, at any verbosity (botocore's -vvv lines carry signed
# headers and STS response bodies). Two nets: every secret mpscan's sessions hold is
# registered here and replaced wherever it appears, however quoted or escaped; and the
# places AWS puts secrets are masked by shape, for anything not registered.
REDACTED = "<redacted>"
_secrets: dict[str, tuple[str, ...]] = {}  # by owner: a refresh replaces the old ones
_secrets_lock = threading.Lock()
_SHAPES = [
    # XML bodies (STS): <SecretAccessKey>..</SecretAccessKey>, <SessionToken>..
    re.compile(r"(<(?:SecretAccessKey|SessionToken)>)[^<]*", re.IGNORECASE),
    # JSON, dict reprs and headers: "SecretAccessKey": "..", 'X-Amz-Security-Token': b'..'
    re.compile(
        r"((?:secret_?access_?key|session_?token|secret_key|\btoken|x-amz-security-token"
        r"|(?:access|refresh|id|bearer)_?token|client_?secret|sso_bearer_token)"
        r"[\\'\"]*\s*[:=]\s*b?[\\'\"]*)[^\\'\",}\s]+",
        re.IGNORECASE,
    ),
    # a whole Authorization header, to its closing quote (or the end of the line)
    re.compile(r"(authorization[\\'\"]*\s*[:=]\s*b?[\\'\"]*)[^\\'\"\n]+", re.IGNORECASE),
    # presigned query strings
    re.compile(r"((?:X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential)=)[^&\s'\"]+"),
    re.compile(r"(Signature=)[0-9a-f]{16,}"),
]


def register_secret(*values: str | None, owner: str) -> None:
    """Secrets (a secret access key, a session token) that must never be logged. `owner`
    (e.g. a role ARN): its new secrets replace its old ones, so a long-running service that
    refreshes credentials keeps a set of the current ones only."""
    with _secrets_lock:
        _secrets[owner] = tuple(v for v in values if v and len(v) >= 8)


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted({s for group in _secrets.values() for s in group}, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for shape in _SHAPES:
        text = shape.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFormatter(logging.Formatter):
    """mpscan's text lines, with secrets masked (tracebacks included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors (journald, Loki, CloudWatch)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._format(record))

    def _format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("scan_id", "account_id", "region", "operation"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_format = "text"


def structured() -> bool:
    """True with --log-format json: messages for people go to the log as records too."""
    return _format == "json"


def setup(verbosity: int = 0, fmt: str = "text") -> None:
    global _format
    _format = fmt
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("mpscan: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger(LOGGER)
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # psycopg warns on stderr about connections it drops after a failure that mpscan
    # already reports in one line; show them only when asked for detail.
    logging.getLogger("psycopg").setLevel(logging.WARNING if verbosity else logging.ERROR)
    if verbosity >= 3:  # -vvv: botocore's own debug lines (requests, retries)
        logging.getLogger("botocore").addHandler(handler)
        logging.getLogger("botocore").setLevel(logging.DEBUG)
