"""The Chat Completions URL for each of Azure's API surfaces, built exactly as the openai SDK builds it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import httpx

from app.settings import Settings


def _quote_segment(value: str) -> str:
    # Same safe set as openai._utils._path._quote_path_segment_part (RFC 3986 pchar minus "/").
    return quote(value, safe="!$&'()*+,;=:@")


def chat_completions_url(base_url: str, deployment: str, query: Mapping[str, str]) -> httpx.URL:
    """Build the URL exactly as ``openai.AzureOpenAI(azure_endpoint=base_url)`` does for chat completions.

    The SDK's steps (openai/lib/azure.py): base = ``azure_endpoint.rstrip("/") + "/openai"`` - appended even
    when the endpoint already ends in ``/openai``, so we do not second-guess that either - then, unless the
    base path already contains ``/deployments``, ``/deployments/{model}`` is inserted before
    ``/chat/completions``, with the deployment percent-encoded as a single path segment. Every
    ``default_query`` entry (api-version included) becomes a query parameter.
    """
    base = httpx.URL(base_url.rstrip("/") + "/openai/")
    path = "chat/completions"
    if "/deployments" not in base.path:
        path = f"deployments/{_quote_segment(deployment)}/{path}"
    return base.copy_with(raw_path=base.raw_path + path.encode("ascii")).copy_merge_params(dict(query))


def v1_chat_completions_url(base_url: str, query: Mapping[str, str]) -> httpx.URL:
    """Azure's v1 surface: ``{endpoint}/openai/v1/chat/completions``; the deployment goes in the body's ``model``.

    As with ``OpenAI(base_url=f"{endpoint}/openai/v1/")``. An endpoint that already ends in ``/openai`` or
    ``/openai/v1`` is not extended twice (people paste either from the portal). ``api-version`` is optional on
    this surface; every ``default_query`` entry that is set is sent.
    """
    base = base_url.rstrip("/")
    if not base.endswith("/openai/v1"):
        base = base + "/v1" if base.endswith("/openai") else base + "/openai/v1"
    return httpx.URL(base + "/chat/completions").copy_merge_params(dict(query))


def upstream_url(settings: Settings) -> httpx.URL:
    """The Chat Completions URL for ``settings.api_surface``."""
    if settings.api_surface == "v1":
        return v1_chat_completions_url(settings.openai_base_url, settings.default_query)
    return chat_completions_url(settings.openai_base_url, settings.openai_model, settings.default_query)
