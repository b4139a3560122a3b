"""``python -m app check``: are these settings good enough to serve? One real call to Azure says.

Validating settings catches typos; only a call shows that the endpoint answers, the key or token is accepted,
the deployment exists and the api-version is known. The call goes through the same client and error mapping
as a served request (so the reasons printed are the ones a client would get), with a tiny prompt and a
small token limit. The report never shows a credential.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from typing import Any, TextIO

import msgspec

from app.cli.sockets import running_emulator
from app.models import generated as m
from app.service.azure import Gateway
from app.settings import Settings
from app.settings.fleet import pool_of
from app.translate import responses_to_chat
from app.upstream import AzureChatClient, upstream_url
from app.wire.errors import GatewayError

__all__ = ["run_check"]

PROMPT = "Reply with the single word: pong"
MAX_OUTPUT_TOKENS = 50


def _auth_mode(settings: Settings) -> str:
    if settings.auth == "api_key":
        return "api_key (api-key header)"
    if settings.client_secret is not None:
        how = f"client secret of app {settings.client_id} in tenant {settings.tenant_id}"
    elif settings.client_id:
        how = f"DefaultAzureCredential, managed identity {settings.client_id}"
    else:
        how = "DefaultAzureCredential"
    return f"entra_id (Bearer token for {settings.entra_scope}; {how})"


async def _call(settings: Settings) -> tuple[bool, str]:
    client = AzureChatClient(settings)
    gateway = Gateway(settings, client)
    request = m.CreateResponse(input=PROMPT, max_output_tokens=MAX_OUTPUT_TOKENS)
    started = time.perf_counter()
    try:
        body = await gateway.complete(responses_to_chat(request, gateway.options))
    except GatewayError as exc:
        return False, f"FAILED (the gateway would answer HTTP {exc.status} {exc.code or ''}): {exc.message}"
    finally:
        await gateway.aclose()
    elapsed = (time.perf_counter() - started) * 1000
    try:
        chat = msgspec.json.decode(body, type=m.CreateChatCompletionResponse)
    except msgspec.DecodeError as exc:
        return False, f"FAILED: Azure answered 2xx with a body that is not a chat completion ({exc})"
    choice = chat.choices[0] if chat.choices else None
    text = (choice.message.content or "").strip() if choice is not None else ""
    finish = choice.finish_reason if choice is not None else "no choices"
    return True, f"OK in {elapsed:.0f} ms: model {chat.model}, finish_reason {finish}, answer {text[:80]!r}"


async def _checked(settings: Settings, emulator: tuple[Any, socket.socket] | None) -> tuple[bool, str]:
    if emulator is None:
        return await _call(settings)
    async with running_emulator(*emulator):
        return await _call(settings)


def run_check(
    settings: Settings, out: TextIO | None = None, *, emulator: tuple[Any, socket.socket] | None = None
) -> int:
    """Print the report; 0 when Azure answered, 1 otherwise. ``emulator``: its config and bound socket, served
    for the duration of the call (``check --emulator``). A pool is checked deployment by deployment (each
    alone, so a failing one cannot hide behind a failover)."""
    out = out or sys.stdout
    pool = pool_of(settings)
    if len(pool) == 1 or emulator is not None:  # the emulator stands in for the one deployment
        return _check_one(settings, out, emulator)
    failed = 0
    for index, deployment in enumerate(pool, 1):
        print(f"deployment {index} of {len(pool)}: {deployment.name}", file=out)
        alone = msgspec.structs.replace(
            settings,
            deployments=(deployment,),
            openai_base_url=deployment.openai_base_url,
            openai_api_key=deployment.openai_api_key,
            openai_model=deployment.openai_model,
            default_query=deployment.default_query,
            auth=deployment.auth,
        )
        failed += _check_one(alone, out, None)
    return 1 if failed else 0


def _check_one(settings: Settings, out: TextIO, emulator: tuple[Any, socket.socket] | None) -> int:
    client_url = upstream_url(settings)
    lines = [
        ("endpoint", settings.openai_base_url),
        ("url", client_url),
        ("deployment", settings.openai_model),
        ("api-version", settings.default_query.get("api-version") or "(none: v1 surface default)"),
        ("auth", _auth_mode(settings)),
    ]
    for name, value in lines:
        print(f"{name + ':':13}{value}", file=out)
    ok, outcome = asyncio.run(_checked(settings, emulator))
    print(f"{'upstream:':13}{outcome}", file=out, flush=True)
    return 0 if ok else 1
