"""Logging for every command: `-v` for INFO, `-vv` for DEBUG, `--log-format json` for services.

Logs go to stderr. A user error is one line from the CLI and never a traceback; a bug (an
exception mpscan did not expect) is logged with its traceback wherever it is caught.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Modules log with logging.getLogger(__name__), so every mpscan logger sits under "scanner".
LOGGER = "scanner"


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors (journald, Loki, CloudWatch)."""

    def format(self, record: logging.LogRecord) -> str:
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
        handler.setFormatter(logging.Formatter("mpscan: %(levelname)s %(name)s: %(message)s"))
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
