"""The app factory: settings in, a ready Litestar app out."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from app import __version__
from app.api.allow import fix_allow
from app.api.chat import ChatCompletionsController
from app.api.conversations import ConversationsController
from app.api.disconnect import CancelOnDisconnect
from app.api.docs import DocsController, docs_static
from app.api.errors import EXCEPTION_HANDLERS
from app.api.guards import api_key_guard, tenant_provider
from app.api.health import Health, HealthController
from app.api.inbound import InboundGuard, body_routes
from app.api.models import ModelsController
from app.api.outbound import Scrubbed
from app.api.responses import ResponsesController
from app.api.websocket import SessionFactory, UpgradeErrors, remember_upgrade_error, responses_websocket
from app.service.azure import Gateway
from app.service.background import BackgroundRuns
from app.service.chat import ChatService
from app.service.compact import CompactService
from app.service.compaction import Compaction
from app.service.conversations import ConversationsService
from app.service.responses import ResponsesService
from app.service.stored import StoredResponses
from app.settings import Settings
from app.store import open_store
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

    # Retention in seconds (0 days: kept until deleted); a conversation is held by one response at a time,
    # for at most as long as a request may last.
    days = settings.store_retention_days
    store = open_store(settings.store_url, retention=days * 86400 if days > 0 else None)
    stored = StoredResponses(store, lock_ttl=settings.request_timeout)
    compaction = Compaction(settings.compaction_key.get_secret_value() if settings.compaction_key else None)
    background = BackgroundRuns(stored, heartbeat=settings.background_heartbeat_seconds)
    responses = ResponsesService(gateway, stored, compaction, background)
    compact = CompactService(responses, compaction)
    sessions = SessionFactory(responses, settings)
    conversations = ConversationsService(store)
    chat = ChatService(gateway)

    def provide_responses() -> ResponsesService:
        return responses

    def provide_compact() -> CompactService:
        return compact

    def provide_sessions() -> SessionFactory:
        return sessions

    def provide_chat() -> ChatService:
        return chat

    def provide_conversations() -> ConversationsService:
        return conversations

    def provide_health() -> Health:
        return health

    guard = api_key_guard(settings)  # /v1/* only: probes, metrics and docs need no key
    app = Litestar(
        route_handlers=[
            ResponsesController,
            responses_websocket,
            ConversationsController,
            ChatCompletionsController,
            ModelsController,
            HealthController,
            MetricsController,
            DocsController,
            docs_static,
        ],
        dependencies={
            "responses": Provide(provide_responses, use_cache=True, sync_to_thread=False),
            "compact": Provide(provide_compact, use_cache=True, sync_to_thread=False),
            "sessions": Provide(provide_sessions, use_cache=True, sync_to_thread=False),
            "chat": Provide(provide_chat, use_cache=True, sync_to_thread=False),
            "conversations": Provide(provide_conversations, use_cache=True, sync_to_thread=False),
            "tenant": Provide(tenant_provider(settings), sync_to_thread=False),
            "health": Provide(provide_health, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        after_exception=[remember_upgrade_error],
        # The store is opened (and migrated) before the gateway reports ready.
        on_startup=[stored.start, background.start, health.started, compaction.warn_if_ephemeral],
        # Not ready from the first moment of shutdown; background runs are failed and stopped (they need
        # the pool and the store), then the pool and the store are closed.
        on_shutdown=[health.stopping, background.stop, gateway.aclose, stored.stop],
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
    fix_allow(app)
    # Outside Litestar's own stack (not `middleware=`), so every response - errors and 404s included - is
    # observed, logged once and carries x-request-id and Server-Timing; inside that, every body is read under
    # the inbound limits before Litestar sees it, a client that hangs up cancels its request's work
    # (app/api/disconnect.py, and the log line says so), and every response leaves scrubbed of credentials.
    # UpgradeErrors: a refused WebSocket upgrade gets its status and envelope instead of a bare 403.
    app.asgi_handler = Observed(
        UpgradeErrors(
            InboundGuard(
                CancelOnDisconnect(Scrubbed(app.asgi_handler)),
                settings,
                routes=body_routes(_body_paths(app)),
            )
        ),
        log_all=settings.access_log,
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


def _body_paths(app: Litestar) -> list[str]:
    """The paths of the POST routes whose handler reads a body (``data``); a bodiless POST (cancel) is not
    held to the body rules, so ``curl -X POST …/cancel`` with no Content-Type works, as on OpenAI."""
    return [
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if "POST" in getattr(handler, "http_methods", ()) and "data" in handler.parsed_fn_signature.parameters
    ]
