"""The background-run half of ``SqlStore``: a run's row while it runs, its heartbeat, and its kept events.

A run is a ``gw_responses`` row with ``run_status`` set. Every change to a running row is conditional on it
still running (``run_status IN ('queued', 'in_progress')``), so the first of the run's end, a cancel, or the
verdict that its process died wins, on any process sharing the database, and the others find it settled.
"""

from __future__ import annotations

from collections.abc import Callable

from app.store.base import INSERT_EVENTS, RUNNING, RunState, StaleRun, Turn, encode_pairs
from app.store.driver import Database

_RUNNING_SQL = f"run_status IN ('{RUNNING[0]}', '{RUNNING[1]}')"


class SqlRuns:
    """Mixed into ``SqlStore``; the same ``db`` and ``clock``."""

    db: Database
    clock: Callable[[], float]

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def begin_run(self, tenant: str, turn: Turn, *, streamed: bool) -> None:
        async with self.db.transaction() as tx:
            tx.write(
                "INSERT INTO gw_responses (id, tenant, previous_id, conversation_id, created_at, body, "
                "input_items, output_items, deployment, run_status, heartbeat_at, run_stream) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                turn.response_id, tenant, turn.previous_id, turn.conversation_id, turn.created_at, turn.body,
                encode_pairs(turn.input_items), b"[]", None, "queued", self._now_ms(), 1 if streamed else 0,
            )  # fmt: skip

    async def set_run_status(
        self, tenant: str, response_id: str, status: str, body: bytes, *, events: tuple[int, bytes] | None = None
    ) -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE gw_responses SET run_status = ?, body = ? WHERE id = ? AND tenant = ? AND {_RUNNING_SQL}",
                status, body, response_id, tenant,
            )  # fmt: skip
            if changed and events is not None:
                tx.write(INSERT_EVENTS, response_id, *events)
        return changed > 0

    async def beat(self, response_ids: list[str], lock_owners: list[str], lock_ttl: float) -> list[str]:
        if not response_ids:
            return []
        marks = ", ".join("?" * len(response_ids))
        now_ms = self._now_ms()
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE gw_responses SET heartbeat_at = ? WHERE id IN ({marks}) AND {_RUNNING_SQL}",
                now_ms, *response_ids,
            )  # fmt: skip
            if lock_owners:
                # A run longer than the lock's lifetime keeps its conversation while it is alive.
                owners = ", ".join("?" * len(lock_owners))
                await tx.execute(
                    f"UPDATE gw_conversations SET locked_until = ? WHERE lock_owner IN ({owners})",
                    now_ms + int(lock_ttl * 1000), *lock_owners,
                )  # fmt: skip
            rows = await tx.fetch(
                f"SELECT id FROM gw_responses WHERE id IN ({marks}) AND {_RUNNING_SQL}", *response_ids
            )
        alive = {str(row[0]) for row in rows}
        return [ident for ident in response_ids if ident not in alive]

    async def stale_runs(self, before_ms: int) -> list[StaleRun]:
        async with self.db.reader() as tx:
            rows = await tx.fetch(
                "SELECT tenant, id, body, run_status, heartbeat_at, run_stream FROM gw_responses "
                f"WHERE {_RUNNING_SQL} AND heartbeat_at < ?",
                before_ms,
            )  # fmt: skip
        return [
            StaleRun(str(row[0]), str(row[1]), RunState(bytes(row[2]), str(row[3]), int(row[4]), bool(row[5])))
            for row in rows
        ]

    async def add_events(self, response_id: str, seq: int, body: bytes) -> None:
        async with self.db.transaction() as tx:
            tx.write(INSERT_EVENTS, response_id, seq, body)

    async def events_after(self, response_id: str, after: int) -> list[bytes]:
        # From the batch that holds event ``after + 1`` on; the caller drops the events up to ``after``.
        async with self.db.reader() as tx:
            rows = await tx.fetch(
                "SELECT body FROM gw_response_events WHERE response_id = ? AND seq >= (SELECT COALESCE(MAX(seq), 0) "
                "FROM gw_response_events WHERE response_id = ? AND seq <= ?) ORDER BY seq",
                response_id, response_id, after + 1,
            )  # fmt: skip
        return [bytes(row[0]) for row in rows]
