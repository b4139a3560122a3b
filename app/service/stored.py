"""The state behind ``POST /v1/responses``: history in before the call, the finished response out after.

``StoredResponses.prepare`` resolves ``previous_response_id`` (the chain's items, oldest first, read in one
query) or ``conversation`` (its items, with the conversation taken for this response), and says what the
translator sees and what the Response echoes. ``Turn.finish`` writes the finished response - completed,
incomplete or failed, JSON or streamed - before the client gets it (before ``response.completed`` is sent),
so a follow-up sent the moment the answer arrives finds it, on any process sharing the store. Earlier
``instructions`` are not inherited (OpenAI's rule); replayed reasoning items go through the translator's
``reasoning_replay`` like any others.

Also the stored-response routes delete and input_items (retrieve is ``app.service.background``'s, since a
background run may have to be settled first), and the periodic purge of expired rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import msgspec
from msgspec import UNSET
from msgspec.structs import replace

from app.models import generated as m
from app.service import items as it
from app.store import PageQuery, RunState, Store, Turn, UnknownAfter
from app.telemetry import observe
from app.translate.params import INCLUDE_IMPOSSIBLE
from app.translate.response import new_id
from app.wire.errors import GatewayError, invalid_request

log = logging.getLogger("app.service.stored")
_ENCODER = msgspec.json.Encoder()
STORE_OFF = (
    "The gateway runs with store_url = \"off\", so it keeps no responses or conversations. Set store_url "
    "(GATEWAY_STORE_URL) to sqlite:///PATH, postgresql://… or memory to use {what}."
)
PURGE_EVERY = 600.0  # seconds between purges of expired responses


def store_off(what: str, param: str | None = None) -> GatewayError:
    return invalid_request(STORE_OFF.format(what=what), param=param, code="store_disabled")


def not_found(kind: str, ident: str, param: str | None = None) -> GatewayError:
    return GatewayError(404, f"{kind} with id '{ident}' not found.", param=param)


def store_failed(exc: BaseException) -> GatewayError:
    log.error("the store failed: %s", exc, exc_info=exc)
    return GatewayError(503, "The gateway's store is unavailable; try again shortly.", code="store_unavailable")


def check_include(include: list[str] | None) -> None:
    """``include`` on a read route: only OpenAI's values, and none that asks for hosted-tool data."""
    allowed = set(m.IncludeEnum.__args__)  # type: ignore[attr-defined]
    for index, value in enumerate(include or ()):
        if value not in allowed:
            raise invalid_request(f"include '{value}' is not a valid include value.", param=f"include[{index}]")
        if value in INCLUDE_IMPOSSIBLE:
            raise invalid_request(
                f"include '{value}' asks for hosted-tool data, which cannot exist here.",
                param=f"include[{index}]",
                code="unsupported_parameter",
            )


