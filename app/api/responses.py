"""`POST /v1/responses`: Responses request → Chat request → Azure → Chat response → Response.

With `stream: true`, Azure's chunks are translated into Responses events as they arrive (`app.api.sse`).
"""

from __future__ import annotations

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.api.dto import wire_dto
from app.api.sse import open_events, response_events
from app.models import generated as m
from app.service.azure import Gateway
from app.service.azure_errors import malformed_reply
from app.telemetry import observe
from app.translate import chat_to_response, responses_to_chat
from app.translate.stream import ResponseStream
from app.wire.decode import decode_create_response

_CHAT_RESPONSE = msgspec.json.Decoder(m.CreateChatCompletionResponse)


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
        self, data: JSONBody[m.CreateResponse], gateway: NamedDependency[Gateway]
    ) -> m.Response:
        # The annotation is what Litestar documents (/_litestar/openapi.json) for the JSON case; a returned
        # EventStream is a Response instance, which Litestar sends as it is (it dispatches on the value).
        chat_request = responses_to_chat(data, gateway.options)
        if data.stream is True:
            translator = ResponseStream(data, gateway.options)
            return await open_events(  # type: ignore[return-value]
                gateway.open_stream(chat_request),
                lambda upstream, release: response_events(upstream, release, translator),
            )
        body = await gateway.complete(chat_request)
        try:
            chat = _CHAT_RESPONSE.decode(body)
        except msgspec.DecodeError as exc:
            raise malformed_reply(str(exc)) from None
        observe.count_usage(chat.usage, gateway.settings.openai_model)
        return chat_to_response(chat, data, gateway.options)
