"""Which request features each Azure OpenAI data-plane ``api-version`` accepts.

Real Azure rejects a body field the requested version does not know with "Unrecognized request argument
supplied", so a client (our gateway) that forwards e.g. ``reasoning_effort`` at 2024-10-21 must see that
400 in tests too. The table only records the fields and roles that changed across versions; everything else
in the request schema is accepted by all of them. Sources: Azure's "API version lifecycle" page and the
contents of the published inference specs (see the project's azure notes).
"""

from __future__ import annotations

from typing import Final

import msgspec

__all__ = ["KNOWN_API_VERSIONS", "VersionFeatures", "features_for"]

# Fields that arrived after 2024-06-01 (the oldest version we emulate). Any top-level request field not in
# this set and not in the base schema is unknown to every version.
_SEPT_2024: Final = frozenset({"max_completion_tokens", "parallel_tool_calls", "stream_options"})
_REASONING_ERA: Final = frozenset(
    {"reasoning_effort", "store", "metadata", "service_tier", "prediction", "audio", "modalities",
     # GPT-5-era fields; the newest previews and the floating aliases take them.
     "prompt_cache_key", "verbosity"}
)  # fmt: skip
BASE_ROLES: Final = ("system", "assistant", "user", "function", "tool")


class VersionFeatures(msgspec.Struct, frozen=True):
    """Optional request fields and message roles one api-version accepts."""

    optional_fields: frozenset[str]
    roles: tuple[str, ...]
    json_schema_format: bool
    # User content parts beyond text and image_url (``file``, ``input_audio``), from the 2024-12 era on.
    media_parts: bool = False


_GA_2024_02: Final = VersionFeatures(frozenset(), BASE_ROLES, json_schema_format=False)
_STRUCTURED: Final = VersionFeatures(frozenset(), BASE_ROLES, json_schema_format=True)
_O1_PREVIEW: Final = VersionFeatures(_SEPT_2024, BASE_ROLES, json_schema_format=True)
_EVERYTHING: Final = VersionFeatures(
    _SEPT_2024 | _REASONING_ERA, (*BASE_ROLES, "developer"), json_schema_format=True, media_parts=True
)

# 2024-10-21 is the GA that folded in 2024-09-01-preview (and nothing newer). Dated previews from
# 2024-12-01-preview on, and the floating aliases, accept every field we know about.
KNOWN_API_VERSIONS: Final[dict[str, VersionFeatures]] = {
    "2024-02-01": _GA_2024_02,
    "2024-06-01": _GA_2024_02,
    "2024-08-01-preview": _STRUCTURED,
    "2024-09-01-preview": _O1_PREVIEW,
    "2024-10-01-preview": _O1_PREVIEW,
    "2024-10-21": _O1_PREVIEW,
    "2024-12-01-preview": _EVERYTHING,
    "2025-01-01-preview": _EVERYTHING,
    "2025-02-01-preview": _EVERYTHING,
    "2025-03-01-preview": _EVERYTHING,
    "2025-04-01-preview": _EVERYTHING,
    "preview": _EVERYTHING,
    "latest": _EVERYTHING,
    # The v1 surface's own (optional) api-version.
    "v1": _EVERYTHING,
}

# Every field that is version-gated; fields outside it are accepted by all versions.
GATED_FIELDS: Final = _SEPT_2024 | _REASONING_ERA


def features_for(api_version: str) -> VersionFeatures | None:
    """The feature set for ``api_version``, or None when Azure would answer "API version not supported"."""
    return KNOWN_API_VERSIONS.get(api_version)
