"""The app factory: settings in, a ready Litestar app out."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from app import __version__
from app.auth import api_key_guard
from app.config import Settings
from app.context import RequestIdApp
from app.controllers.chat import ChatCompletionsController
from app.controllers.docs import DocsController, docs_static
from app.controllers.responses import ResponsesController
from app.errors import EXCEPTION_HANDLERS
from app.gateway import Gateway
from app.timing import ServerTimingMiddleware
from app.upstream.client import AzureChatClient


def create_app(settings: Settings) -> RequestIdApp:
    """Build the gateway for `settings`; the Azure client lives as long as the app."""
    gateway = Gateway(settings, AzureChatClient(settings))

    def provide_gateway() -> Gateway:
        return gateway

    guard = api_key_guard(settings)
    app = RequestIdApp(
        route_handlers=[ResponsesController, ChatCompletionsController, DocsController, docs_static],
        dependencies={"gateway": Provide(provide_gateway, use_cache=True, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        on_shutdown=[gateway.aclose],
        # Litestar derives a schema from the handlers; tests compare it with openapi.yaml. Users get the
        # hand-written file (DocsController); the derived one is kept, as JSON only and with no CDN-loaded
        # pages, at /_litestar/openapi.json for debugging the two against each other.
        openapi_config=OpenAPIConfig(
            title="azure-openai-gateway", version=__version__, path="/_litestar", render_plugins=[JsonRenderPlugin()]
        ),
        state=State({"gateway": gateway}),
        guards=[guard] if guard else [],
        request_max_body_size=settings.max_body_bytes,
    )
    # Outside Litestar's own stack (not `middleware=`), so every response, errors and 404s included, gets it.
    app.asgi_handler = ServerTimingMiddleware(app.asgi_handler)
    return app
