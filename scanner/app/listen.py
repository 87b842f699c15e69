"""Live refresh: registry events from an SQS queue, each applied once to the inventory.

`Listener.run` long-polls the queue (up to 10 messages a call) and, for each message, in
order: reads the change it names (scanner.aws.events); skips it when its event id was
applied already, or when the stored package was modified no earlier than the event says
(AWS sends several events per change: those cost no call); reads the resource again in its
account and region (scanner.aws.refresh: two calls a package, three a group, an endpoint
with what it deploys), through the account's role as scans enter it; stores it, or removes
it when AWS says it is gone, in the inventory of that region's latest scan
(scanner.store.events); judges it with the rules in force (a package, with the endpoints
that serve it); and deletes the message.

A message that names no registry change, or one of an account or region mpscan has no
inventory of, is logged once and deleted (`unmatched = "delete"`) or left for the queue's
dead-letter redrive (`"keep"`). A refresh that fails (AWS, the database) leaves its message
for SQS to deliver again once its visibility timeout ends. While a scan runs, events wait:
the messages in hand are handed back and the listener receives nothing until it ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import botocore.exceptions
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from scanner.app import rejudged
from scanner.app.notifying import notify
from scanner.aws import accounts, refresh
from scanner.aws.errors import classify, describe_error
from scanner.aws.events import Change, NotApplicable, parse
from scanner.aws.session import ClientFactory
from scanner.config import Settings
from scanner.errors import AwsSetupError, one_line
from scanner.kinds import ENDPOINT, KINDS, MODEL_CARD
from scanner.rules.catalog import Catalog
from scanner.stages import to_json
from scanner.store import events

log = logging.getLogger(__name__)

KIND = {k.name: k for k in KINDS}
BY_NAME = (ENDPOINT.name, MODEL_CARD.name)  # kinds whose describe call is given a name
READ_AGAIN = 3  # reads of one event a scan beginning meanwhile may cost
IDLE_POLL_SECONDS = 1.0  # how often a listener waiting for a scan's end looks again


@dataclass
class Counts:
    """What a listener did since it started (the metrics count the same)."""

    received: int = 0
    applied: int = 0  # refreshed and stored: changed, unchanged, removed or superseded
    duplicate: int = 0  # applied before (same event id), or older than the stored row
    ignored: int = 0  # not a registry change mpscan can apply
    failed: int = 0  # left for SQS to deliver again
    calls: int = 0  # AWS calls the refreshes made
    outcomes: dict[str, int] = field(default_factory=dict)


class Unmatched(Exception):
    """A message to log once and delete or keep (the reason is the text)."""


def queue_region(url: str, default: str | None) -> str | None:
    """The region in an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME); a
    stand-in's URL (http://localhost:4566/...) names none: the session's region."""
    host = urlparse(url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs" and parts[2] == "amazonaws":
        return parts[1]
    return default


class Listener:
    def __init__(
        self,
        settings: Settings,
        rules: Catalog,
        engine: Engine,
        factory: ClientFactory,
        queue_url: str,
        *,
        stop: threading.Event | None = None,
        metrics=None,
        on_applied: Callable[[Change, str], None] | None = None,
    ):
        self.settings = settings
        self.listen = settings.listen
        self.rules = rules
        self.engine = engine
        self.factory = factory
        self.queue_url = queue_url
        self.stop = stop or threading.Event()
        self.metrics = metrics
        self.on_applied = on_applied
        self.counts = Counts()
        self.in_hand = False  # a message is being applied: a stop waits for it
        region = queue_region(queue_url, factory.default_region()) or "us-east-1"
        self.sqs = factory.client("sqs", region)
        self._accounts = accounts.AccountFactories(settings, factory)

    # -- the loop ---------------------------------------------------------------------

    def run(self, drain: bool = False) -> Counts:
        """Until `stop` is set (or, with `drain`, until a receive finds the queue empty)."""
        log.info("listening to %s", self.queue_url)
        while not self.stop.is_set():
            if self._scan_running():
                self.stop.wait(IDLE_POLL_SECONDS)
                continue
            messages = self._receive()
            if not messages and drain:
                break
            self._handle_batch(messages)
        return self.counts

    def _receive(self) -> list[dict]:
        try:
            return self._receive_once()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            kind = classify(exc, operation="ReceiveMessage")
            if kind in ("throttled", "unavailable"):  # botocore retried: wait, then again
                log.warning("cannot receive from the queue now: %s", describe_error(exc))
                self.stop.wait(IDLE_POLL_SECONDS)
                return []
            raise AwsSetupError(
                f"aws error: cannot read the queue {self.queue_url}: {describe_error(exc)}"
            ) from None

    def _receive_once(self) -> list[dict]:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.listen.max_messages,
            WaitTimeSeconds=self.listen.wait_seconds,
            MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            **(
                {"VisibilityTimeout": self.listen.visibility_timeout}
                if self.listen.visibility_timeout
                else {}
            ),
        )
        messages = answer.get("Messages", [])
        self.counts.received += len(messages)
        if self.metrics is not None and messages:
            self.metrics.observe_received(messages)
        return messages

    def _handle_batch(self, messages: list[dict]) -> None:
        """Apply each message in order; delete those done in one call at the end, and hand
        back the rest when stopping or when a scan starts (a signal meanwhile waits for
        this: `in_hand`)."""
        done: list[dict] = []
        self.in_hand = bool(messages)
        try:
            for i, message in enumerate(messages):
                if self.stop.is_set():  # stopping: the rest go back to the queue at once
                    self._hand_back(messages[i:])
                    return
                try:
                    verdict = self._handle(message)
                except events.ScanRunning:
                    log.info("a scan is running: %d events wait for its end", len(messages) - i)
                    self._hand_back(messages[i:])
                    return
                self._count(verdict)
                if verdict in ("applied", "duplicate") or (
                    verdict == "ignored" and self.listen.unmatched == "delete"
                ):
                    done.append(message)
        finally:
            self._delete(done)
            self.in_hand = False

    def _delete(self, messages: list[dict]) -> None:
        if not messages:
            return
        answer = self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        for failed in answer.get("Failed", []):  # it comes back, and is a duplicate then
            log.warning("message not deleted: %s", failed.get("Message") or failed.get("Code"))

    def _hand_back(self, messages: list[dict]) -> None:
        try:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages)
                ],
            )
        except botocore.exceptions.ClientError as exc:  # they come back when they time out
            log.debug("messages not handed back: %s", exc)

    def _count(self, verdict: str) -> None:
        setattr(self.counts, verdict, getattr(self.counts, verdict) + 1)
        if self.metrics is not None:
            self.metrics.events.labels(verdict).inc()

    def _scan_running(self) -> bool:
        try:
            with self.engine.connect() as conn:
                return events.scan_running(conn, self.settings.scan.stale_after_seconds)
        except SQLAlchemyError as exc:
            log.warning("database unreachable: %s", one_line(exc))
            self.stop.wait(IDLE_POLL_SECONDS)
            return True

    # -- one message --------------------------------------------------------------------

    def _handle(self, message: dict) -> str:
        """applied, duplicate, ignored or failed; ScanRunning: hand it back, wait."""
        message_id = message.get("MessageId", "?")
        try:
            change = parse(message.get("Body", ""))
            return self._apply(change, message_id)
        except (NotApplicable, Unmatched) as exc:
            keep = " (kept for the dead-letter queue)" if self.listen.unmatched == "keep" else ""
            log.warning("message %s ignored: %s%s", message_id, exc, keep)
            return "ignored"
        except events.ScanRunning:
            raise
        except IntegrityError:  # another listener applied the same event just now
            return "duplicate"
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            log.warning("message %s left for a retry: %s", message_id, describe_error(exc))
        except SQLAlchemyError as exc:
            log.warning(
                "message %s left for a retry: database error: %s", message_id, one_line(exc)
            )
        except Exception:  # a bug: its traceback, and the listener goes on (SQS retries it)
            log.exception("message %s left for a retry: internal error", message_id)
        return "failed"

    def _apply(self, change: Change, message_id: str) -> str:
        received = datetime.now(UTC)
        kind = KIND[change.kind]
        with self.engine.connect() as conn:
            if events.applied(conn, change.event_id):
                return "duplicate"
            scan_id = events.region_scan(conn, change.account_id, change.region)
            known = events.stored(conn, kind, change.account_id, change.region, change.name)
            reading = rejudged.reading(
                conn, kind.name, (known or {}).get("arn"), (known or {}).get("group")
            )
        client = self._client(change.account_id, change.region)  # an account mpscan scans?
        if scan_id is None:
            raise Unmatched(
                f"no inventory of account {change.account_id} in {change.region} yet (a scan "
                "reads it first)"
            )
        row: dict[str, Any] = {
            "event_id": change.event_id,
            "message_id": message_id,
            "detail_type": change.detail_type,
            "event_name": change.event_name,
            "event_time": change.event_time,
            "received_at": received,
            "applied_at": received,
            "account_id": change.account_id,
            "region": change.region,
            "resource_type": kind.name,
            "resource_arn": (known or {}).get("arn") or change.arn or change.name,
            "outcome": "unchanged",
            "calls": 0,
            "scan_id": scan_id,
        }
        if (
            change.modified is not None
            and known is not None
            and known["modified"] is not None
            and known["modified"] >= change.modified
        ):
            # The stored row already holds this change or a later one: no call.
            with events.guard(self.engine, self._newest(), self._stale, events.record(row)):
                pass
            return "duplicate"
        for _ in range(READ_AGAIN):
            before = self._newest()
            read = refresh.read(client, kind.name, _named(change, known))
            self.counts.calls += read.calls
            try:
                outcome, row_id = self._store(change, kind, scan_id, row, read, known, before)
            except events.ScanMoved:
                continue
            break
        else:
            raise events.ScanRunning()  # scans keep beginning: wait for them
        if outcome in ("changed", "removed"):
            arn = read.arn or str(row["resource_arn"])  # an event may name it by its name
            with self.engine.connect() as conn:  # what reads it, as it was and as it is
                reading |= rejudged.reading(conn, kind.name, arn, _group(read.document))
            itself = (change.account_id, change.region, arn)
            judged = [itself, *rejudged.in_judge_order(reading - {itself})]
            self._judge(change, row_id, scan_id, judged)
        log.info(
            "event %s: %s %s %s (%d calls)",
            change.event_id,
            change.event_name or "state change",
            row["resource_arn"],
            outcome,
            read.calls,
        )
        if self.on_applied is not None:
            self.on_applied(change, outcome)
        if self.metrics is not None and change.event_time is not None:
            self.metrics.event_latency.observe(
                (datetime.now(UTC) - change.event_time).total_seconds()
            )
        return "applied"

    def _store(self, change, kind, scan_id, row, read, known, before) -> tuple[str, int]:
        at = datetime.now(UTC)
        row = {**row, "calls": read.calls, "applied_at": at}
        if read.arn:
            row["resource_arn"] = read.arn
        with events.guard(self.engine, before, self._stale, events.record(row)) as (conn, row_id):
            if read.document is None:
                arn = read.arn or (known or {}).get("arn")
                gone = arn is not None and events.drop(
                    conn, kind, scan_id, change.account_id, change.region, arn, at, row_id
                )
                outcome = "removed" if gone else "unchanged"
            else:
                now_known = events.stored(
                    conn, kind, change.account_id, change.region, row["resource_arn"]
                )
                modified = _modified(read.document)
                if (
                    now_known
                    and modified
                    and now_known["modified"]
                    and now_known["modified"] > modified
                ):
                    outcome = "superseded"
                else:
                    # with an endpoint, its configuration and models: what it deploys
                    changed = False
                    for stored_kind, document in [
                        (kind, read.document),
                        *((KIND[k], d) for k, d in read.also),
                    ]:
                        changed |= events.store(
                            conn,
                            stored_kind,
                            scan_id,
                            change.account_id,
                            change.region,
                            to_json(document),
                            at,
                            row_id,
                        )
                    place = (change.account_id, change.region)
                    for other, name in read.gone:  # what it names that is gone
                        was = events.stored(conn, KIND[other], *place, name)
                        if was is not None:
                            gone = events.drop(
                                conn, KIND[other], scan_id, *place, was["arn"], at, row_id
                            )
                            changed |= gone
                    outcome = "changed" if changed else "unchanged"
            events.finish(conn, row_id, outcome=outcome)
        return outcome, row_id

    @property
    def _stale(self) -> float:
        return self.settings.scan.stale_after_seconds

    def _judge(
        self, change: Change, row_id: int, scan_id: int, judged: list[tuple[str, str, str]]
    ) -> None:
        """Judge what the event changed, (account, region, ARN) each: the resource, then
        what reads it (scanner.app.rejudged); notify once."""
        opened = rejudged.judge_each(
            self.engine,
            self.rules,
            judged,
            where=(change.account_id, change.region, scan_id),
            event=(change.event_id, row_id),
            newest=self._newest,
            stale_after=self._stale,
        )
        if self.settings.notify and opened:
            notify(
                self.settings,
                self.engine,
                where=f"event {change.event_id} ({change.event_name or 'state change'})",
                scan_id=scan_id,
                event_row=row_id,
                clients=self.factory.client,
            )

    def _newest(self) -> int:
        with self.engine.connect() as conn:
            return events.newest_scan(conn)

    # -- accounts -----------------------------------------------------------------------

    def _client(self, account_id: str, region: str):
        return self._factory(account_id).client("sagemaker", region)

    def _factory(self, account_id: str) -> ClientFactory:
        try:
            return self._accounts.get(account_id)
        except LookupError as exc:
            raise Unmatched(str(exc)) from None


def _named(change: Change, known: dict | None) -> str:
    """What the describe call takes: the event's name, or the stored name of an endpoint or
    card it names by ARN (DescribeEndpoint takes no ARN; an ARN spells the name in lower
    case)."""
    stored = (known or {}).get("name")
    if change.name.startswith("arn:") and stored and change.kind in BY_NAME:
        return str(stored)
    return change.name


def _group(document: dict | None) -> str | None:
    """The group a described package belongs to (None: unversioned, or gone)."""
    value = ((document or {}).get("describe") or {}).get("ModelPackageGroupName")
    return value if isinstance(value, str) else None


def _modified(document: dict) -> datetime | None:
    value = (document.get("describe") or {}).get("LastModifiedTime")
    return value if isinstance(value, datetime) else None
