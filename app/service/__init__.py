"""The service: creates a response (or a chat completion) and yields its events, with no HTTP in it.

``ResponsesService.create`` and ``ChatService.create`` take a decoded request Struct and return either the
finished answer or an event source; the HTTP routes and the WebSocket route are
thin adapters over them. The Azure call and the mapping of Azure's failures to client errors live here, and
so do the runs of background responses (``background``), which outlive the request that started them.
"""
