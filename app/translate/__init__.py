"""Pure translation between the Responses API and Azure Chat Completions: no I/O, no globals.

Request side: `request.responses_to_chat` turns a `CreateResponse` into a `CreateChatCompletionRequest`
(its input items through `messages`, its tools through `tools`; `chat.chat_for_azure` adapts a Chat
request for the passthrough). Answer side: `response.chat_to_response` turns Azure's answer into a
`Response`; `stream.ResponseStream` does the same chunk by chunk, keeping its items in `stream_items`.
All consult `capabilities` for what the configured api-version accepts; `params` holds the shared
refusals (transport-neutral `GatewayError`s).
"""

from app.translate.capabilities import Capabilities, capabilities_for
from app.translate.options import TranslationOptions
from app.translate.request import responses_to_chat
from app.translate.response import chat_to_response

__all__ = ["Capabilities", "TranslationOptions", "capabilities_for", "chat_to_response", "responses_to_chat"]
