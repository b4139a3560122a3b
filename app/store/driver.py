"""What ``SqlStore`` needs from a database driver: transactions of ``?``-parameterised statements.

Two drivers implement it, ``sqlite.SqliteDatabase`` and ``postgres.PostgresDatabase``; the SQL is written
once, with ``?`` placeholders (the Postgres driver numbers them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol


class Tx(Protocol):
    def write(self, sql: str, *args: Any) -> None:
        """A statement whose result nobody reads: the driver may send it later, at the latest with COMMIT."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement (after any queued writes); returns the number of rows it changed."""

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Like ``write``, once per row."""

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]: ...


class Database(Protocol):
    dialect: Literal["sqlite", "postgres"]

    async def connect(self) -> None: ...

    async def aclose(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A read-write transaction: every statement in it commits together or not at all."""

    def reader(self) -> AbstractAsyncContextManager[Tx]:
        """For single-statement reads (each is atomic on its own)."""

    async def migration_lock(self, tx: Tx) -> None:
        """Inside ``transaction()``: serialise schema migrations between processes."""
