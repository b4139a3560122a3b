"""Settings for one emulator instance.

A frozen msgspec Struct (not Dynaconf like the gateway) because the emulator is built by tests and the CLI
in code: every knob is a constructor argument, and immutability means one app's config cannot drift while
requests are in flight.
"""

from __future__ import annotations

import msgspec

from app.emulator.quotas import DeploymentQuota

__all__ = ["EmulatorConfig"]


class EmulatorConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What the emulated Azure resource looks like.

    ``deployments`` maps to Azure's per-resource deployment names; any other name gets Azure's
    ``DeploymentNotFound`` 404. ``model`` is what the ``model`` field of every completion reports (Azure
    reports the underlying model version, never the deployment name); ``models`` overrides it per deployment.
    """

    api_key: str = "emulator-key"
    deployments: tuple[str, ...] = ("gpt-4o-mini",)
    model: str = "gpt-4o-mini-2024-07-18"
    models: dict[str, str] = msgspec.field(default_factory=dict)
    system_fingerprint: str = "fp_emulator0"
    quotas: dict[str, DeploymentQuota] = msgspec.field(default_factory=dict)
    """Per-deployment rpm/tpm, enforced over ``quota_window`` seconds as Azure does (see quotas.py)."""
    quota_window: float = 1.0
    # Cap on remembered requests so a long-running demo emulator cannot grow without bound.
    max_recorded_requests: int = 10_000

    def model_for(self, deployment: str) -> str:
        return self.models.get(deployment, self.model)
