"""Gateway settings: layered with Dynaconf, validated once at startup into a frozen msgspec Struct.

Layers, lowest to highest precedence:

1. ``settings.toml``   committed defaults (no credentials, no deployment, no api-version)
2. ``.secrets.toml``   gitignored; endpoint, key, deployment, api-version
3. ``GATEWAY_*``       environment variables
4. overrides           a mapping passed in by the caller (the CLI's flags)

Why validate eagerly into a typed Struct: a misconfigured gateway should refuse to start with one line that
says exactly what to set and where, instead of failing on the first request with an opaque upstream 404.
Why a ``Secret`` wrapper for the API key: ``repr(settings)`` ends up in logs, tracebacks and test output, and
the key must never appear there.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import msgspec
from dynaconf import Dynaconf  # type: ignore[attr-defined]
from dynaconf.loaders import env_loader, toml_loader

from app.settings import fleet
from app.settings.fleet import Deployment
from app.settings.secret import Secret

__all__ = [
    "DEFAULT_API_VERSION_EXAMPLE",
    "ENVVAR_PREFIX",
    "Secret",
    "Settings",
    "SettingsError",
    "check_exposure",
    "load_settings",
]

ENVVAR_PREFIX: Final = "GATEWAY"
DEFAULT_API_VERSION_EXAMPLE: Final = "2024-10-21"
API_VERSION_KEY: Final = "api-version"
V1_API_VERSION: Final = "v1"
ENTRA_SCOPE: Final = "https://cognitiveservices.azure.com/.default"

# The two files, in precedence order. Only these exact paths are read (see _read_files for why).
SETTINGS_FILES: Final = ("settings.toml", ".secrets.toml")


class SettingsError(Exception):
    """A missing or invalid setting. ``str(exc)`` is one line, fit to print as ``error: <message>``."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Validated gateway configuration; field names follow NeMo Gym's ``azure_openai_model`` config."""

    openai_base_url: str
    """Azure endpoint, e.g. ``https://my-resource.openai.azure.com`` (may carry a path)."""
    openai_api_key: Secret | None = None
    """Required with ``auth = "api_key"`` (the default); unused with ``auth = "entra_id"``."""
    openai_model: str
    """The Azure *deployment* name; it replaces whatever ``model`` a client sends."""
    default_query: dict[str, str]
    """Query parameters sent on every upstream call; contains ``api-version`` except on the v1 surface."""
    num_concurrent_requests: Annotated[int, msgspec.Meta(ge=1)] = 8
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    connect_timeout: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    read_timeout: Annotated[float, msgspec.Meta(gt=0)] = 600.0
    reasoning_replay: Literal["drop", "think_tags"] = "drop"
    """How replayed Responses ``reasoning`` input items reach Azure: dropped, or as ``<think>`` blocks."""
    reasoning_parser: Literal["off", "think_tags"] = "off"
    """Whether ``<think>…</think>`` in Azure's answer becomes a reasoning item (off: text is never altered)."""
    token_limit_parameter: Literal["auto", "max_completion_tokens", "max_tokens"] = "auto"
    """Which Chat parameter carries ``max_output_tokens``; ``auto`` decides by api-version, never by name."""
    # Reliability (issue 6): retries, deadlines, queueing, draining and inbound auth.
    max_retries: Annotated[int, msgspec.Meta(ge=0)] = 3
    max_retry_wait: Annotated[float, msgspec.Meta(ge=0)] = 60.0
    request_timeout: Annotated[float, msgspec.Meta(gt=0)] = 900.0
    max_queue: Annotated[int, msgspec.Meta(ge=0)] = 256
    max_queue_wait: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 32 * 1024 * 1024
    stream_idle_timeout: Annotated[float, msgspec.Meta(gt=0)] = 120.0
    drain_timeout: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    keep_alive_timeout: Annotated[int, msgspec.Meta(ge=1)] = 75
    """Seconds an idle client connection stays open. Above the clients' own idle expiry (httpx and the openai
    SDK: 5 s), so the server never closes a connection just as a client reuses it (a reset the client sees)."""
    gateway_api_keys: tuple[Secret, ...] = ()
    """Keys clients must present on /v1/* (``Authorization: Bearer`` or ``api-key``); empty = no auth."""
    allow_unauthenticated: bool = False
    # Operability (issue 8): Azure's URL surface and auth, probes, logs.
    api_surface: Literal["deployments", "v1"] = "deployments"
    """``deployments``: {endpoint}/openai/deployments/{d}/chat/completions; ``v1``: {endpoint}/openai/v1/..."""
    auth: Literal["api_key", "entra_id"] = "api_key"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    entra_scope: str = ENTRA_SCOPE
    readiness_probe_upstream: bool = False
    """Whether /readyz also sends Azure a cheap request (its result cached ``readiness_probe_ttl`` seconds)."""
    readiness_probe_ttl: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    shutdown_delay: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    """Seconds between SIGTERM and closing the port, while /readyz already answers 503."""
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    """One ``request`` line per request; off, only failed (5xx) requests are logged - for top throughput."""
    # The fleet (issue 17): a pool of deployments and one budget per deployment for every replica (fleet.py).
    deployments: tuple[Deployment, ...] = ()
    """The pool (empty: the one deployment the openai_* keys name); read it with ``fleet.pool_of``."""
    rpm: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Requests-per-minute quota of the single (shorthand) deployment; pool entries carry their own."""
    tpm: Annotated[int, msgspec.Meta(ge=1)] | None = None
    redis_url: Secret | None = None
    """Where the replicas share budgets and pauses; unset: the budgets are this process's own."""
    redis_prefix: str = "gateway"
    breaker_failures: Annotated[int, msgspec.Meta(ge=1)] = 3
    """Failures in a row (5xx, timeouts, connection errors) that open a deployment's circuit breaker."""
    breaker_cooldown: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    """Seconds an open breaker waits before one probe request (half-open) may try the deployment again."""

    @property
    def api_version(self) -> str:
        """The api-version sent to Azure; on the v1 surface, where it is optional, ``v1`` when unset."""
        return self.default_query.get(API_VERSION_KEY) or V1_API_VERSION

    def secret_values(self) -> tuple[str, ...]:
        """Every credential in these settings, as text (for scrubbing logs); empty values left out."""
        found = [self.openai_api_key, self.client_secret, self.redis_url, *self.gateway_api_keys]
        found += [d.openai_api_key for d in self.deployments]
        return tuple(s.get_secret_value() for s in found if isinstance(s, Secret) and s.get_secret_value())


