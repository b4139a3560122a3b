"""Listening sockets bound before anything starts, and the in-process Azure emulator ``--emulator`` runs.

Why bind first: uvicorn binds only after the app's startup has run, so a taken port used to print the banner
and "Application startup complete" and only then ``address already in use``. Binding the socket before the
app is built makes a taken port the first and only thing the user sees.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["ListenError", "listen", "running_emulator", "url"]

LOOPBACK = "127.0.0.1"


class ListenError(Exception):
    """The port cannot be listened on; ``str(exc)`` is one line fit to print as ``error: <message>``."""


def url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one), as uvicorn would bind it; raise ``ListenError``."""
    bare = host.strip("[]")
    # The family as uvicorn picks it (Config.bind_socket): IPv6 only for an address with a colon.
    sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bare, port))
    except socket.gaierror as exc:
        sock.close()
        raise ListenError(f"cannot listen on {url(host, port)}: {exc.strerror or exc}") from None
    except OSError as exc:
        sock.close()
        hint = " (another process is using it; pick another with --port)" if exc.errno == errno.EADDRINUSE else ""
        raise ListenError(f"cannot listen on {url(host, port)}: {exc.strerror or exc}{hint}") from None
    sock.set_inheritable(True)
    return sock


@asynccontextmanager
async def running_emulator(config: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Serve the emulator on ``sock`` on the running loop for the block, started before the block runs."""
    import uvicorn

    from app.emulator import create_emulator_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_emulator_app(config),
            log_level="warning",
            lifespan="on",
            access_log=False,
            # Stopped after the gateway has drained; a scripted long delay must not hold up the exit.
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task  # surfaces the startup error
            raise RuntimeError("the Azure emulator exited during startup")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
