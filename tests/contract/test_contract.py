"""The code matches the contract: what Litestar derives from the handlers agrees with openapi.yaml.

openapi.yaml is hand-written and is what users get; the Structs are generated from it (test_models_fresh)
and the handlers are typed with them. This test closes the loop on the handlers: same operations, same
request and 200 response components, and the components themselves have the same fields. It also checks
that the documents the gateway serves are the file itself, and never carry the Azure key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import AZURE_KEY, gateway_settings

from app.api.factory import create_app

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_bytes())


@pytest.fixture(scope="module")
def derived() -> dict[str, Any]:
    app = create_app(gateway_settings("http://127.0.0.1:9"))
    return app.openapi_schema.to_schema()


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): op
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
        if method in METHODS
    }


def _ref(content_holder: dict[str, Any]) -> str:
    """The component name a requestBody/response's application/json schema refers to."""
    ref = content_holder["content"]["application/json"]["schema"]["$ref"]
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    return ref[len(prefix) :]


def test_same_operations(contract: dict[str, Any], derived: dict[str, Any]) -> None:
    assert set(_operations(derived)) == set(_operations(contract))
    assert set(_operations(contract)) == {
        ("/v1/responses", "post"),
        ("/v1/responses/{response_id}", "get"),
        ("/v1/responses/{response_id}", "delete"),
        ("/v1/responses/{response_id}/input_items", "get"),
        ("/v1/responses/{response_id}/cancel", "post"),
        ("/v1/conversations", "post"),
        ("/v1/conversations/{conversation_id}", "get"),
        ("/v1/conversations/{conversation_id}", "post"),
        ("/v1/conversations/{conversation_id}", "delete"),
        ("/v1/conversations/{conversation_id}/items", "post"),
        ("/v1/conversations/{conversation_id}/items", "get"),
        ("/v1/conversations/{conversation_id}/items/{item_id}", "get"),
        ("/v1/conversations/{conversation_id}/items/{item_id}", "delete"),
        ("/v1/responses/compact", "post"),
        ("/v1/chat/completions", "post"),
        ("/v1/models", "get"),
        ("/v1/models/{model}", "get"),
    }


def test_same_operation_ids(contract: dict[str, Any], derived: dict[str, Any]) -> None:
    ours, theirs = _operations(contract), _operations(derived)
    for key, op in ours.items():
        assert theirs[key]["operationId"] == op["operationId"], key


def test_request_bodies_reference_the_same_component(contract: dict[str, Any], derived: dict[str, Any]) -> None:
    ours, theirs = _operations(contract), _operations(derived)
    for key, op in ours.items():
        assert ("requestBody" in theirs[key]) == ("requestBody" in op), key
        if "requestBody" not in op:  # a GET
            continue
        assert _ref(theirs[key]["requestBody"]) == _ref(op["requestBody"]), key
        assert theirs[key]["requestBody"].get("required") is True, key


def test_200_responses_reference_the_same_component(contract: dict[str, Any], derived: dict[str, Any]) -> None:
    ours, theirs = _operations(contract), _operations(derived)
    components = contract["components"]["schemas"]
    for key, op in ours.items():
        name = _ref(op["responses"]["200"])
        derived_schema = theirs[key]["responses"]["200"]["content"]["application/json"]["schema"]
        if "oneOf" in components[name]:
            # A union (ItemResource) is a type alias in the code: Litestar inlines its members.
            members = {ref["$ref"] for ref in components[name]["oneOf"]}
            assert {ref["$ref"] for ref in derived_schema["oneOf"]} == members, key
            continue
        assert _ref(theirs[key]["responses"]["200"]) == name, key


def test_shared_components_have_the_same_fields(contract: dict[str, Any], derived: dict[str, Any]) -> None:
    """Every component both documents name has the same properties and required list."""
    ours, theirs = contract["components"]["schemas"], derived["components"]["schemas"]
    shared = sorted(set(ours) & set(theirs))
    assert {"CreateResponse", "Response", "CreateChatCompletionRequest", "CreateChatCompletionResponse"} <= set(shared)
    for name in shared:
        assert set(theirs[name].get("properties", {})) == set(ours[name].get("properties", {})), name
        assert set(theirs[name].get("required", [])) == set(ours[name].get("required", [])), name


def test_openapi_yaml_served_byte_for_byte(http: httpx.Client) -> None:
    reply = http.get("/openapi.yaml")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/yaml")
    assert reply.content == SPEC_PATH.read_bytes()


def test_openapi_json_is_the_yaml_parsed(http: httpx.Client) -> None:
    reply = http.get("/openapi.json")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == json.loads(json.dumps(yaml.safe_load(SPEC_PATH.read_bytes())))


@pytest.mark.parametrize("path", ["/openapi.yaml", "/openapi.json", "/_litestar/openapi.json", "/docs"])
def test_served_documents_never_hold_the_key(http: httpx.Client, path: str) -> None:
    reply = http.get(path)
    assert reply.status_code == 200, path
    assert AZURE_KEY not in reply.text
