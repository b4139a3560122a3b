"""The ``Settings`` Struct: every field once, with its type, bounds, default and how to explain it.

Each field's ``Annotated`` metadata is the one description of that setting: ``setting(example, ...)`` records
an example value, an optional CLI flag and an optional unit or hint. ``app.settings.fields`` derives from it
the environment variable, the "expected ..." text and whether the environment's raw text is taken, so a new
setting is added here and nowhere else.

Why a ``Secret`` wrapper for the API key: ``repr(settings)`` ends up in logs, tracebacks and test output, and
the key must never appear there.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import msgspec

ENVVAR_PREFIX: Final = "GATEWAY"
DEFAULT_API_VERSION_EXAMPLE: Final = "2024-10-21"
API_VERSION_KEY: Final = "api-version"
V1_API_VERSION: Final = "v1"
ENTRA_SCOPE: Final = "https://cognitiveservices.azure.com/.default"

KIB: Final = 1024
MIB: Final = 1024 * KIB


class SettingsError(Exception):
    """Missing or invalid settings, all of them at once.

    ``problems`` holds one line per problem. ``str(exc)`` is that line when there is one problem (fit to print
    as ``error: <message>``), else a heading and one indented line per problem.
    """

    def __init__(self, *problems: str) -> None:
        self.problems = tuple(problems)
        if len(problems) == 1:
            text = problems[0]
        else:
            text = f"{len(problems)} settings need fixing:\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(text)


class Secret:
    """A string that refuses to show itself in ``repr``/``str``; call ``get_secret_value()`` to use it.

    Deliberately not a ``str`` subclass: an accidental f-string or ``%s`` must not leak the key either.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'**********'"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class Deployment(msgspec.Struct, frozen=True, kw_only=True):
    """One Azure deployment of the pool, complete: what its entry left out is filled from the top level
    (``app.settings.fleet.expand``, which also explains each key)."""

    name: str
    """Unique label: the ``deployment`` in logs and metrics and the ``x-gateway-deployment`` header."""
    openai_base_url: str
    openai_api_key: Secret | None = None
    openai_model: str
    default_query: dict[str, str]
    rpm: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Azure's requests-per-minute quota for it; None: no request budget (Azure's 429s still pause it)."""
    tpm: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Azure's tokens-per-minute quota (estimated as Azure does: prompt characters / 4 + max output tokens)."""
    weight: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    auth: Literal["api_key", "entra_id"] = "api_key"

    @property
    def host(self) -> str:
        return urlsplit(self.openai_base_url).hostname or self.openai_base_url

    @property
    def quota_id(self) -> str:
        """What Azure's quota belongs to (resource host + deployment): the key every replica shares."""
        return f"{self.host}/{self.openai_model}"