class _Field(msgspec.Struct, frozen=True):
    """How to tell a user to fix one setting: where it lives, its env var, its flag, an example."""

    file_key: str
    env: str
    example: str
    flag: str | None = None
    expected: str = "a string"


_FIELDS: Final[dict[str, _Field]] = {
    "openai_base_url": _Field(
        "openai_base_url", "GATEWAY_OPENAI_BASE_URL", "https://my-resource.openai.azure.com",
        expected="an http(s) URL",
    ),
    "openai_api_key": _Field("openai_api_key", "GATEWAY_OPENAI_API_KEY", "<your Azure key>"),
    "openai_model": _Field("openai_model", "GATEWAY_OPENAI_MODEL", "gpt-4o-mini"),
    "api-version": _Field(
        'default_query."api-version"', "GATEWAY_API_VERSION", DEFAULT_API_VERSION_EXAMPLE,
        flag="--api-version",
    ),
    "default_query": _Field(
        "[default_query]", "GATEWAY_DEFAULT_QUERY", '{"api-version" = "2024-10-21"}',
        expected="a table of query parameters",
    ),
    "num_concurrent_requests": _Field(
        "num_concurrent_requests", "GATEWAY_NUM_CONCURRENT_REQUESTS", "8", expected="an integer >= 1"
    ),
    "host": _Field("host", "GATEWAY_HOST", "127.0.0.1", flag="--host"),
    "port": _Field("port", "GATEWAY_PORT", "8000", flag="--port", expected="an integer from 1 to 65535"),
    "connect_timeout": _Field(
        "connect_timeout", "GATEWAY_CONNECT_TIMEOUT", "5.0", expected="a number of seconds > 0"
    ),
    "read_timeout": _Field(
        "read_timeout", "GATEWAY_READ_TIMEOUT", "600.0", expected="a number of seconds > 0"
    ),
    "reasoning_replay": _Field(
        "reasoning_replay", "GATEWAY_REASONING_REPLAY", 'think_tags', expected='"drop" or "think_tags"'
    ),
    "reasoning_parser": _Field(
        "reasoning_parser", "GATEWAY_REASONING_PARSER", 'think_tags', expected='"off" or "think_tags"'
    ),
    "token_limit_parameter": _Field(
        "token_limit_parameter", "GATEWAY_TOKEN_LIMIT_PARAMETER", 'max_completion_tokens',
        expected='"auto", "max_completion_tokens" or "max_tokens"',
    ),
    "max_retries": _Field("max_retries", "GATEWAY_MAX_RETRIES", "3", expected="an integer >= 0"),
    "max_retry_wait": _Field("max_retry_wait", "GATEWAY_MAX_RETRY_WAIT", "60.0", expected="a number of seconds >= 0"),
    "request_timeout": _Field(
        "request_timeout", "GATEWAY_REQUEST_TIMEOUT", "900.0", expected="a number of seconds > 0"
    ),
    "max_queue": _Field("max_queue", "GATEWAY_MAX_QUEUE", "256", expected="an integer >= 0"),
    "max_queue_wait": _Field("max_queue_wait", "GATEWAY_MAX_QUEUE_WAIT", "60.0", expected="a number of seconds > 0"),
    "max_body_bytes": _Field(
        "max_body_bytes", "GATEWAY_MAX_BODY_BYTES", "33554432", expected="an integer number of bytes >= 1024"
    ),
    "stream_idle_timeout": _Field(
        "stream_idle_timeout", "GATEWAY_STREAM_IDLE_TIMEOUT", "120.0", expected="a number of seconds > 0"
    ),
    "drain_timeout": _Field("drain_timeout", "GATEWAY_DRAIN_TIMEOUT", "30.0", expected="a number of seconds >= 0"),
    "keep_alive_timeout": _Field(
        "keep_alive_timeout", "GATEWAY_KEEP_ALIVE_TIMEOUT", "75", expected="a whole number of seconds >= 1"
    ),
    "gateway_api_keys": _Field(
        "gateway_api_keys", "GATEWAY_GATEWAY_API_KEYS", '["key-one", "key-two"] (env: key-one,key-two)',
        expected="a list of non-empty strings",
    ),
    "allow_unauthenticated": _Field(
        "allow_unauthenticated", "GATEWAY_ALLOW_UNAUTHENTICATED", "true", expected="true or false"
    ),
    "api_surface": _Field("api_surface", "GATEWAY_API_SURFACE", "v1", expected='"deployments" or "v1"'),
    "auth": _Field("auth", "GATEWAY_AUTH", "entra_id", expected='"api_key" or "entra_id"'),
    "tenant_id": _Field("tenant_id", "GATEWAY_TENANT_ID", "00000000-0000-0000-0000-000000000000"),
    "client_id": _Field("client_id", "GATEWAY_CLIENT_ID", "00000000-0000-0000-0000-000000000000"),
    "client_secret": _Field("client_secret", "GATEWAY_CLIENT_SECRET", "<your app registration's secret>"),
    "entra_scope": _Field("entra_scope", "GATEWAY_ENTRA_SCOPE", ENTRA_SCOPE),
    "readiness_probe_upstream": _Field(
        "readiness_probe_upstream", "GATEWAY_READINESS_PROBE_UPSTREAM", "true", expected="true or false"
    ),
    "readiness_probe_ttl": _Field(
        "readiness_probe_ttl", "GATEWAY_READINESS_PROBE_TTL", "5.0", expected="a number of seconds > 0"
    ),
    "shutdown_delay": _Field(
        "shutdown_delay", "GATEWAY_SHUTDOWN_DELAY", "5.0", expected="a number of seconds >= 0"
    ),
    "log_format": _Field("log_format", "GATEWAY_LOG_FORMAT", "console", expected='"json" or "console"'),
    "log_level": _Field(
        "log_level", "GATEWAY_LOG_LEVEL", "debug", expected='"debug", "info", "warning" or "error"'
    ),
    "access_log": _Field("access_log", "GATEWAY_ACCESS_LOG", "false", expected="true or false"),
    "rpm": _Field("rpm", "GATEWAY_RPM", "600", expected="an integer >= 1"),
    "tpm": _Field("tpm", "GATEWAY_TPM", "100000", expected="an integer >= 1"),
    "redis_url": _Field("redis_url", "GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/0", expected="a redis:// URL"),
    "redis_prefix": _Field("redis_prefix", "GATEWAY_REDIS_PREFIX", "gateway", expected="a key prefix"),
    "breaker_failures": _Field(
        "breaker_failures", "GATEWAY_BREAKER_FAILURES", "3", expected="an integer >= 1"
    ),
    "breaker_cooldown": _Field(
        "breaker_cooldown", "GATEWAY_BREAKER_COOLDOWN", "10.0", expected="a number of seconds > 0"
    ),
}

