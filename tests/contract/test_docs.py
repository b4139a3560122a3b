"""`/docs` works offline: the page loads Swagger UI only from the gateway itself, never from a CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


class _Assets(HTMLParser):
    """Collects every URL the page makes the browser fetch: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img") and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


@pytest.fixture(scope="module")
def page(http: httpx.Client) -> httpx.Response:
    return http.get("/docs")


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_docs_page_is_html(page: httpx.Response) -> None:
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in page.text
    assert '"/openapi.json"' in page.text  # the hand-written contract, not Litestar's derived schema


def test_docs_reference_only_local_assets(page: httpx.Response) -> None:
    urls = _assets(page.text)
    assert urls, "the page references no assets"
    assert any(url.endswith(".js") for url in urls) and any(url.endswith(".css") for url in urls)
    for url in urls:
        assert url.startswith("/docs/static/"), url
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text)


def test_every_asset_is_served(page: httpx.Response, http: httpx.Client) -> None:
    for url in _assets(page.text):
        reply = http.get(url)
        assert reply.status_code == 200, url
        assert reply.content, url
        suffix = url[url.rfind(".") :]
        assert EXPECTED_TYPES[suffix] in reply.headers["content-type"], (url, reply.headers["content-type"])


def test_missing_asset_is_404(http: httpx.Client) -> None:
    reply = http.get("/docs/static/no-such-file.js")
    assert reply.status_code == 404
    assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
