"""``POST /v1/responses/compact``: the configured deployment summarises a conversation into a sealed item.

The summary is an ordinary response made through ``ResponsesService.create`` - the same translation, limits,
retries and metrics as ``POST /v1/responses`` - for the conversation followed by ``COMPACTION_PROMPT`` as the
last user message (a user message, not ``instructions``, so the client's own ``instructions`` stay what they
are: the conversation's system prompt). Compaction items already in the input are opened first, so a
compacted conversation can be compacted again.

What comes back is OpenAI's shape: the user messages as they were sent (so the user's own words are never
paraphrased), then one ``compaction`` item carrying the sealed summary, and the usage of the summary call.
"""

from __future__ import annotations

import time

from app.models import generated as m
from app.service.compaction import Compaction
from app.service.items import input_list
from app.service.responses import ResponsesService
from app.service.stored import store_off
from app.translate.response import new_id
from app.wire.errors import GatewayError, invalid_request

COMPACTION_PROMPT = """\
Compact the conversation above so that it can continue from your summary alone, without the messages \
themselves. Write a faithful summary that another assistant can pick up from. Keep:
- the user's goals, requirements and constraints, and anything they asked to be remembered;
- decisions, agreements and conclusions reached so far;
- facts, names, numbers, dates, code words, identifiers, file paths and code exactly as written;
- tool calls that were made and what they returned;
- open questions and what the next step is.
Leave out greetings and filler. Do not address the user, do not add anything that was not said, and \
write in the language of the conversation. Answer with the summary only."""

_NO_USAGE = m.ResponseUsage(
    input_tokens=0,
    input_tokens_details=m.InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
    output_tokens=0,
    output_tokens_details=m.OutputTokensDetails(reasoning_tokens=0),
    total_tokens=0,
)


class CompactService:
    def __init__(self, responses: ResponsesService, compaction: Compaction) -> None:
        self.responses = responses
        self.compaction = compaction

    async def compact(self, request: m.CompactResponseRequest, tenant: str = "") -> m.ResponseCompaction:
        """``previous_response_id``: the stored chain it ends comes first, as in a create."""
        kept = [*await self._history(request, tenant), *input_list(request.input)]
        if not kept:
            raise invalid_request("There is nothing to compact: send the conversation in `input`.", param="input")
        summarise = m.CreateResponse(
            input=[*kept, m.InputMessage(role="user", content=COMPACTION_PROMPT)],
            instructions=request.instructions,
            prompt_cache_key=request.prompt_cache_key,
            prompt_cache_retention=request.prompt_cache_retention,
            prompt_cache_options=request.prompt_cache_options,
            service_tier=request.service_tier,
            store=False,
        )
        answer = await self.responses.create(summarise, tenant)
        if not isinstance(answer, m.Response):  # stream is not set, so this is the finished Response
            raise TypeError("ResponsesService.create streamed a request without stream: true")
        summary = _text(answer)
        if not summary.strip():
            raise GatewayError(
                502,
                "The Azure deployment returned an empty summary; the conversation was not compacted.",
                code="compaction_failed",
            )
        created = int(time.time())
        sealed = self.compaction.seal(summary, created)
        output: list[m.CompactedItem] = [_kept(item) for item in kept if _is_user_message(item)]
        output.append(m.CompactionItem(id=new_id("cmp"), encrypted_content=sealed))
        return m.ResponseCompaction(
            id=new_id("resp"),
            object="response.compaction",
            output=output,
            created_at=created,
            usage=answer.usage or _NO_USAGE,
        )


    async def _history(self, request: m.CompactResponseRequest, tenant: str) -> list[m.InputItem]:
        previous = request.previous_response_id
        if not isinstance(previous, str):
            return []
        history = await self.responses.stored.history(tenant, previous)
        if history is None:
            raise store_off("previous_response_id", "previous_response_id")
        return history


def _text(response: m.Response) -> str:
    return "".join(
        part.text
        for item in response.output
        if isinstance(item, m.OutputMessage)
        for part in item.content
        if isinstance(part, m.OutputTextContent)
    )


def _is_user_message(item: m.InputItem) -> bool:
    return isinstance(item, m.InputMessage) and item.role == "user"


def _kept(item: m.InputItem) -> m.CompactedMessage:
    assert isinstance(item, m.InputMessage)
    content = item.content
    parts: list[m.InputMessageContent] = [m.InputTextContent(text=content)] if isinstance(content, str) else content
    return m.CompactedMessage(
        id=item.id if isinstance(item.id, str) else new_id("msg"), status="completed", role="user", content=parts
    )
