"""Exclusive scans: each scan's owner token and heartbeat, and SQLite's scan lock row.

Scans recorded before this revision have no heartbeat: one still marked running is taken
for dead by the next scan.

Revision ID: 0004
Revises: 0003
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(
            sa.Column(
                "owner",
                sa.String(64),
                nullable=True,
                comment="a random token of the run that holds this scan",
            )
        )
        batch.add_column(
            sa.Column(
                "heartbeat_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="refreshed while the scan runs; a running scan whose heartbeat is "
                "older than scan.stale_after_seconds is dead",
            )
        )
    op.create_table(
        "scan_lock",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column(
            "scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
            comment="the holder's scan, once recorded",
        ),
        sa.Column(
            "owner", sa.String(64), nullable=False, comment="the holder's token (scans.owner)"
        ),
        sa.Column(
            "heartbeat_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="refreshed by the holder; older than scan.stale_after_seconds: free to take",
        ),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name=op.f("fk_scan_lock_scan_id_scans")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scan_lock")),
    )


def downgrade() -> None:
    op.drop_table("scan_lock")
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 35):
        # Natively: rebuilding `scans` (batch mode) drops it, which foreign keys refuse
        # while scan_regions and the inventory point at it.
        op.execute("ALTER TABLE scans DROP COLUMN heartbeat_at")
        op.execute("ALTER TABLE scans DROP COLUMN owner")
        return
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
