"""Store URLs for tests: SQLite files, in-memory, and a fresh Postgres database per test session.

Postgres is the machine's (127.0.0.1:5432, trust auth). Each session creates its own database with a random
name and drops it at the end, so parallel helpers and CI runs never see each other's rows. Where Postgres is
unreachable the Postgres cases skip and say so - unless GATEWAY_TEST_REQUIRE_SERVICES=1 (.ci/run sets it),
which turns that skip into a failure.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from support.services import reachable, skip_or_fail

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"


async def admin(sql: str) -> None:
    """Run one statement on the machine's Postgres as its superuser (database `test`)."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_postgres_database(prefix: str = "gw_store") -> Iterator[str]:
    """A new, empty database on the machine's Postgres for the block; yields its URL, then drops it."""
    if not reachable(PG_HOST, PG_PORT):
        skip_or_fail(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}")
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
