"""Settings that change how the translator behaves, taken from the gateway's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.translate.capabilities import Capabilities, capabilities_for


@dataclass(frozen=True, slots=True)
class TranslationOptions:
    deployment: str
    capabilities: Capabilities = field(default_factory=lambda: capabilities_for("2024-10-21"))
    # How replayed `reasoning` input items reach Azure: dropped, or as `<think>` blocks (NeMo Gym's way).
    reasoning_replay: Literal["drop", "think_tags"] = "drop"
    # Whether `<think>…</think>` in Azure's text becomes a reasoning item. Off: no text is altered silently.
    reasoning_parser: Literal["off", "think_tags"] = "off"
    # Which Chat parameter carries `max_output_tokens`; "auto" decides by api-version, never by deployment name.
    token_limit_parameter: Literal["auto", "max_completion_tokens", "max_tokens"] = "auto"
    # Tools OpenAI would run on its servers: left out of the Chat request (and reported), or a 400.
    hosted_tools: Literal["omit", "reject"] = "omit"