def setting(
    example: str,
    *,
    flag: str | None = None,
    unit: str | None = None,
    hint: str | None = None,
    **bounds: Any,
) -> msgspec.Meta:
    """The description of one setting, as ``Annotated`` metadata msgspec also enforces (``ge=1`` and so on).

    ``example`` is shown in every message about the setting; ``flag`` is the CLI flag that sets it; ``unit``
    (``seconds``, ``bytes``) words the expected value; ``hint`` replaces the derived "expected ..." text.
    """
    return msgspec.Meta(examples=[example], extra={"flag": flag, "unit": unit, "hint": hint}, **bounds)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Validated gateway configuration; field names follow NeMo Gym's ``azure_openai_model`` config."""

    openai_base_url: Annotated[str, setting("https://my-resource.openai.azure.com", hint="an http(s) URL")]
    """Azure endpoint, e.g. ``https://my-resource.openai.azure.com`` (may carry a path)."""
    openai_api_key: Annotated[Secret | None, setting("<your Azure key>", hint="a string")] = None
    """Required with ``auth = "api_key"`` (the default); unused with ``auth = "entra_id"``."""
    openai_model: Annotated[str, setting("gpt-4o-mini")]
    """The Azure *deployment* name; it replaces whatever ``model`` a client sends."""
    default_query: Annotated[
        dict[str, str], setting('{"api-version" = "2024-10-21"}', hint="a table of query parameters")
    ]
    """Query parameters sent on every upstream call; contains ``api-version`` except on the v1 surface."""
    num_concurrent_requests: Annotated[int, setting("8", ge=1)] = 8
    host: Annotated[str, setting("127.0.0.1", flag="--host")] = "127.0.0.1"
    port: Annotated[int, setting("8000", flag="--port", ge=1, le=65535)] = 8000
    connect_timeout: Annotated[float, setting("5.0", unit="seconds", gt=0)] = 5.0
    read_timeout: Annotated[float, setting("600.0", unit="seconds", gt=0)] = 600.0
    reasoning_replay: Annotated[Literal["drop", "think_tags"], setting("think_tags")] = "drop"
    """How replayed Responses ``reasoning`` input items reach Azure: dropped, or as ``<think>`` blocks."""
    reasoning_parser: Annotated[Literal["off", "think_tags"], setting("think_tags")] = "off"
    """Whether ``<think>…</think>`` in Azure's answer becomes a reasoning item (off: text is never altered)."""
    token_limit_parameter: Annotated[
        Literal["auto", "max_completion_tokens", "max_tokens"], setting("max_completion_tokens")
    ] = "auto"
    """Which Chat parameter carries ``max_output_tokens``; ``auto`` decides by api-version, never by name."""
    hosted_tools: Annotated[Literal["omit", "reject"], setting("reject")] = "omit"
    """Tools OpenAI runs on its servers (web_search, file_search, ...): left out and reported, or a 400."""
    reasoning_with_tools: Annotated[Literal["fallback", "reject"], setting("reject")] = "fallback"
    """When a deployment (GPT-5.4+) refuses function tools with reasoning: resend with effort none, or 400."""
    # Reliability (issue 6): retries, deadlines, queueing, draining and inbound auth.
    max_retries: Annotated[int, setting("3", ge=0)] = 3
    max_retry_wait: Annotated[float, setting("60.0", unit="seconds", ge=0)] = 60.0
    request_timeout: Annotated[float, setting("900.0", unit="seconds", gt=0)] = 900.0
    max_queue: Annotated[int, setting("256", ge=0)] = 256
    max_queue_wait: Annotated[float, setting("60.0", unit="seconds", gt=0)] = 60.0
    max_body_bytes: Annotated[int, setting("33554432", unit="bytes", ge=1024)] = 32 * MIB
    # Inbound hardening (issue 13): bounded work per request before it is validated, and per connection.
    max_json_values: Annotated[int, setting("200000", ge=1)] = 200_000
    """Values in one body (array items plus object members, at every level), checked before decoding."""
    max_json_keys: Annotated[int, setting("100000", ge=1)] = 100_000
    """Object keys in one body, at every level (``metadata`` with millions of keys is refused before decoding)."""
    max_json_depth: Annotated[int, setting("64", ge=1, le=500)] = 64
    """Nesting of objects and arrays in one body."""
    body_read_timeout: Annotated[float, setting("60.0", unit="seconds", gt=0)] = 60.0
    """Seconds from the end of the headers to the last byte of the body; a slower body gets 408."""
    max_pending_body_bytes: Annotated[int, setting("33554432", unit="bytes", ge=1024)] = 32 * MIB
    """Bytes of bodies still arriving, summed over all connections; past it, reading pauses (TCP backpressure)
    until some complete or time out, so slow half-sent bodies cannot add up to unbounded memory."""
    header_read_timeout: Annotated[float, setting("30.0", unit="seconds", gt=0)] = 30.0
    """Seconds from a connection's first byte (or its opening) to the end of a request's headers; then 408."""
    max_header_count: Annotated[int, setting("100", ge=8)] = 100
    """Header fields in one request; more get 431."""
    max_header_bytes: Annotated[int, setting("65536", unit="bytes", ge=1024)] = 64 * KIB
    """Bytes of the request line plus headers; more get 431."""
    stream_idle_timeout: Annotated[float, setting("120.0", unit="seconds", gt=0)] = 120.0
    """Seconds a stream may wait for Azure's next event; then it ends with a terminal error event."""
    stream_total_timeout: Annotated[float, setting("1800.0", unit="seconds", gt=0)] = 1800.0
    """Seconds a stream may last in all (from the request); then it ends with a terminal error event."""
    drain_timeout: Annotated[float, setting("30.0", unit="seconds", ge=0)] = 30.0
    keep_alive_timeout: Annotated[int, setting("75", unit="seconds", ge=1)] = 75
    """Seconds an idle client connection stays open. Above the clients' own idle expiry (httpx and the openai
    SDK: 5 s), so the server never closes a connection just as a client reuses it (a reset the client sees)."""
    gateway_api_keys: Annotated[
        tuple[Secret, ...],
        setting('["key-one", "key-two"] (env: key-one,key-two)', hint="a list of non-empty strings"),
    ] = ()
    """Keys clients must present on /v1/* (``Authorization: Bearer`` or ``api-key``); empty = no auth."""
    allow_unauthenticated: Annotated[bool, setting("true")] = False
    compaction_key: Annotated[Secret | None, setting("<32+ random characters>", hint="a string")] = None
    """Seals the ``compaction`` items of POST /v1/responses/compact (the same on every replica). Unset: a
    random key per process, logged as a warning; its items open only in that process until it stops."""
    # Operability (issue 8): Azure's URL surface and auth, probes, logs.
    api_surface: Annotated[Literal["deployments", "v1"], setting("v1")] = "deployments"
    """``deployments``: {endpoint}/openai/deployments/{d}/chat/completions; ``v1``: {endpoint}/openai/v1/..."""
    auth: Annotated[Literal["api_key", "entra_id"], setting("entra_id")] = "api_key"
    tenant_id: Annotated[str | None, setting("00000000-0000-0000-0000-000000000000", hint="a string")] = None
    client_id: Annotated[str | None, setting("00000000-0000-0000-0000-000000000000", hint="a string")] = None
    client_secret: Annotated[Secret | None, setting("<your app registration's secret>", hint="a string")] = None
    entra_scope: Annotated[str, setting(ENTRA_SCOPE)] = ENTRA_SCOPE
    readiness_probe_upstream: Annotated[bool, setting("true")] = False
    """Whether /readyz also sends Azure a cheap request (its result cached ``readiness_probe_ttl`` seconds)."""
    readiness_probe_ttl: Annotated[float, setting("5.0", unit="seconds", gt=0)] = 5.0
    shutdown_delay: Annotated[float, setting("5.0", unit="seconds", ge=0)] = 0.0
    """Seconds between SIGTERM and closing the port, while /readyz already answers 503."""
    log_format: Annotated[Literal["json", "console"], setting("console")] = "json"
    log_level: Annotated[Literal["debug", "info", "warning", "error"], setting("debug")] = "info"
    access_log: Annotated[bool, setting("false")] = True
    """One ``request`` line per request; off, only failed (5xx) requests are logged - for top throughput."""
    # The fleet (issue 17): a pool of deployments and one budget per deployment for every replica (fleet.py).
    deployments: Annotated[
        tuple[Deployment, ...],
        setting('[{"openai_base_url": "https://east.openai.azure.com", "openai_model": "gpt-4o", "rpm": 600}]',
                hint="a list of tables with openai_base_url, openai_model, ..."),
    ] = ()  # fmt: skip
    """The pool (empty: the one deployment the openai_* keys name); read it with ``fleet.pool_of``."""
    # msgspec bounds cannot sit on an optional int: checks.py holds the ">= 1".
    rpm: Annotated[int | None, setting("600", hint="an integer >= 1")] = None
    """Requests-per-minute quota of the single (shorthand) deployment; pool entries carry their own."""
    tpm: Annotated[int | None, setting("100000", hint="an integer >= 1")] = None
    redis_url: Annotated[Secret | None, setting("redis://127.0.0.1:6379/0", hint="a redis:// URL")] = None
    """Where the replicas share budgets and pauses; unset: the budgets are this process's own."""
    redis_prefix: Annotated[str, setting("gateway")] = "gateway"
    breaker_failures: Annotated[int, setting("3", ge=1)] = 3
    """Failures in a row (5xx, timeouts, connection errors) that open a deployment's circuit breaker."""
    breaker_cooldown: Annotated[float, setting("10.0", unit="seconds", gt=0)] = 10.0
    """Seconds an open breaker waits before one probe request (half-open) may try the deployment again."""
    # Stored responses and conversations (issue 15). The pattern is app.store.parse_store_url's four forms.
    store_url: Annotated[
        str,
        setting(
            "sqlite:///var/gateway.sqlite3",
            hint="sqlite:///PATH, postgresql://USER@HOST:PORT/DB, memory or off",
            pattern=r"^\s*(off|memory|sqlite:///.+|postgres(ql)?://.+)\s*$",
        ),
    ] = "sqlite:///gateway-store.sqlite3"
    """``sqlite:///PATH`` (embedded), ``postgresql://…`` (several processes), ``memory`` or ``off``."""
    store_retention_days: Annotated[float, setting("30", unit="days", ge=0)] = 30.0
    """Days a stored response is kept (OpenAI's 30); 0 keeps them until deleted. Conversations never expire."""
    background_heartbeat_seconds: Annotated[float, setting("2.0", unit="seconds", gt=0)] = 2.0
    """How often a process tells the store its background runs are alive; a run that misses 5 beats is
    taken for orphaned (its process died) and failed by whichever process looks at it next."""

    @property
    def api_version(self) -> str:
        """The api-version sent to Azure; on the v1 surface, where it is optional, ``v1`` when unset."""
        return self.default_query.get(API_VERSION_KEY) or V1_API_VERSION

    def secret_values(self) -> tuple[str, ...]:
        """Every credential in these settings, as text (for scrubbing logs); empty values left out."""
        found = [self.openai_api_key, self.client_secret, self.compaction_key, self.redis_url, *self.gateway_api_keys]
        found += [d.openai_api_key for d in self.deployments]
        return tuple(s.get_secret_value() for s in found if isinstance(s, Secret) and s.get_secret_value())
