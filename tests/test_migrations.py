"""Schema only through Alembic, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from scanner.store.db import alembic_config, head_revision, make_engine
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
