"""Settings: every field described once, layered with Dynaconf, validated at startup into a frozen ``Settings``.

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
