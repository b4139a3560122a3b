"""Telemetry: the record of one unit of work (an HTTP request, later a background run or a WebSocket turn),
the Prometheus metrics, and the structured log line written once per unit.
"""
