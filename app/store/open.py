"""``store_url`` → a store: the four accepted forms and what each means."""

from __future__ import annotations

from typing import Literal, NamedTuple

from app.store.base import Store
from app.store.sql import SqlStore

STORE_URL_FORMS = "sqlite:///PATH, postgresql://USER@HOST:PORT/DB, memory or off"


class StoreUrl(NamedTuple):
    kind: Literal["sqlite", "postgres", "memory", "off"]
    target: str | None  # the SQLite path or the Postgres DSN


def parse_store_url(url: str) -> StoreUrl:
    """Raise ``ValueError`` (one line, naming the accepted forms) for anything else.

    ``sqlite:///PATH`` as SQLAlchemy writes it: three slashes and a relative path, four for an absolute one
    (``sqlite:////var/lib/gateway/store.db``).
    """
    text = url.strip()
    if text in ("off", "memory"):
        return StoreUrl(text, None)  # type: ignore[arg-type]
    if text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
        return StoreUrl("sqlite", text[len("sqlite:///") :])
    if text.startswith(("postgresql://", "postgres://")):
        return StoreUrl("postgres", text)
    raise ValueError(f"expected {STORE_URL_FORMS}")


def open_store(url: str, *, retention: float | None) -> Store | None:
    """The (not yet opened) store for ``url``; None for ``off``. ``retention`` in seconds, None: forever."""
    parsed = parse_store_url(url)
    if parsed.kind == "off":
        return None
    if parsed.kind == "postgres":
        from app.store.postgres import PostgresDatabase  # asyncpg only when Postgres is used

        return SqlStore(PostgresDatabase(parsed.target or ""), retention=retention)
    from app.store.sqlite import SqliteDatabase

    return SqlStore(SqliteDatabase(parsed.target), retention=retention)
