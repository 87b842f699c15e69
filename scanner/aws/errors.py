"""One place that sorts AWS errors.

- denied:       AccessDenied, opt-in regions, bad credentials -> the region is skipped and recorded
- throttled:    still throttled after botocore's retries       -> the region is recorded as failed
- unavailable:  endpoint down, timeouts, 5xx after retries      -> the region is recorded as failed
- gone:         the resource vanished between list and describe -> the item is skipped
- error:        anything else                                   -> the region is recorded as failed
A failed region keeps its previous inventory; nothing here swallows an error silently.
(scan_regions.error_kind also says `store` when the database refused a row, `internal` for
a bug, logged with its traceback, and `interrupted`; those are decided where they happen.)
"""

from __future__ import annotations

import botocore.exceptions

DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "OptInRequired",
    "SubscriptionRequiredException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
}
THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
}
GONE = {"ResourceNotFound", "ResourceNotFoundException"}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code") or "Unknown"
    return type(exc).__name__


def classify(exc: BaseException, *, operation: str = "") -> str:
    code = error_code(exc)
    if isinstance(exc, botocore.exceptions.ClientError):
        if code in DENIED:
            return "denied"
        if code in THROTTLED:
            return "throttled"
        if code in GONE:
            return "gone"
        # SageMaker answers ValidationException "... not found / does not exist" for a
        # package or group deleted after it was listed, "Could not find endpoint ..." (or
        # model, endpoint configuration) for what is in production.
        message = exc.response.get("Error", {}).get("Message", "").lower()
        if (
            operation.startswith("Describe")
            and code == "ValidationException"
            and any(said in message for said in ("not found", "does not exist", "could not find"))
        ):
            return "gone"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            return "unavailable"
        return "error"
    if isinstance(
        exc,
        (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectionClosedError,
        ),
    ):
        return "unavailable"
    return "error"


def describe_error(exc: BaseException) -> str:
    """One line, no credentials: botocore's messages name operations and ARNs, never keys."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", "")
        message = " ".join(str(error.get("Message", "")).split())
        return f"{error.get('Code', 'Unknown')} on {op}: {message}".strip()
    text = " ".join(str(exc).split())
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
