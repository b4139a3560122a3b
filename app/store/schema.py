"""The store's schema, as numbered migrations applied in order at startup.

A response row holds the Response JSON, its own input and output items and a pointer to its parent
(``previous_id``). A chain of depth N therefore costs O(N) rows, and is read back with one recursive query
(``SqlStore.chain``). ``previous_id`` has no foreign key on purpose: deleting a
response must not delete or rewrite its children, whose chain then reports the gap.

Times are integer seconds (``created_at``) and milliseconds (``locked_until``) since the epoch.
"""

from __future__ import annotations

from typing import Final

# Every migration is a list of statements; ``{blob}`` is the dialect's binary type. Never edit a released
# migration: add the next one.
MIGRATIONS: Final[list[list[str]]] = [
    [
        # A response's own input and output items live in its row, each a JSON array of [id, item] pairs:
        # storing a response is one row (one B-tree insert, a few pages), and a chain read returns one row
        # per turn.
        """CREATE TABLE gw_responses (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            previous_id TEXT,
            conversation_id TEXT,
            created_at BIGINT NOT NULL,
            body {blob} NOT NULL,
            input_items {blob} NOT NULL,
            output_items {blob} NOT NULL
        )""",
        "CREATE INDEX gw_responses_created ON gw_responses (created_at)",
        """CREATE TABLE gw_conversations (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            metadata {blob} NOT NULL,
            next_seq BIGINT NOT NULL,
            lock_owner TEXT,
            locked_until BIGINT NOT NULL
        )""",
        # A conversation grows by appends and loses single items, so its items are rows.
        """CREATE TABLE gw_conversation_items (
            conversation_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            id TEXT NOT NULL,
            body {blob} NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        )""",
        "CREATE INDEX gw_conversation_items_id ON gw_conversation_items (conversation_id, id)",
    ],
    [
        # Issue 17: which deployment of the pool answered (its label, as in logs, metrics and the
        # x-gateway-deployment header), so a stored response says where it was generated.
        "ALTER TABLE gw_responses ADD COLUMN deployment TEXT",
    ],
    [
        # Issue 16: background responses. ``run_status`` is NULL for an ordinary response; a background one is
        # written when it is created (``queued``), and its row says how the run stands: ``in_progress``, then
        # the Response's final status. The process running it refreshes ``heartbeat_at`` (milliseconds); a
        # row still running with an old heartbeat belongs to a process that died, and is failed by whoever
        # reads it. ``run_stream``: the run was created with ``stream``, so its events are kept for resuming.
        "ALTER TABLE gw_responses ADD COLUMN run_status TEXT",
        "ALTER TABLE gw_responses ADD COLUMN heartbeat_at BIGINT",
        "ALTER TABLE gw_responses ADD COLUMN run_stream INTEGER",
        "CREATE INDEX gw_responses_running ON gw_responses (run_status)",
        # One row per batch of events (one upstream read): ``seq`` is the first event's sequence_number.
        """CREATE TABLE gw_response_events (
            response_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            body {blob} NOT NULL,
            PRIMARY KEY (response_id, seq)
        )""",
    ],
]

BLOB: Final = {"sqlite": "BLOB", "postgres": "BYTEA"}
VERSION_TABLE: Final = "CREATE TABLE IF NOT EXISTS gw_schema (version INTEGER NOT NULL)"
