"""The gateway's access log lines (logger ``app.access``, one per unit of work) as a test sees them."""

from __future__ import annotations

import logging
from typing import Any


class AccessLog(logging.Handler):
    """Collects the `request` lines while in a `with` block, at DEBUG so none is filtered out."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict) and record.msg.get("event") == "request":
            self.lines.append(record.msg)

    def __enter__(self) -> AccessLog:
        logger = logging.getLogger("app.access")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("app.access")
        logger.removeHandler(self)
        logger.setLevel(self._level)

    def by_id(self, prefix: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if str(line.get("request_id", "")).startswith(prefix)]
