"""The store against every backend: the same tests on SQLite (a file), memory and Postgres (a real server).

Nothing is mocked: SQLite is a file in tmp_path, Postgres a database of this session's own (see
tests/support/stores.py for when the Postgres cases skip or fail).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.store import Conversation, Item, PageQuery, Turn, UnknownAfter, open_store, parse_store_url
from app.store.postgres import numbered
from app.store.sql import SqlStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/nested/store.sqlite3"
    if request.param == "memory":
        return "memory"
    return str(request.getfixturevalue("postgres_url"))


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(store_url: str, clock: Clock) -> AsyncIterator[SqlStore]:
    opened = open_store(store_url, retention=3600)
    assert isinstance(opened, SqlStore)
    opened.clock = clock
    await opened.open()
    try:
        yield opened
    finally:
        await opened.aclose()


def uid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def turn(response_id: str, *, previous: str | None = None, n_in: int = 1, **kw: object) -> Turn:
    return Turn(
        response_id=response_id,
        created_at=1_800_000_000,
        body=b'{"id":"' + response_id.encode() + b'"}',
        input_items=[Item(f"{response_id}-in{i}", f'"{response_id}-in{i}"'.encode()) for i in range(n_in)],
        output_items=[Item(f"{response_id}-out", f'"{response_id}-out"'.encode())],
        previous_id=previous,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_saved_response_is_read_back_and_deleted_with_its_items(store: SqlStore) -> None:
    tenant, rid = uid("t"), uid("resp")
    await store.save_turn(tenant, turn(rid, n_in=2))
    assert (await store.get_response(tenant, rid)).body == b'{"id":"' + rid.encode() + b'"}'
    page = await store.input_items(tenant, rid, PageQuery(order="asc"))
    assert page is not None and [i.id for i in page.items] == [f"{rid}-in0", f"{rid}-in1"]
    assert await store.delete_response(tenant, rid) is True
    assert await store.get_response(tenant, rid) is None
    assert await store.chain(tenant, rid) is None
    assert await store.delete_response(tenant, rid) is False


async def test_another_tenant_sees_nothing(store: SqlStore) -> None:
    owner, other, rid = uid("t"), uid("t"), uid("resp")
    await store.save_turn(owner, turn(rid))
    assert await store.get_response(other, rid) is None
    assert await store.chain(other, rid) is None
    assert await store.input_items(other, rid, PageQuery()) is None
    assert await store.delete_response(other, rid) is False
    assert await store.get_response(owner, rid) is not None


async def test_a_chain_is_read_in_order_in_one_query(store: SqlStore) -> None:
    tenant = uid("t")
    ids = [uid("resp") for _ in range(50)]
    previous = None
    for rid in ids:
        await store.save_turn(tenant, turn(rid, previous=previous))
        previous = rid
    chain = await store.chain(tenant, ids[-1])
    assert chain is not None and chain.missing is None
    expected = [f'"{rid}-{part}"'.encode() for rid in ids for part in ("in0", "out")]
    assert chain.items == expected
    # A gap in the chain is reported, not skipped over.
    await store.delete_response(tenant, ids[10])
    broken = await store.chain(tenant, ids[-1])
    assert broken is not None and broken.missing == ids[10]
    assert broken.items == expected[22:]


async def test_expired_responses_are_not_found_and_purged(store: SqlStore, clock: Clock) -> None:
    tenant, rid = uid("t"), uid("resp")
    await store.save_turn(tenant, turn(rid))
    clock.now += 3599
    assert await store.get_response(tenant, rid) is not None
    clock.now += 2
    assert await store.get_response(tenant, rid) is None
    assert await store.purge() >= 1
    clock.now -= 3601
    assert await store.get_response(tenant, rid) is None  # really gone, not just hidden


async def test_input_items_pages(store: SqlStore) -> None:
    tenant, rid = uid("t"), uid("resp")
    await store.save_turn(tenant, turn(rid, n_in=5))
    names = [f"{rid}-in{i}" for i in range(5)]
    desc = await store.input_items(tenant, rid, PageQuery(limit=2))
    assert desc is not None and [i.id for i in desc.items] == names[::-1][:2] and desc.has_more
    after = await store.input_items(tenant, rid, PageQuery(limit=2, after=names[3]))
    assert after is not None and [i.id for i in after.items] == [names[2], names[1]] and after.has_more
    asc = await store.input_items(tenant, rid, PageQuery(limit=10, order="asc", after=names[2]))
    assert asc is not None and [i.id for i in asc.items] == names[3:] and not asc.has_more
    before = await store.input_items(tenant, rid, PageQuery(order="asc", before=names[2]))
    assert before is not None and [i.id for i in before.items] == names[:2]
    with pytest.raises(UnknownAfter):
        await store.input_items(tenant, rid, PageQuery(after="nope"))


async def test_conversations_and_their_items(store: SqlStore) -> None:
    tenant, cid = uid("t"), uid("conv")
    await store.create_conversation(tenant, Conversation(cid, 5, b"{}"), [Item("a", b'"a"')])
    assert await store.get_conversation(tenant, cid) == Conversation(cid, 5, b"{}")
    assert await store.get_conversation(uid("t"), cid) is None
    updated = await store.update_conversation(tenant, cid, b'{"k":"v"}')
    assert updated == Conversation(cid, 5, b'{"k":"v"}')
    assert await store.add_items(tenant, cid, [Item("b", b'"b"'), Item("c", b'"c"')]) is True
    assert await store.add_items(uid("t"), cid, [Item("x", b'"x"')]) is False
    assert await store.all_items(tenant, cid) == [b'"a"', b'"b"', b'"c"']
    page = await store.list_items(tenant, cid, PageQuery(order="asc", after="a"))
    assert page is not None and [i.id for i in page.items] == ["b", "c"]
    assert await store.get_item(tenant, cid, "b") == b'"b"'
    assert await store.delete_item(tenant, cid, "b") is True
    assert await store.delete_item(tenant, cid, "b") is False
    assert await store.delete_item(tenant, uid("conv"), "b") is None
    assert await store.all_items(tenant, cid) == [b'"a"', b'"c"']
    assert await store.delete_conversation(tenant, cid) is True
    assert await store.all_items(tenant, cid) is None
    assert await store.list_items(tenant, cid, PageQuery()) is None


async def test_a_turn_appends_to_its_conversation_and_releases_the_lock(store: SqlStore, clock: Clock) -> None:
    tenant, cid, rid = uid("t"), uid("conv"), uid("resp")
    await store.create_conversation(tenant, Conversation(cid, 1, b"{}"), [])
    assert await store.lock_conversation(tenant, cid, "one", ttl=60) == "locked"
    assert await store.lock_conversation(tenant, cid, "two", ttl=60) == "busy"
    assert await store.lock_conversation(uid("t"), cid, "two", ttl=60) == "missing"
    await store.save_turn(tenant, turn(rid, conversation_id=cid, lock_owner="one", store=False))
    assert await store.get_response(tenant, rid) is None  # store: false keeps only the conversation's items
    assert await store.all_items(tenant, cid) == [f'"{rid}-in0"'.encode(), f'"{rid}-out"'.encode()]
    assert await store.lock_conversation(tenant, cid, "two", ttl=60) == "locked"
    # A holder that never finishes loses the lock when it expires.
    clock.now += 61
    assert await store.lock_conversation(tenant, cid, "three", ttl=60) == "locked"
    await store.unlock_conversation(tenant, cid, "three")
    assert await store.lock_conversation(tenant, cid, "four", ttl=60) == "locked"


@pytest.fixture(params=["sqlite", "postgres"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The backends that outlive a process (``memory`` is private to one open store by design)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.sqlite3"
    return str(request.getfixturevalue("postgres_url"))


async def test_reopening_keeps_the_data_and_the_schema_version(durable_url: str) -> None:
    store_url = durable_url
    tenant, rid = uid("t"), uid("resp")
    first = open_store(store_url, retention=None)
    assert first is not None
    await first.open()
    await first.save_turn(tenant, turn(rid))
    await first.aclose()
    second = open_store(store_url, retention=None)
    assert second is not None
    await second.open()  # migrations already applied: nothing to do, no error
    try:
        assert await second.get_response(tenant, rid) is not None
    finally:
        await second.aclose()


@pytest.mark.parametrize(
    ("url", "kind"),
    [("off", "off"), ("memory", "memory"), ("sqlite:///a/b.db", "sqlite"), ("sqlite:////abs.db", "sqlite"),
     ("postgresql://u@h:5432/d", "postgres")],
)  # fmt: skip
def test_store_urls(url: str, kind: str) -> None:
    assert parse_store_url(url).kind == kind
    assert parse_store_url("sqlite:////abs.db").target == "/abs.db"


@pytest.mark.parametrize("url", ["", "sqlite://", "sqlite:///", "mysql://x", "redis://h"])
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite:///PATH"):
        parse_store_url(url)


def test_placeholders_are_numbered_for_postgres() -> None:
    render: Callable[[str], str] = numbered
    assert render("a = ? AND b = ?") == "a = $1 AND b = $2"
    assert render("no params") == "no params"


async def test_the_gateway_purges_expired_responses_in_the_background(durable_url: str, clock: Clock) -> None:
    """StoredResponses.start opens the store and starts the purge, which runs at once and then periodically."""
    from app.service.stored import StoredResponses

    store_url = durable_url
    opened = open_store(store_url, retention=3600)
    assert isinstance(opened, SqlStore)
    opened.clock = clock
    service = StoredResponses(opened, lock_ttl=60)
    await service.start()
    try:
        tenant, rid = uid("t"), uid("resp")
        await opened.save_turn(tenant, turn(rid))
        clock.now += 3601
        await service.stop()  # stops the first purge loop; a restart purges at once
        opened = open_store(store_url, retention=3600)
        assert isinstance(opened, SqlStore)
        opened.clock = clock
        service = StoredResponses(opened, lock_ttl=60)
        checker = open_store(store_url, retention=None)  # sees expired rows until they are really gone
        assert checker is not None
        await checker.open()
        assert await checker.get_response(tenant, rid) is not None
        await service.start()
        try:
            for _ in range(200):
                if (found := await checker.get_response(tenant, rid)) is None:
                    break
                await asyncio.sleep(0.01)
        finally:
            await checker.aclose()
        assert found is None
    finally:
        await service.stop()