class Plan:
    """One create's state: what to translate, what to echo, and how to finish or give up."""

    def __init__(
        self,
        owner: StoredResponses,
        tenant: str,
        *,
        translate: m.CreateResponse,
        echo: m.CreateResponse,
        new_items: list[m.InputItem],
        conversation_id: str | None = None,
        lock_owner: str | None = None,
    ) -> None:
        self._owner = owner
        self._tenant = tenant
        self.translate = translate
        self.echo = echo
        self._new_items = new_items
        self._conversation_id = conversation_id
        self._lock_owner = lock_owner
        self._done = False
        self._run = False

    def _turn(
        self, response: m.Response, output: list[m.OutputItem], events: tuple[int, bytes] | None = None
    ) -> Turn:
        previous = self.echo.previous_response_id
        return Turn(
            response_id=response.id,
            # Retention counts from when the gateway stored it, not from Azure's `created` (another clock).
            created_at=int(time.time()),
            body=_ENCODER.encode(response),
            input_items=it.stored(self._new_items),
            output_items=it.stored(output),
            store=self.echo.store is True,
            previous_id=previous if isinstance(previous, str) else None,
            conversation_id=self._conversation_id,
            lock_owner=self._lock_owner,
            deployment=record.deployment if (record := observe.current()) is not None else None,
            run=self._run,
            status=response.status if self._run else None,
            events=events,
        )

    async def begin_run(self, snapshot: m.Response, *, streamed: bool) -> None:
        """A background response: its row is written now, ``queued``, and ``finish`` updates it later."""
        store = self._owner.store
        assert store is not None and self.echo.store is True  # the service refuses background without a store
        self._run = True
        try:
            await store.begin_run(self._tenant, self._turn(snapshot, []), streamed=streamed)
        except Exception as exc:
            raise store_failed(exc) from None

    @property
    def lock_owner(self) -> str | None:
        """The owner token of the conversation lock this response holds (None without a conversation)."""
        return self._lock_owner

    @property
    def keeps_anything(self) -> bool:
        return self.echo.store is True or self._conversation_id is not None

    async def finish(self, response: m.Response, *, events: tuple[int, bytes] | None = None) -> bool:
        """Write the finished response (and the conversation's new items) before the client sees it.

        ``events``: a streamed background run's last batch, kept with it. False when a background run was
        settled first (cancelled, or judged dead): nothing was written."""
        if self._done:
            return True
        self._done = True
        store = self._owner.store
        if store is None or not self.keeps_anything:
            return True
        try:
            return await store.save_turn(self._tenant, self._turn(response, response.output, events))
        except Exception as exc:
            await self._release()
            raise store_failed(exc) from None

    async def abort(self) -> None:
        """The response will not finish (an error before it, or the client left): free the conversation."""
        if not self._done:
            self._done = True
            await self._release()

    async def _release(self) -> None:
        store = self._owner.store
        if store is not None and self._conversation_id is not None and self._lock_owner is not None:
            with contextlib.suppress(Exception):
                await store.unlock_conversation(self._tenant, self._conversation_id, self._lock_owner)


