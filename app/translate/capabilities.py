"""What Azure's Chat Completions accepts, per api-version: the one table the translator consults.

Facts come from Azure's published inference specs and its API-version lifecycle notes:
- 2024-02-01 and 2024-06-01 (GA) know neither `max_completion_tokens` nor structured outputs.
- 2024-08-01-preview added `response_format: json_schema`.
- 2024-09-01-preview added `max_completion_tokens`, `parallel_tool_calls` and `stream_options`;
  2024-10-21 (GA) has all of those, but no `reasoning_effort`, `developer` role, `store`, `metadata`,
  `service_tier`, `prediction`, audio or file parts.
- 2024-12-01-preview added `reasoning_effort` and the `developer` role; later previews, and the
  `preview`, `latest` and `v1` values, accept everything the gateway sends.

A dated version missing from the table gets the capabilities of the newest listed version at or before
its date, so a new GA or preview keeps working without a code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Capabilities:
    api_version: str
    json_schema: bool = False
    max_completion_tokens: bool = False
    parallel_tool_calls: bool = False
    stream_options: bool = False
    reasoning_effort: bool = False
    developer_role: bool = False
    store: bool = False
    metadata: bool = False
    service_tier: bool = False
    prompt_cache_key: bool = False
    verbosity: bool = False
    input_audio: bool = False
    file_parts: bool = False


# The first api-version that accepts each capability; used in error messages.
FIRST_VERSION = {
    "json_schema": "2024-08-01-preview",
    "max_completion_tokens": "2024-09-01-preview",
    "parallel_tool_calls": "2024-09-01-preview",
    "stream_options": "2024-09-01-preview",
    "reasoning_effort": "2024-12-01-preview",
    "developer_role": "2024-12-01-preview",
    "store": "2025-01-01-preview",
    "metadata": "2025-01-01-preview",
    "service_tier": "2025-01-01-preview",
    "prompt_cache_key": "2025-01-01-preview",
    "verbosity": "2025-01-01-preview",
    "input_audio": "2025-01-01-preview",
    "file_parts": "2025-01-01-preview",
}

_ALL = {name: True for name in FIRST_VERSION}

_GA_2024_10_21 = {"json_schema": True, "max_completion_tokens": True, "parallel_tool_calls": True,
                  "stream_options": True}  # fmt: skip
_REASONING = {**_GA_2024_10_21, "reasoning_effort": True, "developer_role": True}

_TABLE: dict[str, dict[str, bool]] = {
    "2024-02-01": {},
    "2024-06-01": {},
    "2024-08-01-preview": {"json_schema": True},
    "2024-09-01-preview": _GA_2024_10_21,
    "2024-10-01-preview": _GA_2024_10_21,
    "2024-10-21": _GA_2024_10_21,
    "2024-12-01-preview": _REASONING,
    "2025-01-01-preview": _ALL,
    "2025-02-01-preview": _ALL,
    "2025-03-01-preview": _ALL,
    "2025-04-01-preview": _ALL,
    "preview": _ALL,
    "latest": _ALL,
    "v1": _ALL,
}

_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?$")


def capabilities_for(api_version: str) -> Capabilities:
    """The capabilities of `api_version`; an unknown dated version takes its newest predecessor's."""
    if api_version in _TABLE:
        return Capabilities(api_version, **_TABLE[api_version])
    match = _DATED.match(api_version)
    if match:
        date = match.group(1)
        known = sorted(
            (m.group(1), version)
            for version in _TABLE
            if (m := _DATED.match(version)) and m.group(1) <= date
        )
        if known:
            return replace(Capabilities(api_version, **_TABLE[known[-1][1]]), api_version=api_version)
    # Not a form Azure uses; assume the oldest behaviour so nothing unsupported is sent.
    return Capabilities(api_version)
