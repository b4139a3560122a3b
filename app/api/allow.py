"""``Allow`` on ``OPTIONS`` for paths served by several handlers (``GET`` and ``DELETE /v1/responses/{id}``).

Litestar 2.25 makes a path's automatic ``OPTIONS`` handler when the path's first handler is registered; when
another handler joins the path the route is rebuilt, but the ``OPTIONS`` handler is kept and still reads the
methods of the first route object, so ``Allow`` lists only some of them (``Allow: DELETE, OPTIONS`` for a
path that also serves ``GET``). ``fix_allow`` points each automatic handler at the route that serves it now.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute


def fix_allow(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = getattr(handler.fn, "__wrapped__", handler.fn)
            if getattr(fn, "__name__", "") != "options_handler" or not fn.__closure__:
                continue
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                if name == "self" and isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
