"""The SQLite driver (``sqlite:///PATH`` and ``memory``): the stdlib ``sqlite3`` on one thread of its own, so
the event loop never waits on the disk.

Why not one thread hop per statement (what aiosqlite does): storing a response is BEGIN, two INSERTs and
COMMIT, and every hop is a thread wake-up plus an event-loop wake-up - most of what storing cost. Statements
whose result nobody reads (``Tx.write``) are queued instead and sent in the hop that needs a result, or with
the COMMIT: storing a response is one hop.

One connection per process, so one transaction at a time: an ``asyncio.Lock`` keeps other coroutines'
statements out of an open transaction. Writers take the database lock at ``BEGIN IMMEDIATE`` (never a read
lock upgraded later, which deadlocks between processes); WAL lets readers in other processes run alongside,
and ``busy_timeout`` makes a writer wait for another process's transaction instead of failing.
``synchronous = NORMAL`` in WAL mode: a commit survives the process crashing (and is visible to every other
process at once); only a power cut can lose the last commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from app.store.base import StoreError

T = TypeVar("T")
_Statement = tuple[str, Sequence[Any] | list[Sequence[Any]], bool]  # sql, parameters, executemany


class _SqliteTx:
    """Statements of one transaction (or of one read); runs them on the database's thread."""

    def __init__(self, db: SqliteDatabase, *, transaction: bool) -> None:
        self._db = db
        self._pending: list[_Statement] = [("BEGIN IMMEDIATE", (), False)] if transaction else []
        self.began = False

    def write(self, sql: str, *args: Any) -> None:
        self._pending.append((sql, args, False))

    def discard(self) -> None:
        """Forget what was queued (the transaction is being rolled back)."""
        self._pending = []

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._pending.append((sql, list(rows), True))

    async def execute(self, sql: str, *args: Any) -> int:
        return await self._db.run(self._then, sql, args, False)

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        return await self._db.run(self._then, sql, args, True)

    def finish(self, final: str) -> asyncio.Future[Any] | None:
        """Send what is queued, then ``final`` (COMMIT or ROLLBACK) - if a transaction was begun at all.

        A future, not a coroutine: shielding it costs no task, and once submitted it runs even if the
        caller is cancelled (a queued job that asyncio cancelled would never COMMIT).
        """
        if not (self._pending or self.began):
            return None
        return self._db.submit(self._then, final, (), False)

    def _flush(self, conn: sqlite3.Connection) -> None:
        pending, self._pending = self._pending, []
        for sql, args, many in pending:
            if sql == "BEGIN IMMEDIATE":
                if conn.in_transaction:  # a transaction whose end never ran: it never committed
                    conn.execute("ROLLBACK")
                self.began = True
            if many:
                conn.executemany(sql, args)  # type: ignore[arg-type]
            else:
                conn.execute(sql, args)  # type: ignore[arg-type]

    def _then(self, conn: sqlite3.Connection, sql: str, args: Sequence[Any], rows: bool) -> Any:
        self._flush(conn)
        if sql in ("COMMIT", "ROLLBACK") and not conn.in_transaction:
            return 0
        cursor = conn.execute(sql, args)
        if sql in ("COMMIT", "ROLLBACK"):
            self.began = False
        return cursor.fetchall() if rows else max(cursor.rowcount, 0)


class _Thread:
    """One thread that runs jobs in order and hands each result to its asyncio future.

    Leaner than ``run_in_executor`` (no executor bookkeeping, no concurrent future chained to the asyncio one),
    which was a visible share of what storing a response cost. A job that was queued runs even when its caller
    has been cancelled: a COMMIT or ROLLBACK is never lost between two transactions.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="gateway-sqlite", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((job, future))
        return future

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join()

    def _work(self) -> None:
        while (entry := self._jobs.get()) is not None:
            job, future = entry
            try:
                result = job()
            except BaseException as exc:  # handed to the caller, whatever it is
                outcome: tuple[Callable[..., None], Any] = (_fail, exc)
            else:
                outcome = (_succeed, result)
            # A loop already closed (the process is exiting) has nobody left to tell.
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(outcome[0], future, outcome[1])


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class SqliteDatabase:
    dialect: Literal["sqlite", "postgres"] = "sqlite"

    def __init__(self, path: str | None) -> None:
        """``path`` None: a private in-memory database, gone when the process ends."""
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._thread: _Thread | None = None
        self._lock = asyncio.Lock()

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(connection, *args)`` on the database's thread."""
        if self._conn is None or self._thread is None:
            raise StoreError("the SQLite store is not open")
        conn = self._conn
        return self._thread.submit(lambda: fn(conn, *args))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.submit(fn, *args)

    def _open(self) -> sqlite3.Connection:
        if self.path is not None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level None: no implicit transactions; each write opens its own BEGIN IMMEDIATE.
        conn = sqlite3.connect(self.path or ":memory:", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")  # first: workers starting together wait for each other
        if self.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    async def connect(self) -> None:
        thread = _Thread()
        try:
            self._conn = await thread.submit(self._open)
        except (OSError, sqlite3.Error) as exc:
            thread.stop()
            raise StoreError(f"cannot open the SQLite store at {self.path}: {exc}") from exc
        self._thread = thread

    async def aclose(self) -> None:
        if self._conn is not None and self._thread is not None:
            conn, thread = self._conn, self._thread
            self._conn, self._thread = None, None
            await thread.submit(conn.close)
            thread.stop()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteTx]:
        async with self._lock:
            tx = _SqliteTx(self, transaction=True)
            try:
                yield tx
            except BaseException:
                # Shielded: a cancelled caller (a client that went away) is cancelled again at every await,
                # and an unfinished transaction would block every later one. The thread runs hops in order,
                # so the ROLLBACK still comes before the next transaction's BEGIN.
                tx.discard()
                if (rollback := tx.finish("ROLLBACK")) is not None:
                    await asyncio.shield(rollback)
                raise
            if (commit := tx.finish("COMMIT")) is not None:
                await asyncio.shield(commit)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[_SqliteTx]:
        async with self._lock:
            yield _SqliteTx(self, transaction=False)

    async def migration_lock(self, tx: Any) -> None:
        return None  # BEGIN IMMEDIATE already holds SQLite's write lock
