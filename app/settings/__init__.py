"""Settings: every field described once (``model.Settings``), layered with Dynaconf and validated at startup.

``model`` holds the Struct and each field's description, ``fields`` derives the names and hints from it,
``checks`` holds the rules that span values, ``load`` reads the layers, ``env_yaml`` reads NeMo Gym's file.
Owns configuration only: it imports nothing else of the app, and every other layer reads ``Settings``.
"""

from app.settings.load import (
    DEFAULT_API_VERSION_EXAMPLE,
    ENVVAR_PREFIX,
    Secret,
    Settings,
    SettingsError,
    check_exposure,
    load_settings,
)

__all__ = [
    "DEFAULT_API_VERSION_EXAMPLE",
    "ENVVAR_PREFIX",
    "Secret",
    "Settings",
    "SettingsError",
    "check_exposure",
    "load_settings",
]
