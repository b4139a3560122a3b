"""Fault injection: scripted actions that make the emulator misbehave the way Azure sometimes does.

A fault is one more kind of scripted action (``{"fault": "<kind>", ...}`` in ``/_emulator/script``), and
``POST /_emulator/faults`` queues them for the next N requests or, with ``rate``, injects them at random
(for soak tests). Kinds:

=================  ======================================================================================
``throttle``       429 as Azure sends it; ``retry_after_ms`` -> ``retry-after-ms`` (+ ``x-ms-retry-after-ms``),
                   ``retry_after`` -> ``Retry-After`` (seconds or an HTTP date), plus ``x-ratelimit-*``
``server_error``   ``status`` 500 (default), 502, 503 or 504 with Azure's body for it
``delay``          wait ``seconds``, then answer normally (longer than the gateway's read timeout = timeout)
``reset``          TCP reset. ``after_bytes`` = 0: before any response byte; > 0: after the status line,
                   headers and that many body bytes. A reset *mid-stream* is a streamed reply's knob instead:
                   ``{"message": {...}, "stream": {"fail_after": N, "failure": "drop"}}`` (see
                   :mod:`app.emulator.streaming`), since it needs the validated ``stream: true`` request.
``malformed``      200 ``application/json`` whose body is truncated JSON
``content_filter`` 400 in the live service's shape (``innererror.content_filter_result``)
=================  ======================================================================================
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from typing import Any, ClassVar, Final, Literal

import msgspec
from litestar import Response

from app.emulator.actions import Action, ActionContext, GeneratedReply, ScriptError, azure_json

__all__ = ["Fault", "FaultMix", "ResetResponse", "parse_faults"]

FaultKind = Literal["throttle", "server_error", "delay", "reset", "malformed", "content_filter"]

_SERVER_ERRORS: Final = {
    500: ("InternalServerError", "The server had an error while processing your request. Sorry about that!"),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."),
    504: ("GatewayTimeout", "The operation was timeout."),
}

# The live service's content-filter rejection (see shared/specs/azure_notes.md, "Errors").
CONTENT_FILTER_RESULT: Final = {
    "hate": {"filtered": False, "severity": "safe"},
    "jailbreak": {"filtered": False, "detected": False},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": True, "severity": "medium"},
}
CONTENT_FILTER_MESSAGE: Final = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please "
    "modify your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)

MALFORMED_BODY: Final = '{"id": "chatcmpl-malformed", "object": "chat.completion", "choices": [{"index": 0, "mess'


class Fault(Action, frozen=True):
    """One injected fault; see the module docstring for the kinds and their parameters."""

    fault: FaultKind
    status: int | None = None
    retry_after_ms: int | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    after_bytes: int = 0

    # Throttling, 5xx, resets and garbage happen in front of the model, before the body is looked at.
    needs_valid_request: ClassVar[bool] = False

    async def respond(self, ctx: ActionContext) -> Response[Any]:
        if self.fault == "throttle":
            return _throttle(self, ctx)
        if self.fault == "server_error":
            status = self.status or 500
            code, message = _SERVER_ERRORS.get(status, ("InternalServerError", "Emulated server error."))
            return azure_json(status, {"error": {"code": code, "message": message}}, ctx.request_id)
        if self.fault == "delay":
            await asyncio.sleep(self.seconds)
            if ctx.request is None:  # not validated (fault actions skip it): answer with a canned reply
                return azure_json(200, _canned_completion(ctx), ctx.request_id)
            return await GeneratedReply().respond(ctx)
        if self.fault == "reset":
            return ResetResponse(after_bytes=self.after_bytes, body=msgspec.json.encode(_canned_completion(ctx)))
        if self.fault == "malformed":
            return azure_json(200, MALFORMED_BODY, ctx.request_id)
        body = {
            "error": {
                "message": CONTENT_FILTER_MESSAGE,
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": CONTENT_FILTER_RESULT},
            }
        }
        return azure_json(400, body, ctx.request_id)


def _throttle(fault: Fault, ctx: ActionContext) -> Response[Any]:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "0"}
    seconds = 1
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
        headers["x-ms-retry-after-ms"] = str(fault.retry_after_ms)
        seconds = max(1, -(-fault.retry_after_ms // 1000))
    if fault.retry_after is not None:
        headers["retry-after"] = fault.retry_after
    message = (
        f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {ctx.api_version} have "
        "exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after "
        f"{seconds} second{'s' if seconds != 1 else ''}."
    )
    return azure_json(fault.status or 429, {"error": {"code": "429", "message": message}}, ctx.request_id, headers)


def _canned_completion(ctx: ActionContext) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{ctx.request_id}",
        "object": "chat.completion",
        "created": 0,
        "model": ctx.config.model_for(ctx.deployment),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": "ok", "refusal": None},
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class ResetResponse(Response[bytes]):
    """Not a response: a TCP reset (RST), optionally after the headers and part of the body.

    ASGI has no way to say "reset"; uvicorn's ``send`` is a bound method of its per-request cycle object,
    whose ``transport`` we abort after setting SO_LINGER to 0, which makes the kernel send RST. Tied to
    uvicorn (the only server the emulator runs under).
    """

    recorded_status: ClassVar[int | None] = None

    def __init__(self, *, after_bytes: int, body: bytes) -> None:
        super().__init__(content=b"", status_code=200)
        self.after_bytes = after_bytes
        self.full_body = body

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._reset

    async def _reset(self, scope: Any, receive: Any, send: Any) -> None:
        transport = _find_transport(send)
        if transport is None:
            raise RuntimeError("reset faults need uvicorn (no transport reachable from the ASGI send)")
        if self.after_bytes > 0:
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.full_body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": self.full_body[: self.after_bytes], "more_body": True})
            await asyncio.sleep(0.01)  # let the partial reply reach the client before the reset
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await asyncio.sleep(0)  # let the server see the connection is gone before this app returns


def _find_transport(send: Any, depth: int = 0) -> Any:
    """uvicorn's transport behind ``send``, through the closures Litestar wraps it in."""
    owner = getattr(send, "__self__", None)
    if owner is not None and hasattr(owner, "transport"):
        return owner.transport
    if depth > 5:
        return None
    for cell in getattr(send, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:
            continue
        if callable(inner) and (found := _find_transport(inner, depth + 1)) is not None:
            return found
    return None


class FaultMix:
    """Random injection for soak tests: each request gets one of ``faults`` with probability ``rate``."""

    def __init__(self, rate: float, faults: list[Action], seed: int | None = None) -> None:
        self.rate = rate
        self.faults = faults
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0

    def pick(self) -> Action | None:
        with self._lock:
            if not self.faults or self._random.random() >= self.rate:
                return None
            self.injected += 1
            return self._random.choice(self.faults)


def parse_faults(payload: Any) -> tuple[list[Action], FaultMix | None]:
    """Decode ``POST /_emulator/faults``.

    ``{"fault": "throttle", "retry_after_ms": 200, "count": 3}`` or ``{"faults": [ ... ]}`` queue faults for the
    next requests (``count`` defaults to 1); ``{"rate": 0.05, "faults": [...], "seed": 1}`` instead injects one
    of them into each request with that probability, until ``DELETE /_emulator/faults``.
    """
    if not isinstance(payload, dict):
        raise ScriptError('expected {"fault": ...} or {"faults": [...]}')
    entries = payload.get("faults", [payload] if "fault" in payload else None)
    if not isinstance(entries, list) or not entries:
        raise ScriptError('expected {"fault": ...} or {"faults": [...]}')
    actions: list[Action] = []
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict) or "fault" not in raw:
            raise ScriptError(f"faults[{index}]: expected an object with a 'fault' key")
        raw = {k: v for k, v in raw.items() if k not in ("count", "rate", "seed", "faults")}
        count = entries[index].get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise ScriptError(f"faults[{index}].count: expected an integer >= 1")
        try:
            fault = msgspec.convert(raw, Fault)
        except msgspec.ValidationError as exc:
            raise ScriptError(f"faults[{index}]: {exc}") from exc
        actions.extend([fault] * count)
    rate = payload.get("rate")
    if rate is None:
        return actions, None
    if not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ScriptError("rate: expected a number from 0 to 1")
    seed = payload.get("seed")
    return [], FaultMix(float(rate), actions, seed if isinstance(seed, int) else None)



def parse_deployment_update(payload: Any) -> tuple[dict[str, Any], Any]:
    """Decode ``PUT /_emulator/deployments/{name}``: (quota changes, the outage fault / None / ... = unchanged)."""
    if not isinstance(payload, dict):
        raise ScriptError('expected {"rpm": ..., "tpm": ..., "outage": {"fault": ...} | null}')
    unknown = set(payload) - {"rpm", "tpm", "outage"}
    if unknown:
        raise ScriptError(f"unknown keys: {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    for key in ("rpm", "tpm"):
        if key in payload:
            value = payload[key]
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ScriptError(f"{key}: expected an integer >= 1 or null")
            changes[key] = value
    outage: Any = ...
    if "outage" in payload:
        raw = payload["outage"]
        if raw is None:
            outage = None
        else:
            try:
                outage = msgspec.convert(raw, Fault)
            except msgspec.ValidationError as exc:
                raise ScriptError(f"outage: {exc}") from exc
    return changes, outage
