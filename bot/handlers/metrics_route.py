"""`GET /metrics`: the Prometheus text format (version 0.0.4) of the app's own registry.

Served on the same port as everything else and without authentication, like `/healthz`; the
README asks deployments to let only their Prometheus reach it through the reverse proxy.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest

# Named here rather than taken from prometheus_client, whose "latest" has moved on to 1.0.0:
# this is the format `generate_latest` writes and every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_router(registry: CollectorRegistry) -> APIRouter:
    router = APIRouter()

    # A plain function: the database is read while collecting, so FastAPI runs it in a thread.
    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE)

    return router
