"""User SQL (`mpscan query`, custom SQL rules) is one statement, read-only and time-bounded,
enforced by the database and the driver; readers and the scanner do not fail each other."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import query
from tests.support import make_unversioned

# Closes the rule's subquery itself, then goes on: every statement would run through
# PostgreSQL's simple query protocol.
ESCAPE = (
    "SELECT model_package_arn AS resource_arn, 'x' AS message FROM model_packages) s; "
    "COMMIT; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; COMMIT; "
    "DELETE FROM findings; CREATE TABLE pwned (x int); "
    "SELECT * FROM (SELECT 'a' AS resource_arn, 'b' AS message"
)
ENDLESS_SQLITE = (
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
)


def custom_rule(rule_id: str, sql: str, extra: str = "") -> str:
    return (
        textwrap.dedent(
            f"""
        [[rules.custom]]
        id = "{rule_id}"
        title = "t"
        severity = "low"
        resource_type = "model_package"
        rationale = "r"
        remediation = "r"
        remediation_cli = "aws sagemaker list-model-packages"
        sql = {sql!r}
        """
        )
        + extra
    )


def scanned(sm, mpscan, db_url):
    make_unversioned(sm["us-east-1"], "no-kms")
    result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")
    assert result.exit_code == 0, result.stderr


def test_a_rule_that_closes_its_subquery_writes_nothing(sm, mpscan, db_url):
    scanned(sm, mpscan, db_url)
    before = query(db_url, "SELECT id, rule_id, status FROM findings ORDER BY id")
    assert before
    Path("mpscan.toml").write_text(custom_rule("ACME-901", ESCAPE))

    result = mpscan("evaluate", "--db", db_url)

    assert result.exit_code == 0, result.stderr
    assert "rule ACME-901 could not run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert query(db_url, "SELECT id, rule_id, status FROM findings ORDER BY id") == before
    engine = create_engine(db_url)
    try:
        assert "pwned" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_query_refuses_a_second_statement(sm, mpscan, db_url):
    scanned(sm, mpscan, db_url)
    result = mpscan("query", "--db", db_url, "SELECT 1; DELETE FROM findings")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert query(db_url, "SELECT COUNT(*) FROM findings")[0][0] > 0


def endless(db_url: str) -> str:
    return "SELECT pg_sleep(600)" if db_url.startswith("postgresql") else ENDLESS_SQLITE


def test_query_timeout_cancels_the_statement(sm, mpscan, db_url):
    scanned(sm, mpscan, db_url)

    result = mpscan("query", "--db", db_url, "--timeout", "0.5", endless(db_url))

    assert result.exit_code == 7, result.stderr
    assert result.stderr.strip().splitlines() == [
        "mpscan: query timed out: the statement ran longer than 0.5 s and was cancelled "
        "(raise --timeout, or [query] timeout in the config)"
    ]


def test_the_config_sets_the_query_timeout(sm, mpscan, db_url):
    scanned(sm, mpscan, db_url)
    Path("mpscan.toml").write_text("[query]\ntimeout = 0.5\n")
    assert mpscan("query", "--db", db_url, endless(db_url)).exit_code == 7
    Path("mpscan.toml").write_text("[query]\ntimeout = 0\n")
    bad = mpscan("query", "--db", db_url, "SELECT 1")
    assert bad.exit_code == 2 and "query.timeout" in bad.stderr


def test_a_custom_rule_that_runs_too_long_is_its_error(sm, mpscan, db_url):
    scanned(sm, mpscan, db_url)
    slow = (
        "SELECT model_package_arn AS resource_arn, 'm' AS message FROM model_packages "
        "WHERE (SELECT count(*) FROM (SELECT pg_sleep(600)) s) = 1"
        if db_url.startswith("postgresql")
        else "SELECT model_package_arn AS resource_arn, 'm' AS message FROM model_packages "
        f"WHERE ({ENDLESS_SQLITE}) > 0"
    )
    fine = "SELECT model_package_arn AS resource_arn, 'fine' AS message FROM model_packages"
    Path("mpscan.toml").write_text(
        custom_rule("ACME-902", slow, "timeout = 0.5\n") + custom_rule("ACME-903", fine)
    )

    result = mpscan("evaluate", "--db", db_url)

    assert result.exit_code == 0, result.stderr
    assert "rule ACME-902 could not run: query timed out" in result.stderr
    rules = {r[0] for r in query(db_url, "SELECT rule_id FROM findings WHERE status = 'fail'")}
    assert "ACME-903" in rules and "ACME-902" not in rules


@pytest.mark.parametrize(
    "sql", ["SELECT fts3_tokenizer('simple')", "SELECT hex(fts3_tokenizer('porter'))"]
)
def test_sqlite_pointer_functions_are_refused(sm, mpscan, tmp_path, sql):
    db = f"sqlite:///{tmp_path / 'inventory.db'}"
    scanned(sm, mpscan, db)
    result = mpscan("query", "--db", db, sql)
    assert result.exit_code == 2
    assert "not authorized" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_reader_in_a_long_transaction_does_not_block_a_sqlite_scan(sm, mpscan, tmp_path):
    path = tmp_path / "inventory.db"
    db = f"sqlite:///{path}"
    scanned(sm, mpscan, db)
    make_unversioned(sm["us-east-1"], "second")
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        reader.execute("BEGIN")
        held = reader.execute("SELECT COUNT(*) FROM model_packages").fetchone()[0]

        result = mpscan("scan", "--regions", "us-east-1", "--db", db, "-q")

        assert result.exit_code == 0, result.stderr
        # the reader's snapshot is unchanged while its transaction lasts
        assert reader.execute("SELECT COUNT(*) FROM model_packages").fetchone()[0] == held
        reader.execute("COMMIT")
        assert reader.execute("SELECT COUNT(*) FROM model_packages").fetchone()[0] == held + 1
    finally:
        reader.close()
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_ctrl_c_during_a_long_sqlite_query_exits_130(sm, mpscan, tmp_path):
    """The signal arrives inside SQLite's progress handler: it must still end the command
    as Ctrl-C does, not become a query error."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db = f"sqlite:///{tmp_path / 'inventory.db'}"
    scanned(sm, mpscan, db)
    query_process = subprocess.Popen(
        [sys.executable, "-m", "scanner", "query", "--db", db, "--timeout", "120", ENDLESS_SQLITE],
        env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def cpu_seconds() -> float:  # well past start-up: the statement is running
            fields = Path(f"/proc/{query_process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        deadline = time.monotonic() + 60
        while cpu_seconds() < 2.5:
            assert query_process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        query_process.send_signal(signal.SIGINT)
        _, stderr = query_process.communicate(timeout=30)
    finally:
        if query_process.poll() is None:
            query_process.kill()
    assert query_process.returncode == 130, stderr
    assert stderr.strip() == "mpscan: interrupted"


def _role(postgres_url: str, *grants: str):
    """A login role that may read the test's schema, with `grants` besides."""
    import uuid

    from sqlalchemy.engine import make_url

    schema = postgres_url.rsplit("search_path%3D", 1)[1]
    role = f"mpscan_t_{uuid.uuid4().hex[:8]}"
    with create_engine(postgres_url).begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}'))
        for grant in grants:
            conn.execute(text(grant.format(role=role)))
    url = make_url(postgres_url).set(username=role, password=None)
    return role, url.render_as_string(hide_password=False)


def _drop(postgres_url: str, role: str) -> None:
    with create_engine(postgres_url).begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))


