"""`mpscan schedule` as a process: jobs fire on short `every` triggers, an overlapping run
is skipped, a failed run is logged and later runs happen, reports are rotated, SIGTERM stops
it cleanly (exit 0, no scan left running, an interrupted scan keeps the previous inventory),
and --metrics-port serves the metrics."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import DBAPIError

from scanner.schedule_cron import crontab_trigger
from scanner.scheduler import prune_reports, report_name
from tests.conftest import query
from tests.support import make_group
from tests.support_process import SLOW_SCAN

BASE = '[aws]\nregions = ["us-east-1"]\n'


def scan_job(name: str = "scan", every: str = "1s") -> str:
    return f'[[schedule.jobs]]\nname = "{name}"\ncommand = "scan"\nevery = "{every}"\n'


class Service:
    """`python -m scanner schedule` in a process of its own, its stderr in a file."""

    def __init__(self, tmp_path: Path, db_url: str, config: str, *args: str):
        self.config = tmp_path / "schedule.toml"
        self.config.write_text(config)
        self.log_path = tmp_path / "schedule.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scanner", "schedule", "--config", str(self.config)]
            + ["--db", db_url, *args],
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, condition, message: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"the service ended: {self.log()}"
            assert time.monotonic() < deadline, f"{message}; log:\n{self.log()}"
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout: float = 15) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def services():
    started: list[Service] = []

    def start(*args, **kwargs) -> Service:
        service = Service(*args, **kwargs)
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()


def statuses(db_url: str) -> list[str]:
    try:
        return [r[0] for r in query(db_url, "SELECT status FROM scans ORDER BY id")]
    except DBAPIError:  # the service has not created its tables yet
        return []


def test_scan_job_runs_again_and_sigterm_exits_0(standin, sm, tmp_path, services):
    make_group(sm["us-east-1"], "g", 2)
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    service = services(tmp_path, db_url, BASE + scan_job("inventory"))
    service.wait_for(lambda: statuses(db_url).count("complete") >= 2, "two scans never completed")
    assert service.stop() == 0, service.log()
    log = service.log()
    assert "job inventory: every 1s, next run at" in log
    assert log.count("job inventory: scan started") >= 2
    assert re.search(r"job inventory: scan \d+ complete: 1/1 regions, 2 model packages", log)
    assert "SIGTERM: stopping" in log and "stopped" in log
    assert "Traceback" not in log
    assert "running" not in statuses(db_url)
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 2


def test_a_scan_job_where_search_is_denied_says_so_and_completes(standin, sm, tmp_path, services):
    make_group(sm["us-east-1"], "g", 2)
    standin.faults.update(fail_operations={"Search": "AccessDeniedException"})
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    service = services(tmp_path, db_url, BASE + scan_job("inventory"))
    service.wait_for(lambda: "job inventory: ok" in service.log(), "the job never ended")
    assert service.stop() == 0, service.log()
    said = [line for line in service.log().splitlines() if "described instead" in line]
    assert len(said) <= len(statuses(db_url))  # at most a line a scan
    assert "WARNING" in said[0] and "region us-east-1" in said[0] and "denied" in said[0]
    assert {r[0] for r in query(db_url, "SELECT collect FROM scan_regions")} == {"describe"}


def test_sigterm_mid_scan_records_interrupted_and_keeps_inventory(
    standin, sm, mpscan, tmp_path, db_url, services
):
    make_group(sm["us-east-1"], "g", 5)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    before = sorted(
        query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages")
    )
    make_group(sm["us-east-1"], "more", 60)
    standin.faults.update(latency_ms=40)
    config = BASE + "concurrency = 2\n" + SLOW_SCAN + scan_job("slow")
    service = services(tmp_path, db_url, config)
    service.wait_for(
        lambda: query(db_url, "SELECT count(*) FROM staged_resources")[0][0] >= 1,
        "the scheduled scan never staged anything",
    )
    started = time.monotonic()
    assert service.stop() == 0, service.log()
    assert time.monotonic() - started < 10
    assert statuses(db_url) == ["complete", "interrupted"]
    # recorded as Ctrl-C and SIGTERM to `mpscan scan` record it (test_interrupt)
    assert query(db_url, "SELECT status, error_kind FROM scan_regions WHERE scan_id = 2") == [
        ("interrupted", "interrupted")
    ]
    after = sorted(query(db_url, "SELECT model_package_arn, last_seen_scan_id FROM model_packages"))
    assert after == before
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0
    log = service.log()
    assert "SIGTERM: stopping, waiting for the running job(s): slow" in log
    assert "scan 2 interrupted" in log
    assert "Traceback" not in log


def test_overlapping_runs_are_skipped(standin, sm, tmp_path, services):
    make_group(sm["us-east-1"], "g", 30)
    standin.faults.update(latency_ms=50)
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    # Two scan jobs of one database: each skips its own overlapping runs (max_instances),
    # and the scan lock makes the other job's scan skip while one runs.
    config = BASE + "concurrency = 1\n" + SLOW_SCAN + scan_job("a") + scan_job("b")
    service = services(tmp_path, db_url, config)
    most_running = 0

    def skipped_both_ways() -> bool:
        nonlocal most_running
        most_running = max(most_running, statuses(db_url).count("running"))
        log = service.log()
        return "run skipped: its previous run is still running" in log and (
            "skipped: another scan is running" in log
        )

    service.wait_for(skipped_both_ways, "no run was skipped")
    assert service.stop() == 0, service.log()
    assert most_running <= 1
    assert "running" not in statuses(db_url)
    assert "Traceback" not in service.log()


def test_report_job_keeps_the_newest_reports(standin, sm, mpscan, tmp_path, services):
    make_group(sm["us-east-1"], "g", 2)
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.csv").write_text("mine")  # not a report of this job: never deleted
    (out / "mpscan-report-20200101T000000.000Z.json").write_text("{}")  # another format
    config = (
        BASE + '[[schedule.jobs]]\nname = "csv"\ncommand = "report"\nevery = "1s"\n'
        'format = "csv"\noutput_dir = "reports"\nkeep = 2\n'
    )
    service = services(tmp_path, db_url, config)
    service.wait_for(lambda: service.log().count("job csv: wrote csv report") >= 3, "3 reports")
    assert service.stop(signal.SIGINT) == 0, service.log()  # Ctrl-C: as SIGTERM
    assert "SIGINT: stopping" in service.log()
    reports = sorted(p.name for p in out.glob("mpscan-report-*.csv"))
    assert len(reports) == 2, reports
    assert all(re.fullmatch(r"mpscan-report-\d{8}T\d{6}\.\d{3}Z\.csv", n) for n in reports)
    assert (out / reports[-1]).read_text().startswith("rule_id,")
    assert (out / "notes.csv").exists()
    assert (out / "mpscan-report-20200101T000000.000Z.json").exists()
    assert not list(out.glob(".*partial"))
    assert "deleted 1 older" in service.log()


def test_a_failing_job_is_logged_and_runs_again(standin, sm, mpscan, tmp_path, services):
    make_group(sm["us-east-1"], "g", 1)
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    blocked = tmp_path / "out"
    blocked.write_text("a file where the report folder should be")
    config = (
        BASE + '[[schedule.jobs]]\nname = "report"\ncommand = "report"\nevery = "1s"\n'
        'format = "json"\noutput_dir = "out"\nkeep = 3\n'
    )
    service = services(tmp_path, db_url, config)
    service.wait_for(lambda: service.log().count("job report: failed: ") >= 2, "two failures")
    blocked.unlink()  # the folder can be made now: the next run writes its report
    service.wait_for(lambda: "job report: wrote json report" in service.log(), "a report")
    assert service.stop() == 0, service.log()
    assert len(list(blocked.glob("mpscan-report-*.json"))) >= 1
    assert "Traceback" not in service.log()


def metrics_base(service: Service) -> str:
    """http://127.0.0.1:PORT of a service started with --metrics-port 0, once it logs it."""
    port: list[int] = []

    def listening() -> bool:
        found = re.search(r"metrics at http://127\.0\.0\.1:(\d+)/metrics", service.log())
        if found:
            port.append(int(found.group(1)))
        return bool(found)

    service.wait_for(listening, "the metrics address was never logged")
    return f"http://127.0.0.1:{port[0]}"


