"""Codex CLI (`codex exec`, the pinned npm version) through the gateway on the emulator, in its default configuration.

Codex is the acceptance test: its real requests (client_metadata, namespace / custom / tool_search / web_search
tools, reasoning replayed with content null, function_call_output with `fco_` ids) must work as sent. The
emulator is scripted for a two-turn task: the model reasons and calls `exec_command`, Codex runs the command,
and the command's output must reach the emulator as the tool result before the model answers.

The binary comes from `.clients/` (`npm install --prefix .clients @openai/codex@<pinned>`, which .ci/run does).
Without it the test is skipped locally, and fails in CI (CI=true or GATEWAY_TEST_REQUIRE_CLIENTS=1).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AZURE_KEY, gateway_settings
from support.servers import running

from app.api.factory import create_app
from app.emulator import EmulatorConfig, create_emulator_app, emulator_state
from app.emulator.script import parse_action

ROOT = Path(__file__).resolve().parents[2]
CODEX_VERSION = "0.171.0"  # keep in step with .ci/run
CODEX = ROOT / ".clients" / "node_modules" / ".bin" / "codex"
API_VERSION = "2025-04-01-preview"
PLAIN = "codex-deployment"
NEWEST = "gpt55-deployment"  # modelled as GPT-5.5: refuses function tools with reasoning on Chat


def _codex() -> Path:
    if CODEX.exists():
        return CODEX
    reason = f"Codex CLI {CODEX_VERSION} is not installed (npm install --prefix .clients @openai/codex@{CODEX_VERSION})"
    if os.environ.get("CI") or os.environ.get("GATEWAY_TEST_REQUIRE_CLIENTS"):
        pytest.fail(reason + "; CI must install it (.ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    config = EmulatorConfig(
        api_key=AZURE_KEY, deployments=(PLAIN, NEWEST), models={NEWEST: "gpt-5.5-2026-04-23"}, model="gpt-5-2025-08-07"
    )
    emulator = create_emulator_app(config)
    with running(emulator) as emulator_url:
        query = {"api-version": API_VERSION}
        plain = create_app(gateway_settings(emulator_url, openai_model=PLAIN, default_query=query))
        newest = create_app(gateway_settings(emulator_url, openai_model=NEWEST, default_query=query))
        with running(plain) as plain_url, running(newest) as newest_url:
            yield {"state": emulator_state(emulator), PLAIN: plain_url, NEWEST: newest_url}


def _run_codex(
    base_url: str, model: str | None, prompt: str, home: Path, workdir: Path
) -> subprocess.CompletedProcess[str]:
    home.mkdir()
    (home / "config.toml").write_text(
        f"""model_provider = "gw"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[model_providers.gw]
name = "azure-openai-gateway"
base_url = "{base_url}/v1"
wire_api = "responses"
env_key = "GW_KEY"

[analytics]
enabled = false

[features]
apps = false
plugins = false
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "CODEX"))}
    env.update(CODEX_HOME=str(home), GW_KEY="unused", HOME=str(home), NO_COLOR="1", RUST_LOG="error")
    flags = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]
    command = [str(_codex()), "exec", *flags, *(["-m", model] if model else []), prompt]
    return subprocess.run(
        command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240
    )


@pytest.mark.parametrize(
    ("deployment", "model"),
    [(PLAIN, "gpt-5-codex-unknown"), (NEWEST, "gpt-5.5")],
    ids=["unknown-model-name", "catalog-model-gpt-5.5"],
)
def test_codex_exec_runs_a_tool_and_answers(stack: dict[str, Any], tmp_path: Path, deployment: str, model: str) -> None:
    _codex()
    state = stack["state"]
    state.clear()
    marker = f"gateway-marker-{secrets.token_hex(4)}"
    command = f"echo {marker}"
    state.enqueue(
        [
            parse_action(
                {
                    "message": {
                        "reasoning_content": "The user wants me to run a command; I will use exec_command.",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_codex_1", "function": {"name": "exec_command", "arguments": {"cmd": command}}}
                        ],
                    }
                }
            ),
            parse_action({"message": {"content": f"The command printed {marker}."}}),
        ]
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    done = _run_codex(
        stack[deployment], model, f"Run `{command}` and tell me what it printed.", tmp_path / "home", workdir
    )
    received = [r for r in state.requests if r.deployment == deployment]
    summary = f"codex exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, summary
    assert f"The command printed {marker}." in done.stdout, summary
    # Codex showed the model's reasoning (the reasoning item) and ran the command itself.
    assert "I will use exec_command." in done.stderr, summary
    assert f"echo {marker}" in done.stderr and "succeeded" in done.stderr, summary

    answered = [r for r in received if r.status != 400]  # a stream's status is recorded when it ends
    assert len(answered) == 2, [(r.status, str(r.body)[-300:]) for r in received]
    first, second = (r.body for r in answered)
    assert isinstance(first, dict) and isinstance(second, dict)
    names = {tool["function"]["name"] for tool in first["tools"]}
    assert "exec_command" in names
    # Turn 2: Codex replayed the call and sent the command's real output as the tool result.
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert tool_messages and tool_messages[-1]["tool_call_id"] == "call_codex_1"
    assert marker in json.dumps(tool_messages[-1]["content"]), tool_messages
    calls = [c for m in second["messages"] if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    assert calls[-1]["function"]["name"] == "exec_command"
    if deployment == NEWEST:
        # GPT-5.5 refuses tools with reasoning on Chat: refused once, then resent with effort none.
        assert received[0].status == 400
        assert first["reasoning_effort"] == "none" and second["reasoning_effort"] == "none"
        assert {"apply_patch", "tool_search"} <= names  # the catalog model's full tool set arrived as functions
    shutil.rmtree(tmp_path / "home", ignore_errors=True)


def test_codex_default_model_offers_its_tools_in_input(stack: dict[str, Any], tmp_path: Path) -> None:
    """With no -m, Codex 0.171 picks its newest model, for which it sends no `tools`: an `additional_tools`
    input item carries a custom `exec` tool, and turn 2 replays `custom_tool_call` + `custom_tool_call_output`
    (an array of input_text parts). The emulator's unscripted answer calls the one tool offered."""
    _codex()
    state = stack["state"]
    state.clear()
    workdir = tmp_path / "work"
    workdir.mkdir()
    done = _run_codex(stack[PLAIN], None, "list the files in this directory", tmp_path / "home", workdir)
    summary = f"codex exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, summary
    received = [r.body for r in state.requests if r.deployment == PLAIN]
    assert len(received) == 2, summary
    first, second = received
    custom = [t["function"] for t in first["tools"] if t["function"]["parameters"].get("required") == ["input"]]
    assert custom, first["tools"]  # the custom tool, offered as a function with one string `input`
    calls = [c for m in second["messages"] if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    results = [m for m in second["messages"] if m["role"] == "tool"]
    assert calls and results and results[-1]["tool_call_id"] == calls[-1]["id"]
    assert "input" in json.loads(calls[-1]["function"]["arguments"])
    assert "Based on the tool result" in done.stdout
