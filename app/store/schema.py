"""The store's schema, as numbered migrations applied in order at startup.

A response row holds the Response JSON and a pointer to its parent (``previous_id``); its own input and
output items are rows of ``response_items``. A chain of depth N therefore costs O(N) rows, and is read back
with one recursive query (``SqlStore.chain``). ``previous_id`` has no foreign key on purpose: deleting a
response must not delete or rewrite its children, whose chain then reports the gap.

Times are integer seconds (``created_at``) and milliseconds (``locked_until``) since the epoch.
"""

from __future__ import annotations

from typing import Final

# Every migration is a list of statements; ``{blob}`` is the dialect's binary type. Never edit a released
# migration: add the next one.
MIGRATIONS: Final[list[list[str]]] = [
    [
        """CREATE TABLE gw_responses (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            previous_id TEXT,
            conversation_id TEXT,
            created_at BIGINT NOT NULL,
            body {blob} NOT NULL
        )""",
        "CREATE INDEX gw_responses_created ON gw_responses (created_at)",
        """CREATE TABLE gw_response_items (
            response_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL,
            is_output INTEGER NOT NULL,
            body {blob} NOT NULL,
            PRIMARY KEY (response_id, seq)
        )""",
        """CREATE TABLE gw_conversations (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            metadata {blob} NOT NULL,
            next_seq BIGINT NOT NULL,
            lock_owner TEXT,
            locked_until BIGINT NOT NULL
        )""",
        """CREATE TABLE gw_conversation_items (
            conversation_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            id TEXT NOT NULL,
            body {blob} NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        )""",
        "CREATE INDEX gw_conversation_items_id ON gw_conversation_items (conversation_id, id)",
    ],
]

BLOB: Final = {"sqlite": "BLOB", "postgres": "BYTEA"}
VERSION_TABLE: Final = "CREATE TABLE IF NOT EXISTS gw_schema (version INTEGER NOT NULL)"
