"""Exclusive scans: one scan at a time against a database, between processes and within one."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scanner.app.scan import run_scan
from scanner.config import Settings, override
from scanner.errors import ScanBusy
from scanner.stages import Progress
from scanner.store.db import alembic_config, make_engine, upgrade
from tests.conftest import query
from tests.support import make_group
from tests.support_process import SLOW_SCAN
from tests.test_interrupt import _wait_for, scan_lock_held

BUSY = re.compile(
    r"mpscan: another scan is running: scan 1 started "
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 on host (?P<host>\S+) \(pid (?P<pid>\d+)\); "
    r"use --wait to wait for it"
)


# The stand-in answers this many SageMaker calls (enough to stage a batch of 5 of the 60
# packages, described one by one: SLOW_SCAN), then holds the rest until the test lets them
# through: the first scan is running, holding the lock, and cannot finish however slow the
# machine is.
HOLD_AFTER = 30


def _scan_process(db_url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "scanner", "scan", "--regions", "us-east-1", "--db", db_url]
        + ["--concurrency", "2", *extra],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _running(db_url: str) -> bool:
    """Scan 1 is recorded as running and has staged part of its work."""
    try:
        return bool(
            query(db_url, "SELECT count(*) FROM scans WHERE id = 1 AND status = 'running'")[0][0]
            and query(db_url, "SELECT count(*) FROM staged_resources")[0][0]
        )
    except SQLAlchemyError:  # no schema yet
        return False


def _lock_held(db_url: str) -> bool:
    if db_url.startswith("postgresql"):
        return scan_lock_held(db_url)
    return bool(query(db_url, "SELECT count(*) FROM scan_lock")[0][0])


def _after_each_other(db_url: str) -> None:
    """Two complete scans, the second started after the first finished: no interleaving."""
    rows = query(db_url, "SELECT id, status, started_at, finished_at FROM scans ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [(1, "complete"), (2, "complete")]
    assert rows[1][2] >= rows[0][3]
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 60
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] == 0
    assert not _lock_held(db_url)


def test_a_second_process_exits_5_naming_the_scan_or_waits_for_it(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", 60)
    Path("mpscan.toml").write_text(SLOW_SCAN)
    standin.faults.update(hold_after=HOLD_AFTER)
    first = _scan_process(db_url, "-q")
    waiter = None
    try:
        _wait_for(lambda: first.poll() is not None or _running(db_url), "scan 1 never ran")
        assert first.poll() is None, first.communicate()
        assert _lock_held(db_url)

        busy = mpscan("scan", "--regions", "us-east-1", "--db", db_url)
        assert busy.exit_code == 5, busy.output
        [line] = busy.stderr.splitlines()
        match = BUSY.fullmatch(line)
        assert match, line
        assert (match["host"], int(match["pid"])) == (socket.gethostname(), first.pid)
        assert query(db_url, "SELECT count(*) FROM scans")[0][0] == 1  # it recorded nothing

        waiter = _scan_process(db_url, "--wait")  # no limit
        notes: list[str] = []
        threading.Thread(target=lambda: notes.extend(waiter.stderr), daemon=True).start()
        _wait_for(lambda: notes or waiter.poll() is not None, "the second scan never waited")
        assert notes[0].startswith("mpscan: waiting for another scan to finish: scan 1 started ")
        assert f"(pid {first.pid})" in notes[0]
        standin.faults.update(hold_after=None)

        assert first.wait(timeout=120) == 0, first.communicate()
        assert waiter.wait(timeout=120) == 0, "".join(notes)
    finally:
        for process in (first, waiter):
            if process is not None and process.poll() is None:
                process.kill()
    _after_each_other(db_url)


def test_a_wait_that_runs_out_exits_5(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", 60)
    Path("mpscan.toml").write_text(SLOW_SCAN)
    standin.faults.update(hold_after=HOLD_AFTER)
    first = _scan_process(db_url, "-q")
    try:
        _wait_for(lambda: first.poll() is not None or _running(db_url), "scan 1 never ran")
        result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "--wait", "0.5", "-q")
        assert result.exit_code == 5, result.output
        assert result.stderr.endswith("; still running after waiting 0.5 s\n"), result.stderr
        assert result.stderr.count("\n") == 1  # -q: no note, the one error line
        scan = ("scan", "--regions", "us-east-1", "--db", db_url)
        result = mpscan(*scan, "--wait", "0.5", "--format", "json")
        assert result.exit_code == 5, result.output
        note, error = result.stderr.splitlines()  # json draws no progress, the wait is said
        assert note.startswith("mpscan: waiting for another scan to finish: scan 1 started ")
        assert error.startswith("mpscan: another scan is running: scan 1 started ")
        standin.faults.update(hold_after=None)
        assert first.wait(timeout=120) == 0, first.communicate()
    finally:
        if first.poll() is None:
            first.kill()


class Notes(Progress):
    def __init__(self):
        self.lines: list[str] = []

    def status(self, text: str) -> None:
        self.lines.append(text)


def test_two_scans_in_one_process_never_interleave(standin, sm, db_url):
    """A scheduler runs scans as threads of one process: the second must not take the first
    for dead (same host, and its own PID) nor touch its staging."""
    make_group(sm["us-east-1"], "g", 60)
    settings = override(Settings(), "database", url=db_url)
    settings = override(settings, "aws", regions=("us-east-1",), concurrency=2)
    # as SLOW_SCAN: described one by one, in batches of 5
    settings = replace(settings, scan=replace(settings.scan, batch_size=5, collect="describe"))
    standin.faults.update(hold_after=HOLD_AFTER)
    results: dict[str, object] = {}

    def scan(name: str, **kwargs) -> None:
        try:
            results[name] = run_scan(settings, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            results[name] = exc

    first = threading.Thread(target=scan, args=("first",))
    first.start()
    _wait_for(lambda: "first" in results or _running(db_url), "scan 1 never ran")
    staged = query(db_url, "SELECT count(*) FROM staged_resources")[0][0]

    with pytest.raises(ScanBusy) as busy:
        run_scan(settings)
    match = BUSY.fullmatch(str(busy.value).join(["mpscan: ", ""]))
    assert match and int(match["pid"]) == os.getpid(), str(busy.value)
    assert busy.value.exit_code == 5
    assert query(db_url, "SELECT status FROM scans WHERE id = 1")[0][0] == "running"
    assert query(db_url, "SELECT count(*) FROM staged_resources")[0][0] >= staged

    notes = Notes()
    waiting = {"wait": 120, "progress": notes}
    second = threading.Thread(target=scan, args=("second",), kwargs=waiting)
    second.start()
    _wait_for(lambda: notes.lines or "second" in results, "the second scan never waited")
    assert notes.lines[0].startswith("waiting for another scan to finish: scan 1 started ")
    standin.faults.update(hold_after=None)
    first.join(120)
    second.join(120)

    assert (results["first"].scan_id, results["first"].status) == (1, "complete")
    assert (results["second"].scan_id, results["second"].status) == (2, "complete")
    _after_each_other(db_url)


def test_heartbeat_settings_and_wait_are_checked(standin, mpscan):
    Path("mpscan.toml").write_text("[scan]\nheartbeat_seconds = 10\nstale_after_seconds = 20\n")
    result = mpscan("scan", "--regions", "us-east-1")
    assert result.exit_code == 2
    assert result.stderr == (
        "mpscan: config error: 'scan.stale_after_seconds' must be at least 3 times "
        "scan.heartbeat_seconds (30), got 20\n"
    )
    Path("mpscan.toml").unlink()
    result = mpscan("scan", "--regions", "us-east-1", "--wait", "soon")
    assert result.exit_code == 2
    assert "--wait" in result.stderr
    assert not Path("mpscan.db").exists()


def test_migration_0004_keeps_recorded_scans_both_ways(db_url):
    """Up and down with scans and their regions recorded (a rebuilt `scans` table would be
    refused by the foreign keys pointing at it)."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO scans (id, started_at, status, packages_seen, groups_seen, "
                    "mpscan_version) VALUES (1, '2026-11-01 00:00:00+00', 'running', 0, 0, 'x')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO scan_regions (scan_id, account_id, region, status, started_at, "
                    "packages, groups, removed, vanished) VALUES (1, '123456789012', "
                    "'us-east-1', 'running', '2026-11-01 00:00:00+00', 0, 0, 0, 0)"
                )
            )
        upgrade(engine, "0004")
        assert query(db_url, "SELECT id, owner, heartbeat_at FROM scans") == [(1, None, None)]
        command.downgrade(alembic_config(engine), "0002")
        assert query(db_url, "SELECT count(*) FROM scan_regions")[0][0] == 1
        assert query(db_url, "SELECT id, status FROM scans") == [(1, "running")]
    finally:
        engine.dispose()


