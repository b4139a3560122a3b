"""Settings layering, validation messages, and that the API key never shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings.load import Secret, Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-azure-0123456789abcdef"

API_VERSION_MESSAGE = (
    'api-version is not set: set default_query."api-version" in settings.toml or .secrets.toml, or the '
    "environment variable GATEWAY_API_VERSION, or pass --api-version (for example 2024-10-21)"
)

SECRETS = f"""
openai_base_url = "https://res.openai.azure.com"
openai_api_key = "{KEY}"
openai_model = "gpt-4o-mini"

[default_query]
"api-version" = "2024-10-21"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not see the developer's own GATEWAY_* (or Dynaconf's *_FOR_DYNACONF) variables."""
    for name in list(os.environ):
        if name.startswith(("GATEWAY_", "DYNACONF")) or name.endswith("_FOR_DYNACONF"):
            monkeypatch.delenv(name)


def write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, encoding="utf-8")


def problems_of(overrides: dict[str, object] | None = None, *, root: Path) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as info:
        load_settings(overrides, root=root)
    return info.value.problems


def error_of(overrides: dict[str, object] | None = None, *, root: Path) -> str:
    """The message when exactly one setting is wrong: one line."""
    with pytest.raises(SettingsError) as info:
        load_settings(overrides, root=root)
    message = str(info.value)
    assert "\n" not in message and info.value.problems == (message,)
    return message


NOT_SET = [
    API_VERSION_MESSAGE,
    "openai_base_url is not set: set openai_base_url in settings.toml or .secrets.toml, or the environment "
    "variable GATEWAY_OPENAI_BASE_URL (for example https://my-resource.openai.azure.com)",
    "openai_api_key is not set: set openai_api_key in settings.toml or .secrets.toml, or the environment "
    "variable GATEWAY_OPENAI_API_KEY (for example <your Azure key>)",
    "openai_model is not set: set openai_model in settings.toml or .secrets.toml, or the environment "
    "variable GATEWAY_OPENAI_MODEL (for example gpt-4o-mini)",
]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


# --- the startup refusal, end to end --------------------------------------------------------------


def test_missing_settings_are_all_reported_in_one_run(tmp_path: Path) -> None:
    # Issue 13: four runs used to be needed to learn the four required settings, one per run.
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: 4 settings need fixing:", *(f"  - {m}" for m in NOT_SET)]
    assert "Traceback" not in result.stderr


def test_missing_and_invalid_settings_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "settings.toml", 'port = "abc"\nnum_concurrent_requests = 0\nlog_level = "loud"\n')
    problems = problems_of({"read_timeout": "soon"}, root=tmp_path)
    assert problems[:4] == tuple(NOT_SET)
    assert [p.split(" ", 1)[0] for p in problems[4:]] == ["num_concurrent_requests", "port", "read_timeout",
                                                         "log_level"]
    assert all(" is invalid (got " in p for p in problems[4:])


def test_missing_api_version_refuses_to_start(tmp_path: Path) -> None:
    write(tmp_path, ".secrets.toml", SECRETS.replace('"api-version" = "2024-10-21"', ""))
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {API_VERSION_MESSAGE}"
    assert "Traceback" not in result.stderr


def test_invalid_port_from_environment_refuses_to_start(tmp_path: Path) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    result = run_cli("serve", cwd=tmp_path, env={"GATEWAY_PORT": "abc"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: port is invalid (got 'abc'")
    assert "GATEWAY_PORT" in lines[0] and "--port" in lines[0] and "for example 8000" in lines[0]
    assert "Traceback" not in result.stderr and KEY not in result.stderr


def test_missing_api_version_message(tmp_path: Path) -> None:
    assert problems_of(root=tmp_path)[0] == API_VERSION_MESSAGE


@pytest.mark.parametrize(
    ("missing", "env"),
    [
        ("openai_base_url", "GATEWAY_OPENAI_BASE_URL"),
        ("openai_api_key", "GATEWAY_OPENAI_API_KEY"),
        ("openai_model", "GATEWAY_OPENAI_MODEL"),
    ],
)
def test_each_missing_setting_names_key_env_and_example(tmp_path: Path, missing: str, env: str) -> None:
    kept = [line for line in SECRETS.splitlines() if not line.startswith(missing)]
    write(tmp_path, ".secrets.toml", "\n".join(kept))
    message = error_of(root=tmp_path)
    assert message.startswith(f"{missing} is not set: set {missing} in settings.toml or .secrets.toml")
    assert env in message and "(for example " in message


# --- layering -------------------------------------------------------------------------------------


def test_defaults_come_from_the_committed_settings_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_OPENAI_BASE_URL", "https://res.openai.azure.com")
    monkeypatch.setenv("GATEWAY_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("GATEWAY_OPENAI_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("GATEWAY_API_VERSION", "2024-10-21")
    settings = load_settings(root=REPO)
    assert (settings.host, settings.port, settings.num_concurrent_requests) == ("127.0.0.1", 8000, 8)
    assert (settings.connect_timeout, settings.read_timeout) == (5.0, 600.0)


def test_secrets_file_beats_settings_file_and_tables_merge(tmp_path: Path) -> None:
    write(tmp_path, "settings.toml", 'port = 8100\nhost = "0.0.0.0"\n[default_query]\nfoo = "bar"\n')
    write(tmp_path, ".secrets.toml", "port = 8101\n" + SECRETS)
    settings = load_settings(root=tmp_path)
    assert settings.port == 8101
    assert settings.host == "0.0.0.0"
    assert settings.default_query == {"foo": "bar", "api-version": "2024-10-21"}


def test_environment_beats_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "settings.toml", "port = 8100\nnum_concurrent_requests = 4\n")
    write(tmp_path, ".secrets.toml", SECRETS)
    monkeypatch.setenv("GATEWAY_PORT", "8200")
    monkeypatch.setenv("GATEWAY_NUM_CONCURRENT_REQUESTS", "16")
    monkeypatch.setenv("GATEWAY_API_VERSION", "2024-12-01-preview")
    monkeypatch.setenv("GATEWAY_OPENAI_MODEL", "other-deployment")
    settings = load_settings(root=tmp_path)
    assert (settings.port, settings.num_concurrent_requests) == (8200, 16)
    assert settings.api_version == "2024-12-01-preview"
    assert settings.openai_model == "other-deployment"


def test_cli_overrides_beat_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    monkeypatch.setenv("GATEWAY_PORT", "8200")
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("GATEWAY_API_VERSION", "2024-06-01")
    flags = {"port": 8300, "host": "::1", "api_version": "2025-01-01-preview"}
    settings = load_settings(flags, root=tmp_path)
    assert (settings.port, settings.host, settings.api_version) == (8300, "::1", "2025-01-01-preview")
    # None means "flag not given": the environment still applies.
    assert load_settings({"port": None}, root=tmp_path).port == 8200


def test_api_version_from_environment_stays_the_exact_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dynaconf would parse these as TOML: a date, an int, a float.
    monkeypatch.setenv("GATEWAY_API_VERSION", "2024-10-21")
    monkeypatch.setenv("GATEWAY_OPENAI_MODEL", "2024-01-01")
    monkeypatch.setenv("GATEWAY_OPENAI_API_KEY", "12345")
    monkeypatch.setenv("GATEWAY_OPENAI_BASE_URL", "https://res.openai.azure.com")
    settings = load_settings(root=tmp_path)
    assert settings.default_query == {"api-version": "2024-10-21"}
    assert type(settings.api_version) is str
    assert settings.openai_model == "2024-01-01"
    assert settings.openai_api_key.get_secret_value() == "12345"


def test_unquoted_toml_date_in_file_is_read_as_written(tmp_path: Path) -> None:
    unquoted = SECRETS.replace('"api-version" = "2024-10-21"', '"api-version" = 2024-10-21')
    write(tmp_path, ".secrets.toml", unquoted)
    assert load_settings(root=tmp_path).api_version == "2024-10-21"


def test_only_the_two_files_in_root_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A parent directory's files, Dynaconf's settings.local.toml / config/ folder and DYNACONF_* variables
    # must all be ignored: nothing outside the documented layers configures the gateway.
    write(tmp_path, ".secrets.toml", SECRETS)
    root = tmp_path / "service"
    (root / "config").mkdir(parents=True)
    write(root, "settings.local.toml", "port = 9999\n")
    write(root / "config", "settings.toml", "port = 9998\n")
    monkeypatch.setenv("DYNACONF_PORT", "9997")
    monkeypatch.setenv("SETTINGS_FILE_FOR_DYNACONF", str(tmp_path / ".secrets.toml"))
    monkeypatch.setenv("INCLUDES_FOR_DYNACONF", str(tmp_path / ".secrets.toml"))
    assert problems_of(root=root) == tuple(NOT_SET)
    write(root, ".secrets.toml", SECRETS)
    assert load_settings(root=root).port == 8000


def test_root_defaults_to_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    monkeypatch.chdir(tmp_path)
    assert load_settings().openai_model == "gpt-4o-mini"


def test_emulator_style_defaults_sit_below_the_files(tmp_path: Path) -> None:
    defaults = {"openai_model": "emu", "default_query": {"api-version": "2024-10-21"}}
    overrides = {"openai_base_url": "http://127.0.0.1:1", "openai_api_key": "emulator-key"}
    assert load_settings(overrides, root=tmp_path, defaults=defaults).openai_model == "emu"
    write(tmp_path, "settings.toml", 'openai_model = "mine"\n[default_query]\n"api-version" = "2023-05-15"\n')
    settings = load_settings(overrides, root=tmp_path, defaults=defaults)
    assert (settings.openai_model, settings.api_version) == ("mine", "2023-05-15")


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "starts", "names"),
    [
        ({"port": "abc"}, "port is invalid (got 'abc'", ["GATEWAY_PORT", "--port", "for example 8000"]),
        ({"port": 70000}, "port is invalid (got 70000", ["GATEWAY_PORT"]),
        ({"num_concurrent_requests": 0}, "num_concurrent_requests is invalid (got 0",
         ["GATEWAY_NUM_CONCURRENT_REQUESTS", "for example 8"]),
        ({"connect_timeout": 0}, "connect_timeout is invalid", ["GATEWAY_CONNECT_TIMEOUT"]),
        ({"read_timeout": -1}, "read_timeout is invalid", ["GATEWAY_READ_TIMEOUT"]),
        ({"openai_base_url": "res.openai.azure.com"}, "openai_base_url is invalid",
         ["GATEWAY_OPENAI_BASE_URL"]),
        ({"openai_base_url": "ftp://x"}, "openai_base_url is invalid", ["https://"]),
        ({"openai_model": ".."}, "openai_model is invalid", ["GATEWAY_OPENAI_MODEL"]),
    ],
)
def test_invalid_values_give_one_line(
    tmp_path: Path, overrides: dict[str, object], starts: str, names: list[str]
) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    message = error_of(overrides, root=tmp_path)
    assert message.startswith(starts)
    for name in names:
        assert name in message
    assert KEY not in message


def test_invalid_values_from_files_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, ".secrets.toml", "num_concurrent_requests = 0\n" + SECRETS)
    assert error_of(root=tmp_path).startswith("num_concurrent_requests is invalid (got 0")
    write(tmp_path, ".secrets.toml", SECRETS)
    monkeypatch.setenv("GATEWAY_READ_TIMEOUT", "soon")
    assert error_of(root=tmp_path).startswith("read_timeout is invalid (got 'soon'")


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, "settings.toml", "port = = 1\n")
    message = error_of(root=tmp_path)
    assert message.startswith("cannot read ") and "settings.toml" in message


# --- the key stays hidden -------------------------------------------------------------------------


def test_api_key_is_hidden_in_repr_and_str(tmp_path: Path) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    settings = load_settings(root=tmp_path)
    for text in (repr(settings), str(settings), f"{settings}", repr(settings.openai_api_key)):
        assert KEY not in text
    assert "openai_api_key='**********'" in repr(settings)
    assert str(settings.openai_api_key) == "**********"
    assert settings.openai_api_key.get_secret_value() == KEY


def test_wrongly_typed_key_is_not_echoed(tmp_path: Path) -> None:
    write(tmp_path, ".secrets.toml", SECRETS.replace(f'"{KEY}"', "[1234567]"))
    message = error_of(root=tmp_path)
    assert message.startswith("openai_api_key is invalid (expected a string)")
    assert "1234567" not in message


def test_settings_is_frozen() -> None:
    settings = Settings(
        openai_base_url="https://x", openai_api_key=Secret("k"), openai_model="m",
        default_query={"api-version": "v"},
    )
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


# --- misconfiguration caught before the first request (issue 13) ------------------------------------


@pytest.mark.parametrize("version", ["banana", "2024-10", "2024-13-01", "v2", "2024-10-21-beta", " 2024-10-21"])
def test_implausible_api_version_refuses_to_start(tmp_path: Path, version: str) -> None:
    # Azure answers every request at such a version with a 400 "API version not supported", which clients
    # would take for their own mistake.
    write(tmp_path, ".secrets.toml", SECRETS)
    message = error_of({"api_version": version}, root=tmp_path)
    assert message.startswith(f"api-version is invalid (got {version!r}, expected a version Azure knows")
    assert "2024-10-21" in message and "GATEWAY_API_VERSION" in message


@pytest.mark.parametrize("version", ["2024-10-21", "2025-04-01-preview", "2031-01-01", "preview", "latest", "v1"])
def test_plausible_api_versions_start(tmp_path: Path, version: str) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    assert load_settings({"api_version": version}, root=tmp_path).api_version == version


@pytest.mark.parametrize(
    "pasted",
    [
        "https://res.openai.azure.com/openai/deployments/my-dep",
        "https://res.openai.azure.com/openai/deployments/my-dep/",
        "https://res.openai.azure.com/openai/deployments/my-dep/chat/completions",
        "https://res.openai.azure.com/openai/deployments/my-dep/chat/completions?api-version=2025-01-01-preview",
    ],
)
def test_full_deployment_url_as_endpoint_is_refused_with_the_fix(tmp_path: Path, pasted: str) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    message = error_of({"openai_base_url": pasted}, root=tmp_path)
    assert message.startswith("openai_base_url is a deployment's full URL")
    assert 'openai_base_url = "https://res.openai.azure.com"' in message
    assert 'openai_model = "my-dep"' in message
    if "api-version=" in pasted:
        assert 'default_query."api-version" = "2025-01-01-preview"' in message


def test_endpoint_path_behind_a_proxy_is_kept(tmp_path: Path) -> None:
    write(tmp_path, ".secrets.toml", SECRETS)
    url = "https://apim.example.com/team/azure"
    assert load_settings({"openai_base_url": url}, root=tmp_path).openai_base_url == url


def test_every_field_has_its_description() -> None:
    from app.settings.fields import FIELDS

    for name in Settings.__struct_fields__:
        doc = FIELDS[name]
        assert doc.env == f"GATEWAY_{name.upper()}" and doc.example and doc.expected, name
    assert FIELDS["openai_api_key"].secret and FIELDS["gateway_api_keys"].secret
    assert FIELDS["openai_model"].raw_env and not FIELDS["port"].raw_env
