"""WebSocket mode's turns: one ``response.create`` event in, the events of one response out.

A ``ResponseSession`` is one connection's state, kept in memory and dropped with the connection: its most
recent response, as the input and output items of its whole chain, which is what a ``previous_response_id``
naming it continues (OpenAI's connection-local cache: it works with ``store: false``); an id not in the cache
is looked up in the store, as over HTTP, and its chain becomes the cache's on success. Nothing here knows
the transport: ``app.api.websocket`` feeds it each text message and sends each event it yields as one message.

Each turn goes through ``ResponsesService.create`` with ``stream: true`` - the one pipeline the HTTP route
also calls - with the cached chain as ``prior`` items. Failures become ``error`` events (a
``WebSocketErrorEvent``: the HTTP status and the envelope's error object) and the connection stays usable.
As OpenAI specifies, a turn that fails after naming a ``previous_response_id`` evicts that response, so a
retry cannot build on state that led to a failure. ``generate: false`` (OpenAI's warm-up) checks and
translates the request without calling Azure and answers with a completed response with no output, which the
next turn can continue (``ResponsesService.prepare``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import msgspec

from app.models import generated as m
from app.service.items import input_list, replay
from app.service.responses import ResponsesService
from app.telemetry import observe
from app.translate.stream import TERMINAL_EVENTS
from app.wire.decode import convert_create_response
from app.wire.errors import GatewayError, from_validation_error, invalid_request

SessionEvent = m.ResponseStreamEvent | m.WebSocketErrorEvent
_JSON = msgspec.json.Decoder()
# Fields of the HTTP body that mean nothing on a socket: `stream` is implicit, `background` unsupported.
_TRANSPORT_FIELDS = ("background",)


@dataclass(slots=True)
class _Cached:
    response_id: str
    items: list[m.InputItem]
    """The chain's input and output items, oldest first: what a continuation puts before its own input."""


class ResponseSession:
    """One connection's turns and its cache of the most recent response."""

    __slots__ = ("_last", "_max_bytes", "_responses", "_tenant")

    def __init__(self, responses: ResponsesService, tenant: str, *, max_message_bytes: int) -> None:
        self._responses = responses
        self._tenant = tenant
        self._max_bytes = max_message_bytes
        self._last: _Cached | None = None

    async def turn(self, message: str | bytes) -> AsyncGenerator[list[SessionEvent], None]:
        """The batches of events answering one client message (a failure is one ``error`` event)."""
        referenced: str | None = None
        try:
            request, generate = self._decode(message)
            referenced = _given(request.previous_response_id)
            prior = await self._prior(referenced) if referenced is not None else None
            if not generate:
                warmed = await self._responses.prepare(request, self._tenant, prior=prior)
                last = warmed[-1]
                assert isinstance(last, m.ResponseCompletedEvent)
                self._remember(last.response, request, prior)
                yield list(warmed)
                return
            streamed = msgspec.structs.replace(request, stream=True)
            source = await self._responses.create(streamed, self._tenant, prior=prior)
        except GatewayError as error:
            self._evict(referenced)
            yield [error_event(error)]
            return
        except msgspec.ValidationError as exc:
            self._evict(referenced)
            yield [error_event(from_validation_error(exc))]
            return
        if isinstance(source, m.Response):  # cannot happen with stream: true; kept honest for the type checker
            raise TypeError("ResponsesService.create returned a Response for stream: true")
        final: m.Response | None = None
        try:
            async for batch in source:
                for event in batch:
                    if isinstance(event, TERMINAL_EVENTS):
                        final = event.response
                yield list(batch)
        finally:
            await source.aclose()
        if final is None or final.status == "failed":
            self._evict(referenced)
            return
        self._remember(final, request, prior)

    def _remember(self, final: m.Response, request: m.CreateResponse, prior: list[m.InputItem] | None) -> None:
        """``final`` is now the connection's most recent response: its chain is what a continuation gets."""
        self._last = _Cached(final.id, [*(prior or ()), *input_list(request.input), *_as_input(final.output)])

    def _decode(self, message: str | bytes) -> tuple[m.CreateResponse, bool]:
        """The request, and whether to generate (``generate: false`` is WebSocket mode's warm-up)."""
        size = len(message.encode() if isinstance(message, str) else message)
        if size > self._max_bytes:
            raise GatewayError(413, f"The message is too large: {size} bytes, at most {self._max_bytes}.")
        try:
            payload = _JSON.decode(message)
        except msgspec.DecodeError as exc:
            raise invalid_request(f"The message is not valid JSON: {exc}.", code="invalid_json") from None
        if not isinstance(payload, dict):
            raise invalid_request("A message must be a JSON object with a `type`.", code="invalid_type")
        kind = payload.pop("type", None)
        if kind != "response.create":
            raise invalid_request(
                f"Unsupported event type {kind!r}: this gateway accepts only `response.create` events.",
                param="type",
                code="unsupported_event_type",
            )
        generate = payload.pop("generate", True)
        if not isinstance(generate, bool):
            raise invalid_request("`generate` must be true or false.", param="generate", code="invalid_type")
        return convert_create_response(_check_transport_fields(payload)), generate

    async def _prior(self, previous_response_id: str) -> list[m.InputItem]:
        """The chain ``previous_response_id`` ends: this connection's last response, else a stored one."""
        cached = self._last
        if cached is not None and cached.response_id == previous_response_id:
            return cached.items
        stored = await self._responses.stored.history(self._tenant, previous_response_id)
        if stored is None:
            raise GatewayError(
                400,
                f"Previous response with id '{previous_response_id}' not found. Over WebSocket with "
                "the store off, only this connection's most recent response can be continued; send the "
                "whole conversation in `input` to start a new chain.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        return stored

    def _evict(self, response_id: str | None) -> None:
        if response_id is not None and self._last is not None and self._last.response_id == response_id:
            self._last = None


def _check_transport_fields(payload: dict[str, Any]) -> dict[str, Any]:
    stream = payload.pop("stream", None)
    if stream is False:
        raise invalid_request(
            "`stream` is implicit in WebSocket mode: every response is streamed as events. Leave it out.",
            param="stream",
            code="unsupported_parameter",
        )
    for name in _TRANSPORT_FIELDS:
        if payload.get(name) is True:
            raise invalid_request(
                f"`{name}` is not supported in WebSocket mode; use POST /v1/responses for background runs.",
                param=name,
                code="unsupported_parameter",
            )
    return payload


def error_event(error: GatewayError) -> m.WebSocketErrorEvent:
    """A ``GatewayError`` as WebSocket mode's ``error`` event; noted in the turn's log line."""
    observe.note_error(error.code or error.type, error.message)
    if (record := observe.current()) is not None:
        record.status = error.status
    envelope = error.envelope().error
    if envelope.code is None:  # WebSocket clients read `error.code`: never leave it empty
        envelope = msgspec.structs.replace(envelope, code=error.type)
    return m.WebSocketErrorEvent(type="error", status=error.status, error=envelope)


def _given(value: str | msgspec.UnsetType | None) -> str | None:
    return value if isinstance(value, str) and value else None


_ENCODER = msgspec.json.Encoder()


def _as_input(output: list[m.OutputItem]) -> list[m.InputItem]:
    """A response's output items as the input items that replay them (the same JSON, read as input)."""
    return replay([_ENCODER.encode(item) for item in output])


__all__ = ["ResponseSession", "SessionEvent", "error_event"]
