"""findings: rule results per resource over time, and their changes (scan ids without
foreign keys: PostgreSQL checks each row by row, most of a bulk evaluation's time)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 22:18:57.187907
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("resource_arn", sa.String(length=2048), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "resource_type",
            sa.String(length=32),
            nullable=False,
            comment="model_package or model_package_group",
        ),
        sa.Column(
            "severity",
            sa.String(length=16),
            nullable=False,
            comment="critical, high, medium, low or info (after config overrides)",
        ),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="fail, error (data unknown), waived, or pass (resolved)",
        ),
        sa.Column("message", sa.Text(), nullable=False, comment="what the rule saw"),
        sa.Column(
            "scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan whose inventory was last judged for this finding",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "first_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when it was last judged",
        ),
        sa.Column(
            "opened_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="where the current open period began (new or regressed)",
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "resolved_scan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "regressions", sa.Integer(), nullable=False, comment="times it failed after resolving"
        ),
        sa.Column("waiver_reason", sa.Text(), nullable=True),
        sa.Column("waiver_owner", sa.Text(), nullable=True),
        sa.Column(
            "waiver_expires",
            sa.Date(),
            nullable=True,
            comment="the waiver's last day; a finding past it is fail again, with the note",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint(
            "rule_id", "resource_arn", "account_id", name=op.f("uq_findings_rule_id")
        ),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_scan_id"), ["scan_id"], unique=False)
        batch_op.create_index("ix_findings_scope", ["account_id", "region"], unique=False)
        batch_op.create_index("ix_findings_status", ["status", "severity"], unique=False)

    op.create_table(
        "finding_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "finding_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="findings.id",
        ),
        sa.Column(
            "scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan whose inventory was judged",
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "change",
            sa.String(length=16),
            nullable=False,
            comment="new, regressed, resolved or changed",
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_events")),
    )
    with op.batch_alter_table("finding_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finding_events_finding_id"), ["finding_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_finding_events_scan_id"), ["scan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("finding_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_events_scan_id"))
        batch_op.drop_index(batch_op.f("ix_finding_events_finding_id"))

    op.drop_table("finding_events")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_status")
        batch_op.drop_index("ix_findings_scope")
        batch_op.drop_index(batch_op.f("ix_findings_scan_id"))

    op.drop_table("findings")
