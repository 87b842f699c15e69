"""`mpscan query` output: the same on SQLite and PostgreSQL, whole values, useful errors,
and the README's example queries, all against the demo registry scanned into both."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import create_engine, text

from scanner.cli import cli
from scanner.cli.render import render_table
from scanner.standin.seed import seed_registry
from tests.conftest import REGIONS, _postgres_url

ROOT = Path(__file__).resolve().parents[1]
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")


@pytest.fixture(scope="module")
def demo_dbs(_standin, tmp_path_factory):
    """The demo registry, scanned once into SQLite and once into PostgreSQL."""
    base = _postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    urls = {
        "sqlite": f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}",
        "postgresql": f"{base}{sep}options=-csearch_path%3D{schema}",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("AWS_", "MPSCAN_")):
                mp.delenv(name)
        mp.setenv("AWS_ENDPOINT_URL", _standin.url)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        _standin.reset()
        seed_registry(_standin.url, list(REGIONS), scale=1)
        for url in urls.values():
            result = CliRunner().invoke(cli, ["scan", "--regions", ",".join(REGIONS), "--db", url])
            assert result.exit_code == 0, result.output
        _standin.reset()
    yield urls
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def run(url: str, sql: str, *args: str):
    return CliRunner().invoke(cli, ["query", sql, "--db", url, *args], catch_exceptions=False)


def both(demo_dbs, sql: str, fmt: str) -> dict[str, str]:
    out = {}
    for backend, url in demo_dbs.items():
        result = run(url, sql, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        out[backend] = result.stdout
    return out


GROUPS = """SELECT model_package_group_arn, shared, shared AS is_shared, creation_time,
  first_seen_at, resource_policy, tags, raw FROM model_package_groups
  ORDER BY account_id, model_package_group_arn"""
PACKAGES = """SELECT model_package_arn, certify_for_marketplace, creation_time, last_seen_at,
  inference_specification, model_card, customer_metadata_properties, model_package_version
  FROM model_packages ORDER BY model_package_arn"""
SEEN = ("first_seen_at", "last_seen_at")  # the time of each scan: differs by nature


def _without_scan_times(records: list[dict]) -> list[dict]:
    for record in records:
        for name in SEEN:
            if name in record:
                assert ISO_UTC.fullmatch(record.pop(name)), record
    return records


@pytest.mark.parametrize("sql", [GROUPS, PACKAGES])
def test_json_and_csv_are_the_same_on_sqlite_and_postgresql(demo_dbs, sql):
    as_json = {k: json.loads(v) for k, v in both(demo_dbs, sql, "json").items()}
    records = _without_scan_times(as_json["sqlite"])
    _without_scan_times(as_json["postgresql"])
    assert json.dumps(as_json["sqlite"]) == json.dumps(as_json["postgresql"])  # key order too
    first = records[0]
    boolean = "shared" if "shared" in first else "certify_for_marketplace"
    assert all(isinstance(r[boolean], bool) for r in records)
    assert all(ISO_UTC.fullmatch(r["creation_time"]) for r in records)
    json_column = "raw" if "raw" in first else "inference_specification"
    assert all(isinstance(r[json_column], dict) for r in records)

    as_csv = {
        k: _without_scan_times(list(csv.DictReader(io.StringIO(v))))
        for k, v in both(demo_dbs, sql, "csv").items()
    }
    assert as_csv["sqlite"] == as_csv["postgresql"]
    assert {r[boolean] for r in as_csv["sqlite"]} <= {"true", "false"}


def test_a_computed_value_keeps_its_type_when_named_after_its_column(demo_dbs):
    sql = "SELECT max(creation_time) AS creation_time FROM model_packages"
    outputs = both(demo_dbs, sql, "json")
    assert outputs["sqlite"] == outputs["postgresql"]
    assert ISO_UTC.fullmatch(json.loads(outputs["sqlite"])[0]["creation_time"])


def test_piped_table_keeps_every_value_whole(demo_dbs):
    url = demo_dbs["sqlite"]
    sql = "SELECT model_package_arn, model_package_description, creation_time FROM model_packages"
    result = run(url, sql)
    assert result.exit_code == 0
    records = json.loads(run(url, sql, "--format", "json").stdout)
    lines = result.stdout.splitlines()
    for record in records:
        assert any(
            record["model_package_arn"] in line
            and record["model_package_description"] in line
            and record["creation_time"] in line
            for line in lines
        ), record
    assert "…" not in result.stdout


ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-detector/12"


def _column(output: str, index: int) -> list[str]:
    """The text of one column, line by line, from a rendered table's body."""
    body = [line for line in output.splitlines() if line.startswith("│")]
    return [line.split("│")[index + 1].strip() for line in body]


