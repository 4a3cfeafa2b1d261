"""/healthz: database reachable and a worker alive."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from opsdesk.jobs.selectors import health_check


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_check()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
