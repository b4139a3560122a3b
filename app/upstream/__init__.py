"""The gateway's only way out: one pooled, concurrency-limited HTTP client for Azure Chat Completions.

Split by job: ``urls`` (the URL per API surface), ``sse`` (the event parser), ``stream`` (a streamed reply
read within its time limits), ``transport`` (aiohttp under httpx's interface, one exception map), ``retry``
(backoff within a deadline), ``auth`` (Entra ID tokens), ``limiter`` (the slot every call holds: the seam for
a shared budget), ``errors`` (this layer's own failures), and ``client``, which puts them together. Nothing
here knows the Responses API or HTTP frameworks.
"""

from app.upstream.client import AzureChatClient, UpstreamResponse
from app.upstream.errors import GatewayBusy, UpstreamError, UpstreamUnavailable
from app.upstream.stream import StreamLimits, UpstreamStream
from app.upstream.urls import chat_completions_url, upstream_url, v1_chat_completions_url

__all__ = [
    "AzureChatClient",
    "GatewayBusy",
    "StreamLimits",
    "UpstreamError",
    "UpstreamResponse",
    "UpstreamStream",
    "UpstreamUnavailable",
    "chat_completions_url",
    "upstream_url",
    "v1_chat_completions_url",
]
