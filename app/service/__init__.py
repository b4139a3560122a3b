"""The service: creates a response (or a chat completion) and yields its events, with no HTTP in it.

``ResponsesService.create`` and ``ChatService.create`` take a decoded request Struct and return either the
finished answer or an event source; the HTTP routes (and later the WebSocket route and background runs) are
thin adapters over them. The Azure call and the mapping of Azure's failures to client errors live here.
"""
