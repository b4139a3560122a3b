"""The store's interface: the records it keeps and the operations the service calls.

Items and responses are opaque JSON bytes here (the service owns their shape). Every operation takes the
``tenant`` (a hash of the caller's inbound key, ``""`` without keys) and finds only that tenant's rows, so an
id of another tenant looks exactly like an unknown one.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

import msgspec


class Item(NamedTuple):
    """One item (an input or output item of a response, or a conversation item): its id and its JSON."""

    id: str
    body: bytes


def encode_pairs(items: list[Item]) -> bytes:
    """Items as one JSON array of [id, item] pairs (the item bodies are JSON already: no re-encoding)."""
    return b"[" + b",".join(b"[" + msgspec.json.encode(item.id) + b"," + item.body + b"]" for item in items) + b"]"


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """A finished response, written in one transaction before the client gets it.

    ``store`` false: the response itself is not kept (only the conversation, when there is one, gets the
    items). ``conversation_id``: the input and output items are appended to that conversation and its lock
    (taken by ``lock_conversation`` with ``lock_owner``) is released.
    """

    response_id: str
    created_at: int
    body: bytes
    input_items: list[Item]
    output_items: list[Item]
    store: bool = True
    previous_id: str | None = None
    conversation_id: str | None = None
    lock_owner: str | None = None
    deployment: str | None = None
    """The pool's name for the deployment that answered (issue 17)."""
    run: bool = False
    """A background run's end: its row (written by ``begin_run``) is updated, unless it was cancelled."""
    status: str | None = None
    """With ``run``: the Response's final status, for the row's ``run_status``."""
    events: tuple[int, bytes] | None = None
    """With ``run``: its last batch of events (first sequence number, JSON array), kept in the same
    transaction, so a run's kept events end with its terminal event exactly when its row says it ended."""


RUNNING: tuple[str, str] = ("queued", "in_progress")
INSERT_EVENTS = "INSERT INTO gw_response_events (response_id, seq, body) VALUES (?, ?, ?)"


class RunState(NamedTuple):
    """A stored response as a background run sees it: ``status`` None for an ordinary response."""

    body: bytes
    status: str | None
    heartbeat_at: int
    """Milliseconds since the epoch when its process last said it was alive."""
    streamed: bool


class StaleRun(NamedTuple):
    tenant: str
    response_id: str
    state: RunState


class Conversation(msgspec.Struct, frozen=True):
    id: str
    created_at: int
    metadata: bytes


class PageQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a list: ``after``/``before`` are item ids (exclusive), ``order`` by position in the list."""

    limit: int = 20
    order: Literal["asc", "desc"] = "desc"
    after: str | None = None
    before: str | None = None


class ItemPage(NamedTuple):
    items: list[Item]
    has_more: bool


class Chain(NamedTuple):
    """The items of a response and all its ancestors, oldest first; ``missing``: an ancestor that is gone;
    ``running``: one that is a background run not finished yet (its output is not known)."""

    items: list[bytes]
    missing: str | None
    running: str | None = None


class StoreError(Exception):
    """The store could not be reached or failed; the service answers 503."""


class UnknownAfter(Exception):
    """A page cursor (``after``/``before``) names no item of the list."""

    def __init__(self, param: str, item_id: str) -> None:
        super().__init__(f"{param} '{item_id}' is not an item of this list")
        self.param = param
        self.item_id = item_id


LockResult = Literal["locked", "busy", "missing"]


class Store(Protocol):
    """What the service needs from a store; ``app.store.sql.SqlStore`` is the one implementation."""

    async def open(self) -> None:
        """Connect and apply the schema's migrations (idempotent, safe with several processes)."""

    async def aclose(self) -> None: ...

    # responses
    async def save_turn(self, tenant: str, turn: Turn) -> bool:
        """Store a finished response; False only for a run (``turn.run``) no longer running (cancelled)."""

    async def get_response(self, tenant: str, response_id: str) -> RunState | None: ...
    async def delete_response(self, tenant: str, response_id: str) -> bool: ...
    async def chain(self, tenant: str, response_id: str) -> Chain | None:
        """Input and output items of the response and its ancestors in one query; None when unknown."""

    async def input_items(self, tenant: str, response_id: str, page: PageQuery) -> ItemPage | None: ...

    # conversations
    async def create_conversation(self, tenant: str, conversation: Conversation, items: list[Item]) -> None: ...
    async def get_conversation(self, tenant: str, conversation_id: str) -> Conversation | None: ...
    async def update_conversation(self, tenant: str, conversation_id: str, metadata: bytes) -> Conversation | None: ...
    async def delete_conversation(self, tenant: str, conversation_id: str) -> bool: ...
    async def add_items(self, tenant: str, conversation_id: str, items: list[Item]) -> bool: ...
    async def list_items(self, tenant: str, conversation_id: str, page: PageQuery) -> ItemPage | None: ...
    async def all_items(self, tenant: str, conversation_id: str) -> list[bytes] | None: ...
    async def get_item(self, tenant: str, conversation_id: str, item_id: str) -> bytes | None: ...
    async def delete_item(self, tenant: str, conversation_id: str, item_id: str) -> bool | None:
        """True deleted, False no such item, None no such conversation."""

    async def lock_conversation(self, tenant: str, conversation_id: str, owner: str, ttl: float) -> LockResult:
        """Take the conversation for one response (``busy`` while another holds it, until ``ttl`` seconds)."""

    async def unlock_conversation(self, tenant: str, conversation_id: str, owner: str) -> None: ...

    # background runs (app.store.runs)
    async def begin_run(self, tenant: str, turn: Turn, *, streamed: bool) -> None:
        """Write a background response as ``queued``, with its input items and a fresh heartbeat."""

    async def set_run_status(
        self, tenant: str, response_id: str, status: str, body: bytes, *, events: tuple[int, bytes] | None = None
    ) -> bool:
        """Move a run that is still running to ``status`` with ``body`` (and keep ``events`` with it, as in
        ``Turn.events``); False when it no longer runs."""

    async def beat(self, response_ids: list[str], lock_owners: list[str], lock_ttl: float) -> list[str]:
        """Refresh the heartbeat of these runs, and for ``lock_ttl`` more seconds the conversation locks they
        hold; returns the runs that no longer run (cancelled, deleted)."""

    async def stale_runs(self, before_ms: int) -> list[StaleRun]:
        """Runs still running whose heartbeat is older than ``before_ms``."""

    async def add_events(self, response_id: str, seq: int, body: bytes) -> None:
        """Keep a batch of a streamed run's events (``body``: a JSON array), ``seq`` its first number."""

    async def events_after(self, response_id: str, after: int) -> list[bytes]:
        """The kept batches whose events come after sequence number ``after``, in order."""

    async def purge(self) -> int:
        """Delete responses past the retention period (and their items); returns how many."""
