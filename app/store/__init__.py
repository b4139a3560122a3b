"""The store: what the stateful half of the Responses API keeps between requests.

Owns stored responses (each with its own input and output items and a pointer to its parent), conversations
and their items, the schema and its migrations, retention, and tenancy (every row carries the hash of the
inbound key that made it; a lookup with another tenant finds nothing). It stores bytes it is handed - the
service encodes and decodes the Structs - and imports nothing above ``app/settings``.

``open_store(url)`` picks the backend from the ``store_url`` setting: ``sqlite:///PATH`` (the embedded
default), ``postgresql://…`` (several processes or replicas), ``memory`` (an in-process SQLite database, for
throwaway runs) or ``off`` (``None``: nothing is stored). Every backend runs the same SQL
(``app.store.sql.SqlStore``) through a small driver (``sqlite.py``, ``postgres.py``).
"""

from app.store.base import (
    RUNNING,
    Conversation,
    Item,
    ItemPage,
    PageQuery,
    RunState,
    StaleRun,
    Store,
    StoreError,
    Turn,
    UnknownAfter,
)
from app.store.open import open_store, parse_store_url

__all__ = [
    "RUNNING",
    "Conversation",
    "Item",
    "ItemPage",
    "PageQuery",
    "RunState",
    "StaleRun",
    "Store",
    "StoreError",
    "Turn",
    "UnknownAfter",
    "open_store",
    "parse_store_url",
]
