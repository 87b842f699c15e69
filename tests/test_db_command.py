"""`mpscan db` and database URLs as a user meets them: one line and an exit code, never a
traceback, and nothing created by a command that only reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

JUNK = b"name,region\nmodel-a,us-east-1\n" * 100  # a CSV saved as .db by mistake
SUPPORTED = "supported: sqlite:///PATH, postgresql://... (psycopg 3)"


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def revisions(mpscan, url: str) -> str:
    """What `mpscan db current` says, as "at the latest" or its own words."""
    result = mpscan("db", "current", "--db", url)
    assert result.exit_code == 0, result.stderr
    words = result.stdout.split()  # current: REV  latest: REV
    at_latest = words[0::2] == ["current:", "latest:"] and words[1] == words[3] != "none"
    return "at the latest" if at_latest else result.stdout


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch):
    """No stray ./mpscan.toml, ./mpscan.db or MPSCAN_* setting."""
    for name in list(os.environ):
        if name.startswith("MPSCAN_") and name != "MPSCAN_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_upgrade_to_an_unknown_revision_is_a_usage_error(mpscan):
    result = mpscan("db", "upgrade", "0000", "--db", "sqlite:///inventory.db")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("mpscan: usage error") and "'0000'" in line
    assert not Path("inventory.db").exists()  # a usage error writes nothing


@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"]])
def test_a_file_that_is_not_a_database_is_one_line_and_exit_1(mpscan, command):
    Path("inventory.db").write_bytes(JUNK)
    result = mpscan(*command, "--db", "sqlite:///inventory.db")
    assert result.exit_code == 1
    assert "inventory.db: file is not a database" in one_line(result.stderr)
    assert Path("inventory.db").read_bytes() == JUNK


def test_a_database_from_a_newer_mpscan_is_one_line_and_exit_1(mpscan, db_url):
    assert mpscan("db", "upgrade", "--db", db_url).exit_code == 0
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    for command in (["db", "upgrade"], ["db", "current"]):
        result = mpscan(*command, "--db", db_url)
        assert result.exit_code == 1, command
        line = one_line(result.stderr)
        assert "'9999_from_the_future', unknown to this mpscan" in line
        assert "a newer mpscan migrated it" in line


def test_db_current_on_a_missing_file_creates_nothing(mpscan):
    result = mpscan("db", "current", "--db", "sqlite:///absent.db")
    assert result.exit_code == 1
    assert "no database at absent.db" in one_line(result.stderr)
    assert not Path("absent.db").exists()


def test_db_current_on_a_new_database(mpscan):
    assert mpscan("db", "upgrade", "--db", "sqlite:///inventory.db").exit_code == 0
    assert revisions(mpscan, "sqlite:///inventory.db") == "at the latest"


def test_postgres_scheme_is_postgresql(mpscan, postgres_url):
    url = "postgres://" + postgres_url.split("://", 1)[1]  # as Heroku and others write it
    result = mpscan("db", "upgrade", "--db", url)
    assert result.exit_code == 0, result.stderr
    assert revisions(mpscan, postgres_url) == "at the latest"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://mpscan:s3cr3t-pw@127.0.0.1:5432/test",
        "mysql://mpscan:s3cr3t-pw@127.0.0.1/inventory",
        "sqlite+aiosqlite:///inventory.db",
    ],
)
def test_unsupported_database_urls_say_what_is_supported(mpscan, url):
    for command in (["db", "upgrade"], ["db", "current"], ["query", "SELECT 1"]):
        result = mpscan(*command, "--db", url)
        assert result.exit_code == 2, command
        line = one_line(result.stderr)
        assert SUPPORTED in line and "s3cr3t-pw" not in line
    assert not Path("inventory.db").exists()


def test_each_database_run_carries_its_marker(request, db_url):
    """`pytest -m postgres` and `pytest -m sqlite` select by the database a test runs on."""
    expected = "postgres" if db_url.startswith("postgresql") else "sqlite"
    assert [m.name for m in request.node.iter_markers() if m.name in ("postgres", "sqlite")] == [
        expected
    ]
