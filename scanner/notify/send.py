"""Sending a notification: a webhook (HTTPS POST of JSON, the standard library's client) or
an SNS topic (boto3, through the configured credentials). A target's URL is a secret (a
Slack webhook's path is its key): it never appears in a log or an error, only the target's
name and the URL's host."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlparse

from scanner.notify.message import Message


class NotifyError(Exception):
    """A notification not delivered (the text names the target, never its URL)."""


def post_webhook(name: str, url: str, message: Message, timeout: float = 10.0) -> None:
    host = urlparse(url).hostname or "?"
    request = urllib.request.Request(
        url,
        data=json.dumps(message.slack).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "mpscan"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"webhook {name!r} ({host}) answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"webhook {name!r} ({host}) unreachable: {reason}") from None


def publish_sns(name: str, client, topic_arn: str, message: Message) -> None:
    import botocore.exceptions

    from scanner.aws.errors import describe_error

    try:
        client.publish(TopicArn=topic_arn, Subject=message.subject, Message=message.text)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise NotifyError(f"SNS target {name!r}: {describe_error(exc)}") from None
