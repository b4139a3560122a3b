"""Deterministic, conversation-aware answers in the exact ``chat.completion`` shape Azure returns.

Not a language model, but enough of one that a client can be exercised end to end: it echoes the user,
calls a tool when the request offers one that fits, answers from a tool result, honours
``response_format`` and ``max_tokens`` and counts tokens stably. Every decision is a pure function of the
request, so tests can assert exact content; only ids and ``created`` vary.

Split in two steps so scripted replies and (later) streaming reuse the second one: :func:`plan_answers`
decides *what* to say (content / tool calls / finish_reason per choice), :func:`build_completion` wraps
any such answers in Azure's envelope with content-filter results and usage.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from app.emulator.samples import SampleContext, sample
from app.emulator.schema import (
    AssistantMessage,
    ChatCompletionRequest,
    FunctionMessage,
    ImagePart,
    Message,
    NamedToolChoice,
    RefusalPart,
    ResponseFormatJsonObject,
    ResponseFormatJsonSchema,
    TextPart,
    ToolMessage,
    UserMessage,
)

__all__ = [
    "Answer",
    "ToolCallPlan",
    "build_completion",
    "count_tokens",
    "plan_answers",
    "prompt_tokens",
    "tool_call_id",
]

_TOKEN: Final = re.compile(r"\w+|[^\w\s]")
_WORD: Final = re.compile(r"[a-z0-9]+")
_NUMBER: Final = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_PROPER: Final = re.compile(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_ACRONYM: Final = re.compile(r"\b[A-Z]{2,5}\b")
_PLACE_PREPOSITIONS: Final = frozenset({"in", "at", "near", "to", "from", "for", "around", "of"})
_ALNUM: Final = string.ascii_letters + string.digits

# Words that carry no topic: articles, pronouns, auxiliaries, question words and the generic verbs tool
# names start with (get_, set_, fetch_...). Matching on them would call a tool for any sentence.
_STOPWORD_TEXT: Final = """
    a an the and or but if then else of to in on at by for with from into onto about as is are was were be
    been being am do does did doing have has had having can could will would shall should may might must
    i me my mine you your yours he him his she her hers it its we us our they them their this that these
    those there here what whats which who whom whose when where why how all any some each every no not
    yes please tell give show let get gets set sets fetch call use run make want need like know today now
    current currently also just very much many more most other such than too only own same so out up down
    over under again further once new one two given returns return value data information info"""
STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())

SAFE: Final = {"filtered": False, "severity": "safe"}


def tokenize(text: str) -> list[str]:
    """Word runs and single punctuation marks: a stable, tokenizer-free stand-in for BPE counts."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def tool_call_id() -> str:
    """``call_`` + 24 alphanumerics, the format OpenAI/Azure use."""
    return "call_" + "".join(secrets.choice(_ALNUM) for _ in range(24))


def message_text(message: Message) -> str:
    """The plain text of a message (text parts joined; images and refusals contribute nothing)."""
    content: Any = getattr(message, "content", None)
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append(part.text)
        elif isinstance(part, RefusalPart):
            parts.append(part.refusal)
        elif isinstance(part, ImagePart):
            parts.append("[image]")
    return "\n".join(parts)


def prompt_tokens(request: ChatCompletionRequest) -> int:
    # Like OpenAI's accounting: a few tokens of framing per message and for the reply primer, plus the
    # serialised tool definitions (which really are billed as prompt tokens).
    total = 3
    for message in request.messages:
        total += 3 + count_tokens(message_text(message))
        if isinstance(message, AssistantMessage) and message.tool_calls:
            for call in message.tool_calls:
                total += count_tokens(call.function.name) + count_tokens(call.function.arguments)
    for tool in request.tools or []:
        total += count_tokens(json.dumps(tool.function.parameters or {})) + count_tokens(tool.function.name)
        total += count_tokens(tool.function.description or "")
    return total


# Planning -------------------------------------------------------------------------------------------------


@dataclass
class ToolCallPlan:
    name: str
    arguments: str
    id: str = field(default_factory=tool_call_id)


@dataclass
class Answer:
    """One choice's assistant message before it is wrapped: text and/or tool calls, and why it ended."""

    content: str | None
    finish_reason: str
    tool_calls: list[ToolCallPlan] = field(default_factory=list)
    function_call: ToolCallPlan | None = None  # deprecated `functions` API
    refusal: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # scripted fields passed through verbatim


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOPWORDS}


