"""Gateway settings: layered with Dynaconf, validated once at startup into a frozen ``Settings``.

Layers, lowest to highest precedence:

1. ``settings.toml``   committed defaults (no credentials, no deployment, no api-version)
2. ``.secrets.toml``   gitignored; endpoint, key, deployment, api-version
3. ``GATEWAY_*``       environment variables
4. overrides           a mapping passed in by the caller (the CLI's flags)

Why validate eagerly, every value on its own: a misconfigured gateway should refuse to start with a message
that says exactly what to set and where - for every missing or invalid setting at once, not one per run -
instead of failing on the first request with an opaque upstream 404.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import msgspec
from dynaconf import Dynaconf  # type: ignore[attr-defined]
from dynaconf.loaders import env_loader, toml_loader

from app.settings import fleet
from app.settings.checks import check_exposure, check_values
from app.settings.env_yaml import read_env_yaml
from app.settings.fields import API_VERSION, FIELDS, invalid, missing
from app.settings.model import (
    API_VERSION_KEY,
    DEFAULT_API_VERSION_EXAMPLE,
    ENTRA_SCOPE,
    ENVVAR_PREFIX,
    Secret,
    Settings,
    SettingsError,
)

__all__ = [
    "DEFAULT_API_VERSION_EXAMPLE",
    "ENTRA_SCOPE",
    "ENVVAR_PREFIX",
    "Secret",
    "Settings",
    "SettingsError",
    "check_exposure",
    "load_settings",
    "read_env_yaml",
]

# The two files, in precedence order. Only these exact paths are read (see _new_dynaconf for why).
SETTINGS_FILES: Final = ("settings.toml", ".secrets.toml")

# Required settings, in the order they are reported. api-version comes first: it is the Azure-specific one
# people forget, and NeMo Gym users are used to being asked for it explicitly.
_REQUIRED: Final = (API_VERSION, "openai_base_url", "openai_api_key", "openai_model")


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
    data.pop("api_version", None)  # only ever the raw text (below): a TOML date would be re-rendered
    for doc in FIELDS.values():
        if doc.raw_env and doc.env in os.environ:
            data["api_version" if doc.name == API_VERSION else doc.name] = os.environ[doc.env]
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
    name = API_VERSION if key == API_VERSION_KEY else "default_query"
    raise SettingsError(invalid(name, value, "a string" if name == API_VERSION else "string values"))


def _normalise_query(raw: Any, api_version: Any) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SettingsError(invalid("default_query", raw))
    query = {str(k): _query_value(str(k), v) for k, v in raw.items()}
    if api_version is not None:
        query[API_VERSION_KEY] = _query_value(API_VERSION_KEY, api_version)
    return query


def _normalise_keys(raw: Any) -> list[Any]:
    """``gateway_api_keys`` from a TOML list, or from the environment as ``a,b`` (or a TOML list)."""
    env = os.environ.get(FIELDS["gateway_api_keys"].env)
    if env is not None and not env.lstrip().startswith("["):
        raw = env  # raw text: Dynaconf would turn a numeric key into an int
    if raw is None:
        return []
    if isinstance(raw, str | Secret):
        text = raw.get_secret_value() if isinstance(raw, Secret) else raw
        raw = text.split(",")
    if not isinstance(raw, list | tuple) or not all(isinstance(k, str | Secret) for k in raw):
        raise SettingsError(invalid("gateway_api_keys", raw))
    keys = [k if isinstance(k, Secret) else k.strip() for k in raw]
    return [k for k in keys if k]


def _merge(
    defaults: Mapping[str, Any] | None, layers: dict[str, Any], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    data = dict(defaults or {})
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
    return data


def _missing(data: Mapping[str, Any]) -> list[str]:
    required = list(_REQUIRED)
    if data.get("api_surface") == "v1":
        required.remove(API_VERSION)  # optional on Azure's v1 surface
    if data.get("auth") == "entra_id":
        required.remove("openai_api_key")  # the token comes from Entra ID instead
    problems = []
    for name in required:
        query = data.get("default_query")
        value = query.get(API_VERSION_KEY) if name == API_VERSION and isinstance(query, Mapping) else data.get(name)
        if isinstance(value, Secret):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(missing(name))
    return problems


def _convert(data: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """Each present field checked on its own, so every bad value is reported; returns the good ones."""
    values: dict[str, Any] = {}
    for name in Settings.__struct_fields__:
        if name not in data:
            continue
        try:
            values[name] = msgspec.convert(
                data[name],
                FIELDS[name].annotation,
                strict=False,  # "8080" from a quoted TOML value is fine; "abc" is still rejected
                dec_hook=_dec_hook,
            )
        except msgspec.ValidationError:
            problems.append(invalid(name, data[name]))
    return values


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Read every layer, validate, and return ``Settings``; raise ``SettingsError`` naming every problem.

    ``overrides`` takes any ``Settings`` field name plus ``api_version`` (shorthand for
    ``default_query["api-version"]``); ``None`` values are ignored so argparse results can be passed as is.
    ``root`` is the directory holding ``settings.toml``/``.secrets.toml`` (default: the working directory).
    ``defaults`` is a layer *below* settings.toml, for modes that can fill gaps but must not hide the user's
    choices (``serve --emulator`` supplies a deployment and an api-version this way).
    """
    data = _merge(defaults, _read_layers(Path.cwd() if root is None else Path(root)), overrides)
    problems: list[str] = []
    try:
        data["default_query"] = _normalise_query(data.get("default_query"), data.pop("api_version", None))
    except SettingsError as exc:
        problems += exc.problems
        data.pop("default_query", None)
    try:  # a pool fills the top-level openai_* keys with its first entry's (settings/fleet.py)
        data = fleet.expand(data)
    except ValueError as exc:
        # The entry at fault is the one thing to fix: the top-level keys it would have filled are not missing.
        problems.append(str(exc))
        data.pop("deployments", None)
    else:
        problems += _missing(data)
    if "gateway_api_keys" in data:
        try:
            data["gateway_api_keys"] = _normalise_keys(data["gateway_api_keys"])
        except SettingsError as exc:
            problems += exc.problems
            del data["gateway_api_keys"]
    values = _convert(data, problems)
    problems += check_values(values)
    if problems:
        raise SettingsError(*dict.fromkeys(problems))  # in order, each once
    return Settings(**values)


def _dec_hook(type_: type, obj: Any) -> Any:
    if type_ is Secret:
        if isinstance(obj, Secret):
            return obj
        if isinstance(obj, str):
            return Secret(obj)
        # msgspec turns this into a ValidationError with the field path; the value itself is never shown.
        raise TypeError("expected a string")
    raise NotImplementedError(type_)
