"""Property-based contract tests: schemathesis generates requests from openapi.yaml and checks every reply.

The gateway runs under uvicorn with the Azure emulator upstream (the session fixtures), so each generated
request goes the whole way: decode → translate → Azure → translate back. Whatever the body, the gateway
must never answer 5xx, and every answer must be a status openapi.yaml documents with a body that conforms
to its schema (a Response, Azure's chat completion, or the error envelope).

Two runs:

* the whole contract, valid and invalid bodies: most valid Responses bodies use something Chat
  Completions cannot express (hosted tools, `conversation`, ...) and get a documented 400, so this run
  mostly proves the error paths;
* the translatable subset of `CreateResponse` (messages, function calls and outputs, function tools, the
  sampling and format parameters), valid bodies only, so generated requests do reach Azure and the 200
  `Response` the gateway builds is checked against the schema.

Bounded for CI: hypothesis `max_examples` per operation, derandomized, no example database.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
import yaml
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from support.fuzz_rules import omits_item_type

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"
MAX_EXAMPLES = 100

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)

# What the gateway translates for api-version 2024-10-21 (everything else is refused with a 400 by design).
TRANSLATABLE_PARAMETERS = {
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens",
    "temperature", "top_p", "text", "metadata", "user", "store", "truncation",
}  # fmt: skip
TRANSLATABLE_ITEMS = {"message", "function_call", "function_call_output"}
TRANSLATABLE_PARTS = {"input_text", "input_image", "output_text", "refusal"}


def _narrow_union(schema: dict[str, Any], keep: set[str]) -> None:
    """Keep only the members of a discriminated oneOf whose tag is in `keep`."""
    mapping = schema["discriminator"]["mapping"]
    refs = {ref for tag, ref in mapping.items() if tag in keep}
    schema["oneOf"] = [member for member in schema["oneOf"] if member["$ref"] in refs]
    schema["discriminator"]["mapping"] = {tag: ref for tag, ref in mapping.items() if tag in keep}


def translatable_spec() -> dict[str, Any]:
    spec = copy.deepcopy(yaml.safe_load(SPEC.read_bytes()))
    schemas = spec["components"]["schemas"]
    create = schemas["CreateResponse"]["properties"]
    for name in set(create) - TRANSLATABLE_PARAMETERS:
        del create[name]
    schemas["CreateResponse"]["properties"]["truncation"] = {"type": "string", "enum": ["disabled"]}
    _narrow_union(schemas["InputItem"], TRANSLATABLE_ITEMS)
    _narrow_union(schemas["InputMessageContent"], TRANSLATABLE_PARTS)
    _narrow_union(schemas["Tool"], {"function"})
    _narrow_union(schemas["ToolChoiceObject"], {"function", "allowed_tools"})
    for name in ("output_schema", "defer_loading", "allowed_callers"):
        del schemas["FunctionTool"]["properties"][name]
    schemas["FunctionCallOutputItem"]["properties"]["output"] = {"type": "string"}
    schemas["InputImageContent"]["required"] = ["type", "image_url"]
    schemas["InputImageContent"]["properties"]["image_url"] = {"type": "string", "minLength": 1}
    schemas["InputImageContent"]["properties"]["detail"] = {"type": "string", "enum": ["low", "high", "auto"]}
    del schemas["ResponseTextParam"]["properties"]["verbosity"]
    spec["paths"] = {"/v1/responses": spec["paths"]["/v1/responses"]}
    return spec


full_schema = schemathesis.openapi.from_path(SPEC)

translatable_schema = schemathesis.openapi.from_dict(translatable_spec())
translatable_schema.config.generation.update(modes=[GenerationMode.POSITIVE])


@pytest.fixture
def base_url(gateway_url: str, clean_emulator: object) -> str:
    return gateway_url


@full_schema.parametrize()
@SETTINGS
def test_gateway_conforms_to_openapi(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=30)
    checks = _checks_for(response)
    if omits_item_type(case.path, case.body):  # the documented deviation (tests/support/fuzz_rules.py)
        checks = [check for check in checks if check is not negative_data_rejection]
    case.validate_response(response, checks=checks)


@translatable_schema.parametrize()
@SETTINGS
def test_translatable_requests_conform(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=30)
    case.validate_response(response, checks=_checks_for(response))


def _checks_for(response: Any) -> list[Any]:
    """schemathesis reads an OpenAPI 3.1 event-stream `schema` as the SSE envelope ({data, event}), not the JSON
    in each data line, so it rejects every event of a valid stream; test_fuzz.py validates streamed events
    against the right schema instead."""
    streamed = (response.headers.get("content-type") or [""])[0].startswith("text/event-stream")
    return [check for check in CHECKS if not (streamed and check is response_schema_conformance)]
