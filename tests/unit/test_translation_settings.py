"""The translation settings: defaults, layering, one-line errors, and that they reach the translator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.service.azure import Gateway
from app.settings.load import Secret, Settings, SettingsError, load_settings
from app.translate import capabilities_for

REQUIRED = {
    "api_version": "2024-10-21",
    "openai_base_url": "https://res.openai.azure.com",
    "openai_api_key": "sk-test",
    "openai_model": "gpt-4o-mini",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("GATEWAY_", "DYNACONF")) or name.endswith("_FOR_DYNACONF"):
            monkeypatch.delenv(name)


def test_defaults_change_nothing_silently(tmp_path: Path) -> None:
    settings = load_settings(REQUIRED, root=tmp_path)
    assert (settings.reasoning_replay, settings.reasoning_parser, settings.token_limit_parameter) == (
        "drop",
        "off",
        "auto",
    )


def test_committed_settings_toml_documents_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "settings.toml").read_text()
    for key in ("reasoning_replay", "reasoning_parser", "token_limit_parameter"):
        assert f"{key} = " in text
        assert f"GATEWAY_{key.upper()}" in text
    settings = load_settings(REQUIRED, root=root)
    assert settings.reasoning_replay == "drop" and settings.token_limit_parameter == "auto"


def test_files_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.toml").write_text('reasoning_replay = "think_tags"\nreasoning_parser = "think_tags"\n')
    monkeypatch.setenv("GATEWAY_TOKEN_LIMIT_PARAMETER", "max_tokens")
    monkeypatch.setenv("GATEWAY_REASONING_PARSER", "off")
    settings = load_settings(REQUIRED, root=tmp_path)
    assert settings.reasoning_replay == "think_tags"
    assert settings.reasoning_parser == "off"
    assert settings.token_limit_parameter == "max_tokens"


@pytest.mark.parametrize(
    ("key", "env", "example"),
    [
        ("reasoning_replay", "GATEWAY_REASONING_REPLAY", "think_tags"),
        ("reasoning_parser", "GATEWAY_REASONING_PARSER", "think_tags"),
        ("token_limit_parameter", "GATEWAY_TOKEN_LIMIT_PARAMETER", "max_completion_tokens"),
    ],
)
def test_invalid_value_is_one_line_naming_key_env_and_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, env: str, example: str
) -> None:
    monkeypatch.setenv(env, "bogus")
    with pytest.raises(SettingsError) as info:
        load_settings(REQUIRED, root=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{key} is invalid (got 'bogus', expected ")
    assert f"set {key} in settings.toml or .secrets.toml, or the environment variable {env}" in message
    assert f"(for example {example})" in message


def test_gateway_passes_settings_to_the_translator() -> None:
    settings = Settings(
        openai_base_url="https://res.openai.azure.com",
        openai_api_key=Secret("k"),
        openai_model="o3-mini",
        default_query={"api-version": "2024-12-01-preview"},
        reasoning_replay="think_tags",
        reasoning_parser="think_tags",
        token_limit_parameter="max_completion_tokens",
    )
    options = Gateway(settings, client=None).options  # type: ignore[arg-type]
    assert options.deployment == "o3-mini"
    assert options.capabilities == capabilities_for("2024-12-01-preview")
    assert options.reasoning_replay == "think_tags"
    assert options.reasoning_parser == "think_tags"
    assert options.token_limit_parameter == "max_completion_tokens"