def _stem(word: str) -> str:
    # Enough normalisation for "forecasts"/"forecast", "cities"/"city"; not a real stemmer.
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _tool_words(name: str, description: str | None) -> set[str]:
    # Names split on "_" / "-" and camelCase: get_weather, getWeather and get-weather all give {"weather"}.
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    return _words(spaced) | _words(description or "")


def _last_user_text(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if isinstance(message, UserMessage):
            return message_text(message)
    return ""


def _context(messages: Sequence[Message], default_text: str) -> SampleContext:
    user_text = _last_user_text(messages)
    nouns: list[str] = []
    placed: list[str] = []  # after "in/at/near/...": the strongest hint of a place
    for match in _PROPER.finditer(user_text):
        phrase = match.group(0)
        # Skip question words and the like that are capitalised only because they start a sentence
        # ("What's", "Tell") or always are ("I"); mid-sentence "New York" keeps its "New".
        head = phrase.split()[0].lower().split("'")[0]
        sentence_start = (
            not user_text[: match.start()].strip() or user_text[: match.start()].rstrip()[-1] in ".!?"
        )
        if head in STOPWORDS and (sentence_start or head == "i"):
            words = phrase.split()[1:]
            if not words:
                continue
            phrase = " ".join(words)
        phrase = phrase[:-2] if phrase.endswith("'s") else phrase
        before = user_text[: match.start()].split()
        (placed if before and before[-1].lower() in _PLACE_PREPOSITIONS else nouns).append(phrase)
    return SampleContext(
        # Best candidate first: a place after a preposition, else the latest capitalised phrase.
        proper_nouns=[*placed, *reversed(nouns)],
        acronyms=_ACRONYM.findall(user_text),
        numbers=[float(n) for n in _NUMBER.findall(user_text)],
        free_text=user_text,
        default_text=default_text,
        words=frozenset(_WORD.findall(user_text.lower())),
    )


def _arguments(parameters: dict[str, Any] | None, messages: Sequence[Message]) -> str:
    schema = parameters or {"type": "object", "properties": {}}
    return json.dumps(sample(schema, _context(messages, _last_user_text(messages) or "example")))


def _text_answer(messages: Sequence[Message]) -> str:
    last = messages[-1]
    if isinstance(last, ToolMessage | FunctionMessage):
        return f"Based on the tool result: {message_text(last)}"
    user_text = _last_user_text(messages).strip()
    if user_text:
        return f"You said: {user_text}"
    return "Hello! How can I help you today?"


def _pick_tools(request: ChatCompletionRequest) -> list[tuple[str, dict[str, Any] | None]]:
    tools = [(t.function.name, t.function.parameters, t.function.description) for t in request.tools or []]
    if not tools:
        return []
    choice = request.tool_choice or "auto"
    if choice == "none":
        return []
    if isinstance(choice, NamedToolChoice):
        return [(name, params) for name, params, _ in tools if name == choice.function.name][:1]
    last = request.messages[-1]
    matching: list[tuple[str, dict[str, Any] | None]] = []
    if isinstance(last, UserMessage):
        said = _words(message_text(last))
        matching = [(name, params) for name, params, desc in tools if said & _tool_words(name, desc)]
    if choice == "required" and not matching:
        matching = [(tools[0][0], tools[0][1])]
    if request.parallel_tool_calls is False:
        matching = matching[:1]
    return matching


def _pick_function(request: ChatCompletionRequest) -> tuple[str, dict[str, Any] | None] | None:
    """The deprecated ``functions``/``function_call`` pair: at most one call, finish_reason function_call."""
    functions = request.functions or []
    choice = request.function_call or "auto"
    if not functions or choice == "none":
        return None
    if not isinstance(choice, str):
        found = [(f.name, f.parameters) for f in functions if f.name == choice.name]
        return found[0] if found else None
    last = request.messages[-1]
    if isinstance(last, UserMessage):
        said = _words(message_text(last))
        for f in functions:
            if said & _tool_words(f.name, f.description):
                return f.name, f.parameters
    return None


def _truncate(text: str, limit: int | None) -> tuple[str, bool]:
    if limit is None:
        return text, False
    spans = list(_TOKEN.finditer(text))
    if len(spans) <= limit:
        return text, False
    return text[: spans[limit - 1].end()], True


def plan_answers(request: ChatCompletionRequest) -> list[Answer]:
    """Decide every choice's message for ``request`` (``n`` identical choices; ids differ per call)."""
    count = request.n or 1
    return [_plan_one(request) for _ in range(count)]


def _plan_one(request: ChatCompletionRequest) -> Answer:
    messages = request.messages
    calls = _pick_tools(request)
    if calls:
        return Answer(
            content=None,
            finish_reason="tool_calls",
            tool_calls=[ToolCallPlan(name, _arguments(params, messages)) for name, params in calls],
        )
    legacy = _pick_function(request)
    if legacy is not None:
        name, params = legacy
        return Answer(None, "function_call", function_call=ToolCallPlan(name, _arguments(params, messages)))

    text = _text_answer(messages)
    response_format = request.response_format
    if isinstance(response_format, ResponseFormatJsonSchema):
        schema = response_format.json_schema.schema or {"type": "object"}
        text = json.dumps(sample(schema, _context(messages, text)))
    elif isinstance(response_format, ResponseFormatJsonObject):
        text = json.dumps({"answer": text})
    limit = request.max_completion_tokens or request.max_tokens
    text, cut = _truncate(text, limit)
    return Answer(text, "length" if cut else "stop")


# Wrapping -------------------------------------------------------------------------------------------------


def _message(answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.content, "refusal": answer.refusal}
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in answer.tool_calls
        ]
    if answer.function_call is not None:
        fc = answer.function_call
        message["function_call"] = {"name": fc.name, "arguments": fc.arguments}
    message.update(answer.extra)
    return message


