"""The REST API v1: mounts each app's routers. OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="OpsDesk API", version="1", urls_namespace="api")