def test_user_sql_never_has_the_servers_shell_or_files(sm, mpscan, postgres_url, tmp_path):
    """A superuser's query runs as pg_read_all_data: it reads every table, and the database
    refuses the server's shell and files. A role with such powers that cannot drop them
    runs no user SQL; the README's reader role runs it as itself."""
    make_unversioned(sm["us-east-1"], "m")
    assert mpscan("scan", "--regions", "us-east-1", "--db", postgres_url, "-q").exit_code == 0
    count = "SELECT count(*) AS n FROM model_packages"

    ok = mpscan("query", count, "--db", postgres_url, "--format", "csv")  # the superuser
    assert ok.exit_code == 0 and ok.stdout.splitlines() == ["n", "1"], ok.output
    shell = mpscan("query", "SELECT pg_read_file('/etc/hostname')", "--db", postgres_url)
    assert shell.exit_code == 2
    assert shell.stderr.startswith("mpscan: query refused: mpscan query may only read tables")

    role, powerful = _role(postgres_url, "GRANT pg_execute_server_program TO {role}")
    try:
        refused = mpscan("query", count, "--db", powerful)
        assert refused.exit_code == 2, refused.output
        assert "cannot drop that for user SQL" in refused.stderr
        assert len(refused.stderr.splitlines()) == 1
    finally:
        _drop(postgres_url, role)

    role, reader = _role(postgres_url)
    try:
        read = mpscan("query", count, "--db", reader, "--format", "csv")
        assert read.exit_code == 0 and read.stdout.splitlines() == ["n", "1"], read.output
    finally:
        _drop(postgres_url, role)
