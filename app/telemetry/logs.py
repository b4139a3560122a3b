"""Logging through Litestar's structlog plugin: JSON lines in production, readable lines in development.

Everything ends up in one place - structlog events (the per-request ``request`` line from ``app.telemetry.observe``)
and standard-library records (uvicorn, Litestar, httpx, our own modules) alike go through one
``ProcessorFormatter`` on stderr, so every line has the same shape: ``log_format = "json"`` (default) gives
one JSON object per line with ``timestamp``, ``level``, ``logger`` and ``event``; ``"console"`` gives aligned,
uncoloured text for a terminal.

Secrets never reach a line, at any level: the Azure key, the inbound keys, the client secret and every
Entra ID token the gateway obtained are replaced by ``**********`` wherever they appear - message text,
fields, rendered tracebacks - by the last processor before rendering. Values under keys that name
credentials (``authorization``, ``api-key``, ...) are masked whatever they hold.
"""

from __future__ import annotations

import atexit
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from logging.handlers import QueueListener
from typing import TYPE_CHECKING, Any, Final

import structlog
from litestar.logging.config import LoggingConfig, StructLoggingConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin

from app.settings import Settings

if TYPE_CHECKING:
    from litestar.types.callable_types import GetLogger

__all__ = ["MASK", "forget_secrets", "logging_plugin", "redact", "register_secret", "scrub_bytes"]

MASK: Final = "**********"
_CREDENTIAL_KEYS: Final = frozenset(
    {"authorization", "api-key", "api_key", "openai_api_key", "client_secret", "gateway_api_keys", "token"}
)
# Long-lived: the configured secrets. Short-lived: Entra tokens (the last few are enough: older ones expired).
_STATIC: set[str] = set()
_TOKENS: deque[str] = deque(maxlen=16)
_PLAIN: Final = frozenset({int, float, bool})
# Shorter strings are not masked: "a" as a key would mask every "a" in every line.
_MIN_SECRET_LENGTH: Final = 4


_sorted: tuple[str, ...] | None = None
"""The secrets, longest first (so one that contains another is masked whole); rebuilt after a change."""
_encoded: tuple[tuple[bytes, bytes], ...] | None = None
"""The same as UTF-8, each with its mask of the same length (so a Content-Length stays right)."""


def register_secret(value: str | None, *, short_lived: bool = False) -> None:
    """Mask ``value`` in every log line from now on."""
    global _sorted
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    if short_lived:
        _TOKENS.append(value)
    else:
        _STATIC.add(value)
    _sorted = None


def forget_secrets() -> None:
    """For tests: start from no registered secrets."""
    global _sorted
    _STATIC.clear()
    _TOKENS.clear()
    _sorted = None


def _secrets() -> tuple[str, ...]:
    global _sorted, _encoded
    if _sorted is None:
        _sorted = tuple(sorted({*_STATIC, *_TOKENS}, key=len, reverse=True))
        _encoded = None
    return _sorted


def scrub_bytes(data: bytes) -> bytes:
    """``data`` with every registered secret masked: for what leaves the process other than log lines (response
    bodies and headers), where Azure's own text may quote the key it was sent."""
    global _encoded
    secrets = _secrets()
    if _encoded is None:
        _encoded = tuple((s.encode(), b"*" * len(s.encode())) for s in secrets)
    for secret, mask in _encoded:
        if secret in data:
            data = data.replace(secret, mask)
    return data


def _scrub(value: Any, secrets: Iterable[str]) -> Any:
    if value is None or type(value) in _PLAIN:  # most fields of a request line: nothing to look at
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in _CREDENTIAL_KEYS else _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, bytes):
        return _scrub(value.decode("utf-8", "replace"), secrets)
    return value


def redact(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask every registered secret and every credential-named field."""
    secrets = _secrets()
    return {
        key: MASK if key.lower() in _CREDENTIAL_KEYS else _scrub(value, secrets)
        for key, value in event_dict.items()
    }


class _LoggingConfig(LoggingConfig):
    """Litestar's standard-library config, except that applying it stops the queue listener of the one it replaces.

    Litestar's ``queue_listener`` handler starts a ``LoggingQueueListener`` thread as soon as ``dictConfig``
    builds it, and stops it only at interpreter exit (``atexit``); nothing stops it when another configuration
    replaces the handler. Every app applies its own (its settings choose the level and format, and the console
    handler takes the ``sys.stderr`` of the moment), so without this each ``create_app`` left one more idle thread
    behind - ~120 of them in a test run, until a thread start hung. Stopped after the new configuration is in
    place, the old listener first writes out whatever was already queued to it: no line is lost. The live
    configuration's listener is left to Litestar's ``atexit`` stop, as before, rather than stopped at an app's
    shutdown: logging is process-wide, so that listener carries every app's lines (a test session serves one
    gateway throughout while others start and stop) and whatever the server logs after the lifespan ends.
    """

    def configure(self) -> GetLogger:
        replaced = self._running_listeners()
        get_logger = super().configure()
        for listener in replaced - self._running_listeners():
            listener.stop()  # QueueListener.stop: drains the queue, joins the thread
            atexit.unregister(listener.stop)  # Litestar's exit-time stop would fail on a stopped listener
        return get_logger

    def _running_listeners(self) -> set[QueueListener]:
        """The started listeners behind the queue handlers of the loggers this configuration sets."""
        loggers = [logging.getLogger(), *(logging.getLogger(name) for name in self.loggers)]
        return {
            listener
            for logger in loggers
            for handler in logger.handlers
            if isinstance(listener := getattr(handler, "listener", None), QueueListener)
            and getattr(listener, "_thread", None) is not None  # started and not yet stopped
        }


def logging_plugin(settings: Settings) -> StructlogPlugin:
    """Litestar's structlog plugin, configured for ``settings.log_format`` and ``settings.log_level``."""
    for secret in settings.secret_values():
        register_secret(secret)
    level = settings.log_level.upper()
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False, ensure_ascii=False)
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    # Shared by structlog events and standard-library records before they meet the formatter.
    pre_chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": [*pre_chain, structlog.stdlib.ExtraAdder()],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    }
    stdlib = _LoggingConfig(
        formatters={"standard": formatter},
        root={"handlers": ["queue_listener"], "level": level},
        loggers={
            "litestar": {"level": level, "handlers": ["queue_listener"], "propagate": False},
            # Every call to Azure at INFO is noise next to the request line (and a cost on the hot path).
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING" if level != "DEBUG" else "DEBUG"},
            # The request line replaces uvicorn's access log.
            "uvicorn.access": {"level": "WARNING"},
        },
    )
    config = StructLoggingConfig(
        processors=[*pre_chain, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        # Each app (tests build many) reconfigures; loggers created at import must follow.
        cache_logger_on_first_use=False,
        standard_lib_logging_config=stdlib,
        pretty_print_tty=False,
    )
    return StructlogPlugin(StructlogConfig(structlog_logging_config=config, enable_middleware_logging=False))
