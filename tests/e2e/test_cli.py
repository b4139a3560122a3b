"""The command line, run as a real subprocess: startup refusals, ``serve --emulator`` and ``emulator``."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from support.servers import free_port

REPO = Path(__file__).resolve().parents[2]


def _missing(module: str, *names: str) -> str | None:
    """Why ``module`` cannot be used yet (other engineers land it), or None when it can."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        return f"{module} is not importable yet ({exc})"
    absent = [name for name in names if not hasattr(mod, name)]
    return f"{module} does not provide {', '.join(absent)} yet" if absent else None


_NO_EMULATOR = _missing("app.emulator", "EmulatorConfig", "create_emulator_app")
_NO_FACTORY = _missing("app.api.factory", "create_app")
needs_emulator = pytest.mark.skipif(_NO_EMULATOR is not None, reason=_NO_EMULATOR or "")
needs_gateway = pytest.mark.skipif(
    _NO_EMULATOR is not None or _NO_FACTORY is not None, reason=_NO_FACTORY or _NO_EMULATOR or ""
)


def clean_env(**extra: str) -> dict[str, str]:
    """No GATEWAY_* from the developer's shell; the repo importable without installing it."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), **extra}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "app", *args]
    return subprocess.run(command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=60)


@contextmanager
def background(*args: str, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def post_until_up(proc: subprocess.Popen[str], url: str, **kw: object) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            stderr = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"server exited with {proc.returncode}: {stderr}")
        try:
            return httpx.post(url, timeout=10, **kw)  # type: ignore[arg-type]
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=15)
    return proc.returncode, stderr


def test_help_lists_commands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for word in ("serve", "emulator", "GATEWAY_API_VERSION", ".secrets.toml"):
        assert word in result.stdout
    serve_help = run_cli("serve", "--help", cwd=tmp_path).stdout
    for flag in ("--host", "--port", "--api-version", "--emulator"):
        assert flag in serve_help


def test_bad_port_flag_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "abc", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid port 'abc'" in result.stderr and "Traceback" not in result.stderr


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2 and "usage:" in result.stderr


@needs_gateway
def test_serve_emulator_answers_chat_completions(tmp_path: Path) -> None:
    # A configured deployment name is kept, and the emulator serves exactly that name.
    (tmp_path / "settings.toml").write_text('openai_model = "my-deployment"\n', encoding="utf-8")
    port = free_port()
    with background("serve", "--emulator", "--port", str(port), cwd=tmp_path) as proc:
        reply = post_until_up(
            proc,
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"model": "anything", "messages": [{"role": "user", "content": "hello"}]},
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["object"] == "chat.completion"
        assert body["choices"][0]["message"]["role"] == "assistant"
        code, stderr = stop(proc)
    assert code == 0
    assert "Azure EMULATOR on http://127.0.0.1:" in stderr and "(not real Azure)" in stderr
    assert f"gateway on http://127.0.0.1:{port}/v1" in stderr
    assert "'my-deployment'" in stderr and "api-version 2024-10-21" in stderr
    assert "Traceback" not in stderr


@needs_emulator
def test_emulator_command_serves_azure_chat_completions(tmp_path: Path) -> None:
    port = free_port()
    with background("emulator", "--port", str(port), cwd=tmp_path) as proc:
        reply = post_until_up(
            proc,
            f"http://127.0.0.1:{port}/openai/deployments/gpt-4o-mini/chat/completions",
            params={"api-version": "2024-10-21"},
            headers={"api-key": "emulator-key"},
            json={"messages": [{"role": "user", "content": "hello"}]},
        )
        assert reply.status_code == 200, reply.text
        code, stderr = stop(proc)
    assert code == 0
    assert f"http://127.0.0.1:{port}" in stderr and "'emulator-key'" in stderr
    assert "Traceback" not in stderr
