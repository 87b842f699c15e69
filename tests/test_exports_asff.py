"""`mpscan report --format asff`: every finding an AwsSecurityFinding that botocore's
`securityhub` model takes (required and known members, enums, patterns, documented limits),
on SQLite and PostgreSQL; the lifecycle; long and hostile text cut to one line."""

from __future__ import annotations

import csv
import io
import json

import pytest

from scanner.reports import asff
from tests.export_support import asff_problems, documented_limits, scanned_with_every_status
from tests.report_support import SCRIPT, write_config
from tests.support import make_group

ACCOUNT = "123456789012"


def report(mpscan, db_url, fmt, *extra):
    result = mpscan("report", "--format", fmt, "--db", db_url, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_every_finding_is_one_botocore_takes_with_its_lifecycle(standin, sm, mpscan, db_url):
    arns = scanned_with_every_status(sm, mpscan, db_url)
    text = report(mpscan, db_url, "asff")
    findings = json.loads(text)
    assert len(findings) == len(text.splitlines()) - 2  # one a line
    rows = list(csv.DictReader(io.StringIO(report(mpscan, db_url, "csv"))))
    assert len(findings) == len(rows) > 0
    for start in range(0, len(findings), 100):  # as BatchImportFindings takes them
        assert asff_problems(findings[start : start + 100]) == []
    assert len({f["Id"] for f in findings}) == len(findings)
    for f in findings:
        assert f["SchemaVersion"] == "2018-10-08" and f["AwsAccountId"] == ACCOUNT
        assert f["ProductArn"] == (
            f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
        )
        [resource] = f["Resources"]
        assert resource["Id"].startswith("arn:aws:sagemaker:us-east-1:")
        assert resource["Partition"] == "aws" and resource["Region"] == "us-east-1"
        assert f["CreatedAt"] <= f["UpdatedAt"] and f["FirstObservedAt"] <= f["LastObservedAt"]
        assert f["Remediation"]["Recommendation"]["Text"]
        assert len(json.dumps(f).encode()) <= asff.MAX_FINDING_BYTES
    lifecycle = {
        (f["ProductFields"]["mpscan/Status"], f["Compliance"]["Status"], f["Workflow"]["Status"])
        + (f["RecordState"],)
        for f in findings
    }
    assert lifecycle == {
        ("fail", "FAILED", "NEW", "ACTIVE"),
        ("waived", "FAILED", "SUPPRESSED", "ACTIVE"),
        ("pass", "PASSED", "RESOLVED", "ARCHIVED"),
    }
    gone = [f for f in findings if f["Resources"][0]["Id"] == arns["formula"][0]]
    assert gone and all(f["RecordState"] == "ARCHIVED" for f in gone)
    mp001 = [f for f in findings if f["GeneratorId"] == "MP-001"]
    assert mp001 and all(f["Severity"]["Label"] == "HIGH" for f in mp001)
    # the state as of the first scan, when the deleted package's findings were open
    first = json.loads(report(mpscan, db_url, "asff", "--scan", "1"))
    assert asff_problems(first[:100]) == []
    assert {f["RecordState"] for f in first if f["Resources"][0]["Id"] == arns["formula"][0]} == {
        "ACTIVE"
    }
    # the same finding keeps its Id: a second report names the same ones
    assert {f["Id"] for f in json.loads(report(mpscan, db_url, "asff"))} == {
        f["Id"] for f in findings
    }


@pytest.mark.parametrize(
    ("member", "shape"),
    [
        ("Id", "AwsSecurityFinding"),
        ("GeneratorId", "AwsSecurityFinding"),
        ("Title", "AwsSecurityFinding"),
        ("Description", "AwsSecurityFinding"),
        ("Recommendation.Text", "Recommendation"),
        ("Resource.Type", "Resource"),
        ("Severity.Original", "Severity"),
    ],
)
def test_the_limits_are_those_botocores_model_documents(member, shape):
    assert documented_limits(shape, member.rsplit(".", 1)[-1])[0] == asff.LIMITS[member]


def test_long_and_hostile_text_is_cut_to_one_line_within_the_limits(standin, sm, mpscan):
    db = "sqlite:///long.db"
    write_config(db_url=db)  # ORG-001 puts each package's description in its message
    long_text = "first line\r\n" + SCRIPT + "\x1b[2J\t" + "x" * 3000
    make_group(sm["us-east-1"], "long", 1, ModelPackageDescription=long_text)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    findings = json.loads(report(mpscan, db, "asff"))
    [long] = [f for f in findings if f["GeneratorId"] == "ORG-001"]
    assert asff_problems([long]) == []
    description = long["Description"]
    assert len(description) == asff.LIMITS["Description"] and description.endswith("…")
    # as data, on one line: the escape sequence without its ESC is plain text
    assert description.startswith("first line " + SCRIPT + " [2J x")
    assert asff.one_line(" \n\t ", 10) is None