def _metrics(url: str) -> dict[str, list]:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def _value(samples, name: str, **labels) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_metrics_port_serves_scans_api_calls_and_findings(standin, sm, tmp_path, services):
    make_group(sm["us-east-1"], "g", 3)
    standin.faults.update(deny_regions=["eu-west-1"])  # every scan is partial
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    config = '[aws]\nregions = ["us-east-1", "eu-west-1"]\n' + scan_job("m")
    service = services(tmp_path, db_url, config, "--metrics-port", "0")
    url = f"{metrics_base(service)}/metrics"

    def scanned() -> bool:
        families = _metrics(url)
        return _value(families.get("mpscan_scans", []), "mpscan_scans_total", outcome="partial")

    service.wait_for(scanned, "no scan counted")
    families = _metrics(url)
    assert service.stop() == 0, service.log()
    calls = families["mpscan_api_calls"]
    # packages and groups read through Search (a page each), none described
    assert _value(calls, "mpscan_api_calls_total", operation="Search") >= 2
    assert not _value(calls, "mpscan_api_calls_total", operation="DescribeModelPackage")
    assert _value(calls, "mpscan_api_calls_total", operation="ListModelPackages") >= 2
    errors = families["mpscan_api_errors"]
    denied = _value(
        errors,
        "mpscan_api_errors_total",
        operation="ListModelPackages",
        code="AccessDeniedException",
    )
    assert denied >= 1
    assert not _value(errors, "mpscan_api_errors_total", operation="Search")
    # group "g" has no policy: AWS's ValidationException saying so is not an error
    assert _value(calls, "mpscan_api_calls_total", operation="GetModelPackageGroupPolicy") >= 1
    assert not _value(errors, "mpscan_api_errors_total", operation="GetModelPackageGroupPolicy")
    durations = families["mpscan_scan_duration_seconds"]
    assert _value(durations, "mpscan_scan_duration_seconds_count") >= 1
    findings = {s.labels["severity"]: s.value for s in families["mpscan_open_findings"]}
    assert set(findings) == {"critical", "high", "medium", "low", "info"}
    assert sum(findings.values()) > 0  # the stand-in's packages fail some rules
    resources = families["mpscan_resources"]
    assert _value(resources, "mpscan_resources", region="us-east-1", type="model_package") == 3
    success = families["mpscan_last_scan_success"]
    assert _value(success, "mpscan_last_scan_success", region="us-east-1") == 1
    assert _value(success, "mpscan_last_scan_success", region="eu-west-1") == 0
    assert "mpscan_skipped_runs" in families


