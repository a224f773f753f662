"""`GET /health` and `GET /metrics/auren`: for load balancers and Prometheus; no user data."""

from __future__ import annotations

from fastapi import APIRouter

from auren_graphs.http.health import health
from auren_graphs.http.prometheus import metrics

router = APIRouter(tags=["operations"])
router.add_api_route(
    "/health",
    health,
    methods=["GET"],
    summary="Each component: 200, or 503 naming the ones down",
    responses={503: {"description": "a component is down"}},
)
router.add_api_route("/metrics/auren", metrics, methods=["GET"], summary="Prometheus metrics")
