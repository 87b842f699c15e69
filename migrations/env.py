"""Alembic environment: the engine comes from mpscan (scanner.store.db.alembic_config)."""

from alembic import context
from sqlalchemy import create_engine

from scanner.store.schema import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line, e.g. to autogenerate a revision
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///mpscan.db")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
