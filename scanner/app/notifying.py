"""Notifications after a scan or an event: the findings its evaluation opened (new or
regressed) at or above each `[[notify]]` target's severity, sent to that target. A target
that fails is logged (by name, never its URL) and the others still get theirs: a
notification never changes a scan's outcome or exit code."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from scanner.config import NotifyTarget, Settings
from scanner.notify.message import Opened, compose
from scanner.notify.send import NotifyError, post_webhook, publish_sns
from scanner.stages import SEVERITIES
from scanner.store.read.findings import opened_by

log = logging.getLogger(__name__)


@dataclass
class Sent:
    target: str
    findings: int
    error: str | None = None


def notify(
    settings: Settings,
    engine: Engine,
    *,
    where: str,
    scan_id: int,
    at: datetime | None = None,
    event_row: int | None = None,
    clients=None,
) -> list[Sent]:
    """Send what the evaluation of `scan_id` at `at` (or of the event `event_row`) opened
    to every target whose severity it reaches. `clients(service, region)`: AWS clients."""
    if not settings.notify:
        return []
    opened = [
        Opened(**row) for row in opened_by(engine, scan_id=scan_id, at=at, event_id=event_row)
    ]
    sent = []
    for target in settings.notify:
        floor = SEVERITIES.index(target.min_severity)
        mine = [o for o in opened if SEVERITIES.index(o.severity) <= floor]
        if not mine:
            continue
        message = compose(mine, where=where, digest_after=target.digest_after)
        try:
            _send(target, message, clients)
        except NotifyError as exc:
            log.warning("notification not sent: %s", exc)
            sent.append(Sent(target.name, len(mine), str(exc)))
            continue
        log.info("notified %s: %d findings opened by %s", target.name, len(mine), where)
        sent.append(Sent(target.name, len(mine)))
    return sent


def _send(target: NotifyTarget, message, clients) -> None:
    if target.type == "webhook":
        url = target.url or os.environ.get(target.url_env or "", "")
        if not url:
            raise NotifyError(f"webhook {target.name!r}: ${target.url_env} is not set")
        post_webhook(target.name, url, message)
        return
    assert target.topic_arn is not None  # the config requires it of SNS targets
    region = target.topic_arn.split(":")[3]
    publish_sns(target.name, clients("sns", region), target.topic_arn, message)
