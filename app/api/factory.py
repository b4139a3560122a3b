"""The app factory: settings in, a ready Litestar app out."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from app import __version__
from app.api.chat import ChatCompletionsController
from app.api.disconnect import CancelOnDisconnect
from app.api.docs import DocsController, docs_static
from app.api.errors import EXCEPTION_HANDLERS
from app.api.guards import api_key_guard
from app.api.health import Health, HealthController
from app.api.inbound import InboundGuard
from app.api.models import ModelsController
from app.api.outbound import Scrubbed
from app.api.responses import ResponsesController
from app.service.azure import Gateway
from app.service.chat import ChatService
from app.service.responses import ResponsesService
from app.settings import Settings
from app.telemetry.logs import logging_plugin
from app.telemetry.observe import LATENCY_BUCKETS, Observed
from app.upstream import AzureChatClient
from app.upstream.auth import TokenCredential


def create_app(settings: Settings, *, credential: TokenCredential | None = None) -> Litestar:
    """Build the gateway for `settings`; the Azure client lives as long as the app.

    ``credential`` replaces azure-identity's with ``auth = "entra_id"`` (tests pass a fake one).
    """
    client = AzureChatClient(settings, credential=credential)
    gateway = Gateway(settings, client)
    health = Health(settings, client)

    responses = ResponsesService(gateway)
    chat = ChatService(gateway)

    def provide_responses() -> ResponsesService:
        return responses

    def provide_chat() -> ChatService:
        return chat

    def provide_health() -> Health:
        return health

    guard = api_key_guard(settings)  # /v1/* only: probes, metrics and docs need no key
    app = Litestar(
        route_handlers=[
            ResponsesController,
            ChatCompletionsController,
            ModelsController,
            HealthController,
            MetricsController,
            DocsController,
            docs_static,
        ],
        dependencies={
            "responses": Provide(provide_responses, use_cache=True, sync_to_thread=False),
            "chat": Provide(provide_chat, use_cache=True, sync_to_thread=False),
            "health": Provide(provide_health, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        on_startup=[health.started],
        # Not ready from the first moment of shutdown, then the pool is closed.
        on_shutdown=[health.stopping, gateway.aclose],
        # Litestar derives a schema from the handlers; tests compare it with openapi.yaml. Users get the
        # hand-written file (DocsController); the derived one is kept, as JSON only and with no CDN-loaded
        # pages, at /_litestar/openapi.json for debugging the two against each other.
        openapi_config=OpenAPIConfig(
            title="azure-openai-gateway", version=__version__, path="/_litestar", render_plugins=[JsonRenderPlugin()]
        ),
        state=State({"gateway": gateway, "health": health, "settings": settings}),
        guards=[guard] if guard else [],
        request_max_body_size=settings.max_body_bytes,
        middleware=[PROMETHEUS.middleware],
        plugins=[logging_plugin(settings)],
    )
    # Outside Litestar's own stack (not `middleware=`), so every response - errors and 404s included - is
    # observed, logged once and carries x-request-id and Server-Timing; inside that, every body is read under
    # the inbound limits before Litestar sees it, a client that hangs up cancels its request's work
    # (app/api/disconnect.py, and the log line says so), and every response leaves scrubbed of credentials.
    app.asgi_handler = Observed(
        InboundGuard(CancelOnDisconnect(Scrubbed(app.asgi_handler)), settings), log_all=settings.access_log
    )
    return app


# Requests by route template and status, and their total latency (Litestar's Prometheus plugin). The
# route template, never the raw path, is the label: no unbounded values.
PROMETHEUS = PrometheusConfig(
    app_name="azure-openai-gateway",
    prefix="gateway",
    group_path=True,
    buckets=list(LATENCY_BUCKETS),
    exclude=["^/metrics$"],
)


class MetricsController(PrometheusController):
    """``GET /metrics``: Prometheus text format; with ``serve --workers N``, the sum over the workers."""

    path = "/metrics"
    include_in_schema = False
