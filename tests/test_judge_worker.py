"""A large judgement in a worker process (scanner.app.judge_worker), on both backends: the
same findings as one process gives, and a worker that dies is the evaluation's failure,
with nothing written. Real scans of the stand-in, a real interpreter for the worker; only
the size from which a worker is used is lowered, so that a small inventory takes that path."""

from __future__ import annotations

import logging

import pytest

from scanner.app import judge_worker
from scanner.app.judging import judge_and_persist
from scanner.config import load_settings
from scanner.errors import JudgeError
from scanner.rules import catalog
from scanner.store.db import make_engine
from tests.support import make_group, make_unversioned
from tests.test_findings import custom, write_config

VERDICT = "rule_id, resource_arn, account_id, region, resource_type, severity, status, message"


def verdicts(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                f"SELECT {VERDICT} FROM findings ORDER BY rule_id, resource_arn"
            )
        ]


@pytest.fixture
def inventory(sm, mpscan, db_url):
    """Packages and groups in two regions, a custom SQL rule in force (the worker opens a
    read-only engine of its own for it), stored by a scan judged in this process."""
    make_group(sm["us-east-1"], "churn", 3)
    make_unversioned(sm["eu-west-1"], "bare")
    make_group(sm["eu-west-1"], "empty")
    sql = (
        "SELECT model_package_arn AS resource_arn, 'no description' AS message "
        "FROM model_packages WHERE model_package_description IS NULL"
    )
    write_config("[[rules.custom]]\n" + custom("ACME-001", sql))
    scan = ("scan", "--regions", "us-east-1,eu-west-1", "--db", db_url, "-q")
    assert mpscan(*scan).exit_code == 0
    engine = make_engine(db_url)
    yield engine, catalog.load(load_settings(None))
    engine.dispose()


def test_a_worker_judges_as_this_process_does(inventory, monkeypatch, caplog):
    engine, rules = inventory
    alone = verdicts(engine)
    assert any(v[0] == "ACME-001" for v in alone) and any(v[0] == "MP-001" for v in alone)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM finding_events")
        conn.exec_driver_sql("DELETE FROM findings")

    monkeypatch.setattr(judge_worker, "FROM", 1)
    started = []

    class Recorded(judge_worker.subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(judge_worker.subprocess, "Popen", Recorded)
    with caplog.at_level(logging.DEBUG, logger="scanner.app.judge_worker"):
        first = judge_and_persist(engine, rules)
    assert "judging in a worker process" in caplog.text
    assert [p.returncode for p in started] == [0]  # it ended by itself, not killed
    assert verdicts(engine) == alone
    assert first.counts.new == len(alone) and first.resources == 4 + 2  # packages, groups
    assert first.judged_rules == [r.id for r in rules.enabled()]

    again = judge_and_persist(engine, rules)  # a re-judge: the worker's, nothing changes
    assert (again.counts.new, again.counts.resolved, again.counts.open) == (0, 0, len(alone))
    with engine.connect() as conn:
        events = conn.exec_driver_sql("SELECT count(*) FROM finding_events").scalar()
    assert events == len(alone)  # one `new` event each, written page by page


def test_a_worker_that_dies_fails_the_evaluation_and_writes_nothing(inventory, monkeypatch):
    """Killed as it starts (as the OOM killer would): one clear error, and the findings
    the scan left are still there, untouched."""
    engine, rules = inventory
    before = verdicts(engine)
    monkeypatch.setattr(judge_worker, "FROM", 1)
    started = []

    class Killed(judge_worker.subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)
            self.kill()

    monkeypatch.setattr(judge_worker.subprocess, "Popen", Killed)
    with pytest.raises(JudgeError, match=r"the judging worker ended without its verdicts"):
        judge_and_persist(engine, rules)
    assert started[0].returncode is not None  # reaped, not left behind
    assert verdicts(engine) == before
