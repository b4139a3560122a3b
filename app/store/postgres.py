"""The Postgres driver (``postgresql://…``), through an asyncpg connection pool.

Several gateway processes (or replicas) share one database and behave as one server: every write commits
before the answer, and reads go to the database, never to a per-process cache. The shared SQL's ``?``
placeholders become ``$1, $2, …``; migrations take a transaction-scoped advisory lock so processes starting
together apply them once.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import asyncpg

from app.store.base import StoreError

# Any constant: the key of the advisory lock held while migrations run.
_MIGRATION_LOCK = 0x6761_7465_7761_7901


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """``?`` placeholders → ``$n`` (the shared SQL has no ``?`` anywhere else)."""
    parts = sql.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


class _PgTx:
    """Statements run at once; ``write`` is sent before the next statement or the commit."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

    def write(self, sql: str, *args: Any) -> None:
        self._pending.append((sql, args))

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        for sql, args in pending:
            await self._conn.execute(numbered(sql), *args)

    async def execute(self, sql: str, *args: Any) -> int:
        await self.flush()
        status = await self._conn.execute(numbered(sql), *args)
        # asyncpg returns the command tag, e.g. "DELETE 3" or "INSERT 0 1": the last word is the count.
        last = str(status).rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.flush()
        await self._conn.executemany(numbered(sql), list(rows))

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        await self.flush()
        return list(await self._conn.fetch(numbered(sql), *args))


class PostgresDatabase:
    dialect: Literal["sqlite", "postgres"] = "postgres"

    def __init__(self, dsn: str, *, max_size: int = 10) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.max_size)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to the Postgres store: {exc}") from exc

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the Postgres store is not open")
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PgTx]:
        async with self._get_pool().acquire() as conn, conn.transaction():
            tx = _PgTx(conn)
            yield tx
            await tx.flush()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[_PgTx]:
        async with self._get_pool().acquire() as conn:
            yield _PgTx(conn)

    async def migration_lock(self, tx: Any) -> None:
        await tx.execute("SELECT pg_advisory_xact_lock(?)", _MIGRATION_LOCK)
