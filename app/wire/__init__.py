"""What crosses the wire, neutral to the transport: request bytes decoded into the generated Structs, and
``GatewayError`` with OpenAI's error envelope.

Every layer may raise ``GatewayError``; only the HTTP (and later WebSocket) layer turns it into a reply. It
imports the generated models and nothing else of the app.
"""
