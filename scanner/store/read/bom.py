"""What the CycloneDX ML-BOM lists: each model package of the inventory with its
containers (image, digest, model data), in ARN order, one package at a time."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, select

from scanner.store.schema import ModelPackage, ModelPackageContainer

BATCH = 2000


def packages(engine: Engine) -> Iterator[dict[str, Any]]:
    columns = (
        ModelPackage.model_package_arn,
        ModelPackage.account_id,
        ModelPackage.region,
        ModelPackage.model_package_name,
        ModelPackage.model_package_group_name,
        ModelPackage.model_package_version,
        ModelPackage.model_package_description,
        ModelPackage.model_approval_status,
        ModelPackage.model_package_status,
        ModelPackage.creation_time,
        ModelPackage.kms_key_id,
    )
    container = (
        ModelPackageContainer.specification,
        ModelPackageContainer.image,
        ModelPackageContainer.image_digest,
        ModelPackageContainer.model_data_url,
        ModelPackageContainer.framework,
        ModelPackageContainer.framework_version,
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(*columns, *container)
            .outerjoin(
                ModelPackageContainer,
                ModelPackageContainer.model_package_arn == ModelPackage.model_package_arn,
            )
            .order_by(
                ModelPackage.model_package_arn,
                ModelPackageContainer.specification,
                ModelPackageContainer.container_index,
            )
            .execution_options(yield_per=BATCH)
        )
        names = [c.key for c in columns]
        for _, group in groupby(rows, key=lambda r: r[0]):
            items = list(group)
            package = dict(zip(names, items[0][: len(names)], strict=True))
            package["containers"] = [
                dict(zip([c.key for c in container], r[len(names) :], strict=True))
                for r in items
                if r[len(names) + 1] is not None or r[len(names) + 3] is not None
            ]
            yield package
