"""The gateway's only way out: one pooled, concurrency-limited HTTP client for Azure Chat Completions."""

from app.upstream.client import (
    AzureChatClient,
    UpstreamError,
    UpstreamResponse,
    UpstreamStream,
    UpstreamUnavailable,
    chat_completions_url,
)

__all__ = [
    "AzureChatClient",
    "UpstreamError",
    "UpstreamResponse",
    "UpstreamStream",
    "UpstreamUnavailable",
    "chat_completions_url",
]
