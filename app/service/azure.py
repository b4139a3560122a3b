"""The one path every request takes to Azure: encode the Chat request, call, map failures.

Both routes end here, so the concurrency limit, error mapping and (later) retries and metrics apply to
both. The request Struct is encoded once; Azure's JSON body is decoded once, here (``answer`` returns the
Struct, ``answer_bytes`` Azure's own bytes after the same validation), and its token usage counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from app.models import generated as m
from app.service.azure_errors import from_busy, from_unavailable, from_upstream_status, malformed_reply
from app.settings import Settings
from app.telemetry import observe
from app.translate import TranslationOptions, capabilities_for
from app.upstream import AzureChatClient, GatewayBusy, UpstreamStream, UpstreamUnavailable

_ENCODER = msgspec.json.Encoder()
_CHAT_RESPONSE = msgspec.json.Decoder(m.CreateChatCompletionResponse)
log = logging.getLogger("app.service.azure")


class Gateway:
    """Holds what a request needs: the translation options and the pooled Azure client."""

    def __init__(self, settings: Settings, client: AzureChatClient) -> None:
        self.settings = settings
        self.client = client
        # Learnt from Azure's first refusal (``ResponsesService._with_reasoning_fallback``): this deployment
        # takes function tools on Chat Completions only without reasoning. Per process; a restart re-learns.
        self.refuses_reasoning_with_tools = False
        self.options = TranslationOptions(
            deployment=settings.openai_model,
            capabilities=capabilities_for(settings.api_version),
            reasoning_replay=settings.reasoning_replay,
            reasoning_parser=settings.reasoning_parser,
            token_limit_parameter=settings.token_limit_parameter,
            hosted_tools=settings.hosted_tools,
        )

    async def complete(self, request: m.CreateChatCompletionRequest) -> bytes:
        """Send a Chat Completions request to Azure; return the 2xx body or raise a GatewayError."""
        body = _ENCODER.encode(request)
        try:
            with observe.upstream_time():
                reply = await self.client.post_chat(body, max_output=_max_output(request))
        except UpstreamUnavailable as exc:
            raise from_unavailable(exc) from None
        except GatewayBusy as exc:
            raise from_busy(exc) from None
        if reply.status >= 300:
            raise from_upstream_status(
                reply,
                deployment=reply.deployment,
                endpoint=reply.endpoint,
                auth=self.settings.auth,
                api_version=reply.api_version,
            )
        return reply.body

    async def answer(self, request: m.CreateChatCompletionRequest) -> m.CreateChatCompletionResponse:
        """``complete``, decoded, its token usage counted."""
        return self._decode(await self.complete(request))

    async def answer_bytes(self, request: m.CreateChatCompletionRequest) -> bytes:
        """``complete``, validated and its usage counted, as Azure's own bytes."""
        body = await self.complete(request)
        self._decode(body)
        return body

    def _decode(self, body: bytes) -> m.CreateChatCompletionResponse:
        try:
            chat = _CHAT_RESPONSE.decode(body)
        except msgspec.DecodeError as exc:
            raise malformed_reply(str(exc)) from None
        observe.count_usage(chat.usage)  # for the deployment that answered (the upstream noted it)
        return chat

    @asynccontextmanager
    async def open_stream(self, request: m.CreateChatCompletionRequest) -> AsyncIterator[UpstreamStream]:
        """Send a ``stream: true`` request and wait for Azure's status (not for its first event).

        Until the block is entered every failure is a GatewayError, so the route can still answer with a
        JSON error. Inside it, Azure's events are read from the stream (mid-stream failures are the
        reader's to report); the concurrency slot and the connection are held until the block exits.
        """
        opened = False
        body = _ENCODER.encode(request)
        started = time.perf_counter()
        try:
            async with self.client.stream_chat(body, max_output=_max_output(request)) as upstream:
                # To Azure's status and headers: the stream's share of upstream time, as Server-Timing has it.
                observe.add_upstream(time.perf_counter() - started)
                if upstream.status >= 300:
                    raise from_upstream_status(
                        upstream,
                        deployment=upstream.deployment,
                        endpoint=upstream.endpoint,
                        auth=self.settings.auth,
                        api_version=upstream.api_version,
                    )
                opened = True
                yield upstream
        except UpstreamUnavailable as exc:
            if opened:
                raise
            observe.add_upstream(time.perf_counter() - started)
            raise from_unavailable(exc) from None
        except GatewayBusy as exc:
            observe.add_upstream(time.perf_counter() - started)
            raise from_busy(exc) from None

    async def aclose(self) -> None:
        await self.client.aclose()
        log.info("closed the Azure connection pool")


def _max_output(request: m.CreateChatCompletionRequest) -> int | None:
    """The output cap Azure counts against the tokens-per-minute quota."""
    for value in (request.max_completion_tokens, request.max_tokens):
        if isinstance(value, int):
            return value
    return None
