"""``/docs`` in a real browser: headless Chromium (Debian's package) through Playwright.

Swagger UI must render every operation of openapi.yaml from files the gateway serves itself: every request
the page makes is recorded and must go to the gateway on 127.0.0.1 (no CDN, no fonts, no telemetry). Chromium runs with
background networking, component updates and sync off, so the browser's own traffic cannot hide among the
page's. A screenshot is saved in the test's tmp folder for a human to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_METHODS = {"get", "post", "put", "patch", "delete"}


def _contract_operations() -> list[tuple[str, str]]:
    """(path, method) of every operation the hand-written contract documents: what the page must show."""
    contract = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    return [(path, method) for path, item in contract["paths"].items() for method in item if method in _METHODS]


pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it in CI)",
)


def test_docs_page_lists_every_operation_with_no_request_off_the_machine(gateway_url: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    requested: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir: no cached state, no extensions
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            service_workers="block",
        )
        try:
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"{gateway_url}/docs", wait_until="networkidle")
            operations = page.locator(".opblock-summary-path")
            operations.first.wait_for(timeout=15_000)
            paths = sorted(operations.all_inner_texts())
            post_ops = page.locator(".opblock-post").count()
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
        finally:
            context.close()

    expected = _contract_operations()
    assert [p.replace("\u200b", "") for p in paths] == sorted(path for path, _ in expected)
    assert post_ops == sum(1 for _, method in expected if method == "post")
    assert (tmp_path / "docs.png").stat().st_size > 10_000
    assert f"{gateway_url}/docs" in requested and f"{gateway_url}/openapi.json" in requested
    local_schemes = ("data", "blob")  # inline resources: nothing leaves the page
    off_machine = [
        u for u in requested if urlsplit(u).scheme not in local_schemes and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert off_machine == [], f"the docs page requested {off_machine}"
    assert failed == [], f"requests failed: {failed}"
