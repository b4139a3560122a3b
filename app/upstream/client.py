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

import httpx
import msgspec

from app.settings import Settings
from app.telemetry import observe
from app.upstream.auth import EntraToken, TokenCredential, TokenUnavailable, make_credential
from app.upstream.errors import UpstreamUnavailable, unavailable_from
from app.upstream.limiter import Limiter, LocalLimiter
from app.upstream.retry import DeadlineExceeded, RetryPolicy, attempt
from app.upstream.stream import StreamLimits, UpstreamStream
from app.upstream.transport import AiohttpTransport
from app.upstream.urls import upstream_url

# httpx logs every request at INFO; with Litestar's root logging that is a formatted line per call on the hot path.
logging.getLogger("httpx").setLevel(logging.WARNING)

__all__ = ["AzureChatClient", "UpstreamResponse"]


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """Azure's reply as received: any status (4xx/5xx included), headers, and the raw body bytes."""

    status: int
    headers: httpx.Headers
    body: bytes


_JSON = msgspec.json.Encoder()
# Azure's id for one call: what Microsoft support asks for; logged with our request id.
APIM_REQUEST_ID = "apim-request-id"


def _failure_outcome(exc: Exception) -> str:
    """The attempts metric's outcome for a call that got no HTTP response."""
    return "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"


