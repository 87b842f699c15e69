"""Schema only through Alembic, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from scanner.store.db import (
    HEAD_REVISION,
    alembic_config,
    at_head,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from scanner.store.schema import Base


def test_upgrade_matches_the_models_and_downgrades_cleanly(db_url, mpscan):
    result = mpscan("db", "upgrade", "--db", db_url)
    assert result.exit_code == 0, result.output
    engine = make_engine(db_url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == [], "models and migrations disagree: write a new revision"
        assert f"current: {head_revision(engine)}" in mpscan("db", "current", "--db", db_url).output

        command.downgrade(alembic_config(engine), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(alembic_config(engine), "head")
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_scan_creates_and_migrates_a_new_database(standin, mpscan, db_url):
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision(engine)
    finally:
        engine.dispose()


def test_the_head_revision_known_without_alembic_is_alembics():
    assert HEAD_REVISION == head_revision(make_engine("sqlite://"))


def test_scan_migrates_an_older_schema_and_refuses_a_newer_one(standin, mpscan, db_url):
    scan = ("scan", "--regions", "us-east-1", "--db", db_url, "-q")
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0004")
        assert not at_head(engine)
        assert mpscan(*scan).exit_code == 0
        assert current_revision(engine) == HEAD_REVISION and at_head(engine)
        assert "resource_changes" in inspect(engine).get_table_names()  # 0005 was applied

        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        result = mpscan(*scan)
        assert result.exit_code == 1
        assert "'9999_from_the_future', unknown to this mpscan" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        engine.dispose()


def test_upgrading_a_scanned_database_keeps_every_row(mpscan, db_url):
    """Rebuilding tables on SQLite must not cascade-delete child rows (tags, containers...)."""
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/u"
    engine = make_engine(db_url)
    try:
        command.upgrade(alembic_config(engine), "0001")
        # Today's scan cannot write 0001's schema, so fill its tables through its own
        # columns: the rows a scan of that version left behind.
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO scans (id, started_at, status, packages_seen, groups_seen, "
                "mpscan_version) VALUES (1, '2026-01-01 00:00:00', 'complete', 1, 0, '0.1.0')"
            )
            conn.exec_driver_sql(
                "INSERT INTO model_packages (model_package_arn, account_id, region, "
                "model_package_type, raw, first_seen_at, last_seen_at, first_seen_scan_id, "
                f"last_seen_scan_id) VALUES ('{arn}', '123456789012', 'us-east-1', "
                "'Unversioned', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, 1)"
            )
            for table, columns in (
                ("model_package_tags", "key, value"),
                ("model_package_containers", "specification, container_index, image, raw"),
                ("model_package_validation_statuses", "kind, name, status"),
                ("model_package_metric_sources", "section, category, name, s3_uri"),
            ):
                values = {
                    "model_package_tags": "'owner', 'ml'",
                    "model_package_containers": "'InferenceSpecification', 0, 'img', '{}'",
                    "model_package_validation_statuses": "'ValidationStatuses', 'n', 'Completed'",
                    "model_package_metric_sources": "'ModelMetrics', 'Bias', 'Report', 's3://b/k'",
                }[table]
                conn.exec_driver_sql(
                    f"INSERT INTO {table} (model_package_arn, last_seen_scan_id, {columns}) "
                    f"VALUES ('{arn}', 1, {values})"
                )
        tables = (
            "model_packages",
            "model_package_tags",
            "model_package_containers",
            "model_package_validation_statuses",
            "model_package_metric_sources",
        )
        before = {t: query_count(engine, t) for t in tables}
        assert all(n == 1 for n in before.values())

        assert mpscan("db", "upgrade", "--db", db_url).exit_code == 0

        assert {t: query_count(engine, t) for t in tables} == before
    finally:
        engine.dispose()


def query_count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()


def test_the_container_images_of_stored_packages_are_filled_in(sm, mpscan, db_url):
    """Migration 0010 lifts each stored package's images out of its specifications exactly
    as a scan's transform does: MP-004 judges an upgraded inventory as a new scan would."""
    from tests.conftest import query
    from tests.support import make_group

    make_group(sm["us-east-1"], "g", 2)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    import json

    sql = "SELECT model_package_arn, container_images FROM model_packages ORDER BY 1"

    def stored():  # SQLite hands JSON back as its text
        return [(a, json.loads(i) if isinstance(i, str) else i) for a, i in query(db_url, sql)]

    scanned = stored()
    assert len(scanned) == 2 and all(images and images[0]["image"] for _, images in scanned)

    engine = make_engine(db_url)
    try:
        command.downgrade(alembic_config(engine), "0009")
        assert "container_images" not in {c["name"] for c in inspect(engine).get_columns(
            "model_packages")}  # fmt: skip
    finally:
        engine.dispose()
    assert mpscan("db", "upgrade", "--db", db_url).exit_code == 0
    assert stored() == scanned
