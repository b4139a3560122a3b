"""Azure OpenAI Chat Completions over one shared ``httpx.AsyncClient``.

Why not the ``openai`` SDK: the gateway already has the request as JSON bytes and the caller wants the reply
as bytes to decode once with msgspec; the SDK would parse into pydantic models and re-serialise both ways,
and its hidden retries would hold a concurrency slot for minutes. What we keep from the SDK is its URL
scheme and auth header, reproduced exactly (``tests/test_upstream.py`` compares against the SDK itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import msgspec

from app.settings import Settings
from app.telemetry import observe
from app.upstream.auth import EntraToken, TokenCredential, TokenUnavailable, make_credential
from app.upstream.budget import Budget, LocalBudget
from app.upstream.errors import UpstreamUnavailable, unavailable_from
from app.upstream.limiter import Limiter, LocalLimiter
from app.upstream.pool import DeploymentPool, Target
from app.upstream.retry import DeadlineExceeded, RetryPolicy, attempt
from app.upstream.stream import StreamLimits, UpstreamStream
from app.upstream.transport import AiohttpTransport

# httpx logs every request at INFO; with Litestar's root logging that is a formatted line per call on the hot path.
logging.getLogger("httpx").setLevel(logging.WARNING)

__all__ = ["AzureChatClient", "UpstreamResponse"]


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """Azure's reply as received: any status (4xx/5xx included), headers, and the raw body bytes.

    ``deployment``, ``endpoint`` and ``api_version`` say which deployment of the pool answered (the last
    attempt's), for error messages that name it.
    """

    status: int
    headers: httpx.Headers
    body: bytes
    deployment: str = ""
    endpoint: str = ""
    api_version: str | None = None


_JSON = msgspec.json.Encoder()
# Azure's id for one call: what Microsoft support asks for; logged with our request id.
APIM_REQUEST_ID = "apim-request-id"


def _failure_outcome(exc: Exception) -> str:
    """The attempts metric's outcome for a call that got no HTTP response."""
    return "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"


def _tries() -> str:
    return f" (after {n} attempts)" if (n := observe.attempts()) > 1 else ""


def _estimate(body: bytes, max_output: int | None) -> int:
    """Tokens a call may cost, the way Azure estimates for its quota: prompt characters / 4 + the output cap."""
    return len(body) // 4 + (max_output or 0)


class _Call:
    """One client request's attempts: the deployment the last one went to (the next avoids it if it can)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: Target | None = None


class AzureChatClient:
    """One per app: owns the connection pool and the concurrency limit for every upstream call.

    Both gateway routes go through ``post_chat``, so ``num_concurrent_requests`` bounds the total load on
    the Azure deployment (NeMo Gym only limited /v1/responses). Later additions slot in at ``_slot`` (a
    ``stream_chat`` holds the slot until the stream is drained) and ``_send`` (retries with backoff).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        credential: TokenCredential | None = None,
    ) -> None:
        n = settings.num_concurrent_requests
        self.limiter: Limiter = LocalLimiter(n, max_queue=settings.max_queue, max_wait=settings.max_queue_wait)
        """The concurrency limit every call holds a slot of (a shared budget can replace it)."""
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        # aiohttp moves the bytes: httpx's own pool costs O(pool size) per request (see transport.py).
        self._transport = transport or AiohttpTransport(limits=limits, trust_env=True)
        self.token: EntraToken | None = None
        """With Entra ID (any deployment): the bearer token cache; every call asks it for a fresh-enough token."""
        if settings.auth == "entra_id" or any(d.auth == "entra_id" for d in settings.deployments):
            self.token = EntraToken(credential or make_credential(settings), settings.entra_scope)
        self.budget: Budget = LocalBudget()
        """Requests/tokens per minute per deployment: this process's, or with ``redis_url`` the fleet's."""
        if settings.redis_url is not None:
            from app.upstream.coordinator import RedisBudget

            self.budget = RedisBudget(settings.redis_url.get_secret_value(), settings.redis_prefix)
        self.pool = DeploymentPool(settings, self.budget, self.token)
        self.url = self.pool.targets[0].url
        """The first deployment's URL (the only one without a pool)."""
        self.request_timeout = settings.request_timeout
        self._stream_idle_timeout = settings.stream_idle_timeout
        self._stream_total_timeout = settings.stream_total_timeout
        # A failover is an attempt too: a pool of N may try each of the other deployments once on top.
        retries = settings.max_retries + len(self.pool) - 1
        self.retry_policy = RetryPolicy(max_retries=retries, max_wait=settings.max_retry_wait)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                # Uploading a long conversation is bounded like reading the reply, not like a TCP handshake.
                write=settings.read_timeout,
                # The semaphore keeps in-flight calls <= pool size, so waiting for a pooled connection should
                # not happen; if it does, fail as fast as a connect would.
                pool=settings.connect_timeout,
            ),
            limits=limits,
            transport=transport,
            # Azure never redirects chat completions; following one could forward the api-key elsewhere.
            follow_redirects=False,
            # HTTPS_PROXY / SSL_CERT_FILE are honoured: corporate egress to Azure often needs them.
            trust_env=True,
        )
        self._host = self.url.host
        self._extensions = {"timeout": self._client.timeout.as_dict()}

    def deadline(self) -> float:
        """The loop time by which a request starting now must be answered (``request_timeout``)."""
        return asyncio.get_running_loop().time() + self.request_timeout

    async def _headers_for(self, target: Target, base: httpx.Headers) -> httpx.Headers:
        """``base`` with this call's credentials: as they are with an api-key, plus a fresh bearer with Entra ID."""
        if target.token is None:
            return base
        try:
            auth = await target.token.headers()
        except TokenUnavailable as exc:
            raise UpstreamUnavailable(f"Azure OpenAI at {target.host}: {exc}") from None
        return httpx.Headers({**base, **auth})

    async def _dispatch(
        self, call: _Call, body: bytes, tokens: int, deadline: float, stream: bool, extensions: dict[str, Any]
    ) -> httpx.Response:
        """One attempt at the deployment the pool picks: status and headers in (a whole body unless a 2xx stream).

        Every attempt names its deployment (metrics, the request's record and log line, the response header)
        and its outcome is judged for the breaker and the budget.
        """
        target = await self.pool.choose(tokens, deadline, call.last)
        call.last = target
        observe.note_deployment(target.name)
        try:
            # Per attempt: a retry after a long wait gets a fresh Entra token.
            headers = await self._headers_for(target, target.stream_headers if stream else target.headers)
            content = target.body_for(body, self.pool.first_model)
            request = httpx.Request("POST", target.url, headers=headers, content=content, extensions=extensions)
            try:
                response = await self._transport.handle_async_request(request)
                if not stream or response.status_code >= 300:
                    try:
                        await response.aread()
                    except BaseException:
                        await response.aclose()
                        raise
                    if not stream:
                        await response.aclose()
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                outcome = _failure_outcome(exc)
                observe.note_attempt(outcome, None, target.name)
                await self._judge(target, None, None, outcome)
                raise
        except BaseException:
            target.breaker.released()  # cancelled or failed before an answer: the breaker learnt nothing more
            raise
        status = response.status_code
        outcome = observe.outcome_of(status)
        observe.note_attempt(outcome, response.headers.get(APIM_REQUEST_ID), target.name)
        await self._judge(target, status, response.headers, outcome)
        return response

    async def _judge(self, target: Target, status: int | None, headers: httpx.Headers | None, outcome: str) -> None:
        target.last_outcome = outcome  # a failover from it names this as the reason
        await self.pool.settle(target, status, headers)

    async def attempt(
        self, call: _Call, fn: Callable[[], Awaitable[httpx.Response]], deadline: float
    ) -> httpx.Response:
        """Run one pre-body phase ``fn`` with retries; map transport failures to ``UpstreamUnavailable``.

        ``fn`` sends one request and returns once the status line and headers are in (for a stream, before
        any chunk is read, so nothing has reached the client). The returned response may have any status.
        A retry that another deployment can take goes there at once, without a backoff.
        """
        try:
            return await attempt(
                fn, self.retry_policy, deadline=deadline, failover=lambda: self.pool.failover_ready(call.last)
            )
        except DeadlineExceeded:
            host = call.last.host if call.last is not None else self._host
            raise UpstreamUnavailable(
                f"Azure OpenAI at {host} did not answer within the gateway's request_timeout "
                f"({self.request_timeout:g}s){_tries()}",
                timeout=True,
            ) from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            failed = unavailable_from(exc, call.last.host if call.last is not None else self._host)
            raise UpstreamUnavailable(f"{failed}{_tries()}", timeout=failed.timeout) from None

    async def post_chat(self, body: bytes, *, max_output: int | None = None) -> UpstreamResponse:
        """POST a Chat Completions request body (JSON bytes) and return Azure's reply untouched.

        Raises ``UpstreamUnavailable`` when no HTTP response arrived (connect failure, timeout, dropped
        connection). HTTP errors from Azure are returned, not raised: the route decides how to map them.
        """
        deadline = self.deadline()
        call, tokens = _Call(), _estimate(body, max_output)
        async with self.limiter.acquire(deadline):
            response = await self.attempt(
                call, lambda: self._dispatch(call, body, tokens, deadline, False, self._extensions), deadline
            )
        target = call.last
        assert target is not None
        return UpstreamResponse(
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            deployment=target.deployment.openai_model,
            endpoint=target.deployment.openai_base_url,
            api_version=target.deployment.default_query.get("api-version"),
        )

    @asynccontextmanager
    async def stream_chat(self, body: bytes, *, max_output: int | None = None) -> AsyncIterator[UpstreamStream]:
        """POST a ``stream: true`` request; inside the block, Azure's status is known and its events readable.

        The concurrency slot and the connection are held until the block exits - when the stream is drained,
        fails or is abandoned (client disconnect: the task is cancelled and the connection closed, which
        Azure sees as a cancelled request). A non-2xx reply is read whole into ``body``, like ``post_chat``.
        """
        deadline = self.deadline()
        # Between events, a stream may be silent for stream_idle_timeout, and it may last stream_total_timeout
        # (UpstreamStream.event_batches enforces both, so the error names them); the socket keeps read_timeout,
        # which also bounds the wait for Azure's status line.
        limits = StreamLimits(
            idle=self._stream_idle_timeout,
            deadline=asyncio.get_running_loop().time() + self._stream_total_timeout,
            total=self._stream_total_timeout,
        )
        extensions = self._extensions
        call, tokens = _Call(), _estimate(body, max_output)

        # One attempt of the pre-body phase: status and headers (and a whole error body), no events yet, so a
        # 429/5xx/reset here is retried - or failed over - by ``attempt`` before the client has seen anything.
        # Straight to the aiohttp transport: its reads hand over everything that arrived at once, so the route
        # writes one chunk per read (h11 split a fast stream into one read per event).
        async with self.limiter.acquire(deadline):
            response = await self.attempt(
                call, lambda: self._dispatch(call, body, tokens, deadline, True, extensions), deadline
            )
            assert call.last is not None
            try:
                error_body = response.content if response.status_code >= 300 else b""
                yield UpstreamStream(response, error_body, call.last.host, limits, call.last.deployment)
            finally:
                await response.aclose()

    async def probe(self) -> tuple[bool, str]:
        """Is Azure reachable, are the credentials good, does the deployment exist? For ``/readyz``.

        Sends a Chat request with no messages: Azure checks the key (or token), the deployment and the
        api-version, then rejects the body with a 400 before any model runs - so the probe costs no tokens.
        No concurrency slot (a full gateway is still ready) and no retries; one connect timeout at most.
        Returns (ok, a short reason); 400 and 429 (throttled, but there) count as reachable.
        """
        results = [await self._probe(target) for target in self.pool.targets]
        if len(results) == 1:
            return results[0]
        ok = any(good for good, _ in results)
        return ok, "; ".join(f"{t.name}: {why}" for t, (_, why) in zip(self.pool.targets, results, strict=True))

    async def _probe(self, target: Target) -> tuple[bool, str]:
        body = b'{"messages":[],"model":' + _JSON.encode(target.deployment.openai_model) + b"}"
        host = target.host
        # Through the same transport and pool as served calls, so the probe tests the path requests take.
        connect = self._client.timeout.connect
        try:
            headers = await self._headers_for(target, target.headers)
            request = httpx.Request(
                "POST",
                target.url,
                headers=headers,
                content=body,
                extensions={"timeout": httpx.Timeout(connect).as_dict()},
            )
            response = await self._transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except UpstreamUnavailable as exc:
            return False, str(exc)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            return False, str(unavailable_from(exc, host))
        status = response.status_code
        if status in (200, 400, 422, 429):
            return True, f"HTTP {status} from {host}"
        if status in (401, 403):
            return False, f"HTTP {status} from {host}: the credentials were rejected"
        if status == 404:
            return False, f"HTTP 404 from {host}: no such deployment or endpoint path"
        return False, f"HTTP {status} from {host}"

    @property
    def free_slots(self) -> int:
        """How many of the ``num_concurrent_requests`` slots are free right now (for health and tests)."""
        return self._local.free

    @property
    def in_flight(self) -> int:
        return self._local.in_flight

    @property
    def queued(self) -> int:
        return self._local.queued

    @property
    def _local(self) -> LocalLimiter:
        assert isinstance(self.limiter, LocalLimiter)
        return self.limiter

    async def aclose(self) -> None:
        await self.limiter.aclose()
        await self.budget.aclose()
        # The client closes a transport it was given too; closing it once more is harmless, but the aiohttp
        # transport made here is not the client's (calls bypass AsyncClient.send), so it is closed here.
        await self._client.aclose()
        if self._transport is not self._client._transport:
            await self._transport.aclose()
        if self.token is not None:
            await self.token.aclose()

    async def __aenter__(self) -> AzureChatClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