class StoredResponses:
    def __init__(self, store: Store | None, *, lock_ttl: float) -> None:
        self.store = store
        self.lock_ttl = lock_ttl
        self._purger: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------------- create

    async def prepare(
        self, request: m.CreateResponse, tenant: str, *, prior: Sequence[m.InputItem] | None = None
    ) -> Plan:
        """``prior``: the chain's items as the caller already has them (a WebSocket connection's cache, which
        works with ``store: false``), read instead of the store's; the response is still stored as asked."""
        previous = request.previous_response_id
        conversation = request.conversation
        conversation_id = conversation.id if isinstance(conversation, m.ConversationParam) else conversation
        new_items = it.with_ids(it.input_list(request.input))
        if prior is not None and isinstance(previous, str):
            echo = replace(request, store=self.store is not None and request.store is not False)
            translate = replace(request, input=[*prior, *new_items], previous_response_id=UNSET)
            return Plan(self, tenant, translate=translate, echo=echo, new_items=new_items)
        if self.store is None:
            if isinstance(previous, str):
                raise store_off("previous_response_id", "previous_response_id")
            if isinstance(conversation_id, str):
                raise store_off("conversation", "conversation")
            # Not kept, so not echoed as kept (OpenAI's zero-data-retention behaviour), and logged.
            if request.store is True:
                log.info("store: true ignored: the gateway runs with store_url = off")
            echo = replace(request, store=False)
            return Plan(self, tenant, translate=request, echo=echo, new_items=new_items)
        echo = replace(request, store=request.store is not False)
        if isinstance(previous, str) and isinstance(conversation_id, str):
            raise invalid_request(
                "previous_response_id and conversation cannot both be set: a response continues either a "
                "chain of responses or a conversation.",
                param="previous_response_id",
                code="mutually_exclusive_parameters",
            )
        if isinstance(previous, str):
            history = await self._chain(tenant, previous)
            translate = replace(request, input=[*history, *new_items], previous_response_id=UNSET)
            return Plan(self, tenant, translate=translate, echo=echo, new_items=new_items)
        if isinstance(conversation_id, str):
            owner = new_id("lock")
            await self._lock(tenant, conversation_id, owner)
            try:
                bodies = await self.store.all_items(tenant, conversation_id)
                history = it.replay(bodies or [])
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await self.store.unlock_conversation(tenant, conversation_id, owner)
                if isinstance(exc, Exception):
                    raise store_failed(exc) from None
                raise
            translate = replace(request, input=[*history, *new_items], conversation=UNSET)
            return Plan(
                self, tenant, translate=translate, echo=echo, new_items=new_items,
                conversation_id=conversation_id, lock_owner=owner,
            )  # fmt: skip
        return Plan(self, tenant, translate=request, echo=echo, new_items=new_items)

    async def history(self, tenant: str, previous: str) -> list[m.InputItem] | None:
        """The items of the stored chain ending at ``previous`` (None without a store); raises
        ``previous_response_not_found`` when it is not stored or its history is broken."""
        return None if self.store is None else await self._chain(tenant, previous)

    async def _chain(self, tenant: str, previous: str) -> list[m.InputItem]:
        assert self.store is not None
        try:
            chain = await self.store.chain(tenant, previous)
        except Exception as exc:
            raise store_failed(exc) from None
        if chain is None:
            raise invalid_request(
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        if chain.running is not None:
            raise invalid_request(
                f"Previous response with id '{chain.running}' is a background response that has not finished "
                "yet; continue from it once it has (poll GET /v1/responses/{id}).",
                param="previous_response_id",
                code="previous_response_in_progress",
            )
        if chain.missing is not None:
            # The chain is broken: answering from part of the history would silently change the answer.
            raise invalid_request(
                f"Previous response with id '{chain.missing}' not found: it is part of the history of "
                f"'{previous}' and was deleted or has expired.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        return it.replay(chain.items)

    async def _lock(self, tenant: str, conversation_id: str, owner: str) -> None:
        assert self.store is not None
        try:
            taken = await self.store.lock_conversation(tenant, conversation_id, owner, self.lock_ttl)
        except Exception as exc:
            raise store_failed(exc) from None
        if taken == "missing":
            raise not_found("Conversation", conversation_id, "conversation")
        if taken == "busy":
            raise GatewayError(
                409,
                f"Another response is in progress on conversation '{conversation_id}'. Retry once it has "
                "finished, or fork the conversation to run responses side by side.",
                param="conversation",
                code="conversation_locked",
            )

    # ------------------------------------------------------------------------------------- reads

    def _need_store(self, what: str) -> Store:
        if self.store is None:
            raise store_off(what)
        return self.store

    async def state(self, tenant: str, response_id: str) -> RunState:
        """A stored response as it stands (``app.service.background`` reads runs through it)."""
        store = self._need_store("stored responses")
        try:
            state = await store.get_response(tenant, response_id)
        except Exception as exc:
            raise store_failed(exc) from None
        if state is None:
            raise not_found("Response", response_id)
        return state

    async def delete(self, tenant: str, response_id: str) -> m.ResponseDeleted:
        store = self._need_store("stored responses")
        try:
            deleted = await store.delete_response(tenant, response_id)
        except Exception as exc:
            raise store_failed(exc) from None
        if not deleted:
            raise not_found("Response", response_id)
        return m.ResponseDeleted(id=response_id, object="response", deleted=True)

    async def input_items(
        self, tenant: str, response_id: str, page: PageQuery, include: list[str] | None
    ) -> m.ResponseItemList:
        check_include(include)
        store = self._need_store("stored responses")
        try:
            found = await store.input_items(tenant, response_id, page)
        except UnknownAfter as exc:
            raise invalid_request(f"{exc}.", param=exc.param) from None
        except Exception as exc:
            raise store_failed(exc) from None
        if found is None:
            raise not_found("Response", response_id)
        return m.ResponseItemList(**it.page_fields(found))

    # ------------------------------------------------------------------------------------- lifetime

    async def start(self) -> None:
        if self.store is None:
            return
        await self.store.open()
        self._purger = asyncio.create_task(self._purge_forever(), name="store-purge")

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        if self.store is not None:
            await self.store.aclose()

    async def _purge_forever(self) -> None:
        assert self.store is not None
        while True:
            try:
                purged = await self.store.purge()
                if purged:
                    log.info("purged %d expired stored responses", purged)
            except Exception:
                log.exception("purging expired stored responses failed")
            await asyncio.sleep(PURGE_EVERY)


def page_query(limit: int, order: str, after: str | None, before: str | None) -> PageQuery:
    """The list routes' query parameters, checked like OpenAI's."""
    if not 1 <= limit <= 100:
        raise invalid_request(f"limit must be between 1 and 100; got {limit}.", param="limit")
    if order not in ("asc", "desc"):
        raise invalid_request(f"order must be 'asc' or 'desc'; got '{order}'.", param="order")
    return PageQuery(limit=limit, order=order, after=after or None, before=before or None)  # type: ignore[arg-type]
