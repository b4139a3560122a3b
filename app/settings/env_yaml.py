"""NeMo Gym's ``env.yaml`` as a settings layer: the three ``policy_*`` keys, nothing else of the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from app.settings.model import SettingsError

__all__ = ["ENV_YAML_KEYS", "read_env_yaml"]

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
    if not isinstance(raw, dict):
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
