"""The disconnect watcher on its own (app/api/disconnect.py), with a fake ASGI server: a client that hangs up
cancels the request's work; one that stays costs no watcher; the app's own receive still learns the end.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.api.disconnect import CancelOnDisconnect
from app.telemetry import observe


class FakeServer:
    """uvicorn's receive: the body, then (blocking) http.disconnect when the client leaves or the response ends."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()
        self.body_sent = False
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": b"{}", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.gone.set()


def test_a_client_that_hangs_up_while_the_app_waits_cancels_it() -> None:
    cancelled = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        try:
            await asyncio.sleep(30)  # waiting for a slot, or for Azure
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> observe.Record:
        server = FakeServer()
        with observe.unit_of_work("/v1/responses", log=False) as record:
            task = asyncio.create_task(CancelOnDisconnect(app)({"type": "http"}, server.receive, server.send))
            await asyncio.sleep(0.2)  # past WATCH_AFTER: the watcher is listening
            server.gone.set()  # the client hangs up
            await asyncio.wait_for(task, 5)  # ends quietly, long before the app's 30 s
        return record

    record = asyncio.run(main())
    assert cancelled == [True]
    assert record.error_code == observe.CLIENT_DISCONNECTED and record.status is None


def test_a_fast_request_starts_no_watcher_and_a_late_receive_hears_the_end() -> None:
    heard = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok", "more_body": False})
        heard.append((await receive())["type"])  # what Litestar's stream listener does

    async def main() -> int:
        server = FakeServer()
        with observe.unit_of_work("/v1/responses", log=False) as record:
            await asyncio.wait_for(CancelOnDisconnect(app)({"type": "http"}, server.receive, server.send), 5)
            assert record.error_code is None
        return len([t for t in asyncio.all_tasks() if t.get_name() == "disconnect-watcher"])

    assert asyncio.run(main()) == 0
    assert heard == ["http.disconnect"]
