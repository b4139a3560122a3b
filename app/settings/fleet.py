"""The fleet's settings: a pool of deployments of one model (``deployments``) and the Redis coordinator.

``deployments`` (``[[deployments]]`` tables in a settings file, or ``GATEWAY_DEPLOYMENTS`` as a JSON or TOML
list) lists the Azure deployments the gateway spreads one model over. Each entry has ``openai_base_url``,
``openai_api_key`` (not with Entra ID), ``openai_model`` (the deployment name) and optionally ``api-version``,
``rpm``, ``tpm``, ``weight``, ``auth`` and ``name`` (the label in logs, metrics and the response header).
What an entry leaves out it takes from the top-level settings, so the single ``openai_*`` keys stay the
one-entry shorthand: without ``deployments`` the pool is exactly those keys.

Kept apart from ``load.py`` so the pool's parsing and messages live in one place; ``load_settings`` only
calls :func:`expand` before it validates and :func:`pool_of` is how everyone else reads the pool.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from app.settings.model import Deployment, Secret

if TYPE_CHECKING:
    from app.settings.model import Settings

__all__ = ["Deployment", "expand", "pool_of"]

ENV: Final = "GATEWAY_DEPLOYMENTS"
_EXAMPLE: Final = (
    '[{"openai_base_url": "https://east.openai.azure.com", "openai_model": "gpt-4o", "openai_api_key": "...", '
    '"rpm": 600, "tpm": 100000}]'
)
_KEYS: Final = frozenset(
    {"name", "openai_base_url", "openai_api_key", "openai_model", "api-version", "api_version", "rpm", "tpm",
     "weight", "auth"}
)  # fmt: skip
_NUMBERS: Final = {"rpm": "an integer >= 1", "tpm": "an integer >= 1", "weight": "a number > 0"}


def _fail(index: int, key: str, expected: str, value: Any = None, *, show: bool = True) -> ValueError:
    shown = f"got {value!r}, " if show else ""
    return ValueError(
        f"deployments[{index}].{key} is invalid ({shown}expected {expected}): set [[deployments]] tables in "
        f"settings.toml or .secrets.toml, or the environment variable {ENV} as a JSON list (for example {_EXAMPLE})"
    )


def _raw_env() -> Any:
    """``GATEWAY_DEPLOYMENTS`` read as the user wrote it: JSON, else a TOML array (Dynaconf's guess is neither)."""
    text = os.environ.get(ENV)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return tomllib.loads(f"deployments = {text}")["deployments"]
    except tomllib.TOMLDecodeError:
        raise ValueError(
            f"{ENV} is not a JSON or TOML list of tables (for example {_EXAMPLE})"
        ) from None


def _text(entry: Mapping[str, Any], index: int, key: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, int | float) and not isinstance(value, bool) and key != "openai_api_key":
        value = str(value)  # a numeric deployment name
    if not isinstance(value, str) or not value.strip():
        raise _fail(index, key, "a non-empty string", value, show=key != "openai_api_key")
    return value


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """Turn the raw ``deployments`` layer into complete entries; return ``data`` with them (or unchanged).

    Called by ``load_settings`` with the merged layers and the normalised ``default_query``, before the
    required top-level checks: with a pool, the top-level ``openai_*`` keys become the first entry's, so the
    rest of the settings (and anything that reads ``openai_model``) sees one concrete deployment. Raises
    ``ValueError`` with the one-line message for the entry and key at fault.
    """
    raw = _raw_env() if ENV in os.environ else data.get("deployments")
    if raw is None:
        return data
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError(f"deployments must be a non-empty list of tables (for example {_EXAMPLE})")
    auth = data.get("auth") or "api_key"
    query = dict(data.get("default_query") or {})
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise ValueError(f"deployments[{index}] must be a table with openai_base_url, openai_model, ...")
        unknown = sorted(set(map(str, entry)) - _KEYS)
        if unknown:
            raise _fail(index, unknown[0], f"one of {', '.join(sorted(_KEYS - {'api_version'}))}", show=False)
        out: dict[str, Any] = {"auth": entry.get("auth") or auth}
        if out["auth"] not in ("api_key", "entra_id"):
            raise _fail(index, "auth", '"api_key" or "entra_id"', out["auth"])
        for key in ("openai_base_url", "openai_model"):
            value = _text(entry, index, key) or _text(data, index, key)
            if value is None:
                raise _fail(index, key, "a non-empty string (it is not set)", show=False)
            out[key] = value
        parts = urlsplit(out["openai_base_url"])
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise _fail(index, "openai_base_url", "an http(s) URL without ?query or #fragment", out["openai_base_url"])
        if out["openai_model"].strip(".") == "":
            raise _fail(index, "openai_model", "a deployment name, not a dot-segment", out["openai_model"])
        key_text = _text(entry, index, "openai_api_key") or _text(data, index, "openai_api_key")
        if out["auth"] == "api_key" and key_text is None:
            raise _fail(index, "openai_api_key", "the deployment's Azure key (it is not set)", show=False)
        out["openai_api_key"] = Secret(key_text) if key_text is not None else None
        version = entry.get("api-version", entry.get("api_version"))
        out["default_query"] = {**query, **({"api-version": _version(version, index)} if version is not None else {})}
        if data.get("api_surface") != "v1" and "api-version" not in out["default_query"]:
            raise _fail(index, "api-version", "an api-version such as 2024-10-21 (it is not set)", show=False)
        for key, expected in _NUMBERS.items():
            value = entry.get(key)
            if value is None:
                continue
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or value <= 0 or (key != "weight" and value != int(value)):
                raise _fail(index, key, expected, value)
            out[key] = int(value) if key != "weight" else float(value)
        out["name"] = _text(entry, index, "name") or out["openai_model"]
        entries.append(out)
    _unique_names(entries, "name" in {k for e in raw for k in e})
    first = entries[0]
    return {
        **data,
        "deployments": entries,
        "openai_base_url": first["openai_base_url"],
        "openai_model": first["openai_model"],
        "openai_api_key": first["openai_api_key"],
        "default_query": first["default_query"],
    }


def _version(value: Any, index: int) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())  # an unquoted TOML date
    if not isinstance(value, str) or not value.strip():
        raise _fail(index, "api-version", "a string such as 2024-10-21", value)
    return value


def _unique_names(entries: list[dict[str, Any]], explicit: bool) -> None:
    """Labels must tell the deployments apart: the same deployment name in two regions gets ``name@host``."""
    seen: dict[str, int] = {}
    for entry in entries:
        seen[entry["name"]] = seen.get(entry["name"], 0) + 1
    for entry in entries:
        if seen[entry["name"]] > 1 and entry["name"] == entry["openai_model"]:
            entry["name"] = f"{entry['openai_model']}@{urlsplit(entry['openai_base_url']).hostname}"
    names = [e["name"] for e in entries]
    for index, name in enumerate(names):
        if names.index(name) != index:
            hint = "give each entry its own name" if explicit else "the same deployment and host twice"
            raise ValueError(f"deployments[{index}] repeats deployment {name!r} ({hint})")


def pool_of(settings: Settings) -> tuple[Deployment, ...]:
    """The deployments to spread calls over: ``deployments``, or the one the top-level keys describe."""
    if settings.deployments:
        return settings.deployments
    return (
        Deployment(
            name=settings.openai_model,
            openai_base_url=settings.openai_base_url,
            openai_api_key=settings.openai_api_key,
            openai_model=settings.openai_model,
            default_query=dict(settings.default_query),
            auth=settings.auth,
            rpm=settings.rpm,
            tpm=settings.tpm,
        ),
    )