def _tries() -> str:
    return f" (after {n} attempts)" if (n := observe.attempts()) > 1 else ""


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
        self.url = upstream_url(settings)
        self._deployment = settings.openai_model
        self.limiter: Limiter = LocalLimiter(n, max_queue=settings.max_queue, max_wait=settings.max_queue_wait)
        """The concurrency limit every call holds a slot of (a shared budget can replace it)."""
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        # aiohttp moves the bytes: httpx's own pool costs O(pool size) per request (see transport.py).
        self._transport = transport or AiohttpTransport(limits=limits, trust_env=True)
        headers = {"content-type": "application/json", "accept": "application/json"}
        self.token: EntraToken | None = None
        """With ``auth = "entra_id"``: the bearer token cache; every call asks it for a fresh-enough token."""
        if settings.auth == "entra_id":
            self.token = EntraToken(credential or make_credential(settings), settings.entra_scope)
        elif settings.openai_api_key is not None:
            headers["api-key"] = settings.openai_api_key.get_secret_value()
        self.request_timeout = settings.request_timeout
        self._stream_idle_timeout = settings.stream_idle_timeout
        self._stream_total_timeout = settings.stream_total_timeout
        self.retry_policy = RetryPolicy(max_retries=settings.max_retries, max_wait=settings.max_retry_wait)
        self._client = httpx.AsyncClient(
            headers=headers,
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
        self._headers = self._client.headers
        self._extensions = {"timeout": self._client.timeout.as_dict()}
        self._stream_headers = httpx.Headers({**self._client.headers, "accept": "text/event-stream"})

    def deadline(self) -> float:
        """The loop time by which a request starting now must be answered (``request_timeout``)."""
        return asyncio.get_running_loop().time() + self.request_timeout

    async def _headers_for(self, base: httpx.Headers) -> httpx.Headers:
        """``base`` with this call's credentials: as they are with an api-key, plus a fresh bearer with Entra ID."""
        auth = await self._auth_headers()
        return base if auth is None else httpx.Headers({**base, **auth})

    async def _auth_headers(self) -> dict[str, str] | None:
        """Per-call credentials: an Entra bearer token (the api-key is a fixed client header instead)."""
        if self.token is None:
            return None
        try:
            return await self.token.headers()
        except TokenUnavailable as exc:
            raise UpstreamUnavailable(f"Azure OpenAI at {self._host}: {exc}") from None

    async def _send(self, body: bytes) -> httpx.Response:
        """One attempt, body fully read; ``attempt`` retries it (inside the slot, or the pool starves).

        Straight to the transport with the client's headers and timeouts: ``AsyncClient.send`` would add
        cookie-jar bookkeeping, auth and redirect hooks and a log line (a third of the gateway's CPU under
        load), none of which a call that never redirects needs.
        """
        # Per attempt: a retry after a long wait gets a fresh Entra token.
        headers = await self._headers_for(self._headers)
        request = httpx.Request("POST", self.url, headers=headers, content=body, extensions=self._extensions)
        try:
            response = await self._transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            observe.note_attempt(_failure_outcome(exc))
            raise
        observe.note_attempt(observe.outcome_of(response.status_code), response.headers.get(APIM_REQUEST_ID))
        return response

    async def attempt(self, fn: Callable[[], Awaitable[httpx.Response]], deadline: float) -> httpx.Response:
        """Run one pre-body phase ``fn`` with retries; map transport failures to ``UpstreamUnavailable``.

        ``fn`` sends one request and returns once the status line and headers are in (for a stream, before
        any chunk is read, so nothing has reached the client). The returned response may have any status.
        """
        try:
            return await attempt(fn, self.retry_policy, deadline=deadline)
        except DeadlineExceeded:
            raise UpstreamUnavailable(
                f"Azure OpenAI at {self._host} did not answer within the gateway's request_timeout "
                f"({self.request_timeout:g}s){_tries()}",
                timeout=True,
            ) from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            unavailable = unavailable_from(exc, self._host)
            raise UpstreamUnavailable(f"{unavailable}{_tries()}", timeout=unavailable.timeout) from None

    async def post_chat(self, body: bytes) -> UpstreamResponse:
        """POST a Chat Completions request body (JSON bytes) and return Azure's reply untouched.

        Raises ``UpstreamUnavailable`` when no HTTP response arrived (connect failure, timeout, dropped
        connection). HTTP errors from Azure are returned, not raised: the route decides how to map them.
        """
        deadline = self.deadline()
        async with self.limiter.acquire(deadline):
            response = await self.attempt(lambda: self._send(body), deadline)
        return UpstreamResponse(status=response.status_code, headers=response.headers, body=response.content)

    @asynccontextmanager
    async def stream_chat(self, body: bytes) -> AsyncIterator[UpstreamStream]:
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
        timeout_ext = self._extensions["timeout"]

        async def open_stream() -> httpx.Response:
            # One attempt of the pre-body phase: status and headers (and a whole error body), no events yet,
            # so a 429/5xx/reset here is retried by ``attempt`` before the client has seen anything.
            # Straight to the aiohttp transport, as in _send: its reads hand over everything that arrived at once,
            # so the route writes one chunk per read (h11 split a fast stream into one read per event).
            headers = await self._headers_for(self._stream_headers)
            request = httpx.Request(
                "POST", self.url, headers=headers, content=body, extensions={"timeout": timeout_ext}
            )
            try:
                response = await self._transport.handle_async_request(request)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                observe.note_attempt(_failure_outcome(exc))
                raise
            observe.note_attempt(observe.outcome_of(response.status_code), response.headers.get(APIM_REQUEST_ID))
            if response.status_code >= 300:
                try:
                    await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
            return response

        async with self.limiter.acquire(deadline):
            response = await self.attempt(open_stream, deadline)
            try:
                error_body = response.content if response.status_code >= 300 else b""
                yield UpstreamStream(response, error_body, self._host, limits)
            finally:
                await response.aclose()

    async def probe(self) -> tuple[bool, str]:
        """Is Azure reachable, are the credentials good, does the deployment exist? For ``/readyz``.

        Sends a Chat request with no messages: Azure checks the key (or token), the deployment and the
        api-version, then rejects the body with a 400 before any model runs - so the probe costs no tokens.
        No concurrency slot (a full gateway is still ready) and no retries; one connect timeout at most.
        Returns (ok, a short reason); 400 and 429 (throttled, but there) count as reachable.
        """
        body = b'{"messages":[],"model":' + _JSON.encode(self._deployment) + b"}"
        # Through the same transport and pool as served calls, so the probe tests the path requests take.
        connect = self._client.timeout.connect
        try:
            headers = await self._headers_for(self._headers)
            request = httpx.Request(
                "POST",
                self.url,
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
            return False, str(unavailable_from(exc, self._host))
        status = response.status_code
        if status in (200, 400, 422, 429):
            return True, f"HTTP {status} from {self._host}"
        if status in (401, 403):
            return False, f"HTTP {status} from {self._host}: the credentials were rejected"
        if status == 404:
            return False, f"HTTP 404 from {self._host}: no such deployment or endpoint path"
        return False, f"HTTP {status} from {self._host}"

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
