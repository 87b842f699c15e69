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
from types import SimpleNamespace

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.retries import adaptive
from botocore.retries.bucket import Clock, TokenBucket

from scanner import logs
from scanner.aws import shared_models
from scanner.aws.errors import describe_error
from scanner.config import AwsSettings
from scanner.errors import AwsSetupError, UsageError

# A quick account lookup says nothing; a slow one (an endpoint that does not answer, retried)
# is announced, so a user does not watch a silent terminal.
WAIT_NOTICE_AFTER = 1.0


class ClientFactory:
    """One client per (service, region) of one account's credentials.

    Clients are thread-safe, so one is shared by all workers of a region. AWS throttles each
    API separately, so the client-side pacing is per operation inside that client:
    botocore's adaptive rate limiter and the `max_rate` token bucket each keep one state per
    operation (see `_PerOperation`), and a throttled DescribeModelPackage does not slow
    ListTags.

    Every account's factory (`for_account`) shares the base session's botocore loader and
    resolvers: the service models are read and parsed once per process, not once per
    account, which is most of what a new boto3 session costs; their clients share one
    `ServiceModel` and one client class per service too (scanner.aws.shared_models).
    """

    def __init__(
        self,
        settings: AwsSettings,
        session: boto3.Session | None = None,
        observer: Callable[[object], None] | None = None,
        *,
        core: botocore.session.Session | None = None,
    ):
        """observer: called with each new client (e.g. to register botocore event handlers
        that count its calls, as `mpscan schedule --metrics-port` does); none by default.
        core: the botocore session that makes the clients (another account's, from
        `for_account`); by default the boto3 session's own."""
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
        self._core: botocore.session.Session = core or self.session._session
        if core is None:
            _register_base_secrets(self._core)
            # every account's clients are made with these hooks (for_account)
            shared_models.share(self._core.get_component("event_emitter"))
        self._clients: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()
        # adaptive is botocore's standard retries plus its adaptive limiter, which is added
        # per operation below instead of once per client
        mode = "standard" if settings.retry_mode == "adaptive" else settings.retry_mode
        self._config = Config(
            retries={"mode": mode, "max_attempts": settings.max_attempts},
            max_pool_connections=max(10, settings.concurrency + 4),
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            user_agent_appid="mpscan",
        )

    def for_account(self, credentials: botocore.credentials.Credentials) -> ClientFactory:
        """A factory for another account's credentials (e.g. an assumed role's refreshing
        ones), sharing this one's loader, resolvers, configuration and observer."""
        # The base's event hooks (botocore's and boto3's built-in handlers) are shared, not
        # registered again: each client works on a copy of them.
        core = botocore.session.Session(
            event_hooks=self._core.get_component("event_emitter"), include_builtin_handlers=False
        )
        for name in _SHARED_COMPONENTS:
            core.register_component(name, self._core.get_component(name))
        for name in _SHARED_INTERNAL:
            core._register_internal_component(name, self._core._get_internal_component(name))
        core._credentials = credentials  # how botocore itself installs assumed credentials
        core.user_agent_name = self._core.user_agent_name
        core.user_agent_version = self._core.user_agent_version
        core.user_agent_extra = self._core.user_agent_extra
        # self.session stays the base: its regions and partitions are every account's
        return ClientFactory(self.settings, self.session, self.observer, core=core)

    def client(self, service: str, region: str):
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._core.create_client(service, region_name=region, config=self._config)
                _PerOperation(self.settings).register(client)
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


def _register_base_secrets(core: botocore.session.Session) -> None:
    """The base credentials' secrets are never logged (logs.redact), whichever provider of
    the chain found them; none found is for the first call to report."""
    try:
        credentials = core.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            logs.register_secret(frozen.secret_key, frozen.token, owner="base credentials")
    except Exception:  # e.g. a refused assume-role profile: the first call reports it
        return


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


# Shared by every account's botocore session: what is read from botocore's data files (the
# loader caches the parsed service models, the endpoint resolver the partitions) and the
# configuration (profile, environment), which is the same for every account.
_SHARED_COMPONENTS = ("data_loader", "config_store", "response_parser_factory")
_SHARED_INTERNAL = ("endpoint_resolver", "exceptions_factory")

# A stand-in for a client when botocore's adaptive limiter is made: the limiter is called by
# `_PerOperation` with the events of its own operation only.
_NO_EVENTS = SimpleNamespace(meta=SimpleNamespace(events=SimpleNamespace(register=lambda *_: None)))


class _PerOperation:
    """Client-side pacing, one state per operation of a client.

    - retry_mode "adaptive": botocore's own adaptive rate limiter (the one
      `retries={"mode": "adaptive"}` installs once per client), one per operation.
    - max_rate: a fixed ceiling (calls/s) per operation, as Steampipe's limiters do, with
      botocore's token bucket; it paces each request before it is sent, retries included.
    """

    def __init__(self, settings: AwsSettings):
        self._adaptive = settings.retry_mode == "adaptive"
        self._rate = settings.max_rate
        self._state: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def register(self, client) -> None:
        if self._adaptive or self._rate > 0:
            client.meta.events.register("before-send", self._before_send)
        if self._adaptive:
            client.meta.events.register("needs-retry", self._needs_retry)

    def _of(self, event_name: str) -> tuple:
        operation = event_name.rsplit(".", 1)[-1]  # before-send.<service>.<operation>
        state = self._state.get(operation)
        if state is None:
            with self._lock:
                state = self._state.get(operation)
                if state is None:
                    adapt = adaptive.register_retry_handler(_NO_EVENTS) if self._adaptive else None
                    cap = TokenBucket(max_rate=self._rate, clock=Clock()) if self._rate else None
                    state = self._state[operation] = (adapt, cap)
        return state

    def _before_send(self, event_name: str, request=None, **kwargs) -> None:
        # a before-send handler that returns a value replaces the HTTP response: return None
        limiter, cap = self._of(event_name)
        if cap is not None:
            cap.acquire()
        if limiter is not None:
            limiter.on_sending_request(request=request, **kwargs)

    def _needs_retry(self, event_name: str, **kwargs) -> None:
        limiter, _ = self._of(event_name)
        if limiter is not None:
            limiter.on_receiving_response(**kwargs)


def resolve_regions(factory: ClientFactory, requested: tuple[str, ...] | str) -> list[str]:
    if requested == "all":
        regions = factory.enabled_regions(factory.default_region() or "us-east-1")
        if not regions:
            raise UsageError("usage error: no region to scan: none is enabled for the account")
        return regions
    regions = list(dict.fromkeys(requested))
    if not regions and (default := factory.default_region()):
        regions = [default]
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
