"""`mpscan report --format ocsf`: every finding an OCSF Detection Finding that py-ocsf-models
(the library Prowler builds its OCSF output with) takes whole, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import py_ocsf_models
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from scanner.reports import ocsf
from scanner.reports.data import fingerprint
from scanner.scheduler import prune_reports, report_name
from tests.export_support import scanned_with_every_status
from tests.report_support import SCRIPT


def report(mpscan, db_url, fmt):
    result = mpscan("report", "--format", fmt, "--db", db_url)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_every_finding_is_a_detection_finding_py_ocsf_models_takes_whole(
    standin, sm, mpscan, db_url
):
    arns = scanned_with_every_status(sm, mpscan, db_url)
    text = report(mpscan, db_url, "ocsf")
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]"  # one finding a line, as written
    objects = json.loads(text)
    assert len(objects) == len(lines) - 2
    rows = list(csv.DictReader(io.StringIO(report(mpscan, db_url, "csv"))))
    assert len(objects) == len(rows) > 0
    for obj in objects:
        model = DetectionFinding.model_validate(obj)
        # nothing the library does not know (it ignores unknown attributes) and nothing lost
        assert model.model_dump(mode="json", exclude_none=True) == obj
    assert ocsf.OCSF_VERSION == py_ocsf_models.OCSF_VERSION
    by_key = {(o["finding_info"]["analytic"]["uid"], o["resources"][0]["uid"]): o for o in objects}
    for row in rows:
        obj = by_key[(row["rule_id"], row["resource_arn"])]
        assert obj["class_uid"] == 2004 and obj["category_uid"] == 2
        assert obj["type_uid"] == 200400 + obj["activity_id"]
        assert obj["severity"] == ocsf.SEVERITY[row["severity"]][1]
        assert obj["status_code"] == row["status"]
        assert obj["finding_info"]["uid"] == fingerprint(row)
        assert obj["finding_info"]["title"] == row["rule_title"]
        assert obj["finding_info"]["first_seen_time"] <= obj["finding_info"]["last_seen_time"]
        [resource] = obj["resources"]
        assert resource["region"] == "us-east-1" and resource["cloud_partition"] == "aws"
        assert obj["cloud"]["provider"] == "AWS" and obj["cloud"]["account"]["uid"] == (
            "123456789012"
        )
        assert obj["metadata"]["product"]["name"] == "mpscan"
        assert obj["metadata"]["product"]["version"]
    statuses = {o["status_code"]: (o["status_id"], o["status"]) for o in objects}
    assert statuses == {"fail": (1, "New"), "waived": (3, "Suppressed"), "pass": (4, "Resolved")}
    gone = [o for o in objects if o["resources"][0]["uid"] == arns["formula"][0]]
    assert gone and all(o["activity_name"] == "Close" and o["status_id"] == 4 for o in gone)
    [waived] = [o for o in objects if o["status_code"] == "waived"]
    assert waived["unmapped"]["mpscan"]["waiver"]["owner"] == "ml-platform@example.com"
    types = {o["resources"][0]["type"] for o in objects}
    assert types <= {"AWS::SageMaker::ModelPackage", "AWS::SageMaker::ModelPackageGroup"}
    # text from AWS is data: as it came, in the finding's detail
    assert any(o["status_detail"] == SCRIPT for o in objects)


def test_an_empty_report_is_an_empty_array(standin, mpscan, tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    assert mpscan("scan", "--regions", "us-east-1", "--db", db, "-q").exit_code == 0
    assert json.loads(report(mpscan, db, "ocsf")) == []


def test_report_jobs_name_and_rotate_ocsf_and_asff_files_of_their_own(tmp_path):
    start = datetime(2026, 12, 1, tzinfo=UTC)
    for fmt in ("json", "ocsf", "asff"):
        for minutes in (0, 1):
            (tmp_path / report_name(fmt, start + timedelta(minutes=minutes))).write_text("[]")
    assert report_name("ocsf", start) == "mpscan-report-20261201T000000.000Z.ocsf.json"
    gone = prune_reports(tmp_path, "json", keep=1)
    assert [p.name for p in gone] == ["mpscan-report-20261201T000000.000Z.json"]
    assert len(list(tmp_path.glob("*.ocsf.json"))) == 2 == len(list(tmp_path.glob("*.asff.json")))
    assert len(prune_reports(tmp_path, "ocsf", keep=1)) == 1
