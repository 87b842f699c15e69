"""CreateModelPackage and UpdateModelPackage as AWS answers them: the members moto 5.2.5
drops are kept, and an update changes only what it is given."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult

from .moto_ext import _CREATE_EXTRAS, _REGISTRY_LOCK, Response, _lookup_package

_UPDATE_EXTRAS = {
    "ModelCard": "model_card",
    "SourceUri": "source_uri",
    "ModelLifeCycle": "model_life_cycle",
    "InferenceSpecification": "inference_specification",
}


def _wrap_create_model_package(orig: Any) -> Any:
    def create_model_package(self: Any) -> ActionResult:
        with _REGISTRY_LOCK:
            result = orig(self)
        pkg = _lookup_package(self.sagemaker_backend, result.result["ModelPackageArn"])
        for param, attr in _CREATE_EXTRAS.items():
            setattr(pkg, attr, self._get_param(param))
        return result

    return create_model_package


# UpdateModelPackage changes only the members it is given; moto 5.2.5 sets the others to
# None (an approval description update clears the approval status) and replaces the whole
# CustomerMetadataProperties map, where AWS adds the given keys to it.
_UPDATE_KEEPS = {
    "ModelApprovalStatus": "model_approval_status",
    "ApprovalDescription": "approval_description",
    "CustomerMetadataProperties": "customer_metadata_properties",
}


def _wrap_update_model_package(orig: Any) -> Any:
    def update_model_package(self: Any) -> ActionResult:
        before = _lookup_package(self.sagemaker_backend, self._get_param("ModelPackageArn"))
        kept = {attr: getattr(before, attr, None) for attr in _UPDATE_KEEPS.values()}
        result = orig(self)
        pkg = _lookup_package(self.sagemaker_backend, result.result["ModelPackageArn"])
        for param, attr in _UPDATE_KEEPS.items():
            given = self._get_param(param)
            if given is None:
                setattr(pkg, attr, kept[attr])
            elif param == "CustomerMetadataProperties":
                merged = {**(kept[attr] or {}), **given}
                for key in self._get_param("CustomerMetadataPropertiesToRemove") or ():
                    merged.pop(key, None)
                setattr(pkg, attr, merged)
        for param, attr in _UPDATE_EXTRAS.items():
            value = self._get_param(param)
            if value is not None:
                setattr(pkg, attr, value)
        return result

    return update_model_package


def apply() -> None:
    Response.create_model_package = _wrap_create_model_package(Response.create_model_package)
    Response.update_model_package = _wrap_update_model_package(Response.update_model_package)
