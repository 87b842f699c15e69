"""What is in production, filled where moto 5.2.5 falls short of botocore's service model:

* ListModels pages (MaxResults, NextToken), sorts (SortBy Name or CreationTime, SortOrder)
  and answers ModelSummary members, as AWS does (moto answers every model, unsorted, whole).
* CreateEndpointConfig keeps ShadowProductionVariants, ExecutionRoleArn, VpcConfig and
  EnableNetworkIsolation; DescribeEndpointConfig returns them when set, and omits an empty
  DataCaptureConfig (AWS does).
* UpdateEndpoint (moto has none): the endpoint takes the new configuration's variants, its
  LastModifiedTime moves.
* A model card created without tags has none (`[]`), so ListTags and AddTags work on it.
* UpdateModelCard keeps what it is not given (AWS takes content or status in a call, not
  both, and keeps the other); moto's new version cleared the content or the status.
* Search records for ``Model`` (a ModelDashboardModel: the model with its tags under
  ``Model``), ``Endpoint`` and ``ModelCard`` (the latest version, with ``ModelId``,
  ``RiskRating`` and ``ModelPackageGroupName`` read from its content), for the stand-in's
  Search (scanner.standin.search), each kept to botocore's SearchRecord shape.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError

from .moto_ext import Backend, Response
from .search_filters import _model, _utc

RESOURCES = ("Model", "Endpoint", "ModelCard")
_CONFIG_EXTRAS = ("ShadowProductionVariants", "ExecutionRoleArn", "VpcConfig",
                  "EnableNetworkIsolation")  # fmt: skip


def _members(shape: str) -> frozenset[str]:
    return frozenset(_model().shape_for(shape).members)


def _kept(response: dict[str, Any], shape: str) -> dict[str, Any]:
    members = _members(shape)
    return {k: v for k, v in response.items() if k in members and v is not None}


# --- ListModels ------------------------------------------------------------------------------


def list_models(self: Any) -> ActionResult:
    models = list(self.sagemaker_backend.list_models())
    descending = self._get_param("SortOrder") == "Descending"
    if self._get_param("SortBy") == "Name":
        models.sort(key=lambda m: m.model_name, reverse=descending)
    else:
        models.sort(key=lambda m: (m.creation_time, m.model_name), reverse=descending)
    start = 0
    if token := self._get_param("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError as exc:
            raise ValidationError("Invalid pagination token") from exc
    limit = int(self._get_param("MaxResults") or 10)
    page = models[start : start + limit]
    result: dict[str, Any] = {
        "Models": [
            {"ModelName": m.model_name, "ModelArn": m.arn, "CreationTime": m.creation_time}
            for m in page
        ]
    }
    if start + limit < len(models):
        result["NextToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return ActionResult(result)


# --- endpoint configurations and endpoints ---------------------------------------------------


def _wrap_create_config(orig: Any) -> Any:
    def create_endpoint_config(self: Any) -> Any:
        result = orig(self)
        config = self.sagemaker_backend.endpoint_configs[self._get_param("EndpointConfigName")]
        config.standin_extras = {
            k: v for k in _CONFIG_EXTRAS if (v := self._get_param(k)) is not None
        }
        return result

    return create_endpoint_config


def describe_endpoint_config(self: Any) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("EndpointConfigName")
    response = dict(backend.describe_endpoint_config(name))
    response.update(getattr(backend.endpoint_configs[name], "standin_extras", {}))
    if not response.get("DataCaptureConfig"):
        response.pop("DataCaptureConfig", None)
    return ActionResult(response)


def update_endpoint(self: Any) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        raise ValidationError(f"Could not find endpoint '{name}'.")
    config_name = self._get_param("EndpointConfigName")
    config = backend.describe_endpoint_config(config_name)
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.last_modified_time = utcnow()
    return ActionResult({"EndpointArn": endpoint.arn})


def _wrap_create_card(orig: Any) -> Any:
    def create_model_card(self: Any, *args: Any, **kwargs: Any) -> str:
        arn = orig(self, *args, **kwargs)
        for card in self.model_cards[kwargs.get("model_card_name") or args[0]]:
            if card.tags is None:
                card.tags = []
        return arn

    return create_model_card


def _wrap_update_card(orig: Any) -> Any:
    def update_model_card(
        self: Any, model_card_name: str, content: str | None, model_card_status: str | None
    ) -> str:
        latest = (self.model_cards.get(model_card_name) or [None])[-1]
        if latest is not None:
            content = content if content is not None else latest.content
            model_card_status = model_card_status or latest.model_card_status
        return orig(self, model_card_name, content, model_card_status)

    return update_model_card


# --- Search records --------------------------------------------------------------------------


def _content(text: str | None) -> dict[str, Any]:
    try:
        content = json.loads(text or "{}")
    except ValueError:
        return {}
    return content if isinstance(content, dict) else {}


def _card_record(card: Any) -> dict[str, Any]:
    content = _content(card.content)
    found = {
        "ModelId": (content.get("model_overview") or {}).get("model_id"),
        "RiskRating": (content.get("intended_uses") or {}).get("risk_rating"),
        "ModelPackageGroupName": (content.get("model_package_details") or {}).get(
            "model_package_group_name"
        ),
    }
    return _kept({**card.describe(), **found, "Tags": list(card.tags or [])}, "ModelCard")


def records(backend: Any, resource: str) -> list[tuple[str, datetime, Any]]:
    """(ARN, creation time, a function making the record) of each of the backend's
    resources of a type in RESOURCES."""
    if resource == "Model":
        return [
            (m.arn, _utc(m.creation_time), lambda m=m: {
                "Model": _kept({**m.response_object, "Tags": list(m.tags or [])}, "Model")
            })
            for m in list(backend._models.values())
        ]  # fmt: skip
    if resource == "Endpoint":
        return [
            (e.arn, _utc(e.creation_time), lambda e=e: _kept(
                {**e.response_object, "Tags": list(e.tags or [])}, "Endpoint"
            ))
            for e in list(backend.endpoints.values())
        ]  # fmt: skip
    latest = [versions[-1] for versions in list(backend.model_cards.values()) if versions]
    return [(c.arn, _utc(c.creation_time), lambda c=c: _card_record(c)) for c in latest]


def apply() -> None:
    """Install the patches (called once from ``moto_ext.apply``)."""
    Response.list_models = list_models
    Response.create_endpoint_config = _wrap_create_config(Response.create_endpoint_config)
    Response.describe_endpoint_config = describe_endpoint_config
    Response.update_endpoint = update_endpoint
    Backend.create_model_card = _wrap_create_card(Backend.create_model_card)
    Backend.update_model_card = _wrap_update_card(Backend.update_model_card)