@pytest.mark.parametrize(
    "jobs, message",
    [
        ("", "config error: no [[schedule.jobs]] in the config"),
        (
            '[[schedule.jobs]]\nname = "a"\ncommand = "scan"\n',
            "config error: 'schedule.jobs[0]' needs exactly one of 'cron'",
        ),
        (
            scan_job("a")
            + '[[schedule.jobs]]\nname = "b"\ncommand = "scan"\ncron = "61 * * * *"\n',
            "config error: 'schedule.jobs[1].cron' of job 'b' is not a valid crontab",
        ),
        (
            '[[schedule.jobs]]\nname = "a"\ncommand = "scan"\ncron = "0 2 * *"\n',
            "config error: 'schedule.jobs[0].cron' of job 'a' is not a valid crontab",
        ),
        (
            '[[schedule.jobs]]\nname = "a"\ncommand = "scan"\nevery = "soon"\n',
            "config error: 'schedule.jobs[0].every' must be a positive duration",
        ),
        (
            '[[schedule.jobs]]\nname = "a"\ncommand = "judge"\nevery = "1h"\n',
            "config error: 'schedule.jobs[0].command' must be scan, report, export or listen",
        ),
        (
            scan_job("a") + "keep = 3\n",
            "config error: 'schedule.jobs[0].keep' applies to report jobs only",
        ),
        (
            '[[schedule.jobs]]\nname = "r"\ncommand = "report"\nevery = "1h"\noutput_dir = "o"\n'
            'regions = ["us-east-1"]\n',
            "config error: 'schedule.jobs[0].regions' applies to scan jobs only",
        ),
        (
            '[[schedule.jobs]]\nname = "r"\ncommand = "report"\nevery = "1h"\noutput_dir = "o"\n'
            'format = "pdf"\n',
            "config error: 'schedule.jobs[0].format' must be one of html, csv, json, sarif, ocsf, "
            "asff",
        ),
        (
            '[[schedule.jobs]]\nname = "r"\ncommand = "report"\nevery = "1h"\noutput_dir = "o"\n'
            "keep = 0\n",
            "config error: 'schedule.jobs[0].keep' must be an integer of 1 or more",
        ),
        (
            '[[schedule.jobs]]\nname = "r"\ncommand = "report"\nevery = "1h"\n',
            "config error: 'schedule.jobs[0].output_dir' (a folder) is required",
        ),
        (scan_job("a") + scan_job("a"), "config error: 'schedule.jobs[1].name' 'a' is used"),
        (
            '[[schedule.jobs]]\nname = "l"\ncommand = "listen"\nevery = "1h"\n',
            "config error: 'schedule.jobs[0]' a listen job runs all the time",
        ),
        (
            '[[schedule.jobs]]\nname = "l"\ncommand = "listen"\n',
            "config error: job 'l' listens to no queue",
        ),
        (
            scan_job("a") + 'queue_url = "https://q"\n',
            "config error: 'schedule.jobs[0].queue_url' applies to listen jobs only",
        ),
        (scan_job("a") + 'when = "now"\n', "config error: unknown key 'schedule.jobs[0].when'"),
        ("[schedule]\njitter = 5\n", "config error: unknown key 'schedule.jitter'"),
        (
            "[schedule]\nmisfire_grace_seconds = 0\n",
            "config error: 'schedule.misfire_grace_seconds' must be greater than 0",
        ),
    ],
)
def test_config_errors_exit_2_in_one_line(tmp_path, monkeypatch, mpscan, jobs, message):
    monkeypatch.chdir(tmp_path)
    Path("mpscan.toml").write_text(jobs)
    result = mpscan("schedule", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"mpscan: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_unreachable_database_at_start_exits_1(tmp_path, monkeypatch, mpscan):
    monkeypatch.chdir(tmp_path)
    Path("mpscan.toml").write_text(scan_job("a"))
    result = mpscan("schedule", "--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("mpscan: database error: cannot connect to"), result.stderr


def test_crontab_day_of_week_is_cron_s():
    """cron's 0 and 7 are Sunday; APScheduler 3's own numbers start at Monday."""
    assert str(crontab_trigger("0 3 * * 0").fields[4]) == "sun"
    assert str(crontab_trigger("0 3 * * 7").fields[4]) == "sun"
    assert str(crontab_trigger("0 3 * * 1-5").fields[4]) == "mon,tue,wed,thu,fri"
    assert str(crontab_trigger("0 3 * * 0-1").fields[4]) == "sun,mon"
    assert str(crontab_trigger("0 3 * * mon-fri").fields[4]) == "mon-fri"
    with pytest.raises(ValueError):
        crontab_trigger("0 3 * * 8")


def test_prune_reports_only_touches_the_job_s_own_files(tmp_path):
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    names = [report_name("html", start + timedelta(hours=h)) for h in range(4)]
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "mpscan-report-latest.html").write_text("x")
    (tmp_path / report_name("csv", start)).write_text("x")
    gone = prune_reports(tmp_path, "html", 2)
    assert sorted(p.name for p in gone) == names[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*names[2:], "mpscan-report-latest.html", report_name("csv", start)]
    )


