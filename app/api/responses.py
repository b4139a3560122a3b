"""``POST /v1/responses`` (decode, ``ResponsesService.create``, answer with the JSON or the SSE stream) and
``POST /v1/responses/compact``. WebSocket mode on the same path is ``app.api.websocket``."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.api.dto import wire_dto
from app.api.sse import responses_sse
from app.models import generated as m
from app.service.compact import CompactService
from app.service.responses import ResponsesService
from app.wire.decode import decode_compact_request, decode_create_response


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
        self, data: JSONBody[m.CreateResponse], responses: NamedDependency[ResponsesService]
    ) -> m.Response:
        # The annotation is what Litestar documents (/_litestar/openapi.json) for the JSON case; a returned
        # EventStream is a Response instance, which Litestar sends as it is (it dispatches on the value).
        result = await responses.create(data)
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
        self, data: JSONBody[m.CompactResponseRequest], compact: NamedDependency[CompactService]
    ) -> m.ResponseCompaction:
        return await compact.compact(data)
