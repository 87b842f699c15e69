"""CycloneDX 1.6 ML-BOM of the inventory, through cyclonedx-python-lib: each model package
a `machine-learning-model` component (its group as the component's group, its version, its
approval and status as properties), each container image it runs a `container` component
it depends on (the image digest as its hash), its model data an external reference.

A BOM is one JSON document that the library serialises whole: memory grows with the
number of packages (not findings), about 2 KB each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.output.json import JsonV1Dot6

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
    bom = Bom()
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="mpscan", version=__version__)
    )
    bom.metadata.properties.add(Property(name=f"{NAMESPACE}:scan_id", value=str(data.scan["id"])))
    images: dict[str, Component] = {}
    n = 0
    for p in packages:
        model = Component(
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
        bom.components.add(model)
        used = [i for c in p["containers"] if (i := _image(c, images)) is not None]
        for image in used:
            if image not in bom.components:
                bom.components.add(image)
        bom.register_dependency(model, used)
        n += 1
    out.write(JsonV1Dot6(bom).output_as_string(indent=2))
    out.write("\n")
    return n
