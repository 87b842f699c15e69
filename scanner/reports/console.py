"""Links to a resource's page in the AWS console, for the report.

SageMaker's console has a page per endpoint, endpoint configuration and model, at the
addresses that AWS's own SageMaker components for Kubeflow Pipelines print after creating
them (kubeflow/pipelines, components/aws/sagemaker/common/_utils.py:
`https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/endpoints/{name}`,
`#/endpointConfig/{name}`, and `#/models/{name}` in its CreateModel component). No AWS
source gives one for a model package, group or model card: the model registry's pages are
in SageMaker Studio, whose address is a domain's own. Those get no link.
"""

from __future__ import annotations

from urllib.parse import quote

# The console of each partition (the ARN's second field); regional where AWS's are.
CONSOLES = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://{region}.console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}
PAGES = {"endpoint": "endpoints", "endpoint-config": "endpointConfig", "model": "models"}


def console_page(arn: str | None, kind: str, name: str | None) -> str | None:
    """The console page of the SageMaker resource of `kind` (an ARN's resource type:
    endpoint, endpoint-config, model) named `name`, in the partition and region of `arn`
    (the resource's own ARN, or any ARN of that account and region); None where there is
    none (another kind, an ARN that is not SageMaker's, a partition without a console)."""
    parts = (arn or "").split(":", 5)
    page = PAGES.get(kind)
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "sagemaker" or not page or not name:
        return None
    console = CONSOLES.get(parts[1])
    region = parts[3]
    if console is None or not region:
        return None
    home = f"{console.format(region=quote(region, safe=''))}/sagemaker/home?region={quote(region)}"
    return f"{home}#/{page}/{quote(name, safe='')}"
