"""`mpscan listen`: registry changes from EventBridge through SQS, applied as they come."""

from __future__ import annotations

import logging
import signal
import threading

import click

from scanner.cli.options import CONTEXT, config_option, db_option, settings_from
from scanner.errors import UsageError, exit_codes_help

log = logging.getLogger("scanner.app.listen")

LISTEN_EXIT_CODES = exit_codes_help(
    code_0="stopped by SIGTERM or SIGINT (the event in hand was applied first), or with "
    "--drain once the queue was empty",
    code_1="the database is unreachable at start, the queue cannot be read, or the metrics "
    "port cannot be opened",
    code_2="usage or configuration error (no queue URL, a bad [listen] setting)",
)


@click.command(context_settings=CONTEXT, epilog=LISTEN_EXIT_CODES)
@click.option(
    "--queue-url",
    metavar="URL",
    help="The SQS queue EventBridge sends registry events to (default: [listen] queue_url, "
    "$MPSCAN_QUEUE_URL).",
)
@click.option(
    "--drain", is_flag=True, help="Exit 0 once a receive finds the queue empty (for a cron job)."
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve Prometheus metrics at http://HOST:PORT/metrics and /healthz.",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@config_option
@db_option
def listen(queue_url, drain, metrics_port, metrics_host, config_path, db_url):
    """Keep the inventory and findings current from registry events, until SIGTERM.

    Long-polls an SQS queue that an EventBridge rule feeds with SageMaker's model package
    state changes and the CloudTrail events of registry calls (tags, group policies,
    deletions, new groups, package updates). Each event refreshes the one resource it
    names (2 AWS calls a package, 3 a group) in its account and region, through the
    account's role as scans enter it; stores it in that region's inventory with its
    history; and judges it with the rules in force. An event id is applied once, and an
    event older than the stored package costs no call. While a scan runs, events wait
    for its end. Unusable messages are logged and deleted (or kept for the dead-letter
    queue: [listen] unmatched = "keep"); a refresh that fails is retried by SQS.
    docs/operations.md has the EventBridge rules, the queue and the IAM permissions.

    \b
    Examples:
      mpscan listen --queue-url https://sqs.eu-west-1.amazonaws.com/111122223333/mpscan-events
      mpscan --log-format json -v listen --metrics-port 9109
      mpscan listen --drain                 # apply what is queued, then exit
    """
    from scanner.app.listen import Counts, Listener
    from scanner.aws.session import ClientFactory
    from scanner.rules import catalog
    from scanner.scheduler import serve_metrics
    from scanner.store.db import ensure_schema, make_engine

    settings = settings_from(config_path, db_url)
    queue_url = queue_url or settings.listen.queue_url
    if not queue_url:
        raise UsageError(
            "usage error: no queue to listen to: give --queue-url, [listen] queue_url or "
            "MPSCAN_QUEUE_URL"
        )
    if logging.getLogger("scanner").getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)  # a service says what it applies, even without -v
    stop = threading.Event()
    engine = make_engine(settings.database.url)
    listener: list[Listener] = []
    counts: Counts | None = None

    def on_signal(signum, _frame):
        name = signal.Signals(signum).name
        log.info("%s: stopping after the event in hand", name)
        stop.set()
        if not listener or not listener[0].in_hand:
            raise _Stop()  # nothing in hand: leave the receive now (SQS redelivers its batch)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        ensure_schema(engine)
        rules = catalog.load(settings)
        metrics = serve_metrics(
            settings, rules, engine, metrics_host, metrics_port, lambda: not stop.is_set()
        )
        listener.append(
            Listener(
                settings,
                rules,
                engine,
                ClientFactory(settings.aws),
                queue_url,
                stop=stop,
                metrics=metrics,
            )
        )
        counts = listener[0].run(drain=drain)
    except _Stop:
        counts = listener[0].counts if listener else None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
    if counts is not None:
        log.info(
            "listener stopped: %d received, %d applied, %d duplicate, %d ignored, %d failed",
            counts.received,
            counts.applied,
            counts.duplicate,
            counts.ignored,
            counts.failed,
        )


class _Stop(BaseException):
    """A signal while no event is in hand: out of the long poll at once."""


COMMANDS = [listen]
