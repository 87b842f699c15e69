"""Credentials, regions and clients.

Everything goes through a plain boto3 Session, so the standard AWS settings apply with no
code of ours: the credential chain, `--profile`, and the endpoint settings users point
mpscan at LocalStack or moto with. mpscan calls SageMaker and STS (for the account id):
`AWS_ENDPOINT_URL` covers both; `AWS_ENDPOINT_URL_SAGEMAKER` needs `AWS_ENDPOINT_URL_STS`
too. One gap is filled here: boto3 reads only AWS_DEFAULT_REGION, and the SDKs' AWS_REGION
(which they prefer) is read too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.retries.bucket import Clock, TokenBucket

from scanner.aws.errors import describe_error
from scanner.config import AwsSettings
from scanner.errors import AwsSetupError, UsageError

# A quick account lookup says nothing; a slow one (an endpoint that does not answer, retried)
# is announced, so a user does not watch a silent terminal.
WAIT_NOTICE_AFTER = 1.0


class ClientFactory:
    """One client per (service, region, operation).

    AWS throttles each API separately, and botocore's adaptive rate limiter lives in the
    client: a client per operation keeps a throttled DescribeModelPackage from slowing
    ListTags. Clients are thread-safe, so one is shared by all workers of a region.
    """

    def __init__(
        self,
        settings: AwsSettings,
        session: boto3.Session | None = None,
        observer: Callable[[object], None] | None = None,
    ):
        """observer: called with each new client (e.g. to register botocore event handlers
        that count its calls, as `mpscan schedule --metrics-port` does); none by default."""
        self.settings = settings
        self.observer = observer
        # A profile named by AWS_PROFILE is left to boto3: there, as in every AWS tool, the
        # AWS_ACCESS_KEY_ID/... variables beat it; one named by --profile or the config is
        # explicit and beats them (unless AWS_PROFILE names the same one).
        explicit = settings.profile if settings.profile != os.environ.get("AWS_PROFILE") else None
        try:
            self.session = session or boto3.Session(
                profile_name=explicit, region_name=os.environ.get("AWS_REGION") or None
            )
        except botocore.exceptions.ProfileNotFound:
            raise UsageError(f"usage error: AWS profile {settings.profile!r} not found") from None
        self._clients: dict[tuple[str, str, str], object] = {}
        self._lock = threading.Lock()
        self._config = Config(
            retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
            max_pool_connections=max(10, settings.concurrency + 4),
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            user_agent_appid="mpscan",
        )

    def client(self, service: str, region: str, operation: str = "*"):
        key = (service, region, operation)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self.session.client(service, region_name=region, config=self._config)
                if self.settings.max_rate > 0:
                    _cap_rate(client, self.settings.max_rate)
                if self.observer is not None:
                    self.observer(client)
                self._clients[key] = client
            return client

    def account_id(self, region: str, on_wait: Callable[[str], None] | None = None) -> str:
        """The account's id (sts:GetCallerIdentity). on_wait hears about a slow answer."""
        notice = None
        try:
            client = self.client("sts", region)
            if on_wait:
                text = f"identifying the account… (waiting for STS at {client.meta.endpoint_url})"
                notice = threading.Timer(WAIT_NOTICE_AFTER, on_wait, [text])
                notice.daemon = True
                notice.start()
            return client.get_caller_identity()["Account"]
        except botocore.exceptions.NoCredentialsError:
            raise AwsSetupError(
                "aws error: no AWS credentials found (set a profile with --profile, "
                "AWS_PROFILE, or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables)"
            ) from None
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
            raise AwsSetupError(
                f"aws error: cannot identify the account: {exc}{_sts_endpoint_hint()}"
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise AwsSetupError(f"aws error: cannot identify the account: {exc}") from None
        except botocore.exceptions.ClientError as exc:
            # e.g. the real STS refusing a stand-in's dummy keys (InvalidClientTokenId)
            raise AwsSetupError(
                f"aws error: cannot identify the account: {describe_error(exc)}"
                f"{_sts_endpoint_hint()}"
            ) from None
        finally:
            if notice:
                notice.cancel()

    def default_region(self) -> str | None:
        return self.session.region_name

    def known_regions(self) -> set[str]:
        regions: set[str] = set()
        for partition in self.session.get_available_partitions():
            regions.update(self.session.get_available_regions("sagemaker", partition))
        return regions

    def enabled_regions(self, region: str) -> list[str]:
        """`--regions all`: every region enabled for the account that offers SageMaker."""
        try:
            answer = self.client("ec2", region).describe_regions(AllRegions=False)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise AwsSetupError(
                f"aws error: cannot list the account's enabled regions (ec2:DescribeRegions): "
                f"{describe_error(exc)}"
            ) from None
        enabled = {r["RegionName"] for r in answer["Regions"]}
        known = self.known_regions()
        return sorted(enabled & known) if known else sorted(enabled)


def _sts_endpoint_hint() -> str:
    """The usual mistake with a local stand-in: SageMaker pointed at it, STS still at AWS."""
    env = os.environ
    if env.get("AWS_ENDPOINT_URL_SAGEMAKER") and not (
        env.get("AWS_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL_STS")
    ):
        return (
            "; AWS_ENDPOINT_URL_SAGEMAKER is set but mpscan also calls STS: "
            "set AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL) to your stand-in's endpoint"
        )
    return ""


def _cap_rate(client, rate: float) -> None:
    """A fixed client-side ceiling (calls/s) for this client, as Steampipe's limiters do.

    botocore's own token bucket paces each request before it is sent, retries included.
    """
    bucket = TokenBucket(max_rate=rate, clock=Clock())

    def wait_for_token(**_) -> None:  # a before-send handler that returns a value replaces
        bucket.acquire()  # the HTTP response, so this one must return None

    client.meta.events.register("before-send", wait_for_token)


def resolve_regions(factory: ClientFactory, requested: tuple[str, ...] | str) -> list[str]:
    if requested == "all":
        regions = factory.enabled_regions(factory.default_region() or "us-east-1")
        if not regions:
            raise UsageError("usage error: no region to scan: none is enabled for the account")
        return regions
    regions = list(dict.fromkeys(requested)) or (
        [factory.default_region()] if factory.default_region() else []
    )
    if not regions:
        raise UsageError(
            "usage error: no region given: use --regions, set aws.regions in the config, "
            "or set AWS_REGION / a profile region"
        )
    known = factory.known_regions()
    unknown = [r for r in regions if known and r not in known]
    if unknown:
        raise UsageError(
            f"usage error: unknown region {', '.join(map(repr, unknown))} "
            "(not a SageMaker region known to botocore)"
        )
    return regions
