"""``/v1/responses``: create (JSON or SSE), compact, and the stored-response routes: retrieve (or resume a
background stream), cancel, delete, input_items. WebSocket mode on the same path is ``app.api.websocket``.

Each handler decodes, calls the service and frames the result; the store is the service's business.
``include`` is read as ``include`` and as ``include[]`` (what the openai SDK sends).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from app.api.dto import wire_dto
from app.api.sse import responses_sse
from app.models import generated as m
from app.service.compact import CompactService
from app.service.responses import ResponsesService
from app.service.stored import check_include, page_query
from app.wire.decode import decode_compact_request, decode_create_response

Include = list[str] | None
IncludeBrackets = Annotated[list[str] | None, QueryParameter(name="include[]")]
Tenant = NamedDependency[str]  # a hash of the inbound key (app.api.guards.tenant_provider)


def includes(include: Include, brackets: Include) -> list[str] | None:
    if include is None and brackets is None:
        return None
    return [*(include or ()), *(brackets or ())]


class ResponsesController(Controller):
    path = "/v1/responses"
    tags = ["Responses"]

    @post(
        operation_id="createResponse",
        summary="Create a model response (translated to Azure Chat Completions).",
        dto=wire_dto(m.CreateResponse, decode_create_response),
        return_dto=None,
        status_code=200,
    )
    async def create_response(
        self, data: JSONBody[m.CreateResponse], responses: NamedDependency[ResponsesService], tenant: Tenant
    ) -> m.Response:
        # The annotation is what Litestar documents (/_litestar/openapi.json) for the JSON case; a returned
        # EventStream is a Response instance, which Litestar sends as it is (it dispatches on the value).
        result = await responses.create(data, tenant)
        if isinstance(result, m.Response):
            return result
        return responses_sse(result)  # type: ignore[return-value]

    @post(
        "/compact",
        operation_id="compactResponse",
        summary="Compact a conversation into a sealed summary (made by the configured deployment).",
        dto=wire_dto(m.CompactResponseRequest, decode_compact_request),
        return_dto=None,
        status_code=200,
    )
    async def compact_response(
        self, data: JSONBody[m.CompactResponseRequest], compact: NamedDependency[CompactService], tenant: Tenant
    ) -> m.ResponseCompaction:
        return await compact.compact(data, tenant)

    @get("/{response_id:str}", operation_id="getResponse", summary="Retrieve a stored response.")
    async def get_response(
        self,
        response_id: FromPath[str],
        responses: NamedDependency[ResponsesService],
        tenant: Tenant,
        include: FromQuery[Include] = None,
        include_brackets: IncludeBrackets = None,
        stream: FromQuery[bool] = False,
        starting_after: FromQuery[int | None] = None,
    ) -> m.Response:
        # stream=true: a background response created with stream, resumed after event `starting_after`.
        wanted = includes(include, include_brackets)
        if stream:
            check_include(wanted)
            after = -1 if starting_after is None else starting_after
            return responses_sse(await responses.background.resume(tenant, response_id, after))  # type: ignore[return-value]
        return await responses.background.retrieve(tenant, response_id, wanted)

    @post(
        "/{response_id:str}/cancel",
        operation_id="cancelResponse",
        summary="Cancel a background response.",
        status_code=200,
    )
    async def cancel_response(
        self, response_id: FromPath[str], responses: NamedDependency[ResponsesService], tenant: Tenant
    ) -> m.Response:
        return await responses.background.cancel(tenant, response_id)

    @delete(
        "/{response_id:str}",
        operation_id="deleteResponse",
        summary="Delete a stored response and its items.",
        status_code=200,
    )
    async def delete_response(
        self, response_id: FromPath[str], responses: NamedDependency[ResponsesService], tenant: Tenant
    ) -> m.ResponseDeleted:
        return await responses.stored.delete(tenant, response_id)

    @get(
        "/{response_id:str}/input_items",
        operation_id="listInputItems",
        summary="List the input items of a stored response.",
    )
    async def list_input_items(
        self,
        response_id: FromPath[str],
        responses: NamedDependency[ResponsesService],
        tenant: Tenant,
        limit: FromQuery[int] = 20,
        order: FromQuery[str] = "desc",
        after: FromQuery[str | None] = None,
        before: FromQuery[str | None] = None,
        include: FromQuery[Include] = None,
        include_brackets: IncludeBrackets = None,
    ) -> m.ResponseItemList:
        page = page_query(limit, order, after, before)
        return await responses.stored.input_items(tenant, response_id, page, includes(include, include_brackets))