# Settings whose values are credentials: never echoed in an error message.
_SECRET_FIELDS: Final = frozenset({"openai_api_key", "client_secret", "gateway_api_keys", "redis_url"})

# Settings that are plain strings. Dynaconf parses every environment value as TOML, which silently turns
# GATEWAY_API_VERSION=2024-10-21 into a date and a numeric key or deployment name into an int; for these we
# take the environment's raw text instead, exactly as the user wrote it.
_RAW_STRING_ENV: Final = {
    "openai_base_url": "GATEWAY_OPENAI_BASE_URL",
    "openai_api_key": "GATEWAY_OPENAI_API_KEY",
    "openai_model": "GATEWAY_OPENAI_MODEL",
    "host": "GATEWAY_HOST",
    # TOML would read GATEWAY_REASONING_PARSER=off as text anyway, but an operator's exact word is clearer.
    "reasoning_replay": "GATEWAY_REASONING_REPLAY",
    "reasoning_parser": "GATEWAY_REASONING_PARSER",
    "token_limit_parameter": "GATEWAY_TOKEN_LIMIT_PARAMETER",
    "api_surface": "GATEWAY_API_SURFACE",
    "auth": "GATEWAY_AUTH",
    "tenant_id": "GATEWAY_TENANT_ID",
    "client_id": "GATEWAY_CLIENT_ID",
    "client_secret": "GATEWAY_CLIENT_SECRET",
    "entra_scope": "GATEWAY_ENTRA_SCOPE",
    "log_format": "GATEWAY_LOG_FORMAT",
    "log_level": "GATEWAY_LOG_LEVEL",
    "redis_url": "GATEWAY_REDIS_URL",
    "redis_prefix": "GATEWAY_REDIS_PREFIX",
}

