"""What a careless or hostile client sends is answered in bounded time and memory (issue 13): media type,
body encoding, body shape limits, slow and oversized requests, odd paths, and no credential in an answer.

Real uvicorn gateways (with the connection limits ``serve`` applies) in front of the emulator; slow clients are
raw sockets, because an HTTP client library would not trickle or stall on purpose.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import AZURE_KEY, Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app

CHAT = b'{"messages": [{"role": "user", "content": "hi"}]}'
RESPONSES = b'{"input": "hi"}'
ROUTES = [("/v1/chat/completions", CHAT), ("/v1/responses", RESPONSES)]
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def strict(emulator: Emulator) -> Iterator[str]:
    """A gateway with small limits, so each is crossed with a small body, and short connection timeouts."""
    settings = gateway_settings(
        emulator.url,
        max_body_bytes=64 * 1024,
        max_json_values=1000,
        max_json_keys=500,
        max_json_depth=16,
        body_read_timeout=1.0,
        header_read_timeout=1.0,
        max_header_count=20,
        max_header_bytes=4096,
        max_pending_body_bytes=16 * 1024,
    )
    with running(create_app(settings)) as url:
        yield url


def error(reply: httpx.Response) -> dict[str, str]:
    assert reply.headers["content-type"].startswith("application/json"), reply.text
    return reply.json()["error"]  # type: ignore[no-any-return]


# --- media type ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path,body", ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/jsonx", "text/json"],
)
def test_a_body_that_is_not_declared_json_is_415(
    gateway_url: str, path: str, body: bytes, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    reply = httpx.post(f"{gateway_url}{path}", content=body, headers=headers, timeout=30)
    assert reply.status_code == 415, reply.text
    assert error(reply)["code"] == "unsupported_media_type"
    assert "application/json" in error(reply)["message"]


@pytest.mark.parametrize("path,body", ROUTES)
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_with_any_parameters_is_accepted(gateway_url: str, path: str, body: bytes, content_type: str) -> None:
    reply = httpx.post(f"{gateway_url}{path}", content=body, headers={"content-type": content_type}, timeout=30)
    assert reply.status_code == 200, reply.text


# --- encoding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path,body", ROUTES)
@pytest.mark.parametrize(
    "bad",
    [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xed\xa0\xbd\xed\xb8\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"],
    ids=["ff", "c3-paren", "cesu-lone", "cesu-pair", "overlong", "above-max"],
)
def test_invalid_utf8_is_a_400_naming_it(gateway_url: str, path: str, body: bytes, bad: bytes) -> None:
    for broken in (body.replace(b"hi", b"h" + bad + b"i"), body.replace(b'"hi"', b'"hi", "k' + bad + b'": 1')):
        reply = httpx.post(f"{gateway_url}{path}", content=broken, headers=JSON, timeout=30)
        assert reply.status_code == 400, reply.text
        assert error(reply)["code"] == "invalid_json"
        assert "not valid UTF-8" in error(reply)["message"]


@pytest.mark.parametrize("path,body", ROUTES)
@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udc00", b"\\ud800x", b"\\ud800\\u0041"])
def test_a_lone_surrogate_escape_is_named(gateway_url: str, path: str, body: bytes, escape: bytes) -> None:
    reply = httpx.post(f"{gateway_url}{path}", content=body.replace(b"hi", escape), headers=JSON, timeout=30)
    assert reply.status_code == 400, reply.text
    message = error(reply)["message"]
    assert "truncated" not in message and "surrogate" in message, message


@pytest.mark.parametrize("path,body", ROUTES)
def test_a_valid_surrogate_pair_escape_is_fine(gateway_url: str, path: str, body: bytes) -> None:
    reply = httpx.post(f"{gateway_url}{path}", content=body.replace(b"hi", b"\\ud83d\\ude00"), headers=JSON,
                       timeout=30)
    assert reply.status_code == 200, reply.text


# --- shape limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,status,setting",
    [
        (b'{"input": [' + b"{}," * 2000 + b"{}]}", 413, "max_json_values"),
        (b'{"messages": [' + b"{}," * 2000 + b"{}]}", 413, "max_json_values"),
        (b'{"input": "hi", "metadata": {' + b",".join(b'"k%d": "v"' % i for i in range(600)) + b"}}", 413,
         "max_json_keys"),
        (b'{"input": "hi", "metadata": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "max_json_depth"),
        (b'{"input": "' + b"x" * 70_000 + b'"}', 413, "max_body_bytes"),
    ],
    ids=["input-items", "chat-messages", "metadata-keys", "depth", "size"],
)
def test_each_limit_is_named_when_crossed(strict: str, body: bytes, status: int, setting: str) -> None:
    for path in ("/v1/responses", "/v1/chat/completions"):
        reply = httpx.post(f"{strict}{path}", content=body, headers=JSON, timeout=30)
        assert reply.status_code == status, reply.text
        assert setting in error(reply)["message"]


def test_strings_full_of_json_punctuation_count_as_one_value(strict: str) -> None:
    text = '{"a": [1, 2, {"b": 3}], ' * 900  # 9,000+ brackets, commas and colons, all inside one string
    reply = httpx.post(f"{strict}/v1/responses", json={"input": text}, timeout=30)
    assert reply.status_code == 200, reply.text


def test_bodies_larger_than_the_pending_budget_all_complete(strict: str) -> None:
    # Four 40 kB bodies at once against a 16 kB budget: the furthest along always reads on, so none deadlocks.
    body = b'{"input": "' + b"y" * 40_000 + b'"}'

    def post(_: int) -> int:
        return httpx.post(f"{strict}/v1/responses", content=body, headers=JSON, timeout=30).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(post, range(8))) == [200] * 8


# --- slow and oversized requests, on raw sockets ---------------------------------------------------------


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (the socket timeout fails the test if it never does)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_body_that_never_completes_is_408_and_closed(strict: str) -> None:
    with connect(strict) as sock:
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                     b"content-length: 1000\r\n\r\n{\"input\": \"")
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert b"body_read_timeout" in reply and b"connection: close" in reply.lower()


def test_trickled_headers_are_408_and_closed(strict: str) -> None:
    with connect(strict) as sock:
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\n")
        started = time.monotonic()
        try:
            for i in range(30):  # one header a second, longer than header_read_timeout
                sock.sendall(b"x-slow-%d: y\r\n" % i)
                time.sleep(0.25)
        except OSError:
            pass  # closed by the server while we were still sending
        reply = read_all(sock)
        assert time.monotonic() - started < 15  # closed, not held for the whole trickle (a generous bound)
    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert b"header_read_timeout" in reply


def test_a_connection_that_sends_nothing_is_closed(strict: str) -> None:
    with connect(strict) as sock:
        assert read_all(sock) == b""  # a quiet close after header_read_timeout


@pytest.mark.parametrize("head", [
    b"".join(b"x-h%d: v\r\n" % i for i in range(50)),
    b"x-big: " + b"v" * 10_000 + b"\r\n",
], ids=["count", "size"])
def test_too_many_or_too_large_headers_are_431(strict: str, head: bytes) -> None:
    with connect(strict) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + head + b"\r\n")
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 431 "), reply
    assert b"max_header_" in reply


def test_ordinary_requests_pass_the_connection_limits(strict: str) -> None:
    with httpx.Client(base_url=strict, timeout=30) as http:
        for _ in range(3):  # one kept-alive connection, several requests
            assert http.post("/v1/responses", content=RESPONSES, headers=JSON).status_code == 200


# --- odd paths and credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs/static/%00", "/docs/static/a%00b.js", "/docs/static/..%2fdocs.py"])
def test_odd_static_paths_are_404(gateway_url: str, path: str) -> None:
    reply = httpx.get(f"{gateway_url}{path}", timeout=30)
    assert reply.status_code == 404, reply.text


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("path,body", ROUTES)
def test_the_azure_key_in_an_azure_error_never_reaches_the_client(
    gateway_url: str, clean_emulator: Emulator, path: str, body: bytes, status: int
) -> None:
    message = f"Access denied for key {AZURE_KEY} on this resource."
    clean_emulator.script({"status": status, "body": {"error": {"code": "Oops", "message": message}},
                           "headers": {"x-echo": AZURE_KEY}})
    reply = httpx.post(f"{gateway_url}{path}", content=body, headers=JSON, timeout=30)
    assert reply.status_code in (400, 502), reply.text
    assert AZURE_KEY not in reply.text and AZURE_KEY not in str(reply.headers)
    assert "Access denied for key *" in error(reply)["message"]
