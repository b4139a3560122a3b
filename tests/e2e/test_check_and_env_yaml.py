"""``python -m app check`` against the emulator, and NeMo Gym's ``--env-yaml`` as the lowest settings layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import API_VERSION, AZURE_KEY, DEPLOYMENT, Emulator
from test_cli import clean_env

from app.settings.load import SettingsError, load_settings, read_env_yaml


def check(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "check", *args],
        cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60,
    )


def azure_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    return {
        "GATEWAY_OPENAI_BASE_URL": emulator.url,
        "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
        "GATEWAY_OPENAI_MODEL": DEPLOYMENT,
        "GATEWAY_API_VERSION": API_VERSION,
        **extra,
    }


def report(stdout: str) -> dict[str, str]:
    lines = [line.split(":", 1) for line in stdout.strip().splitlines()]
    return {name.strip(): value.strip() for name, value in lines}


def test_check_passes_against_the_emulator(tmp_path: Path, clean_emulator: Emulator) -> None:
    result = check(tmp_path, **azure_env(clean_emulator))
    assert result.returncode == 0, result.stdout + result.stderr
    got = report(result.stdout)
    assert got["endpoint"] == clean_emulator.url
    assert got["deployment"] == DEPLOYMENT and got["api-version"] == API_VERSION
    assert got["auth"] == "api_key (api-key header)"
    path = f"/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}"
    assert got["url"] == clean_emulator.url + path
    assert got["upstream"].startswith("OK in ") and "model gpt-4o-mini-2024-07-18" in got["upstream"]
    assert "pong" in got["upstream"]  # the emulator echoes the prompt: Azure's answer is shown
    # Exactly one real call was made.
    assert len(clean_emulator.requests()) == 1 and clean_emulator.last_request()["status"] == 200
    assert AZURE_KEY not in result.stdout + result.stderr


def test_check_fails_clearly_with_a_wrong_key(tmp_path: Path, clean_emulator: Emulator) -> None:
    result = check(tmp_path, **azure_env(clean_emulator, GATEWAY_OPENAI_API_KEY="wrong-key-123"))
    assert result.returncode == 1
    upstream = report(result.stdout)["upstream"]
    assert upstream.startswith("FAILED")
    assert "rejected the gateway's credentials (HTTP 401)" in upstream and "GATEWAY_OPENAI_API_KEY" in upstream
    assert "wrong-key-123" not in result.stdout + result.stderr


def test_check_fails_clearly_with_a_wrong_deployment(tmp_path: Path, clean_emulator: Emulator) -> None:
    result = check(tmp_path, **azure_env(clean_emulator, GATEWAY_OPENAI_MODEL="no-such-deployment"))
    assert result.returncode == 1
    assert "no deployment 'no-such-deployment'" in report(result.stdout)["upstream"]


def test_check_on_the_v1_surface(tmp_path: Path, clean_emulator: Emulator) -> None:
    env = azure_env(clean_emulator, GATEWAY_API_SURFACE="v1")
    del env["GATEWAY_API_VERSION"]
    result = check(tmp_path, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report(result.stdout)["url"] == f"{clean_emulator.url}/openai/v1/chat/completions"
    assert clean_emulator.last_request()["path"] == "/openai/v1/chat/completions"


def test_check_refuses_invalid_settings(tmp_path: Path) -> None:
    result = check(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: 4 settings need fixing:\n  - api-version is not set")
    assert "Traceback" not in result.stderr


ENV_YAML = f"""\
policy_base_url: {{url}}
policy_api_key: {AZURE_KEY}
policy_model_name: {DEPLOYMENT}
# other NeMo Gym settings are ignored
judge_base_url: https://elsewhere.example
"""


def test_check_with_a_nemo_gym_env_yaml(tmp_path: Path, clean_emulator: Emulator) -> None:
    env_yaml = tmp_path / "env.yaml"
    env_yaml.write_text(ENV_YAML.format(url=clean_emulator.url), encoding="utf-8")
    result = check(tmp_path, "--env-yaml", str(env_yaml), "--api-version", API_VERSION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report(result.stdout)["endpoint"] == clean_emulator.url


def test_env_yaml_is_the_lowest_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GATEWAY_OPENAI_MODEL", "GATEWAY_OPENAI_BASE_URL", "GATEWAY_OPENAI_API_KEY", "GATEWAY_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    env_yaml = tmp_path / "env.yaml"
    env_yaml.write_text(ENV_YAML.format(url="https://from-env-yaml.openai.azure.com"), encoding="utf-8")
    (tmp_path / "settings.toml").write_text('openai_model = "from-settings-toml"\n', encoding="utf-8")
    monkeypatch.setenv("GATEWAY_OPENAI_BASE_URL", "https://from-environment.openai.azure.com")
    settings = load_settings({"api_version": API_VERSION}, root=tmp_path, defaults=read_env_yaml(env_yaml))
    assert settings.openai_base_url == "https://from-environment.openai.azure.com"
    assert settings.openai_model == "from-settings-toml"
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == AZURE_KEY


def test_env_yaml_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"cannot read env.yaml .*missing.yaml"):
        read_env_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="expected a mapping"):
        read_env_yaml(bad)
    nested = tmp_path / "nested.yaml"
    nested.write_text("policy_api_key: {secret: sk-abc}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        read_env_yaml(nested)
    assert "sk-abc" not in str(info.value)


def test_serve_emulator_with_env_yaml_uses_its_deployment(tmp_path: Path) -> None:
    """The emulator replaces the endpoint and key, but the env.yaml's deployment name is kept."""
    from support.servers import free_port
    from test_cli import post_until_up, stop

    env_yaml = tmp_path / "env.yaml"
    env_yaml.write_text("policy_model_name: gym-deployment\n", encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--emulator", "--port", str(port), "--env-yaml", str(env_yaml)],
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        reply = post_until_up(
            proc, f"http://127.0.0.1:{port}/v1/responses", json={"model": "x", "input": "hello"}
        )
        assert reply.status_code == 200, reply.text
    finally:
        _, stderr = stop(proc)
    assert "'gym-deployment'" in stderr
