"""`mpscan schedule`: a foreground service running the config's [[schedule.jobs]]."""

from __future__ import annotations

import logging
import signal
import threading

import click

from scanner.cli.options import CONTEXT, config_option, db_option, settings_from
from scanner.errors import ConfigError, exit_codes_help

log = logging.getLogger("scanner.scheduler")

SCHEDULE_EXIT_CODES = exit_codes_help(
    code_0="stopped by SIGTERM or SIGINT (Ctrl-C): no new runs were taken, the running scan "
    "finished or was stopped and recorded as interrupted",
    code_1="the database is unreachable at start, or the metrics port cannot be opened",
    code_2="usage or configuration error (no [[schedule.jobs]], a bad job, bad option)",
)


@click.command(context_settings=CONTEXT, epilog=SCHEDULE_EXIT_CODES)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve Prometheus metrics at http://HOST:PORT/metrics, and /healthz for probes "
    "(it never reads the database); 0: any free port, logged.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics listen on (0.0.0.0 in a container).",
)
@config_option
@db_option
def schedule(metrics_port, metrics_host, config_path, db_url):
    """Run the config's [[schedule.jobs]] (scans, reports, listeners) until SIGTERM or SIGINT.

    A foreground service for systemd, a container or Kubernetes. Each job has a 5-field
    crontab (`cron`, in the local time zone, as cron reads it) or an interval (`every`:
    30s, 15min, 6h). A run that would overlap the job's running one is skipped and logged,
    as is a scan job that finds another scan of the database running. A failed run is
    logged and the service goes on. On SIGTERM or SIGINT it takes no new runs, stops the
    running scan cleanly (recorded interrupted, previous inventory kept) and exits 0.
    Job runs are logged at info level (add --log-format json for log collectors);
    docs/operations.md has the unit files, signals and metrics.

    \b
    Examples:
      mpscan schedule --config /etc/mpscan/mpscan.toml
      mpscan --log-format json schedule --metrics-port 9108 --metrics-host 0.0.0.0
      curl -s localhost:9108/metrics | grep mpscan_scans_total

    \b
    In mpscan.toml:
      [[schedule.jobs]]
      name = "nightly-scan"
      command = "scan"
      cron = "0 2 * * *"
      [[schedule.jobs]]
      name = "events"
      command = "listen"             # registry events from SQS, all the time
      queue_url = "https://sqs.eu-west-1.amazonaws.com/111122223333/mpscan-events"
      [[schedule.jobs]]
      name = "weekly-report"
      command = "report"
      cron = "0 6 * * 1"
      format = "html"
      output_dir = "/var/lib/mpscan/reports"
      keep = 8
    """
    from scanner.rules import catalog
    from scanner.scheduler import Service, serve_metrics
    from scanner.store.db import ensure_schema, make_engine

    settings = settings_from(config_path, db_url)
    if not settings.schedule.jobs:
        raise ConfigError(
            "config error: no [[schedule.jobs]] in the config "
            f"({settings.source}; see config.example.toml)"
        )
    for job in settings.schedule.jobs:
        if job.command == "listen" and not (job.queue_url or settings.listen.queue_url):
            raise ConfigError(
                f"config error: job {job.name!r} listens to no queue: give it queue_url, or "
                "set [listen] queue_url"
            )
    _quiet_apscheduler()
    if logging.getLogger("scanner").getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)  # a service says what it runs, even without -v
    stopping = threading.Event()
    received: list[str] = []

    def on_signal(signum, _frame):
        received.append(signal.Signals(signum).name)
        if stopping.is_set():
            log.warning("%s: already stopping", received[-1])
        stopping.set()

    # From here on a signal stops the service cleanly, also one that comes during the start.
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    engine = make_engine(settings.database.url)
    try:
        ensure_schema(engine)  # unreachable: exit 1 now, not a failure at every run
        rules = catalog.load(settings)
        metrics = serve_metrics(
            settings, rules, engine, metrics_host, metrics_port, lambda: not stopping.is_set()
        )
        service = Service(settings, rules, metrics)
        service.start()
        log.info(
            "scheduler started: %d job(s), database %s",
            len(settings.schedule.jobs),
            _shown(engine),
        )
        while not stopping.wait(0.5):
            pass
        service.shutdown(received[0])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()


def _quiet_apscheduler() -> None:
    """APScheduler's own lines go through mpscan's handler (one format, JSON included), and
    only from -vv: mpscan logs its runs, skipped runs and failures itself."""
    ours = logging.getLogger("scanner")
    theirs = logging.getLogger("apscheduler")
    theirs.handlers[:] = ours.handlers
    theirs.propagate = False
    theirs.setLevel(logging.DEBUG if ours.getEffectiveLevel() <= logging.DEBUG else logging.ERROR)


def _shown(engine) -> str:
    from scanner.store.db import shown

    return shown(engine)


COMMANDS = [schedule]
