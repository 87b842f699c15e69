"""The command line as a user meets it: errors, exit codes, help, formats, AWS settings."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from scanner.cli import cli
from tests.conftest import query
from tests.support import make_group, make_unversioned

ROOT = Path(__file__).resolve().parents[1]


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[aws]\nretrymode = 'standard'\n", "aws.retrymode"),
        ("[aws]\nconcurrency = 'many'\n", "aws.concurrency"),
        ("[aws]\nretry_mode = 'sometimes'\n", "aws.retry_mode"),
        ("[aws]\nmax_attempts = 0\n", "aws.max_attempts"),
        ("[colour]\nx = 1\n", "colour"),
        ("[database\nurl = 1\n", "mpscan.toml"),
    ],
)
def test_bad_config_is_one_line_naming_the_key_and_exit_2(standin, mpscan, toml, named):
    Path("mpscan.toml").write_text(toml)
    result = mpscan("scan", "--regions", "us-east-1")
    assert result.exit_code == 2
    assert named in one_line(result.stderr)
    assert not Path("mpscan.db").exists()


def test_config_file_settings_are_used(standin, sm, mpscan):
    make_unversioned(sm["eu-west-1"], "m")
    Path("team.toml").write_text(
        "[database]\nurl = 'sqlite:///team.db'\n[aws]\nregions = ['eu-west-1']\nconcurrency = 2\n"
    )
    result = mpscan("scan", "--config", "team.toml")
    assert result.exit_code == 0, result.stderr
    assert query("sqlite:///team.db", "SELECT region FROM model_packages")[0][0] == "eu-west-1"


def test_unknown_region_is_a_usage_error(standin, mpscan):
    result = mpscan("scan", "--regions", "us-east-1,mars-north-1")
    assert result.exit_code == 2
    assert "mars-north-1" in one_line(result.stderr)


def test_unreachable_database_is_exit_1_without_password(standin, mpscan):
    url = "postgresql://mpscan:s3cr3t-pw@127.0.0.1:1/inventory"
    for args in (["scan", "--regions", "us-east-1"], ["query", "SELECT 1"], ["db", "upgrade"]):
        result = mpscan(*args, "--db", url)
        assert result.exit_code == 1, args
        line = one_line(result.stderr)
        assert "cannot connect" in line and "s3cr3t-pw" not in line


def test_missing_credentials_are_exit_1(standin, mpscan, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = mpscan("scan", "--regions", "us-east-1")
    assert result.exit_code == 1
    assert "no AWS credentials" in one_line(result.stderr)


def test_unknown_profile_is_a_usage_error(standin, mpscan):
    result = mpscan("scan", "--profile", "nobody", "--regions", "us-east-1")
    assert result.exit_code == 2
    assert "nobody" in one_line(result.stderr)


def test_profiles_and_service_endpoint_settings_are_honoured(
    standin, sm, mpscan, monkeypatch, tmp_path
):
    make_unversioned(sm["eu-west-1"], "from-profile")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", standin.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", standin.url)
    (tmp_path / "no-aws-config").write_text("[profile audit]\nregion = eu-west-1\n")
    (tmp_path / "no-aws-credentials").write_text(
        "[audit]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    result = mpscan("scan", "--profile", "audit", "--db", "sqlite:///p.db")
    assert result.exit_code == 0, result.stderr
    assert query("sqlite:///p.db", "SELECT region FROM model_packages")[0][0] == "eu-west-1"


def test_credentials_never_appear_in_output_or_database(standin, sm, mpscan, monkeypatch):
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FQoGZXIvYXdzE-session-token-example")
    standin.faults.update(deny_regions=["eu-west-1"])
    result = mpscan("scan", "--regions", "us-east-1,eu-west-1", "--db", "sqlite:///c.db")
    assert result.exit_code == 3
    dump = json.dumps([list(map(str, r)) for r in query("sqlite:///c.db", "SELECT * FROM scans")])
    dump += json.dumps(
        [list(map(str, r)) for r in query("sqlite:///c.db", "SELECT * FROM scan_regions")]
    )
    for text in (result.stdout, result.stderr, dump):
        assert secret not in text and "session-token-example" not in text


def test_scan_help_documents_examples_and_exit_codes(mpscan):
    text = mpscan("scan", "--help").output
    assert "Examples:" in text and "--regions all" in text
    for code in (
        "0   complete",
        "1   nothing stored",
        "2   usage",
        "3   partial",
        "130 interrupted",
    ):
        assert code in text


def test_every_command_has_help_with_an_example_and_is_in_the_readme(mpscan):
    readme = (ROOT / "README.md").read_text()
    commands = [(name, cmd) for name, cmd in cli.commands.items()]
    commands += [(f"db {name}", cmd) for name, cmd in cli.commands["db"].commands.items()]
    for name, cmd in commands:
        assert f"mpscan {name}" in readme, f"README does not document `mpscan {name}`"
        assert "Example" in (cmd.help or ""), f"`mpscan {name} --help` has no example"


@pytest.fixture
def hostile_db(standin, sm, mpscan):
    make_group(sm["us-east-1"], "g", 1, ModelPackageDescription='=HYPERLINK("http://x","y")')
    make_unversioned(sm["us-east-1"], "u", ModelPackageDescription="<script>alert(1)</script>")
    assert mpscan("scan", "--regions", "us-east-1", "-q").exit_code == 0
    return "sqlite:///mpscan.db"


def test_query_csv_neutralises_formulas(hostile_db, mpscan):
    result = mpscan(
        "query",
        "SELECT model_package_description AS d FROM model_packages ORDER BY d",
        "--format",
        "csv",
    )
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["d"]
    assert sorted(r[0] for r in rows[1:]) == [
        '\'=HYPERLINK("http://x","y")',
        "<script>alert(1)</script>",
    ]


def test_query_json_is_an_array_of_objects(hostile_db, mpscan):
    result = mpscan(
        "query",
        "SELECT model_package_arn, inference_specification, creation_time FROM model_packages",
        "--format",
        "json",
    )
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and len(rows) == 2
    assert rows[0]["inference_specification"]["SupportedContentTypes"] == ["text/csv"]
    assert re.match(r"\d{4}-\d\d-\d\d", rows[0]["creation_time"])


def test_query_table_and_stdin(hostile_db, mpscan):
    result = mpscan("query", "-", input="SELECT count(*) AS n FROM model_packages")
    assert result.exit_code == 0
    assert "n" in result.stdout and "2" in result.stdout


def test_bad_sql_is_a_usage_error(hostile_db, mpscan):
    result = mpscan("query", "SELECT nope FROM nowhere")
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("mpscan: query error")


def test_query_on_missing_database_says_so(standin, mpscan):
    result = mpscan("query", "SELECT 1", "--db", "sqlite:///absent.db")
    assert result.exit_code == 1
    assert "does not exist" in one_line(result.stderr)
    assert not Path("absent.db").exists()


def test_regions_all_scans_every_enabled_region(standin, sm, mpscan):
    make_unversioned(sm["eu-west-1"], "m")
    result = mpscan("scan", "--regions", "all", "-q")
    assert result.exit_code == 0, result.stderr
    scanned = {r[0] for r in query("sqlite:///mpscan.db", "SELECT region FROM scan_regions")}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= scanned
    assert query("sqlite:///mpscan.db", "SELECT region FROM model_packages")[0][0] == "eu-west-1"


def test_database_url_from_the_environment(standin, mpscan, monkeypatch):
    monkeypatch.setenv("MPSCAN_DATABASE_URL", "sqlite:///from-env.db")
    assert mpscan("scan", "--regions", "us-east-1", "-q").exit_code == 0
    assert Path("from-env.db").exists() and not Path("mpscan.db").exists()


def test_endpoint_down_keeps_the_inventory_and_exits_1(standin, sm, mpscan, monkeypatch):
    make_unversioned(sm["us-east-1"], "m")
    assert mpscan("scan", "--regions", "us-east-1", "-q").exit_code == 0
    standin.faults.update(fail_operations={"ListModelPackages": "ServiceUnavailable"})

    result = mpscan("scan", "--regions", "us-east-1", "--max-attempts", "2")

    assert result.exit_code == 1
    assert "unavailable" in result.stderr
    assert query("sqlite:///mpscan.db", "SELECT count(*) FROM model_packages")[0][0] == 1


@pytest.mark.parametrize(
    "url", ["postgresql:/admin:s3cr3t-pw@db/x", "postgresql://admin:s3cr3t-pw@db:port/x"]
)
def test_malformed_database_url_is_a_usage_error_without_password(standin, mpscan, url):
    for args in (["scan", "--regions", "us-east-1"], ["query", "SELECT 1"]):
        result = mpscan(*args, "--db", url)
        assert result.exit_code == 2
        line = one_line(result.stderr)
        assert "invalid database URL" in line and "s3cr3t-pw" not in line


def test_sqlite_file_names_with_uri_characters(standin, sm, mpscan):
    make_unversioned(sm["us-east-1"], "m")
    db = "sqlite:///team#1 inventory?.db"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    result = mpscan(
        "query", "SELECT count(*) AS n FROM model_packages", "--db", db, "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "1"]


def test_readme_exit_codes_are_the_ones_mpscan_defines(mpscan):
    """Exit codes are a public contract kept in one place (scanner/errors.py)."""
    from scanner.errors import EXIT_CODES

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| code | meaning |") :].split("\n\n")[0]
    rows = [line for line in table.splitlines()[2:]]
    assert rows == [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items()]
    for code in EXIT_CODES:
        assert f"\n    {code:<4}" in mpscan("--help").output


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--concurrency", "abc"),
        ("demo", "--scale", "0"),
        ("query",),
        ("no-such-command",),
        ("check", "--fail-on", "urgent"),
    ],
)
def test_click_usage_errors_are_one_line_and_exit_2(mpscan, args):
    result = mpscan(*args)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("mpscan: usage error:") and "--help" in line


def test_every_command_lists_its_exit_codes(mpscan):
    """Each command's --help ends with the exit codes it uses (scanner/errors.py)."""
    from scanner.cli import cli

    def walk(group, path):
        for name, command in group.commands.items():
            yield (*path, name)
            if hasattr(command, "commands"):
                yield from walk(command, (*path, name))

    paths = list(walk(cli, ()))
    assert ("rules",) in paths and ("demo",) in paths and ("db", "upgrade") in paths
    for path in paths:
        command = cli
        for name in path:
            command = command.commands[name]
        if hasattr(command, "commands"):
            continue  # a group: its subcommands say
        shown = mpscan(*path, "--help")
        assert shown.exit_code == 0, path
        assert "Exit codes:" in shown.stdout, f"mpscan {' '.join(path)} --help"
        assert "  0   " in shown.stdout, path


def test_query_on_a_file_that_is_not_an_mpscan_database_exits_1(standin, mpscan, tmp_path):
    import sqlite3

    html = tmp_path / "report.html"
    html.write_text("<!doctype html><title>not a database</title>" * 100)
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id integer)")
    for path in (html, other):
        result = mpscan("query", "--db", f"sqlite:///{path}", "SELECT 1")
        assert result.exit_code == 1, (path, result.output)
        assert len(result.stderr.strip().splitlines()) == 1
