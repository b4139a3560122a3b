"""`POST /v1/chat/completions`: forwarded to Azure; Azure's answer comes back unchanged.

With `stream: true`, Azure's server-sent events are passed through one by one as they arrive.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.api.dto import wire_dto
from app.api.sse import chat_events, open_events
from app.models import generated as m
from app.service.azure import Gateway
from app.service.azure_errors import malformed_reply
from app.telemetry import observe
from app.translate.chat import chat_for_azure
from app.wire.decode import decode_chat_request

_CHAT_RESPONSE = msgspec.json.Decoder(m.CreateChatCompletionResponse)


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
        self, data: JSONBody[m.CreateChatCompletionRequest], gateway: NamedDependency[Gateway]
    ) -> Response[m.CreateChatCompletionResponse]:
        request = chat_for_azure(data, gateway.options)
        if request.stream is True:
            # An EventStream is a Response; Litestar sends it as it is, whatever the annotation documents.
            return await open_events(gateway.open_stream(request), chat_events)  # type: ignore[return-value]
        body = await gateway.complete(request)
        # Validate, but send Azure's own bytes: its extra fields (prompt_filter_results,
        # content_filter_results, context) must reach the client unchanged, and re-encoding costs time.
        try:
            chat = _CHAT_RESPONSE.decode(body)
        except msgspec.DecodeError as exc:
            raise malformed_reply(str(exc)) from None
        observe.count_usage(chat.usage, gateway.settings.openai_model)
        return Response(content=body, media_type="application/json")  # type: ignore[arg-type]
