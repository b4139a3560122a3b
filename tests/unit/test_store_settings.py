"""The store's two settings: store_url (its four forms) and store_retention_days."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.settings.load import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
REQUIRED = {
    "GATEWAY_OPENAI_BASE_URL": "https://res.openai.azure.com",
    "GATEWAY_OPENAI_API_KEY": "k",
    "GATEWAY_OPENAI_MODEL": "gpt-4o-mini",
    "GATEWAY_API_VERSION": "2024-10-21",
}


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)


def test_the_default_is_an_sqlite_file_kept_30_days() -> None:
    settings = load_settings(root=REPO)
    assert settings.store_url == "sqlite:///gateway-store.sqlite3"
    assert settings.store_retention_days == 30


@pytest.mark.parametrize(
    "url", ["off", "memory", "sqlite:///x/y.db", "sqlite:////abs/y.db", "postgresql://u@127.0.0.1:5432/db"]
)
def test_each_form_is_accepted_from_the_environment(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("GATEWAY_STORE_URL", url)
    assert load_settings(root=REPO).store_url == url


@pytest.mark.parametrize("url", ["mysql://h/db", "sqlite://", "on", ""])
def test_anything_else_is_refused_in_one_line_naming_the_forms(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("GATEWAY_STORE_URL", url)
    with pytest.raises(SettingsError) as info:
        load_settings(root=REPO)
    message = str(info.value)
    assert message.startswith("store_url is invalid") and "GATEWAY_STORE_URL" in message
    assert "sqlite:///PATH" in message and "\n" not in message


def test_retention_must_not_be_negative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_STORE_RETENTION_DAYS", "-1")
    with pytest.raises(SettingsError, match="store_retention_days is invalid"):
        load_settings(root=REPO)
