"""Pure translation between the Responses API and Azure Chat Completions: no I/O, no globals.

`request.responses_to_chat` turns a `CreateResponse` into a `CreateChatCompletionRequest`;
`response.chat_to_response` turns Azure's `CreateChatCompletionResponse` back into a `Response`.
Both consult `capabilities` for what the configured api-version accepts.
"""

from app.translate.capabilities import Capabilities, capabilities_for
from app.translate.options import TranslationOptions
from app.translate.request import responses_to_chat
from app.translate.response import chat_to_response

__all__ = ["Capabilities", "TranslationOptions", "capabilities_for", "chat_to_response", "responses_to_chat"]
