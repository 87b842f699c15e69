"""Text from AWS is data in every CSV (query, diff, report): a CR or LF inside a value is
quoted and never starts a row; small things a new user tripped on (durations, --fail-on)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.support import make_unversioned
from tests.test_sql_boundaries import custom_rule

SPLIT = "approved\r=1+1"  # a bare CR, then what a spreadsheet would run if it began a row
CHANGED = "line one\nline two\r\n=2+2"


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_a_cr_inside_a_value_stays_inside_its_csv_cell(sm, mpscan, db_url):
    arn = make_unversioned(sm["us-east-1"], "crlf")
    sm["us-east-1"].update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=SPLIT
    )
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    sm["us-east-1"].update_model_package(ModelPackageArn=arn, ApprovalDescription=CHANGED)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0

    out = mpscan(
        "query", "--db", db_url, "--format", "csv",
        "SELECT model_package_name, approval_description FROM model_packages",
    ).stdout_bytes.decode()  # fmt: skip
    assert rows_of(out) == [["model_package_name", "approval_description"], ["crlf", CHANGED]]

    diff = rows_of(mpscan("diff", "--db", db_url, "--format", "csv").stdout_bytes.decode())
    modified = [r for r in diff[1:] if "approval_description" in r]
    assert len(modified) == 1 and SPLIT in modified[0] and CHANGED in modified[0]
    assert all(len(r) == len(diff[0]) for r in diff)

    Path("mpscan.toml").write_text(
        custom_rule(
            "ACME-904",
            "SELECT model_package_arn AS resource_arn, approval_description AS message "
            "FROM model_packages",
        )
    )
    report = rows_of(
        mpscan("report", "--db", db_url, "--format", "csv", "-o", "-").stdout_bytes.decode()
    )
    messages = [dict(zip(report[0], r, strict=True))["message"] for r in report[1:]]
    assert CHANGED in messages
    assert all(len(r) == len(report[0]) for r in report)


@pytest.mark.parametrize("value", ["90", "1m", "30 days", "-1d", "0s"])
def test_a_duration_needs_an_unambiguous_unit(standin, mpscan, value):
    result = mpscan("prune", "--older-than", value, "--dry-run")
    assert result.exit_code == 2
    assert "--older-than" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    if value == "1m":
        assert "ambiguous" in result.stderr and "1min" in result.stderr


def test_fail_on_takes_any_case(sm, mpscan, db_url):
    make_unversioned(sm["us-east-1"], "no-kms")
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    assert mpscan("check", "--db", db_url, "--fail-on", "HIGH").exit_code == 4
    assert mpscan("check", "--db", db_url, "--fail-on", "Critical").exit_code == 0


ESCAPES = "\x1b[2J\x1b]0;owned\x07 cleared"  # clear screen, then an OSC window title
ESCAPES_LATER = "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"  # an OSC-8 hyperlink


def test_a_control_character_in_a_csv_value_is_kept_and_quoted(sm, mpscan, db_url):
    arn = make_unversioned(sm["us-east-1"], "esc")
    sm["us-east-1"].update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=ESCAPES
    )
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    sql = "SELECT model_package_name, approval_description FROM model_packages"
    query = mpscan("query", "--db", db_url, "--format", "csv", sql).stdout_bytes.decode()
    assert rows_of(query)[1] == ["esc", ESCAPES]
    assert f'"{ESCAPES}"' in query

    sm["us-east-1"].update_model_package(ModelPackageArn=arn, ApprovalDescription=ESCAPES_LATER)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    diff = mpscan("diff", "--db", db_url, "--format", "csv").stdout_bytes.decode()
    assert f'"{ESCAPES}"' in diff and f'"{ESCAPES_LATER}"' in diff

    Path("mpscan.toml").write_text(
        custom_rule(
            "ACME-905",
            "SELECT model_package_arn AS resource_arn, approval_description AS message "
            "FROM model_packages",
        )
    )
    report = mpscan("report", "--db", db_url, "--format", "csv", "-o", "-").stdout_bytes.decode()
    assert f'"{ESCAPES_LATER}"' in report