# Required settings, in the order they are reported. api-version comes first: it is the Azure-specific one
# people forget, and NeMo Gym users are used to being asked for it explicitly.
_REQUIRED: Final = ("api-version", "openai_base_url", "openai_api_key", "openai_model")


def _where(name: str) -> str:
    f = _FIELDS[name]
    where = f"set {f.file_key} in settings.toml or .secrets.toml, or the environment variable {f.env}"
    if f.flag:
        where += f", or pass {f.flag}"
    return f"{where} (for example {f.example})"


def _missing(name: str) -> SettingsError:
    return SettingsError(f"{name} is not set: {_where(name)}")


def _invalid(name: str, value: Any, reason: str | None = None) -> SettingsError:
    f = _FIELDS[name]
    # Never echo the key, not even a wrong one: it may be a real key pasted into the wrong place.
    shown = "" if name in _SECRET_FIELDS else f"got {value!r}, "
    return SettingsError(f"{name} is invalid ({shown}expected {reason or f.expected}): {_where(name)}")


def _new_dynaconf(root: Path) -> Any:
    """A Dynaconf instance that reads nothing on its own.

    Dynaconf's defaults are generous: relative ``settings_files`` are searched for in the script's and the
    working directory's parents (and their ``config/`` folders), ``settings.local.toml`` is loaded next to
    every file, ``DYNACONF_*`` variables are always merged, and ``*_FOR_DYNACONF`` variables can add
    includes, secrets or a ``.env``. A gateway holding an API key should not be configured by a stray file
    three directories up, so every one of those is switched off here and the layers are loaded explicitly.
    """
    return Dynaconf(
        settings_files=[],
        root_path=str(root),
        envvar_prefix=ENVVAR_PREFIX,
        environments=False,
        load_dotenv=False,
        merge_enabled=True,  # so [default_query] in settings.toml and .secrets.toml combine
        loaders=[],
        core_loaders=[],
        includes=[],
        preload=[],
        secrets=None,
    )


