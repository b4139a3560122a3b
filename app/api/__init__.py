"""The HTTP layer (Litestar): routes, SSE framing, the inbound-key guard, health, docs, error handlers, the
app factory. Routes decode, call the service and frame what it returns; nothing here translates or calls Azure.
"""
