"""Wire models, generated from openapi.yaml by ``make models`` (``generated``); nothing hand-written, no app imports."""