def _read_layers(root: Path) -> dict[str, Any]:
    """Files, then ``GATEWAY_*`` variables, merged by Dynaconf; returns lower-cased top-level keys."""
    dyn = _new_dynaconf(root)
    for name in SETTINGS_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            toml_loader.load(dyn, filename=str(path.resolve()), silent=False)
        except Exception as exc:  # tomllib / Dynaconf errors; keep the CLI's one-line contract
            detail = " ".join(str(exc).split())
            raise SettingsError(f"cannot read {path}: {detail}") from None
    env_loader.load_from_env(dyn, ENVVAR_PREFIX, identifier="env_global")
    data = {str(k).lower(): v for k, v in dyn.as_dict().items()}
    for key, env in _RAW_STRING_ENV.items():
        if env in os.environ:
            data[key] = os.environ[env]
    # The api-version shorthand; raw for the same reason (a TOML date would be re-rendered differently).
    data.pop("api_version", None)
    if "GATEWAY_API_VERSION" in os.environ:
        data["api_version"] = os.environ["GATEWAY_API_VERSION"]
    return data


def _query_value(key: str, value: Any) -> str:
    """Render one default_query value as the text that goes on the wire."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.date | _dt.datetime | _dt.time):
        # An unquoted TOML date (api-version = 2024-10-21) is what the user meant as text.
        return value.isoformat()
    if isinstance(value, str | int | float):
        return str(value)
    name = "api-version" if key == API_VERSION_KEY else "default_query"
    raise _invalid(name, value, "a string" if name == "api-version" else "string values")


def _normalise_query(raw: Any, api_version: Any) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise _invalid("default_query", raw)
    query = {str(k): _query_value(str(k), v) for k, v in raw.items()}
    if api_version is not None:
        query[API_VERSION_KEY] = _query_value(API_VERSION_KEY, api_version)
    return query


_PATH_RE = re.compile(r"at `\$\.(\w+)")


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid("openai_base_url", url)
    if parts.query or parts.fragment:
        raise _invalid("openai_base_url", url, "an http(s) URL without ?query or #fragment")


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Read every layer, validate, and return ``Settings``; raise ``SettingsError`` with one line otherwise.

    ``overrides`` takes any ``Settings`` field name plus ``api_version`` (shorthand for
    ``default_query["api-version"]``); ``None`` values are ignored so argparse results can be passed as is.
    ``root`` is the directory holding ``settings.toml``/``.secrets.toml`` (default: the working directory).
    ``defaults`` is a layer *below* settings.toml, for modes that can fill gaps but must not hide the user's
    choices (``serve --emulator`` supplies a deployment and an api-version this way).
    """
    data = dict(defaults or {})
    layers = _read_layers(Path.cwd() if root is None else Path(root))
    if isinstance(data.get("default_query"), Mapping) and isinstance(layers.get("default_query"), Mapping):
        layers["default_query"] = {**data["default_query"], **layers["default_query"]}
    data.update(layers)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "default_query" and isinstance(value, Mapping):
            data["default_query"] = {**(data.get("default_query") or {}), **value}
        else:
            data[key] = value

    data["default_query"] = _normalise_query(data.get("default_query"), data.pop("api_version", None))

    try:
        data = fleet.expand(data)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None

    required = list(_REQUIRED)
    if data.get("api_surface") == "v1":
        required.remove("api-version")  # optional on Azure's v1 surface
    if data.get("auth") == "entra_id":
        required.remove("openai_api_key")  # the token comes from Entra ID instead
    for name in required:
        value = data["default_query"].get(API_VERSION_KEY) if name == "api-version" else data.get(name)
        if isinstance(value, Secret):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _missing(name)

    if "gateway_api_keys" in data:
        data["gateway_api_keys"] = _normalise_keys(data["gateway_api_keys"])

    fields = set(Settings.__struct_fields__)
    candidate = {k: v for k, v in data.items() if k in fields}
    try:
        settings = msgspec.convert(
            candidate,
            Settings,
            strict=False,  # "8080" from a quoted TOML value is fine; "abc" is still rejected
            dec_hook=_dec_hook,
        )
    except msgspec.ValidationError as exc:
        match = _PATH_RE.search(str(exc))
        if match and match.group(1) in _FIELDS:
            raise _invalid(match.group(1), candidate.get(match.group(1))) from None
        raise SettingsError(f"invalid settings: {exc}") from None
    _check_base_url(settings.openai_base_url)
    if settings.openai_model.strip(".") == "":
        # "." and ".." survive percent-encoding and would be resolved away as path segments (the SDK
        # refuses them too), silently calling a different URL.
        raise _invalid("openai_model", settings.openai_model, "a deployment name, not a dot-segment")
    _check_entra(settings)
    if settings.redis_url is not None:
        url = urlsplit(settings.redis_url.get_secret_value())
        if url.scheme not in ("redis", "rediss", "unix") or not (url.hostname or url.path):
            raise _invalid("redis_url", None)
    return settings


