"""The Azure OpenAI emulator as a Litestar ASGI app: ``create_emulator_app()``.

Why an emulator at all: the gateway's tests and demos need an upstream that answers like Azure - same URL
scheme, auth, api-version gating, error bodies, response shape - without credentials or network. Why a real
ASGI app rather than an httpx mock: the gateway is exercised over a real socket, exactly as in production,
and the same app serves manual demos (``python -m app emulator``).

One chat request goes through a fixed pipeline (:func:`_handle_chat`)::

    record -> api-version present -> credentials -> api-version known -> deployment exists
           -> next scripted action (or the generated reply) -> [validate body] -> action.respond()

Routes under ``/_emulator/`` are test hooks, not part of Azure (``POST /_emulator/gates/{name}`` opens a
gate a scripted stream waits on).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath

from app.emulator import errors
from app.emulator.actions import Action, ActionContext, GeneratedReply, ScriptError, azure_json
from app.emulator.config import EmulatorConfig
from app.emulator.faults import parse_deployment_update, parse_faults
from app.emulator.quotas import estimate_tokens, throttled_body
from app.emulator.schema import ChatCompletionRequest
from app.emulator.script import parse_action
from app.emulator.state import EmulatorState, RecordedRequest
from app.emulator.validation import check_model_rules, decode_body, validate_request
from app.emulator.versions import features_for

__all__ = ["CHAT_PATH", "V1_CHAT_PATH", "create_emulator_app", "emulator_state"]

CHAT_PATH = "/openai/deployments/{deployment:str}/chat/completions"
# Azure's v1 surface: no deployment in the path (it is the body's `model`), api-version optional.
V1_CHAT_PATH = "/openai/v1/chat/completions"
V1_DEFAULT_API_VERSION = "v1"
_STATE_KEY = "emulator"
_CONFIG_KEY = "emulator_config"
# Credentials never go into recordings (they are printed by failing tests and served by /_emulator/).
_SECRET_HEADERS = frozenset({"api-key", "authorization"})


def emulator_state(app: Litestar) -> EmulatorState:
    """The in-process state of an app built by :func:`create_emulator_app`."""
    state = app.state[_STATE_KEY]
    assert isinstance(state, EmulatorState)
    return state


def create_emulator_app(
    config: EmulatorConfig | None = None, *, state: EmulatorState | None = None
) -> Litestar:
    """Build an emulator. Pass ``state`` to share/inspect it; otherwise read it via :func:`emulator_state`."""
    config = config or EmulatorConfig()
    if state is None:
        state = EmulatorState(config.max_recorded_requests, config.quotas, config.quota_window)

    @post(CHAT_PATH, status_code=200)
    async def chat_completions(request: Request[Any, Any, Any], deployment: FromPath[str]) -> Response[Any]:
        return await _handle_chat(request, deployment, config, state)

    @post(V1_CHAT_PATH, status_code=200)
    async def v1_chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
        return await _handle_chat(request, None, config, state)

    @post("/_emulator/tokens", status_code=204)
    async def accept_token(request: Request[Any, Any, Any]) -> None:
        """Accept a bearer token until ``expires_on`` (what a test's fake Entra credential issued)."""
        payload = msgspec.json.decode(await request.body())
        state.accept_token(str(payload["token"]), float(payload["expires_on"]))

    @get("/_emulator/requests")
    async def list_requests() -> Response[bytes]:
        return Response(msgspec.json.encode(state.requests_as_builtins()), media_type="application/json")

    @delete("/_emulator/requests", status_code=204)
    async def clear_requests() -> None:
        state.clear()

    @post("/_emulator/script", status_code=200)
    async def add_script(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            payload = msgspec.json.decode(await request.body())
            replies = payload.get("replies") if isinstance(payload, dict) else None
            if not isinstance(replies, list):
                raise ScriptError('expected {"replies": [...]}')
            actions = [parse_action(raw, index) for index, raw in enumerate(replies)]
        except (msgspec.DecodeError, ScriptError) as exc:
            return Response({"error": {"message": str(exc)}}, status_code=400)
        return Response({"queued": len(actions), "pending": state.enqueue(actions)})

    @get("/_emulator/script")
    async def list_script() -> Response[bytes]:
        pending = [{"kind": type(a).__name__, **msgspec.to_builtins(a)} for a in state.pending]
        return Response(msgspec.json.encode(pending), media_type="application/json")

    @delete("/_emulator/script", status_code=204)
    async def clear_script() -> None:
        state.clear_script()

    @post("/_emulator/faults", status_code=200)
    async def add_faults(request: Request[Any, Any, Any]) -> Response[Any]:
        """Queue faults for the next requests, or set a random fault rate (see app.emulator.faults)."""
        try:
            actions, mix = parse_faults(msgspec.json.decode(await request.body()))
        except (msgspec.DecodeError, ScriptError) as exc:
            return Response({"error": {"message": str(exc)}}, status_code=400)
        if mix is not None:
            state.fault_mix = mix
            return Response({"rate": mix.rate, "faults": len(mix.faults)})
        return Response({"queued": len(actions), "pending": state.enqueue(actions)})

    @get("/_emulator/faults")
    async def fault_stats() -> Response[Any]:
        mix = state.fault_mix
        return Response({"rate": mix.rate if mix else 0, "injected": mix.injected if mix else 0})

    @delete("/_emulator/faults", status_code=204)
    async def clear_faults() -> None:
        state.fault_mix = None
        state.clear_script()

    @get("/_emulator/deployments")
    async def deployment_stats() -> Response[Any]:
        """What each deployment received, accepted, throttled and failed (and when it accepted each call)."""
        return Response(state.quotas.stats())

    @put("/_emulator/deployments/{name:str}", status_code=200)
    async def set_deployment(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        """``{"rpm": 600, "tpm": 100000, "outage": {"fault": "server_error", "status": 503}}``; ``"outage": null``
        lifts an outage, and keys left out stay as they are."""
        try:
            changes, outage = parse_deployment_update(msgspec.json.decode(await request.body()))
        except (msgspec.DecodeError, ScriptError) as exc:
            return Response({"error": {"message": str(exc)}}, status_code=400)
        state.quotas.update(name, changes, outage)
        return Response(state.quotas.stats()[name])

    @post("/_emulator/gates/{name:str}", status_code=204)
    async def open_gate(name: FromPath[str]) -> None:
        state.open_gate(name)

    return Litestar(
        route_handlers=[
            chat_completions,
            v1_chat_completions,
            accept_token,
            list_requests,
            clear_requests,
            add_script,
            list_script,
            clear_script,
            add_faults,
            fault_stats,
            clear_faults,
            deployment_stats,
            set_deployment,
            open_gate,
        ],
        exception_handlers={NotFoundException: _not_found, HTTPException: _http_error, Exception: _crash},
        state=State({_STATE_KEY: state, _CONFIG_KEY: config}),
        openapi_config=None,
        # Logging belongs to whoever runs the emulator (the gateway in `serve --emulator` configures it).
        logging_config=None,
    )


async def _handle_chat(
    request: Request[Any, Any, Any], deployment: str | None, config: EmulatorConfig, state: EmulatorState
) -> Response[Any]:
    """``deployment`` is None on the v1 surface: there the body's ``model`` names it."""
    request_id = str(uuid.uuid4())
    raw = await request.body()
    try:
        recorded_body: Any = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        recorded_body = raw.decode("utf-8", "replace")
    v1 = deployment is None
    if deployment is None:
        model = recorded_body.get("model") if isinstance(recorded_body, dict) else None
        deployment = model if isinstance(model, str) else ""
    record = RecordedRequest(
        method=request.method,
        path=request.url.path,
        deployment=deployment,
        query=dict(request.query_params.items()),
        headers={k: v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS},
        body=recorded_body,
    )
    state.record(record)
    watcher = asyncio.create_task(_note_cancel(request, record))
    try:
        response = await _pipeline(request, raw, deployment, config, state, request_id, record, v1=v1)
    except errors.AzureError as exc:
        response = azure_json(exc.status, exc.body, request_id, exc.headers)
    finally:
        watcher.cancel()
    record.status = getattr(response, "recorded_status", response.status_code)  # None for a reset
    return response


async def _note_cancel(request: Request[Any, Any, Any], record: RecordedRequest) -> None:
    """While the answer is being made: a client that hangs up is noted, as Azure logs a cancelled request.

    The body has been read, so the next ASGI message can only be the disconnect (streams note it themselves).
    """
    while (await request.receive())["type"] != "http.disconnect":
        pass
    if record.status is None:
        record.cancelled = True


async def _pipeline(
    request: Request[Any, Any, Any],
    raw: bytes,
    deployment: str,
    config: EmulatorConfig,
    state: EmulatorState,
    request_id: str,
    record: RecordedRequest,
    *,
    v1: bool = False,
) -> Response[Any]:
    api_version = request.query_params.get("api-version", V1_DEFAULT_API_VERSION if v1 else None)
    if api_version is None:
        raise errors.api_version_missing()
    _check_credentials(request, config, state)
    features = features_for(api_version)
    if features is None:
        raise errors.api_version_unsupported()
    if deployment not in config.deployments:
        raise errors.deployment_not_found()
    outage = state.quotas.outage(deployment)
    if outage is not None:  # this deployment is down: its fault, before anything else is looked at
        return await outage.respond(_context(config, deployment, api_version, request_id, None, record, state))
    verdict = state.quotas.admit(deployment, estimate_tokens(raw, record.body))
    if not verdict.ok:
        raise errors.AzureError(429, throttled_body(verdict, api_version), verdict.headers)

    scripted = state.next_action()
    action: Action = scripted if scripted is not None else GeneratedReply()
    parsed: ChatCompletionRequest | None = None
    if action.needs_valid_request:
        try:
            parsed = validate_request(decode_body(raw), features)
            check_model_rules(parsed, config.model_for(deployment))
        except errors.AzureError:
            if scripted is not None:
                state.push_front(scripted)  # an invalid request must not use up the test's scripted reply
            raise
    response = await action.respond(_context(config, deployment, api_version, request_id, parsed, record, state))
    response.headers.update(verdict.headers)  # Azure reports what is left on every answer
    return response


def _context(
    config: EmulatorConfig,
    deployment: str,
    api_version: str,
    request_id: str,
    parsed: ChatCompletionRequest | None,
    record: RecordedRequest,
    state: EmulatorState,
) -> ActionContext:
    return ActionContext(
        config=config,
        deployment=deployment,
        api_version=api_version,
        request_id=request_id,
        request=parsed,
        record=record,
        state=state,
    )


def _check_credentials(request: Request[Any, Any, Any], config: EmulatorConfig, state: EmulatorState) -> None:
    """``api-key: <key>``, or Entra-style ``Authorization: Bearer <token>``.

    A bearer token is accepted when it is the key itself, or a token registered with ``state.accept_token``
    (a test's fake Entra credential) that has not expired - an expired one gets Azure's 401.
    """
    key = request.headers.get("api-key")
    if key is not None:
        if key != config.api_key:
            raise errors.unauthorized_key()
        return
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer":
            raise errors.unauthorized_bearer()
        if token == config.api_key:
            return
        expires_on = state.token_expires_on(token)
        if expires_on is None or expires_on <= time.time():
            raise errors.unauthorized_bearer()
        return
    raise errors.unauthorized_key()


def _new_request_id() -> str:
    return str(uuid.uuid4())


def _not_found(_: Request[Any, Any, Any], __: NotFoundException) -> Response[Any]:
    return azure_json(404, errors.resource_not_found().body, _new_request_id())


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    body = {"error": {"code": str(exc.status_code), "message": exc.detail}}
    return azure_json(exc.status_code, body, _new_request_id(), dict(exc.headers or {}))


def _crash(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    body = {"error": {"code": "InternalServerError", "message": f"Emulator error: {type(exc).__name__}"}}
    return azure_json(500, body, _new_request_id())
