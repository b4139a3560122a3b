"""`serve --workers N`: validated up front; not combinable with the in-process emulator; N real processes
that share the port, the settings (``--env-yaml`` included) and one set of metrics."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import API_VERSION, AZURE_KEY, DEPLOYMENT, Emulator
from openai import OpenAI
from prometheus_client.parser import text_string_to_metric_families
from support.servers import free_port
from test_cli import clean_env, post_until_up, stop

from app.cli.commands import build_parser, main


def test_workers_defaults_to_one() -> None:
    assert build_parser().parse_args(["serve"]).workers == 1
    assert build_parser().parse_args(["serve", "--workers", "4"]).workers == 4


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_bad_worker_count_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["serve", "--workers", value])
    assert info.value.code == 2
    assert "invalid worker count" in capsys.readouterr().err


def test_workers_with_emulator_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--emulator", "--workers", "2"]) == 2
    assert "--workers needs a real Azure endpoint" in capsys.readouterr().err


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when there are none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker pids from Linux's /proc")
def test_workers_serve_env_yaml_settings_and_metrics_sum_over_workers(
    tmp_path: Path, clean_emulator: Emulator
) -> None:
    """Two processes on one port: each gets the --env-yaml settings, and /metrics counts both."""
    env_yaml = tmp_path / "env.yaml"
    env_yaml.write_text(
        f"policy_base_url: {clean_emulator.url}\npolicy_api_key: {AZURE_KEY}\npolicy_model_name: {DEPLOYMENT}\n",
        encoding="utf-8",
    )
    port = free_port()
    args = ["serve", "--workers", "2", "--port", str(port), "--env-yaml", str(env_yaml), "--api-version", API_VERSION]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        first = post_until_up(proc, f"{base}/v1/chat/completions", json={"model": "x", "messages": [
            {"role": "user", "content": "hello"}
        ]})
        assert first.status_code == 200, first.text
        deadline = time.monotonic() + 30
        while len(workers := _children(proc.pid)) < 2:  # uvicorn's supervisor may still be spawning one
            assert time.monotonic() < deadline, f"workers: {workers}"
            time.sleep(0.1)
        metrics_dirs = {
            entry.split(b"=", 1)[1].decode()
            for pid in workers
            for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR=")
        }
        assert len(metrics_dirs) == 1, metrics_dirs  # one shared directory, set by the supervisor

        sdk = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
        with ThreadPoolExecutor(8) as pool:  # concurrent, so the kernel spreads them over both workers
            replies = list(pool.map(lambda i: sdk.responses.create(model="x", input=f"hi {i}"), range(40)))
        assert all(r.status == "completed" and r.output_text for r in replies)
        calls = [r for r in clean_emulator.requests() if r["path"].endswith("/chat/completions")]
        assert len(calls) == 41 and all(DEPLOYMENT in r["path"] for r in calls)

        # Whichever worker answers the scrape, it reports the sum over both.
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", timeout=10).text
            assert _metric(text, "gateway_upstream_attempts_total", outcome="success") == 41
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert not Path(metrics_dirs.pop()).exists()  # removed on shutdown
