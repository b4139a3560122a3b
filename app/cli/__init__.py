"""The command line: ``serve`` (uvicorn, workers), ``emulator`` and ``check``; the outermost layer."""

from app.cli.commands import main

__all__ = ["main"]
