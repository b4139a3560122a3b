"""The hand-written contract, served as written, and interactive docs that need no CDN.

`/openapi.yaml` and `/openapi.json` serve openapi.yaml itself, not a schema Litestar derives from the
code: the file is the source of truth, and a test checks the code against it. `/docs` is Swagger UI,
whose JS and CSS come from a Python package and are served by this app, so users behind firewalls see
the docs too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import drf_spectacular_sidecar  # type: ignore[import-untyped]
import msgspec
from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

SPEC_YAML: bytes = (resources.files("app") / "openapi.yaml").read_bytes()
SPEC_JSON: bytes = msgspec.json.encode(msgspec.yaml.decode(SPEC_YAML))

_SWAGGER_DIR = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist"
# The files that can be served, by name, listed once at import. A request names one of these or gets 404: no
# client text ever reaches the file system (Litestar's static router passed "%00" on to os.stat, a 500).
_SWAGGER_FILES = {path.name: path for path in _SWAGGER_DIR.iterdir() if path.is_file()}

_PAGE = b"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>azure-openai-gateway API</title>
  <link rel="icon" href="/docs/static/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/static/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


class DocsController(Controller):
    include_in_schema = False

    @get("/openapi.yaml", media_type="application/yaml", sync_to_thread=False)
    def spec_yaml(self) -> Response[bytes]:
        return Response(SPEC_YAML, media_type="application/yaml")

    @get("/openapi.json", media_type="application/json", sync_to_thread=False)
    def spec_json(self) -> Response[bytes]:
        return Response(SPEC_JSON, media_type="application/json")

    @get("/docs", media_type="text/html", sync_to_thread=False)
    def docs(self) -> Response[bytes]:
        return Response(_PAGE, media_type="text/html")


@get("/docs/static/{name:path}", include_in_schema=False, sync_to_thread=False, name="docs-static")
def docs_static(name: FromPath[str]) -> File:
    path = _SWAGGER_FILES.get(name.lstrip("/"))
    if path is None:
        raise NotFoundException()
    return File(path, filename=path.name, content_disposition_type="inline")
