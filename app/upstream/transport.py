"""An httpx transport over aiohttp's connection pool: httpx stays the client API, aiohttp moves the bytes.

Why: under load httpx's own pool (httpcore) is the gateway's bottleneck. For every request it walks all
pooled connections and polls each idle socket (``has_expired`` → ``is_socket_readable``), so the cost per
request grows with the pool: at 64 concurrent requests the gateway spent over half its CPU there and
served a few hundred req/s. aiohttp's pool hands out a keep-alive connection in O(1) and parses replies
in C. The bench (``make bench``) measures both.

Same contract as httpx's default transport for what ``AzureChatClient`` relies on: timeouts come from the
request's ``timeout`` extension and failures are raised as the matching ``httpx`` exceptions (connect vs
read timeout, connect error, dropped connection), with no request headers in any message. The reply body is
streamed, so ``client.stream()`` works for Server-Sent Events. Proxies and CA bundles come from the
environment like httpx's (``HTTPS_PROXY``, ``SSL_CERT_FILE``) when ``trust_env`` is set.
"""

from __future__ import annotations

import asyncio
import os
import socket
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import yarl

__all__ = ["AiohttpTransport"]


class _ReplyStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            # iter_any: every chunk as soon as it arrives (an SSE event must not wait for a buffer to fill).
            async for chunk in self._response.content.iter_any():
                yield chunk
        except BaseException as exc:
            raise _mapped(exc, self._request, reading=True) from None

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # fully read: the connection goes back to the pool
        else:
            # Closed early (the client left mid-stream): drop the connection, so Azure sees the request
            # cancelled and stops generating, instead of a pooled socket with half a reply still coming.
            self._response.close()


def _mapped(exc: BaseException, request: httpx.Request, *, reading: bool) -> BaseException:
    """The httpx exception httpx's own transport would raise for an aiohttp failure."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "connect timeout", request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout(str(exc) or "read timeout", request=request)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return httpx.ConnectError(str(exc), request=request)  # TLS trouble: aiohttp's text names it
    if isinstance(exc, aiohttp.ClientConnectorError):
        # aiohttp's own text ("Cannot connect to host h:p ssl:default [...]") names an ssl mode even for
        # http URLs; the socket error is what the operator needs.
        error = exc.os_error
        if isinstance(error, socket.gaierror) or not error.errno:
            reason = error.strerror or str(error) or type(error).__name__  # a name lookup: its own words
        else:
            reason = os.strerror(error.errno)  # asyncio's text is "Connect call failed (addr)"
        return httpx.ConnectError(f"cannot connect to {exc.host}:{exc.port}: {reason}", request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("Server disconnected without sending a complete response.", request=request)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    if isinstance(exc, aiohttp.ClientError | OSError):
        kind = httpx.ReadError if reading else httpx.ConnectError
        return kind(str(exc) or type(exc).__name__, request=request)
    return exc


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session per transport, created on first use inside the serving event loop."""

    def __init__(self, *, limits: httpx.Limits, trust_env: bool = True) -> None:
        self.limits = limits
        self.trust_env = trust_env
        self._proxies: dict[tuple[str, str], str | None] = {}
        # Built once here (not per request): loading the CA bundle costs milliseconds.
        self._ssl = httpx.create_ssl_context(trust_env=trust_env)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._urls: dict[str, yarl.URL] = {}  # parsed once: the gateway calls one URL over and over

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self.limits.keepalive_expiry or 5.0,
            ssl=self._ssl,
        )
        return aiohttp.ClientSession(
            connector=connector,
            # Not aiohttp's trust_env: it reads ~/.netrc in a thread on *every* request. Proxies from the
            # environment are resolved once per host instead (_proxy).
            trust_env=False,
            auto_decompress=False,  # httpx decodes content-encoding itself, as with its own transport
            cookie_jar=aiohttp.DummyCookieJar(),  # Azure sets no cookies we need; the jar costs per request
            skip_auto_headers=("User-Agent", "Accept-Encoding"),  # httpx sent its own
            timeout=aiohttp.ClientTimeout(total=None),
        )

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        spec = request.extensions.get("timeout") or {}
        key = (spec.get("connect"), spec.get("read"), spec.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            # aiohttp's `connect` covers waiting for a pooled connection plus connecting.
            total_connect = None if connect is None and pool is None else (connect or 0) + (pool or 0)
            timeout = aiohttp.ClientTimeout(total=None, connect=total_connect, sock_connect=connect, sock_read=read)
            self._timeouts[key] = timeout
        return timeout

    def _proxy(self, url: httpx.URL) -> str | None:
        """The proxy for ``url`` from HTTP(S)_PROXY / NO_PROXY, looked up once per scheme and host."""
        key = (url.scheme, url.host)
        if key not in self._proxies:
            proxy = None
            if self.trust_env and not urllib.request.proxy_bypass(url.host):
                proxy = urllib.request.getproxies().get(url.scheme)
            self._proxies[key] = proxy
        return self._proxies[key]

    def _url(self, url: httpx.URL) -> yarl.URL:
        text = str(url)
        parsed = self._urls.get(text)
        if parsed is None:
            if len(self._urls) > 64:
                self._urls.clear()
            parsed = self._urls[text] = yarl.URL(text, encoded=True)  # httpx has already percent-encoded it
        return parsed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._new_session()
        try:
            body: Any = request.content
        except httpx.RequestNotRead:
            body = request.stream
        try:
            response = await self._session.request(
                request.method,
                self._url(request.url),
                # (name, value) pairs: handing aiohttp the httpx.Headers mapping costs a linear scan per key.
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                proxy=self._proxy(request.url),
            )
        except BaseException as exc:
            raise _mapped(exc, request, reading=False) from None
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ReplyStream(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