def test_healthz_answers_while_the_database_is_stuck(standin, sm, tmp_path, services, postgres_url):
    """Probes hit /healthz, which never reads the database: a database that blocks (here a
    lock held on scan_regions) stalls /metrics, not the pod's health."""
    from sqlalchemy import create_engine, text

    make_group(sm["us-east-1"], "g", 1)
    config = BASE + scan_job("scan", every="1h")
    service = services(tmp_path, postgres_url, config, "--metrics-port", "0")
    base = metrics_base(service)
    assert urllib.request.urlopen(f"{base}/healthz", timeout=5).read() == b"ok\n"
    blocker = create_engine(postgres_url)
    try:
        with blocker.connect() as conn:
            conn.execute(text("LOCK TABLE scan_regions IN ACCESS EXCLUSIVE MODE"))
            with pytest.raises(OSError):  # the status gauges wait for the lock
                urllib.request.urlopen(f"{base}/metrics", timeout=2).read()
            health = urllib.request.urlopen(f"{base}/healthz", timeout=2)
            assert (health.status, health.read()) == (200, b"ok\n")
            conn.rollback()
    finally:
        blocker.dispose()
    assert service.stop() == 0, service.log()


def test_a_listen_job_applies_events_beside_the_scans(standin, sm, mpscan, tmp_path, services):
    import boto3

    from tests.support_events import send, state_change

    arn = make_group(sm["us-east-1"], "g", 1, ModelApprovalStatus="PendingManualApproval")[0]
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="events")["QueueUrl"]
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    config = (
        BASE
        + "[listen]\nwait_seconds = 1\n"
        + scan_job("inventory", "10s")  # seldom: events wait while a scan runs
        + f'[[schedule.jobs]]\nname = "events"\ncommand = "listen"\nqueue_url = "{queue_url}"\n'
    )
    # The inventory the events amend, before the service (whose first scan comes in 10 s).
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    service = services(tmp_path, db_url, config, "--metrics-port", "0")
    url = f"{metrics_base(service)}/metrics"
    service.wait_for(lambda: "listener started" in service.log(), "the listener never started")
    sm["us-east-1"].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    send(
        sqs,
        queue_url,
        state_change(sm["us-east-1"].describe_model_package(ModelPackageName=arn), "us-east-1"),
    )

    def approved() -> bool:
        rows = query(db_url, "SELECT model_approval_status FROM model_packages")
        return rows == [("Approved",)]

    service.wait_for(approved, "the event was never applied", timeout=60)

    def counted() -> bool:  # the count follows the commit, a moment after
        events = _metrics(url).get("mpscan_events", [])
        return _value(events, "mpscan_events_total", result="applied") == 1

    service.wait_for(counted, "the applied event was never counted")
    families = _metrics(url)
    assert service.stop() == 0, service.log()
    assert _value(families["mpscan_events"], "mpscan_events_total", result="applied") == 1
    assert _value(families["mpscan_events"], "mpscan_events_total", result="received") == 1
    latency = families["mpscan_event_to_finding_seconds"]
    assert _value(latency, "mpscan_event_to_finding_seconds_count") == 1
    log = service.log()
    assert "job events: listener started" in log and "Traceback" not in log
