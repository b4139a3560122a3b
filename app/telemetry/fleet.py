"""The fleet's metrics: which deployment each attempt went to and what the pool and the coordinator did.

==========================================  =========  ==========================================
name                                        type       labels
==========================================  =========  ==========================================
gateway_upstream_attempts_total             counter    outcome, deployment (in observe.py)
gateway_deployment_failovers_total          counter    deployment (the one given up on), reason
gateway_deployment_breaker_state            gauge      deployment (0 closed, 1 half-open, 2 open)
gateway_deployment_breaker_opened_total     counter    deployment
gateway_deployment_paused_total             counter    deployment (Azure's 429 paused it)
gateway_budget_wait_seconds                 histogram  (time a call waited for a deployment's budget)
gateway_coordinator_up                      gauge      (1: Redis shares the budgets; 0: local fallback)
gateway_coordinator_errors_total            counter
==========================================  =========  ==========================================
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FAILOVERS = Counter(
    "gateway_deployment_failovers",
    "Attempts that moved to another deployment, by the deployment given up on and why.",
    ["deployment", "reason"],
)
BREAKER_STATE = Gauge(
    "gateway_deployment_breaker_state",
    "Circuit breaker per deployment: 0 closed, 1 half-open, 2 open.",
    ["deployment"],
    multiprocess_mode="livemax",
)
BREAKER_OPENED = Counter(
    "gateway_deployment_breaker_opened", "Times a deployment's circuit breaker opened.", ["deployment"]
)
PAUSED = Counter("gateway_deployment_paused", "429s from Azure that paused a deployment.", ["deployment"])
BUDGET_WAIT = Histogram(
    "gateway_budget_wait_seconds",
    "Time calls waited for a deployment's requests/tokens-per-minute budget.",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, float("inf")),
)
COORDINATOR_UP = Gauge(
    "gateway_coordinator_up",
    "1 while Redis shares the budgets, 0 while this process falls back to its own.",
    multiprocess_mode="livemin",
)
COORDINATOR_ERRORS = Counter("gateway_coordinator_errors", "Redis calls that failed (each falls back to local).")
