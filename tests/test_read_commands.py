"""Read commands read: status, report, check, evaluate, diff and prune --dry-run never create
or migrate a schema; only `scan` and `db upgrade` do. Concurrent first runs migrate one
after the other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from scanner.store.db import make_engine, upgrade

READS = [
    ("status",),
    ("report", "--format", "json", "-o", "-"),
    ("check",),
    ("evaluate",),
    ("diff",),
    ("prune", "--older-than", "30d", "--dry-run"),
]


def tables(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", READS, ids=lambda c: c[0])
def test_a_read_command_leaves_a_foreign_database_alone(standin, mpscan, db_url, command):
    engine = create_engine(db_url)
    with engine.begin() as conn:  # an application's own database, pointed at by mistake
        conn.execute(text("CREATE TABLE customers (id integer primary key, name text)"))
    engine.dispose()

    result = mpscan(*command, "--db", db_url)

    assert result.exit_code == 1, result.output
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[0]]
        and "is not an mpscan database" in result.stderr
    )
    assert tables(db_url) == {"customers"}


def test_a_read_command_on_an_older_schema_says_to_upgrade(standin, mpscan, db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    engine.dispose()

    result = mpscan("status", "--db", db_url)

    assert result.exit_code == 1
    assert "run `mpscan db upgrade`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "resource_changes" not in tables(db_url)  # 0005 was not applied


def test_two_first_scans_at_once_migrate_one_after_the_other(standin, sm, postgres_url):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "scanner", "scan", "-q", "--regions", "us-east-1"]
    scans = [
        subprocess.Popen(
            [*cmd, "--db", postgres_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(3)
    ]
    outcomes = [(p.wait(120), p.stderr.read()) for p in scans]
    for code, err in outcomes:
        assert code in (0, 5), err  # stored, or busy: the other scan held the lock
        assert "Traceback" not in err and "UniqueViolation" not in err
    assert any(code == 0 for code, _ in outcomes)
