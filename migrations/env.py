"""Alembic environment: the engine comes from mpscan (scanner.store.db.alembic_config)."""

from alembic import context
from sqlalchemy import create_engine

from scanner.store.schema import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line, e.g. to autogenerate a revision
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///mpscan.db")

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename): with foreign keys on, dropping
        # the old table would cascade to every child row. The pragma only works outside a
        # transaction, so it is set before the migration's transaction begins.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    with connection.begin():
        if connection.dialect.name == "postgresql":
            # Concurrent first runs (two scans, a scan and `db upgrade`) migrate one after
            # the other: the second finds the schema current and does nothing. The lock
            # ends with this transaction.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1836086115, 1)")
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=sqlite,
            compare_type=True,
        )
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
