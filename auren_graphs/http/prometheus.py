"""`GET /metrics/auren`: AUREN's own Prometheus metrics (the server keeps `/metrics`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from auren_graphs import observability


async def metrics(request: Request) -> Response:
    body, content_type = observability.render()
    return Response(body, headers={"Content-Type": content_type})