def test_terminal_table_keeps_names_whole_and_folds_the_rest():
    console = Console(width=80, force_terminal=True, file=io.StringIO(), color_system=None)
    names = ["fraud-detector-for-card-payments-eu", "churn"]
    rows = [[n, "a description long enough to need folding " * 3, "2026"] for n in names]
    whole = render_table(console, ["model_package_group_name", "description", "v"], rows, fit=True)
    output = console.file.getvalue()
    assert whole
    assert [c for c in _column(output, 0) if c] == names
    assert " ".join(_column(output, 1)).split() == " ".join(r[1] for r in rows).split()
    assert max(len(line) for line in output.splitlines()) <= 80


def test_terminal_too_narrow_for_arns_folds_them_and_says_so():
    console = Console(width=80, force_terminal=True, file=io.StringIO(), color_system=None)
    rows = [[ARN, "a description", "2026-11-29T21:44:27.123456+00:00"]]
    whole = render_table(
        console, ["model_package_arn", "description", "creation_time"], rows, fit=True
    )
    output = console.file.getvalue()
    assert not whole
    assert "".join(_column(output, 0)) == ARN  # folded, never cut
    assert "…" not in output


def test_unknown_column_on_sqlite_points_to_mpscan_schema(demo_dbs):
    result = run(demo_dbs["sqlite"], "SELECT foo FROM model_packages")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "no such column: foo" in line and "mpscan schema model_packages" in line
    result = run(demo_dbs["sqlite"], "SELECT foo FROM nowhere")
    (line,) = result.stderr.splitlines()
    assert "no such table: nowhere" in line and "mpscan tables" in line


def test_unknown_column_on_postgresql_is_one_line_saying_where(demo_dbs):
    result = run(demo_dbs["postgresql"], "SELECT model_package_arn, foo FROM model_packages")
    assert result.exit_code == 2
    (message,) = result.stderr.splitlines()
    assert message.startswith('mpscan: query error: column "foo" does not exist')
    assert '(at character 27: "foo FROM model_packages")' in message
    assert "mpscan schema model_packages" in message


def readme_queries() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Example queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    return [s.strip() for block in blocks for s in block.split(";") if s.strip()]


def test_readme_has_example_queries():
    assert len(readme_queries()) >= 5


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_readme_example_query_finds_rows_in_the_demo(demo_dbs, backend):
    empty = []
    for sql in readme_queries():
        result = run(demo_dbs[backend], sql, "--format", "json")
        assert result.exit_code == 0, f"{sql}\n{result.stderr}"
        if not json.loads(result.stdout):
            empty.append(sql)
    assert not empty, "no rows on the demo data:\n\n" + "\n\n".join(empty)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_narrow_terminal_says_how_to_get_whole_values(monkeypatch, capsys):
    from scanner.cli.render import NARROW_HINT, print_table

    monkeypatch.setattr("sys.stdout", _Terminal())
    monkeypatch.setenv("COLUMNS", "80")
    print_table(["model_package_arn", "description"], [[ARN, "d"]])
    assert capsys.readouterr().err.strip() == NARROW_HINT
    print_table(["model_package_group_name", "description"], [["fraud-detector", "d"]])
    assert capsys.readouterr().err == ""


def test_piped_rendering_is_as_wide_as_the_content():
    console = Console(width=80, file=io.StringIO(), color_system=None)
    long = "a\tb " + "x" * 150
    assert render_table(console, ["model_package_arn", "description"], [[ARN, long]], fit=False)
    (line,) = [line for line in console.file.getvalue().splitlines() if ARN in line]
    assert long.expandtabs() in line
