"""Azure OpenAI error bodies, byte-for-byte in the shapes the live service sends.

Azure has two error dialects and clients branch on them, so the emulator keeps both:

* the gateway/APIM layer (auth, routing, api-version, deployment) answers ``{"error": {"code", "message"}}``
  with a string ``code`` such as ``"401"`` or ``"DeploymentNotFound"``;
* the model layer (request validation) answers OpenAI's shape
  ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}``.

Handlers raise :class:`AzureError`; one exception handler turns it into a response, so every error path
gets the ``apim-request-id`` header the same way.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "AzureError",
    "api_version_missing",
    "api_version_unsupported",
    "deployment_not_found",
    "invalid_json",
    "invalid_request",
    "invalid_role",
    "resource_not_found",
    "unauthorized_bearer",
    "unauthorized_key",
    "unrecognized_argument",
]

ACCESS_DENIED: Final = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
BEARER_DENIED: Final = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
DEPLOYMENT_MISSING: Final = (
    "The API deployment for this resource does not exist. If you created the deployment within the last "
    "5 minutes, please wait a moment and try again."
)
JSON_UNPARSEABLE: Final = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
)


class AzureError(Exception):
    """An HTTP error response as Azure would send it: status, JSON body and any extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def _gateway(status: int, code: str, message: str) -> AzureError:
    return AzureError(status, {"error": {"code": code, "message": message}})


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> AzureError:
    """A 400 in the model layer's (OpenAI's) shape."""
    return AzureError(
        400, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    )


def resource_not_found() -> AzureError:
    return _gateway(404, "404", "Resource not found")


def api_version_missing() -> AzureError:
    # Azure routes on api-version: without it the URL matches no operation, hence a plain 404.
    return resource_not_found()


def api_version_unsupported() -> AzureError:
    return _gateway(400, "BadRequest", "API version not supported")


def unauthorized_key() -> AzureError:
    return _gateway(401, "401", ACCESS_DENIED)


def unauthorized_bearer() -> AzureError:
    return _gateway(401, "401", BEARER_DENIED)


def deployment_not_found() -> AzureError:
    return _gateway(404, "DeploymentNotFound", DEPLOYMENT_MISSING)


def unrecognized_argument(name: str) -> AzureError:
    return invalid_request(f"Unrecognized request argument supplied: {name}")


def invalid_json() -> AzureError:
    return invalid_request(JSON_UNPARSEABLE)


def invalid_role(value: object, index: int, supported: tuple[str, ...]) -> AzureError:
    quoted = [f"'{r}'" for r in supported]
    listing = ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    return invalid_request(
        f"Invalid value: '{value}'. Supported values are: {listing}.",
        param=f"messages[{index}].role",
        code="invalid_value",
    )
