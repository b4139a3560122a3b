"""Command line: ``serve`` the gateway (optionally against an in-process Azure emulator) or run the emulator.

Why one process for ``serve --emulator``: a developer gets a working ``/v1`` endpoint with one command and
no Azure account, and both servers stop together on Ctrl-C. The emulator starts first so the gateway never
sees a refused connection.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import socket
import sys
from collections.abc import Sequence
from typing import Any

from app.cli.server import DrainingServer
from app.cli.sockets import LOOPBACK, ListenError, listen, running_emulator
from app.cli.sockets import url as _url
from app.settings.load import (
    DEFAULT_API_VERSION_EXAMPLE,
    Settings,
    SettingsError,
    check_exposure,
    load_settings,
    read_env_yaml,
)

EMULATOR_DEFAULT_PORT = 8001
EMULATOR_DEFAULT_DEPLOYMENT = "gpt-4o-mini"


def _port(text: str) -> int:
    """argparse type: reject 'abc' and 70000 with a usage error instead of a uvicorn traceback."""
    problem = f"invalid port {text!r}: expected an integer from 1 to 65535"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(problem)
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid worker count {text!r}: expected an integer >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azure-openai-gateway",
        description=(
            "OpenAI-compatible gateway: POST /v1/responses and /v1/chat/completions, served by an "
            "Azure OpenAI Chat Completions deployment."
        ),
        epilog=(
            "Settings come from settings.toml < .secrets.toml (both in the working directory) < GATEWAY_* "
            "environment variables < flags. Required: openai_base_url, openai_api_key, openai_model and "
            'default_query."api-version" (GATEWAY_OPENAI_BASE_URL, GATEWAY_OPENAI_API_KEY, '
            "GATEWAY_OPENAI_MODEL, GATEWAY_API_VERSION). See .secrets.toml.example."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the gateway",
        description="Run the gateway in front of Azure OpenAI (or, with --emulator, a local fake of it).",
    )
    serve.add_argument("--host", help="interface to listen on (default: settings 'host', 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: settings 'port', 8000)")
    serve.add_argument(
        "--api-version",
        metavar="V",
        help=f"Azure api-version query parameter, e.g. {DEFAULT_API_VERSION_EXAMPLE} "
        '(beats GATEWAY_API_VERSION and default_query."api-version")',
    )
    _add_env_yaml(serve)
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="worker processes sharing the port (default: 1); throughput scales up to the number of CPU cores",
    )
    serve.add_argument(
        "--emulator",
        action="store_true",
        help="start the built-in Azure emulator on a free loopback port and send all traffic there "
        "(no Azure account needed; replies are canned, not real model output)",
    )

    check = commands.add_parser(
        "check",
        help="validate the settings and make one real call to Azure",
        description="Validate the settings, send Azure one small Chat Completions request and report what "
        "happened: endpoint, deployment, api-version, auth mode and Azure's answer (or why it failed). Exits 0 "
        "when Azure answered, 1 when the call failed, 2 when the settings are invalid.",
    )
    check.add_argument("--api-version", metavar="V", help="Azure api-version (as for serve)")
    _add_env_yaml(check)
    check.add_argument(
        "--emulator",
        action="store_true",
        help="check against the built-in Azure emulator started on a free loopback port (as serve --emulator): "
        "shows what a working setup reports",
    )

    emulator = commands.add_parser(
        "emulator",
        help="run only the Azure OpenAI emulator",
        description="Run the Azure OpenAI Chat Completions emulator on its own (for SDK or gateway tests).",
    )
    emulator.add_argument("--host", default=LOOPBACK, help=f"interface to listen on (default: {LOOPBACK})")
    emulator.add_argument(
        "--port", type=_port, default=EMULATOR_DEFAULT_PORT, help=f"port (default: {EMULATOR_DEFAULT_PORT})"
    )
    emulator.add_argument(
        "--deployment",
        action="append",
        metavar="NAME",
        help=f"deployment name to serve; repeatable (default: {EMULATOR_DEFAULT_DEPLOYMENT})",
    )
    emulator.add_argument(
        "--quota",
        action="append",
        type=_quota,
        metavar="NAME=RPM[,TPM]",
        help="give a deployment Azure's per-minute request (and token) quota, enforced per second; repeatable",
    )
    return parser


def _quota(text: str) -> tuple[str, int, int | None]:
    name, _, limits = text.partition("=")
    rpm, _, tpm = limits.partition(",")
    try:
        values = int(rpm), (int(tpm) if tpm else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid quota {text!r}: expected NAME=RPM or NAME=RPM,TPM") from None
    if not name or values[0] < 1 or (values[1] is not None and values[1] < 1):
        raise argparse.ArgumentTypeError(f"invalid quota {text!r}: expected NAME=RPM or NAME=RPM,TPM (>= 1)")
    return name, values[0], values[1]


def _add_env_yaml(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-yaml",
        metavar="PATH",
        help="read NeMo Gym's env.yaml (policy_base_url, policy_api_key, policy_model_name) as the lowest-priority "
        "settings layer, below settings.toml",
    )


def _env_yaml_defaults(args: argparse.Namespace) -> dict[str, Any]:
    return read_env_yaml(args.env_yaml) if getattr(args, "env_yaml", None) else {}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "emulator":
            return _run_emulator(args)
        if args.command == "check":
            from app.cli.check import run_check

            overrides = {"api_version": args.api_version}
            if args.emulator:
                settings, config, sock = _emulated(overrides, _env_yaml_defaults(args))
                return run_check(settings, emulator=(config, sock))
            return run_check(load_settings(overrides, defaults=_env_yaml_defaults(args)))
        return _serve(args)
    except SettingsError as exc:
        # The message already says what to set and where; a traceback would only bury it.
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # uvicorn re-raises the SIGINT it captured once it has shut down cleanly.
        return 0


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"host": args.host, "port": args.port, "api_version": args.api_version}
    from_env_yaml = _env_yaml_defaults(args)
    if args.workers > 1:
        if args.emulator:
            print("error: --workers needs a real Azure endpoint; run the emulator on its own instead "
                  "(azure-openai-gateway emulator) and point openai_base_url at it", file=sys.stderr)
            return 2
        return _serve_workers(overrides, from_env_yaml, args.workers)
    if not args.emulator:
        settings = load_settings(overrides, defaults=from_env_yaml)
        check_exposure(settings)
        sock = listen(settings.host, settings.port)  # a taken port is the first and only thing reported
        banner = f"gateway on {_url(settings.host, settings.port)}/v1 -> Azure OpenAI at {settings.openai_base_url}"
        return _run(_serve_gateway(settings, sock, banner=banner))

    settings, config, emulator_sock = _emulated(overrides, from_env_yaml)
    check_exposure(settings)
    sock = listen(settings.host, settings.port)
    banner = (
        f"Azure EMULATOR on {settings.openai_base_url} (not real Azure) — gateway on "
        f"{_url(settings.host, settings.port)}/v1 (deployment {settings.openai_model!r}, "
        f"api-version {settings.api_version})"
    )
    return _run(_serve_gateway(settings, sock, emulator=(config, emulator_sock), banner=banner))


def _emulated(overrides: dict[str, Any], from_env_yaml: dict[str, Any]) -> tuple[Settings, Any, socket.socket]:
    """Settings pointed at an emulator on a free loopback port, its config, and its already-bound socket.

    Bound now and handed to uvicorn: no window in which another process could take the "free" port between
    choosing it and listening on it.
    """
    from app.emulator import EmulatorConfig

    sock = listen(LOOPBACK, 0)
    emulator_url = _url(LOOPBACK, sock.getsockname()[1])
    config = EmulatorConfig()
    try:
        settings = load_settings(
            {**overrides, "openai_base_url": emulator_url, "openai_api_key": config.api_key, "auth": "api_key"},
            # Below the files and the environment: a configured deployment/api-version is still used, so the
            # emulator can stand in for a real Azure setup without editing it.
            defaults={
                "openai_model": EMULATOR_DEFAULT_DEPLOYMENT,
                "default_query": {"api-version": DEFAULT_API_VERSION_EXAMPLE},
                **from_env_yaml,
            },
        )
    except SettingsError:
        sock.close()
        raise
    return settings, EmulatorConfig(api_key=config.api_key, deployments=(settings.openai_model,)), sock


_WORKER_SETTINGS_ENV = "_GATEWAY_WORKER_SETTINGS"


def _serve_workers(overrides: dict[str, Any], defaults: dict[str, Any], workers: int) -> int:
    """N processes on one port (uvicorn's supervisor); each worker loads the same settings itself.

    The command line's overrides and the ``--env-yaml`` defaults reach the workers through an environment
    variable (uvicorn spawns fresh interpreters). The workers share one Prometheus directory, so ``/metrics``
    from any of them is the sum over all. ``shutdown_delay`` is single-process only: uvicorn's supervisor
    runs plain servers, which stop accepting at once on SIGTERM (``/readyz`` still turns 503 while they drain).
    """
    import json
    import os
    import tempfile

    import uvicorn

    from app.api.connection import GuardedHttpTools, server_options

    settings = load_settings(overrides, defaults=defaults)  # fail here, once, with the one-line message
    check_exposure(settings)
    if settings.store_url.strip() == "memory":
        # Each worker would keep its own responses: a follow-up landing on another worker would not find them.
        raise SettingsError(
            "store_url = memory keeps stored responses inside one process, so it cannot serve --workers "
            f"{workers}: set store_url (GATEWAY_STORE_URL) to sqlite:///PATH or postgresql://… to share them"
        )
    # uvicorn's supervisor binds after this banner and exits with its own log line on a taken port; a trial
    # bind (released at once, never listened on) reports that first, as the single-process path does.
    listen(settings.host, settings.port).close()
    _banner(
        f"gateway on {_url(settings.host, settings.port)}/v1 -> Azure OpenAI at {settings.openai_base_url} "
        f"({workers} workers)"
    )
    os.environ[_WORKER_SETTINGS_ENV] = json.dumps(
        {"overrides": {k: v for k, v in overrides.items() if v is not None}, "defaults": defaults}
    )
    with tempfile.TemporaryDirectory(prefix="gateway-metrics-") as metrics_dir:
        # Set before any worker imports prometheus_client: it picks its multiprocess value class at import.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
        uvicorn.run(
            "app.cli.commands:worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            timeout_graceful_shutdown=math.ceil(settings.drain_timeout),
            log_config=None,  # as in _serve_gateway: the app's own logging, one line per request
            access_log=False,
            **{**server_options(settings), "http": GuardedHttpTools},  # by name: see configure_workers
        )
    return 0


def worker_app() -> Any:
    """The app of one ``--workers`` process (uvicorn imports this by name in each worker)."""
    import json
    import os

    from app.api.connection import configure_workers
    from app.api.factory import create_app

    given = json.loads(os.environ.get(_WORKER_SETTINGS_ENV, "{}"))
    settings = load_settings(given.get("overrides", {}), defaults=given.get("defaults", {}))
    configure_workers(settings)
    return create_app(settings)


def _run_emulator(args: argparse.Namespace) -> int:
    import uvicorn

    from app.emulator import EmulatorConfig, create_emulator_app
    from app.emulator.quotas import DeploymentQuota

    quotas = {name: DeploymentQuota(rpm=rpm, tpm=tpm) for name, rpm, tpm in args.quota or ()}
    config = EmulatorConfig(deployments=tuple(args.deployment or (EMULATOR_DEFAULT_DEPLOYMENT,)), quotas=quotas)
    _banner(
        f"Azure EMULATOR (not real Azure) on {_url(args.host, args.port)} — api key {config.api_key!r}, "
        f"deployments {', '.join(config.deployments)}"
    )
    server = uvicorn.Server(uvicorn.Config(create_emulator_app(config), host=args.host, port=args.port))
    return _run(server.serve())


async def _serve_gateway(
    settings: Settings, sock: socket.socket, emulator: tuple[Any, socket.socket] | None = None, banner: str = ""
) -> None:
    """Run the gateway on ``sock``; with ``emulator``, run that first on the same event loop and stop it last."""
    import contextlib
    import logging

    from app.api.factory import create_app

    # First: the app configures logging (JSON or console), so even the banner is a log line like the rest.
    app = create_app(settings)
    if banner:
        logging.getLogger("app.cli.commands").info(banner)

    async with contextlib.AsyncExitStack() as stack:
        if emulator is not None:
            await stack.enter_async_context(running_emulator(*emulator))
        await _gateway_server(app, settings).serve(sockets=[sock])


def _gateway_server(app: Any, settings: Settings) -> DrainingServer:
    import uvicorn

    from app.api.connection import server_options

    return DrainingServer(
        # log_config=None: uvicorn's own lines go through the gateway's logging; its access log is replaced
        # by the gateway's one line per request.
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            # After shutdown_delay (see DrainingServer): uvicorn stops accepting, waits this long for in-flight
            # requests and streams, then runs the lifespan shutdown, which closes the Azure connection pool.
            timeout_graceful_shutdown=math.ceil(settings.drain_timeout),
            # The connection limits (header time, count and size) and keep_alive_timeout: uvicorn's default
            # (5 s) equals httpx's idle expiry, so the two race and a reused connection resets.
            **server_options(settings),
        ),
        health=app.state["health"],
        delay=settings.shutdown_delay,
    )


def _run(coro: Any) -> int:
    # uvloop when installed (it is a dependency on Linux and macOS): about twice the throughput of asyncio's
    # own loop for the same gateway. Note uvicorn.Server.serve() alone never picks the loop; Server.run does.
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return 0
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)
    return 0


def _banner(text: str) -> None:
    # stderr, so it lands next to uvicorn's own startup lines and never in piped stdout.
    print(text, file=sys.stderr, flush=True)
