"""``SqlStore``: the store's operations in SQL, written once for SQLite and Postgres.

Each operation is one transaction (or one read), so a response and its items appear together or not at all,
and a write has committed before the service answers: the next request, on any process sharing the
database, sees it. Retention is applied on read too (an expired response is not found even before the
purge has removed it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from app.store.base import (
    INSERT_EVENTS,
    RUNNING,
    Chain,
    Conversation,
    Item,
    ItemPage,
    LockResult,
    PageQuery,
    RunState,
    StoreError,
    Turn,
    UnknownAfter,
    encode_pairs,
)
from app.store.driver import Database, Tx
from app.store.runs import SqlRuns
from app.store.schema import BLOB, MIGRATIONS, VERSION_TABLE

_CHAIN = """
WITH RECURSIVE chain(id, previous_id, depth, input_items, output_items, run_status) AS (
    SELECT id, previous_id, 0, input_items, output_items, run_status FROM gw_responses
    WHERE id = ? AND tenant = ? AND created_at > ?
    UNION ALL
    SELECT r.id, r.previous_id, c.depth + 1, r.input_items, r.output_items, r.run_status
    FROM gw_responses r JOIN chain c ON r.id = c.previous_id
    WHERE r.tenant = ? AND r.created_at > ?
)
SELECT previous_id, input_items, output_items, run_status, id FROM chain ORDER BY depth DESC
"""
_PAIRS = msgspec.json.Decoder(list[tuple[str, msgspec.Raw]])
_INSERT_CONVERSATION_ITEM = "INSERT INTO gw_conversation_items (conversation_id, seq, id, body) VALUES (?, ?, ?, ?)"
_CONVERSATION_EXISTS = "SELECT 1 FROM gw_conversations WHERE id = ? AND tenant = ?"


class SqlStore(SqlRuns):
    """The ``Store`` over a ``Database`` driver. ``retention``: seconds a response is kept (None: forever)."""

    def __init__(self, db: Database, *, retention: float | None, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.retention = retention
        self.clock = clock

    async def open(self) -> None:
        await self.db.connect()
        async with self.db.transaction() as tx:
            await self.db.migration_lock(tx)
            await tx.execute(VERSION_TABLE)
            rows = await tx.fetch("SELECT version FROM gw_schema")
            current = int(rows[0][0]) if rows else 0
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"the store's schema is at version {current}, newer than this gateway's {len(MIGRATIONS)}"
                )
            for statements in MIGRATIONS[current:]:
                for statement in statements:
                    await tx.execute(statement.format(blob=BLOB[self.db.dialect]))
            if not rows:
                await tx.execute("INSERT INTO gw_schema (version) VALUES (?)", len(MIGRATIONS))
            elif current != len(MIGRATIONS):
                await tx.execute("UPDATE gw_schema SET version = ?", len(MIGRATIONS))

    async def aclose(self) -> None:
        await self.db.aclose()

    def _cutoff(self) -> int:
        """Responses created at or before this second have expired."""
        return -1 if self.retention is None else int(self.clock() - self.retention)

    # ------------------------------------------------------------------------------------------ responses

    async def save_turn(self, tenant: str, turn: Turn) -> bool:
        async with self.db.transaction() as tx:
            if turn.run:
                # A background run's row exists since it was created; a cancel may have settled it first.
                settled = await tx.execute(
                    "UPDATE gw_responses SET body = ?, output_items = ?, run_status = ?, deployment = ? "
                    "WHERE id = ? AND tenant = ? AND run_status IN (?, ?)",
                    turn.body, encode_pairs(turn.output_items), turn.status, turn.deployment,
                    turn.response_id, tenant, *RUNNING,
                )  # fmt: skip
                if not settled:
                    if turn.conversation_id is not None and turn.lock_owner is not None:
                        await _append(tx, tenant, turn.conversation_id, [], release=turn.lock_owner)
                    return False
                if turn.events is not None:
                    tx.write(INSERT_EVENTS, turn.response_id, *turn.events)
            elif turn.store:
                tx.write(
                    "INSERT INTO gw_responses (id, tenant, previous_id, conversation_id, created_at, body, "
                    "input_items, output_items, deployment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    turn.response_id, tenant, turn.previous_id, turn.conversation_id, turn.created_at, turn.body,
                    encode_pairs(turn.input_items), encode_pairs(turn.output_items), turn.deployment,
                )  # fmt: skip
            if turn.conversation_id is not None:
                items = [*turn.input_items, *turn.output_items]
                await _append(tx, tenant, turn.conversation_id, items, release=turn.lock_owner)
        return True

    async def get_response(self, tenant: str, response_id: str) -> RunState | None:
        async with self.db.reader() as tx:
            rows = await tx.fetch(
                "SELECT body, run_status, heartbeat_at, run_stream FROM gw_responses "
                "WHERE id = ? AND tenant = ? AND created_at > ?",
                response_id, tenant, self._cutoff(),
            )  # fmt: skip
        if not rows:
            return None
        body, status, heartbeat, streamed = rows[0]
        return RunState(bytes(body), status, int(heartbeat or 0), bool(streamed))

    async def delete_response(self, tenant: str, response_id: str) -> bool:
        async with self.db.transaction() as tx:
            deleted = await tx.execute(
                "DELETE FROM gw_responses WHERE id = ? AND tenant = ? AND created_at > ?",
                response_id, tenant, self._cutoff(),
            )  # fmt: skip
            if deleted:
                await tx.execute("DELETE FROM gw_response_events WHERE response_id = ?", response_id)
        return deleted > 0

    async def chain(self, tenant: str, response_id: str) -> Chain | None:
        cutoff = self._cutoff()
        async with self.db.reader() as tx:
            rows = await tx.fetch(_CHAIN, response_id, tenant, cutoff, tenant, cutoff)
        if not rows:
            return None
        items = [bytes(item) for row in rows for blob in (row[1], row[2]) for _, item in _PAIRS.decode(blob)]
        running = next((str(row[4]) for row in rows if row[3] in RUNNING), None)
        # The oldest response found comes first; a parent pointer on it names an ancestor that is gone.
        return Chain(items, rows[0][0], running)

    async def input_items(self, tenant: str, response_id: str, page: PageQuery) -> ItemPage | None:
        async with self.db.reader() as tx:
            found = await tx.fetch(
                "SELECT input_items FROM gw_responses WHERE id = ? AND tenant = ? AND created_at > ?",
                response_id, tenant, self._cutoff(),
            )  # fmt: skip
        if not found:
            return None
        return _page_of(
            [Item(ident, bytes(item)) for ident, item in _PAIRS.decode(bytes(found[0][0]))], page
        )

    # -------------------------------------------------------------------------------------- conversations

    async def create_conversation(self, tenant: str, conversation: Conversation, items: list[Item]) -> None:
        async with self.db.transaction() as tx:
            tx.write(
                "INSERT INTO gw_conversations (id, tenant, created_at, metadata, next_seq, lock_owner, locked_until) "
                "VALUES (?, ?, ?, ?, ?, NULL, 0)",
                conversation.id, tenant, conversation.created_at, conversation.metadata, len(items),
            )  # fmt: skip
            if items:
                rows = [(conversation.id, seq, item.id, item.body) for seq, item in enumerate(items)]
                await tx.execute_many(_INSERT_CONVERSATION_ITEM, rows)

    async def get_conversation(self, tenant: str, conversation_id: str) -> Conversation | None:
        async with self.db.reader() as tx:
            rows = await tx.fetch(
                "SELECT id, created_at, metadata FROM gw_conversations WHERE id = ? AND tenant = ?",
                conversation_id, tenant,
            )  # fmt: skip
        return _conversation(rows[0]) if rows else None

    async def update_conversation(self, tenant: str, conversation_id: str, metadata: bytes) -> Conversation | None:
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                "UPDATE gw_conversations SET metadata = ? WHERE id = ? AND tenant = ? "
                "RETURNING id, created_at, metadata",
                metadata, conversation_id, tenant,
            )  # fmt: skip
        return _conversation(rows[0]) if rows else None

    async def delete_conversation(self, tenant: str, conversation_id: str) -> bool:
        async with self.db.transaction() as tx:
            deleted = await tx.execute(
                "DELETE FROM gw_conversations WHERE id = ? AND tenant = ?", conversation_id, tenant
            )
            if deleted:
                await tx.execute("DELETE FROM gw_conversation_items WHERE conversation_id = ?", conversation_id)
        return deleted > 0

    async def add_items(self, tenant: str, conversation_id: str, items: list[Item]) -> bool:
        async with self.db.transaction() as tx:
            return await _append(tx, tenant, conversation_id, items, release=None)

    async def list_items(self, tenant: str, conversation_id: str, page: PageQuery) -> ItemPage | None:
        async with self.db.reader() as tx:
            if not await tx.fetch(_CONVERSATION_EXISTS, conversation_id, tenant):
                return None
            return await _page(tx, "gw_conversation_items", "conversation_id = ?", [conversation_id], page)

    async def all_items(self, tenant: str, conversation_id: str) -> list[bytes] | None:
        async with self.db.reader() as tx:
            rows = await tx.fetch(
                "SELECT i.body FROM gw_conversations c LEFT JOIN gw_conversation_items i "
                "ON i.conversation_id = c.id WHERE c.id = ? AND c.tenant = ? ORDER BY i.seq",
                conversation_id, tenant,
            )  # fmt: skip
        if not rows:
            return None
        return [bytes(row[0]) for row in rows if row[0] is not None]

    async def get_item(self, tenant: str, conversation_id: str, item_id: str) -> bytes | None:
        async with self.db.reader() as tx:
            rows = await tx.fetch(
                "SELECT i.body FROM gw_conversation_items i JOIN gw_conversations c ON c.id = i.conversation_id "
                "WHERE c.id = ? AND c.tenant = ? AND i.id = ? ORDER BY i.seq LIMIT 1",
                conversation_id, tenant, item_id,
            )  # fmt: skip
        return bytes(rows[0][0]) if rows else None

    async def delete_item(self, tenant: str, conversation_id: str, item_id: str) -> bool | None:
        async with self.db.transaction() as tx:
            if not await tx.fetch(_CONVERSATION_EXISTS, conversation_id, tenant):
                return None
            deleted = await tx.execute(
                "DELETE FROM gw_conversation_items WHERE conversation_id = ? AND id = ?", conversation_id, item_id
            )
        return deleted > 0

    async def lock_conversation(self, tenant: str, conversation_id: str, owner: str, ttl: float) -> LockResult:
        now_ms = int(self.clock() * 1000)
        async with self.db.transaction() as tx:
            taken = await tx.execute(
                "UPDATE gw_conversations SET lock_owner = ?, locked_until = ? "
                "WHERE id = ? AND tenant = ? AND (lock_owner IS NULL OR locked_until < ?)",
                owner, now_ms + int(ttl * 1000), conversation_id, tenant, now_ms,
            )  # fmt: skip
            if taken:
                return "locked"
            return "busy" if await tx.fetch(_CONVERSATION_EXISTS, conversation_id, tenant) else "missing"

    async def unlock_conversation(self, tenant: str, conversation_id: str, owner: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE gw_conversations SET lock_owner = NULL, locked_until = 0 "
                "WHERE id = ? AND tenant = ? AND lock_owner = ?",
                conversation_id, tenant, owner,
            )  # fmt: skip

    async def purge(self) -> int:
        if self.retention is None:
            return 0
        async with self.db.transaction() as tx:
            purged = await tx.execute("DELETE FROM gw_responses WHERE created_at <= ?", self._cutoff())
            if purged:
                await tx.execute(
                    "DELETE FROM gw_response_events WHERE response_id NOT IN (SELECT id FROM gw_responses)"
                )
            return purged


def _page_of(items: list[Item], page: PageQuery) -> ItemPage:
    """A page of a response's own items (at most one request's worth), cut in memory like ``_page`` in SQL."""
    ordered = items if page.order == "asc" else items[::-1]
    ids = [item.id for item in ordered]
    start, end = 0, len(ordered)
    if page.after is not None:
        if page.after not in ids:
            raise UnknownAfter("after", page.after)
        start = ids.index(page.after) + 1
    if page.before is not None:
        if page.before not in ids:
            raise UnknownAfter("before", page.before)
        end = ids.index(page.before)
    window = ordered[start:end]
    return ItemPage(window[: page.limit], len(window) > page.limit)


def _conversation(row: Sequence[Any]) -> Conversation:
    return Conversation(str(row[0]), int(row[1]), bytes(row[2]))


async def _append(tx: Tx, tenant: str, conversation_id: str, items: list[Item], *, release: str | None) -> bool:
    """Append ``items`` to a conversation (and release its lock held by ``release``); False when it is gone."""
    count = len(items)
    if release is None:
        rows = await tx.fetch(
            "UPDATE gw_conversations SET next_seq = next_seq + ? WHERE id = ? AND tenant = ? RETURNING next_seq",
            count, conversation_id, tenant,
        )  # fmt: skip
    else:
        rows = await tx.fetch(
            "UPDATE gw_conversations SET next_seq = next_seq + ?, "
            "locked_until = CASE WHEN lock_owner = ? THEN 0 ELSE locked_until END, "
            "lock_owner = CASE WHEN lock_owner = ? THEN NULL ELSE lock_owner END "
            "WHERE id = ? AND tenant = ? RETURNING next_seq",
            count, release, release, conversation_id, tenant,
        )  # fmt: skip
    if not rows:
        return False
    start = int(rows[0][0]) - count
    if items:
        await tx.execute_many(
            _INSERT_CONVERSATION_ITEM,
            [(conversation_id, start + n, item.id, item.body) for n, item in enumerate(items)],
        )
    return True


async def _page(tx: Tx, table: str, where: str, args: list[Any], page: PageQuery) -> ItemPage:
    """One page of ``table``'s rows matching ``where``, in list order, with cursors by item id."""
    conditions = [where]
    values = list(args)
    # In the listing's order, "after" an item means further along it, "before" means earlier.
    forward = {"asc": ">", "desc": "<"}[page.order]
    backward = {"asc": "<", "desc": ">"}[page.order]
    for param, cursor, op in (("after", page.after, forward), ("before", page.before, backward)):
        if cursor is None:
            continue
        found = await tx.fetch(f"SELECT MIN(seq) FROM {table} WHERE {where} AND id = ?", *args, cursor)
        if not found or found[0][0] is None:
            raise UnknownAfter(param, cursor)
        conditions.append(f"seq {op} ?")
        values.append(int(found[0][0]))
    direction = "ASC" if page.order == "asc" else "DESC"
    rows = await tx.fetch(
        f"SELECT id, body FROM {table} WHERE {' AND '.join(conditions)} ORDER BY seq {direction} LIMIT ?",
        *values, page.limit + 1,
    )  # fmt: skip
    items = [Item(str(row[0]), bytes(row[1])) for row in rows[: page.limit]]
    return ItemPage(items, len(rows) > page.limit)
