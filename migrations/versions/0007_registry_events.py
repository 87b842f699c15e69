"""Live refresh: the events applied from EventBridge, and what each one changed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LAST_EVENT = (
    "registry_events.id of the event that last refreshed this row; null when the scan in "
    "last_seen_scan_id read it"
)
_EVENT = "registry_events.id when an event (not the scan itself) caused it; null for a scan"


def upgrade() -> None:
    op.create_table(
        "registry_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column(
            "event_id",
            sa.String(length=128),
            nullable=False,
            comment="EventBridge's event id: each is applied once",
        ),
        sa.Column("message_id", sa.String(length=128), nullable=True, comment="the SQS message id"),
        sa.Column(
            "detail_type",
            sa.String(length=128),
            nullable=False,
            comment="SageMaker Model Package State Change, or AWS API Call via CloudTrail",
        ),
        sa.Column(
            "event_name",
            sa.String(length=64),
            nullable=True,
            comment="the CloudTrail event's API call (AddTags, DeleteModelPackage...)",
        ),
        sa.Column(
            "event_time",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when AWS says it happened",
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when its refresh was stored, or its resource judged after (changed, removed)",
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "resource_type",
            sa.String(length=32),
            nullable=False,
            comment="model_package or model_package_group",
        ),
        sa.Column("resource_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "outcome",
            sa.String(length=16),
            nullable=False,
            comment="changed, unchanged (the stored row was current), removed (AWS says it "
            "is gone), or superseded (the stored row was modified later than the event)",
        ),
        sa.Column("calls", sa.Integer(), nullable=False, comment="AWS calls the refresh made"),
        sa.Column("scan_id", Id, nullable=False, comment="the scan whose inventory it amended"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_registry_events_event_id")),
    )
    op.create_index(
        "ix_registry_events_scope", "registry_events", ["account_id", "region"], unique=False
    )
    # Plain ALTER TABLE ... ADD COLUMN on both engines: no table is copied.
    for table in ("model_packages", "model_package_groups"):
        op.add_column(table, sa.Column("last_event_id", Id, nullable=True, comment=_LAST_EVENT))
    for table in ("resource_changes", "finding_events"):
        op.add_column(table, sa.Column("event_id", Id, nullable=True, comment=_EVENT))


def downgrade() -> None:
    for table in ("resource_changes", "finding_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("event_id")
    for table in ("model_packages", "model_package_groups"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("last_event_id")
    op.drop_index("ix_registry_events_scope", table_name="registry_events")
    op.drop_table("registry_events")
