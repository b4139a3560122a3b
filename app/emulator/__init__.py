"""A built-in Azure OpenAI Chat Completions emulator for tests and demos (api-version 2024-10-21 and friends).

``create_emulator_app()`` returns a Litestar ASGI app; see :mod:`app.emulator.app` for the request
pipeline and :mod:`app.emulator.actions` for the scripted-reply queue.
"""

from app.emulator.actions import Action, GeneratedReply, ScriptedReply, ScriptedResponse
from app.emulator.app import create_emulator_app, emulator_state
from app.emulator.config import EmulatorConfig
from app.emulator.script import parse_action
from app.emulator.state import EmulatorState, RecordedRequest
from app.emulator.versions import KNOWN_API_VERSIONS

__all__ = [
    "KNOWN_API_VERSIONS",
    "Action",
    "EmulatorConfig",
    "EmulatorState",
    "GeneratedReply",
    "RecordedRequest",
    "ScriptedReply",
    "ScriptedResponse",
    "create_emulator_app",
    "emulator_state",
    "parse_action",
]
