"""CycloneDX 1.6 ML-BOM of the inventory, through cyclonedx-python-lib: each model package
a `machine-learning-model` component (its group as the component's group, its version, its
approval and status as properties), each container image it runs a `container` component
it depends on (the image digest as its hash), its model data an external reference.

Written as a stream: memory holds the images and each package's references only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TextIO

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashType, Property, XsUri
from cyclonedx.model.bom import BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.tool import ToolRepository
from cyclonedx.schema.schema import SchemaVersion1Dot6

from scanner import __version__
from scanner.reports.data import ReportData, iso

NAMESPACE = "mpscan"


def _properties(values: dict[str, Any]) -> list[Property]:
    return [
        Property(name=f"{NAMESPACE}:{k}", value=str(v)) for k, v in values.items() if v is not None
    ]


def _image(container: dict[str, Any], images: dict[str, Component]) -> Component | None:
    reference = container.get("image")
    if not reference:
        return None
    if reference not in images:
        name, _, tag = reference.rpartition(":") if "@" not in reference else (reference, "", "")
        if "/" in tag:  # a registry port, not a tag
            name, tag = reference, ""
        digest = (container.get("image_digest") or "").removeprefix("sha256:")
        images[reference] = Component(
            type=ComponentType.CONTAINER,
            name=name or reference,
            version=tag or None,
            bom_ref=f"image:{reference}",
            hashes=[HashType.from_composite_str(f"sha256:{digest}")] if len(digest) == 64 else [],
        )
    return images[reference]


def write(out: TextIO, data: ReportData, packages: Iterable[dict[str, Any]]) -> int:
    """The BOM as a stream: its envelope written here, each component and dependency
    serialised by the library (a Bom object of every component is sorted, hashed and
    validated whole by the library: 39 s and about 360 MB for 11,112 packages)."""
    tools = ToolRepository(
        components=[Component(type=ComponentType.APPLICATION, name="mpscan", version=__version__)]
    )
    metadata = BomMetaData(
        tools=tools, properties=[Property(name=f"{NAMESPACE}:scan_id", value=str(data.scan["id"]))]
    )
    out.write(
        '{"$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json", "bomFormat": '
        f'"CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:{uuid.uuid4()}", '
        f'"version": 1,\n"metadata": {_json(metadata)},\n"components": ['
    )
    images: dict[str, Component] = {}
    depends: list[tuple[str, list[str]]] = []  # small: references only
    n = 0
    for p in packages:
        model = _model(p)
        used = [i for c in p["containers"] if (i := _image(c, images)) is not None]
        out.write(("\n" if n == 0 else ",\n") + _json(model))
        depends.append((p["model_package_arn"], [str(i.bom_ref) for i in used]))
        n += 1
    for k, image in enumerate(images.values()):
        out.write(("\n" if n == 0 and k == 0 else ",\n") + _json(image))
    out.write('\n],\n"dependencies": [')
    entries = [*depends, *((str(i.bom_ref), []) for i in images.values())]
    for k, (ref, on) in enumerate(entries):
        dependency = Dependency(
            ref=BomRef(ref), dependencies=[Dependency(ref=BomRef(r)) for r in on]
        )
        out.write(("\n" if k == 0 else ",\n") + _json(dependency))
    out.write("\n]}\n")
    return n


def _json(item: Any) -> str:
    return item.as_json(view_=SchemaVersion1Dot6)  # the library's own serialiser


def _model(p: dict[str, Any]) -> Component:
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=p["model_package_name"] or p["model_package_arn"],
        group=p["model_package_group_name"],
        version=str(p["model_package_version"]) if p["model_package_version"] else None,
        description=p["model_package_description"] or None,
        bom_ref=p["model_package_arn"],
        supplier=OrganizationalEntity(name=f"AWS account {p['account_id']}"),
        properties=_properties(
            {
                "arn": p["model_package_arn"],
                "account_id": p["account_id"],
                "region": p["region"],
                "approval_status": p["model_approval_status"],
                "model_package_status": p["model_package_status"],
                "created": iso(p["creation_time"]),
                "kms_key_id": p["kms_key_id"],
            }
        ),
        external_references=[
            ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url))
            for url in dict.fromkeys(
                c["model_data_url"] for c in p["containers"] if c["model_data_url"]
            )
        ],
    )
