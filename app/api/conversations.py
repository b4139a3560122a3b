"""``/v1/conversations``: the Conversations API routes, each a thin adapter over ``ConversationsService``."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.api.dto import wire_dto
from app.api.responses import Include, IncludeBrackets, Tenant, includes
from app.models import generated as m
from app.service.conversations import ConversationsService
from app.service.stored import page_query
from app.wire.decode import decode_conversation_items, decode_create_conversation, decode_update_conversation

Conversations = NamedDependency[ConversationsService]


class ConversationsController(Controller):
    path = "/v1/conversations"
    tags = ["Conversations"]

    @post(
        operation_id="createConversation",
        summary="Create a conversation.",
        dto=wire_dto(m.CreateConversationBody, decode_create_conversation),
        return_dto=None,
        status_code=200,
    )
    async def create_conversation(
        self, data: JSONBody[m.CreateConversationBody], conversations: Conversations,
        tenant: Tenant,
    ) -> m.ConversationResource:  # fmt: skip
        return await conversations.create(tenant, data)

    @get("/{conversation_id:str}", operation_id="getConversation", summary="Retrieve a conversation.")
    async def get_conversation(
        self, conversation_id: FromPath[str], conversations: Conversations, tenant: Tenant
    ) -> m.ConversationResource:
        return await conversations.get(tenant, conversation_id)

    @post(
        "/{conversation_id:str}",
        operation_id="updateConversation",
        summary="Replace a conversation's metadata.",
        dto=wire_dto(m.UpdateConversationBody, decode_update_conversation),
        return_dto=None,
        status_code=200,
    )
    async def update_conversation(
        self, conversation_id: FromPath[str], data: JSONBody[m.UpdateConversationBody],
        conversations: Conversations, tenant: Tenant,
    ) -> m.ConversationResource:  # fmt: skip
        return await conversations.update(tenant, conversation_id, data)

    @delete(
        "/{conversation_id:str}", operation_id="deleteConversation", summary="Delete a conversation.", status_code=200
    )
    async def delete_conversation(
        self, conversation_id: FromPath[str], conversations: Conversations, tenant: Tenant
    ) -> m.ConversationDeleted:
        return await conversations.delete(tenant, conversation_id)

    @post(
        "/{conversation_id:str}/items",
        operation_id="createConversationItems",
        summary="Append items to a conversation.",
        dto=wire_dto(m.CreateConversationItemsBody, decode_conversation_items),
        return_dto=None,
        status_code=200,
    )
    async def create_items(
        self, conversation_id: FromPath[str], data: JSONBody[m.CreateConversationItemsBody],
        conversations: Conversations, tenant: Tenant,
        include: FromQuery[Include] = None, include_brackets: IncludeBrackets = None,
    ) -> m.ConversationItemList:  # fmt: skip
        return await conversations.add_items(tenant, conversation_id, data, includes(include, include_brackets))

    @get("/{conversation_id:str}/items", operation_id="listConversationItems", summary="List a conversation's items.")
    async def list_items(
        self, conversation_id: FromPath[str], conversations: Conversations, tenant: Tenant,
        limit: FromQuery[int] = 20, order: FromQuery[str] = "desc",
        after: FromQuery[str | None] = None, before: FromQuery[str | None] = None,
        include: FromQuery[Include] = None, include_brackets: IncludeBrackets = None,
    ) -> m.ConversationItemList:  # fmt: skip
        page = page_query(limit, order, after, before)
        return await conversations.list_items(tenant, conversation_id, page, includes(include, include_brackets))

    @get(
        "/{conversation_id:str}/items/{item_id:str}",
        operation_id="getConversationItem",
        summary="Retrieve one item of a conversation.",
    )
    async def get_item(
        self, conversation_id: FromPath[str], item_id: FromPath[str], conversations: Conversations,
        tenant: Tenant, include: FromQuery[Include] = None,
        include_brackets: IncludeBrackets = None,
    ) -> m.ItemResource:  # fmt: skip
        return await conversations.get_item(tenant, conversation_id, item_id, includes(include, include_brackets))

    @delete(
        "/{conversation_id:str}/items/{item_id:str}",
        operation_id="deleteConversationItem",
        summary="Delete one item of a conversation.",
        status_code=200,
    )
    async def delete_item(
        self, conversation_id: FromPath[str], item_id: FromPath[str], conversations: Conversations, tenant: Tenant
    ) -> m.ConversationResource:
        return await conversations.delete_item(tenant, conversation_id, item_id)
