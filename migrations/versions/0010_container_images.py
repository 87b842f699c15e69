"""model_packages.container_images: each container's place and image, lifted out of the
inference specifications, filled in for the packages already stored

MP-004 (images pinned by digest) read the whole InferenceSpecification and
AdditionalInferenceSpecifications of every package: about 1.7 KB of JSON a package, which
PostgreSQL turns into text and mpscan parses again at each judgement. The images, with
their places, are about 770 bytes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:25:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Json = sa.JSON(none_as_null=True)  # `json` on PostgreSQL: its text is read, never searched
Stored = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
COMMENT = (
    "every container's image, as model_package_containers lists them: "
    "[{specification, specification_name, container_index, image, image_digest}]"
)
PAGE = 1000


def _images(inference, additional) -> list[dict]:
    """scanner.transform.container_images, as of this revision, from the stored columns."""
    placed = [("InferenceSpecification", None, inference or {})]
    placed += [("AdditionalInferenceSpecifications", s.get("Name"), s) for s in additional or []]
    return [
        {
            "specification": spec,
            "specification_name": name,
            "container_index": index,
            "image": container.get("Image"),
            "image_digest": container.get("ImageDigest"),
        }
        for spec, name, body in placed
        for index, container in enumerate(body.get("Containers") or [])
    ]


def upgrade() -> None:
    column = sa.Column("container_images", Json, comment=COMMENT)
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # SQLite adds a column at the end of each row, behind `raw` (~4 KB, stored on
        # overflow pages): reading it would read the whole row. The table is rebuilt with
        # the column after kms_key_id, its views dropped meanwhile and made again as they were.
        views = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"
        ).all()
        for name, _ in views:
            conn.exec_driver_sql(f'DROP VIEW "{name}"')
        with op.batch_alter_table("model_packages", recreate="always") as batch:
            batch.add_column(column, insert_after="kms_key_id")
        for _, sql in views:
            conn.exec_driver_sql(sql)  # as stored: no text() reading ':x' as a parameter
    else:
        op.add_column("model_packages", column)
    packages = sa.table(
        "model_packages",
        sa.column("model_package_arn", sa.String),
        sa.column("inference_specification", Stored),
        sa.column("additional_inference_specifications", Stored),
        sa.column("container_images", Json),
    )
    after = ""
    while True:
        rows = conn.execute(
            sa.select(
                packages.c.model_package_arn,
                packages.c.inference_specification,
                packages.c.additional_inference_specifications,
            )
            .where(packages.c.model_package_arn > after)
            .order_by(packages.c.model_package_arn)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        conn.execute(
            sa.update(packages)
            .where(packages.c.model_package_arn == sa.bindparam("arn"))
            .values(container_images=sa.bindparam("images")),
            [{"arn": arn, "images": _images(inference, extra)} for arn, inference, extra in rows],
        )
        after = rows[-1][0]


def downgrade() -> None:
    # Not a batch (SQLite would rebuild the table, which the deployments view names).
    op.execute("ALTER TABLE model_packages DROP COLUMN container_images")
