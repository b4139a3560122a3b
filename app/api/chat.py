"""``POST /v1/chat/completions``: decode, ``ChatService.create``, answer with Azure's JSON or its SSE stream."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.api.dto import wire_dto
from app.api.sse import chat_sse
from app.models import generated as m
from app.service.chat import ChatService
from app.wire.decode import decode_chat_request


class ChatCompletionsController(Controller):
    path = "/v1/chat/completions"
    tags = ["Chat"]

    @post(
        operation_id="createChatCompletion",
        summary="Create a chat completion (forwarded to Azure Chat Completions).",
        dto=wire_dto(m.CreateChatCompletionRequest, decode_chat_request),
        return_dto=None,
        status_code=200,
    )
    async def create_chat_completion(
        self, data: JSONBody[m.CreateChatCompletionRequest], chat: NamedDependency[ChatService]
    ) -> Response[m.CreateChatCompletionResponse]:
        result = await chat.create(data)
        if isinstance(result, bytes):
            return Response(content=result, media_type="application/json")  # type: ignore[arg-type]
        # An EventStream is a Response; Litestar sends it as it is, whatever the annotation documents.
        return chat_sse(result)  # type: ignore[return-value]
