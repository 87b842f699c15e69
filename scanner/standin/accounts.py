"""A moto gap fill: a 12-digit access key id names the caller's account.

moto 5.2.5 only maps access keys it issued itself to accounts; the demo seeds groups shared
from a second account, and the tests act as several accounts, by signing with such a key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

DEFAULT_ACCOUNT = "123456789012"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def credential(environ: Environ) -> tuple[str, str, str]:
    """(access key id, region, service) from the SigV4 Authorization header."""
    m = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (m.group(1), m.group(2), m.group(3)) if m else ("", "us-east-1", "")


def account_for(access_key: str) -> str:
    return access_key if access_key.isdigit() and len(access_key) == 12 else DEFAULT_ACCOUNT


class AccountMiddleware:
    """Sets moto's account header from a 12-digit access key (unless the caller set it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        access_key = credential(environ)[0]
        if account_for(access_key) == access_key and "HTTP_X_MOTO_ACCOUNT_ID" not in environ:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = access_key
        return self.app(environ, start_response)
