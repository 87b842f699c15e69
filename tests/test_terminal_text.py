"""Text from AWS is data on a terminal and in the database: control characters are shown
escaped in every table (query, diff, status, rules), and a NUL, which no engine holds as
text, is stored as U+FFFD on both engines with the rest of the value intact."""

from __future__ import annotations

import json

from tests.conftest import query
from tests.support import make_unversioned

HOSTILE = "clear\x1b[2J title\x1b]0;pwned\x07 link\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\ cr\rend"
NUL = "before\x00after"


def scan(mpscan, db_url):
    result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")
    assert result.exit_code == 0, result.stderr
    return result


def test_tables_show_control_characters_escaped(sm, mpscan, db_url):
    arn = make_unversioned(sm["us-east-1"], "odd")
    sm["us-east-1"].update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="plain"
    )
    scan(mpscan, db_url)
    sm["us-east-1"].update_model_package(ModelPackageArn=arn, ApprovalDescription=HOSTILE)
    scan(mpscan, db_url)

    shown = mpscan(
        "query", "--db", db_url, "SELECT approval_description FROM model_packages"
    ).stdout
    changes = mpscan("diff", "--db", db_url).stdout
    for out in (shown, changes):
        assert "\x1b" not in out and "\x07" not in out and "\r" not in out
        assert "\\x1b[2J" in out and "\\x1b]0;pwned\\x07" in out and "\\r" in out
    # JSON escapes them; the value itself is kept exactly
    as_json = mpscan(
        "query", "--db", db_url, "--format", "json",
        "SELECT approval_description FROM model_packages",
    ).stdout  # fmt: skip
    assert "\x1b" not in as_json
    assert json.loads(as_json) == [{"approval_description": HOSTILE}]


def test_a_nul_is_stored_as_the_replacement_character_on_both_engines(sm, mpscan, db_url):
    arn = make_unversioned(
        sm["us-east-1"],
        "nul",
        Task=NUL,
    )
    sm["us-east-1"].update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=NUL
    )
    make_unversioned(sm["us-east-1"], "second")

    result = scan(mpscan, db_url)  # exit 0: the region is stored, not failed

    assert "could not be written" not in result.stderr
    kept = "before\ufffdafter"
    [row] = query(
        db_url,
        "SELECT task, approval_description, raw FROM model_packages "
        "WHERE model_package_name = 'nul'",
    )
    task, approval, raw = row  # columns, and the JSON of the whole response (jsonb)
    raw = json.loads(raw) if isinstance(raw, str) else raw
    assert (task, approval) == (kept, kept)
    assert (raw["Task"], raw["ApprovalDescription"]) == (kept, kept)
    found = query(
        db_url,
        "SELECT model_package_name FROM model_packages WHERE approval_description LIKE '%after'",
    )
    assert [r[0] for r in found] == ["nul"]
    assert query(db_url, "SELECT count(*) FROM model_packages")[0][0] == 2


def test_piped_tables_keep_whole_values(sm, mpscan, db_url):
    group = "a-model-package-group-whose-name-is-long-enough-to-be-cut-" + "x" * 40
    sm["us-east-1"].create_model_package_group(ModelPackageGroupName=group)
    scan(mpscan, db_url)
    [arn] = query(db_url, "SELECT model_package_group_arn FROM model_package_groups")[0]

    assert arn in mpscan("diff", "--db", db_url).stdout
    status = mpscan("status", "--db", db_url).stdout
    assert "123456789012" in status and "us-east-1" in status
    rules = mpscan("rules").stdout
    assert "Model artifact or metrics outside the allowed buckets" in rules
