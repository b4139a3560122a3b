"""The Conversations API: a conversation is a list of items that responses created with ``conversation``
read before the call and append to once they finish (``app.service.stored``).

Items added here get the same ids and shapes as a response's input items (``app.service.items``), so
whatever the list routes return can be sent back as input.
"""

from __future__ import annotations

import time

import msgspec

from app.models import generated as m
from app.service import items as it
from app.service.stored import check_include, not_found, store_failed, store_off
from app.store import Conversation, PageQuery, Store, UnknownAfter
from app.translate.response import new_id
from app.wire.errors import GatewayError, invalid_request

_ENCODER = msgspec.json.Encoder()
_METADATA = msgspec.json.Decoder(dict[str, str])


def _resource(conversation: Conversation) -> m.ConversationResource:
    return m.ConversationResource(
        id=conversation.id,
        object="conversation",
        metadata=_METADATA.decode(conversation.metadata),
        created_at=conversation.created_at,
    )


def _storable(items: list[m.InputItem], param: str) -> list[m.InputItem]:
    """Only the item kinds the gateway can replay to Azure; anything else would fail every later response."""
    allowed = (m.InputMessage, m.FunctionCallItem, m.FunctionCallOutputItem, m.ReasoningInputItem)
    for index, item in enumerate(items):
        if not isinstance(item, allowed):
            kind = type(item).__struct_config__.tag
            raise invalid_request(
                f"Item type '{kind}' cannot be stored in a conversation here: the gateway replays messages, "
                "function_call, function_call_output and reasoning items to Azure Chat Completions.",
                param=f"{param}[{index}]",
                code="unsupported_parameter",
            )
    return it.with_ids(items)


class ConversationsService:
    def __init__(self, store: Store | None) -> None:
        self._store_or_none = store

    @property
    def store(self) -> Store:
        if self._store_or_none is None:
            raise store_off("conversations")
        return self._store_or_none

    async def create(self, tenant: str, body: m.CreateConversationBody) -> m.ConversationResource:
        store = self.store
        items = _storable(body.items if isinstance(body.items, list) else [], "items")
        metadata = body.metadata if isinstance(body.metadata, dict) else {}
        conversation = Conversation(new_id("conv"), int(time.time()), _ENCODER.encode(metadata))
        try:
            await store.create_conversation(tenant, conversation, it.stored(items))
        except Exception as exc:
            raise store_failed(exc) from None
        return _resource(conversation)

    async def get(self, tenant: str, conversation_id: str) -> m.ConversationResource:
        try:
            found = await self.store.get_conversation(tenant, conversation_id)
        except GatewayError:
            raise
        except Exception as exc:
            raise store_failed(exc) from None
        if found is None:
            raise not_found("Conversation", conversation_id)
        return _resource(found)

    async def update(
        self, tenant: str, conversation_id: str, body: m.UpdateConversationBody
    ) -> m.ConversationResource:
        store = self.store
        try:
            found = await store.update_conversation(tenant, conversation_id, _ENCODER.encode(body.metadata))
        except Exception as exc:
            raise store_failed(exc) from None
        if found is None:
            raise not_found("Conversation", conversation_id)
        return _resource(found)

    async def delete(self, tenant: str, conversation_id: str) -> m.ConversationDeleted:
        store = self.store
        try:
            deleted = await store.delete_conversation(tenant, conversation_id)
        except Exception as exc:
            raise store_failed(exc) from None
        if not deleted:
            raise not_found("Conversation", conversation_id)
        return m.ConversationDeleted(id=conversation_id, object="conversation.deleted", deleted=True)

    async def add_items(
        self, tenant: str, conversation_id: str, body: m.CreateConversationItemsBody, include: list[str] | None
    ) -> m.ConversationItemList:
        check_include(include)
        store = self.store
        stored = it.stored(_storable(body.items, "items"))
        try:
            added = await store.add_items(tenant, conversation_id, stored)
        except Exception as exc:
            raise store_failed(exc) from None
        if not added:
            raise not_found("Conversation", conversation_id)
        data = it.resources(stored)
        return m.ConversationItemList(
            object="list",
            data=data,
            has_more=False,
            first_id=stored[0].id if stored else None,
            last_id=stored[-1].id if stored else None,
        )

    async def list_items(
        self, tenant: str, conversation_id: str, page: PageQuery, include: list[str] | None
    ) -> m.ConversationItemList:
        check_include(include)
        store = self.store
        try:
            found = await store.list_items(tenant, conversation_id, page)
        except UnknownAfter as exc:
            raise invalid_request(f"{exc}.", param=exc.param) from None
        except Exception as exc:
            raise store_failed(exc) from None
        if found is None:
            raise not_found("Conversation", conversation_id)
        return m.ConversationItemList(**it.page_fields(found))

    async def get_item(
        self, tenant: str, conversation_id: str, item_id: str, include: list[str] | None
    ) -> m.ItemResource:
        check_include(include)
        store = self.store
        try:
            body = await store.get_item(tenant, conversation_id, item_id)
            if body is None and await store.get_conversation(tenant, conversation_id) is None:
                raise not_found("Conversation", conversation_id)
        except GatewayError:
            raise
        except Exception as exc:
            raise store_failed(exc) from None
        if body is None:
            raise not_found("Item", item_id)
        return it.resource(body)

    async def delete_item(self, tenant: str, conversation_id: str, item_id: str) -> m.ConversationResource:
        store = self.store
        try:
            deleted = await store.delete_item(tenant, conversation_id, item_id)
            conversation = await store.get_conversation(tenant, conversation_id) if deleted else None
        except Exception as exc:
            raise store_failed(exc) from None
        if deleted is None:
            raise not_found("Conversation", conversation_id)
        if not deleted or conversation is None:
            raise not_found("Item", item_id)
        return _resource(conversation)