def _check_entra(settings: Settings) -> None:
    """A client secret only makes sense with the tenant and the app registration it belongs to."""
    if settings.auth != "entra_id" or settings.client_secret is None:
        return
    for name in ("tenant_id", "client_id"):
        if not getattr(settings, name):
            raise SettingsError(f"{name} is not set but client_secret is: {_where(name)}")


# NeMo Gym's env.yaml keys and the settings they stand for (NeMo Gym's azure_openai_model server maps them the
# same way: base_url/api_key/model).
ENV_YAML_KEYS: Final = {
    "policy_base_url": "openai_base_url",
    "policy_api_key": "openai_api_key",
    "policy_model_name": "openai_model",
}


def read_env_yaml(path: str | Path) -> dict[str, Any]:
    """The gateway settings a NeMo Gym ``env.yaml`` holds, for ``load_settings(defaults=...)``.

    Only the three ``policy_*`` keys are read; everything else in the file (other servers' settings) is
    ignored. Raises ``SettingsError`` with one line when the file cannot be read or is not a mapping.
    """
    import yaml

    where = Path(path)
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read env.yaml {where}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise SettingsError(f"cannot read env.yaml {where}: {detail}") from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SettingsError(f"cannot read env.yaml {where}: expected a mapping of keys such as policy_base_url")
    found: dict[str, Any] = {}
    for key, setting in ENV_YAML_KEYS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str | int | float):
            # Never echo the value: it may be the key.
            raise SettingsError(f"{key} in env.yaml {where} must be a string")
        found[setting] = str(value)
    return found
def _normalise_keys(raw: Any) -> list[Any]:
    """``gateway_api_keys`` from a TOML list, or from the environment as ``a,b`` (or a TOML list)."""
    env = os.environ.get("GATEWAY_GATEWAY_API_KEYS")
    if env is not None and not env.lstrip().startswith("["):
        raw = env  # raw text: Dynaconf would turn a numeric key into an int
    if raw is None:
        return []
    if isinstance(raw, str | Secret):
        text = raw.get_secret_value() if isinstance(raw, Secret) else raw
        raw = text.split(",")
    if not isinstance(raw, list | tuple) or not all(isinstance(k, str | Secret) for k in raw):
        raise _invalid("gateway_api_keys", raw)
    keys = [k if isinstance(k, Secret) else k.strip() for k in raw]
    return [k for k in keys if k]


def check_exposure(settings: Settings) -> None:
    """Refuse to serve a non-loopback interface without inbound keys, unless explicitly allowed.

    Anyone who can reach the port spends the Azure key's quota; on loopback that is only this machine.
    """
    if settings.gateway_api_keys or settings.allow_unauthenticated or _is_loopback(settings.host):
        return
    raise SettingsError(
        f"refusing to listen on {settings.host} without client authentication: anyone who can reach the port "
        "could use the gateway's Azure key. Set gateway_api_keys in .secrets.toml or GATEWAY_GATEWAY_API_KEYS "
        "(for example key-one,key-two), or set allow_unauthenticated = true (GATEWAY_ALLOW_UNAUTHENTICATED=true) "
        "if something in front of the gateway already authenticates clients"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _dec_hook(type_: type, obj: Any) -> Any:
    if type_ is Secret:
        if isinstance(obj, Secret):
            return obj
        if isinstance(obj, str):
            return Secret(obj)
        # msgspec turns this into a ValidationError with the field path; the value itself is never shown.
        raise TypeError("expected a string")
    raise NotImplementedError(type_)
