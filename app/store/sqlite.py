"""The SQLite driver (``sqlite:///PATH`` and ``memory``), through aiosqlite: SQL runs on aiosqlite's own
thread, so the event loop never waits on the disk.

One connection per process, so one transaction at a time: an ``asyncio.Lock`` keeps other coroutines'
statements out of an open transaction. Writers take the database lock at ``BEGIN IMMEDIATE`` (never a
read lock upgraded later, which deadlocks between processes); WAL lets readers in other processes run
alongside, and ``busy_timeout`` makes a writer wait for another process's transaction instead of failing.
``synchronous = NORMAL`` in WAL mode: a commit survives the process crashing (and is visible to every other
process at once); only a power cut can lose the last commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from app.store.base import StoreError


class _SqliteTx:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self._db.execute(sql, args)
        count = cursor.rowcount
        await cursor.close()
        return max(count, 0)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._db.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        return list(await self._db.execute_fetchall(sql, args))


class SqliteDatabase:
    dialect: Literal["sqlite", "postgres"] = "sqlite"

    def __init__(self, path: str | None) -> None:
        """``path`` None: a private in-memory database, gone when the process ends."""
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        try:
            if self.path is not None:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level None: no implicit transactions; each write opens its own BEGIN IMMEDIATE.
            db = await aiosqlite.connect(self.path or ":memory:", isolation_level=None)
            if self.path is not None:
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA busy_timeout = 10000")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the SQLite store at {self.path}: {exc}") from exc
        self._db = db

    async def aclose(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the SQLite store is not open")
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteTx]:
        async with self._lock:
            db = self._connection()
            if db.in_transaction:  # a transaction whose end never ran (see below): it never committed
                await asyncio.shield(db.execute("ROLLBACK"))
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(db)
            except BaseException:
                # Shielded: a cancelled caller (a client that went away) is cancelled again at every await,
                # and an unfinished transaction would block every later one. aiosqlite runs statements in
                # order on its thread, so the ROLLBACK still runs before the next transaction's BEGIN.
                await asyncio.shield(db.execute("ROLLBACK"))
                raise
            await asyncio.shield(db.execute("COMMIT"))

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[_SqliteTx]:
        async with self._lock:
            yield _SqliteTx(self._connection())

    async def migration_lock(self, tx: Any) -> None:
        return None  # BEGIN IMMEDIATE already holds SQLite's write lock