def test_a_reader_role_cannot_keep_postgresql_scans_out(standin, sm, mpscan, postgres_url):
    """The reader role the README recommends (SELECT only): it cannot take the scan lock,
    and its long reads, and the advisory lock mpscan once used, keep no scan out."""
    import uuid
    import zlib

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ProgrammingError

    make_group(sm["us-east-1"], "models", 2)
    assert mpscan("scan", "--regions", "us-east-1", "--db", postgres_url, "-q").exit_code == 0
    schema = postgres_url.rsplit("search_path%3D", 1)[1]
    role = f"mpscan_reader_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:  # as the README says
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}'))
    reader = create_engine(make_url(postgres_url).set(username=role, password=None))
    try:
        with reader.connect() as conn:
            for take in (
                "LOCK TABLE scan_lock IN EXCLUSIVE MODE NOWAIT",  # the scan lock itself
                "LOCK TABLE scan_lock IN ROW SHARE MODE",  # anything conflicting with it
                "SELECT name FROM scan_lock FOR KEY SHARE",
            ):
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.execute(text(take))
                conn.rollback()
            old_key = (0x6D707363, zlib.crc32(schema.encode()) - 2**31)
            conn.execute(
                text("SELECT pg_advisory_lock(:a, :b)"), {"a": old_key[0], "b": old_key[1]}
            )
            conn.commit()
            # a long read: its transaction stays open through the scan
            held = conn.execute(text("SELECT count(*) FROM model_packages")).scalar()

            make_group(sm["us-east-1"], "more", 1)
            result = mpscan("scan", "--regions", "us-east-1", "--db", postgres_url, "-q")

            assert result.exit_code == 0, result.stderr
            assert conn.execute(text("SELECT count(*) FROM model_packages")).scalar() == held + 1
    finally:
        reader.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_the_postgresql_scan_lock_holds_back_no_vacuum(standin, sm, postgres_url):
    """The lock's transaction stays open for the whole scan: it must hold no transaction id
    and no snapshot, or a long scan would keep VACUUM from cleaning the whole database."""
    make_group(sm["us-east-1"], "g", 60)
    Path("mpscan.toml").write_text(SLOW_SCAN)
    standin.faults.update(hold_after=HOLD_AFTER)
    first = _scan_process(postgres_url, "-q")
    try:
        _wait_for(lambda: first.poll() is not None or _running(postgres_url), "scan 1 never ran")
        holder = query(
            postgres_url,
            "SELECT a.state, a.backend_xid IS NULL, a.backend_xmin IS NULL "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.relation = 'scan_lock'::regclass AND l.granted",
        )
        assert [tuple(r) for r in holder] == [("idle in transaction", True, True)]
        standin.faults.update(hold_after=None)
        assert first.wait(timeout=120) == 0, first.communicate()
    finally:
        if first.poll() is None:
            first.kill()