def completion_tokens(answers: Iterable[Answer]) -> int:
    total = 0
    for answer in answers:
        total += count_tokens(answer.content or "") + count_tokens(answer.refusal or "")
        calls = [*answer.tool_calls, *([answer.function_call] if answer.function_call else [])]
        total += sum(count_tokens(c.name) + count_tokens(c.arguments) for c in calls)
    return total


def usage_block(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "completion_tokens": completion,
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
    }


def token_logprobs(text: str | None, top: int) -> dict[str, Any]:
    """Choice ``logprobs`` for ``text``: one entry per token, each with ``top`` alternatives (itself first)."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    content = []
    for token in tokenize(text or ""):
        alternatives = [entry(token, 0.0), *(entry(f"{token}{k}", -float(k)) for k in range(1, top))][:top]
        content.append({**entry(token, 0.0), "top_logprobs": alternatives})
    return {"content": content, "refusal": None}


def build_completion(
    answers: Sequence[Answer],
    *,
    model: str,
    system_fingerprint: str,
    prompt: int,
    usage: dict[str, Any] | None = None,
    logprobs: int | None = None,
) -> dict[str, Any]:
    """Azure's non-streaming ``chat.completion`` body, field order as the service sends it.

    ``usage`` (from a scripted reply) overrides the computed counts key by key. ``logprobs`` is the request's
    ``top_logprobs`` when it asked for ``logprobs: true`` (None otherwise).
    """
    computed = usage_block(prompt, completion_tokens(answers))
    if usage:
        computed.update(usage)
    return {
        "choices": [
            {
                "content_filter_results": {
                    "hate": SAFE,
                    "self_harm": SAFE,
                    "sexual": SAFE,
                    "violence": SAFE,
                },
                "finish_reason": answer.finish_reason,
                "index": index,
                "logprobs": None if logprobs is None else token_logprobs(answer.content, logprobs),
                "message": _message(answer),
            }
            for index, answer in enumerate(answers)
        ],
        "created": int(time.time()),
        "id": "chatcmpl-" + uuid.uuid4().hex[:29],
        "model": model,
        "object": "chat.completion",
        "prompt_filter_results": [
            {
                "prompt_index": 0,
                "content_filter_results": {
                    "hate": SAFE,
                    "jailbreak": {"filtered": False, "detected": False},
                    "self_harm": SAFE,
                    "sexual": SAFE,
                    "violence": SAFE,
                },
            }
        ],
        "system_fingerprint": system_fingerprint,
        "usage": computed,
    }
