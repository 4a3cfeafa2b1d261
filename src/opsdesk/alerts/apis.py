"""Monitoring intake API (/api/v1/integrations). See docs/subsystems/alerts.md.

``POST /{kind}/{token}/`` is the webhook every monitoring system calls: no staff login,
the secret token in the URL is the credential. It answers 200 only after the alerts are
committed, 401/404/422 (kept as dead letters) when it cannot take them, and 503 with
Retry-After when the database is overloaded, so senders retry instead of losing alerts.
The other operations are read-only lists for staff.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from opsdesk.alerts.models import Alert, AlertGroup, DeadLetter, Integration
from opsdesk.alerts.schemas import (
    AlertGroupPageOut,
    AlertGroupQuery,
    AlertOut,
    DeadLetterPageOut,
    IngestOut,
    IntegrationPageOut,
    ListQuery,
)
from opsdesk.alerts.selectors import (
    alert_group_list,
    alert_list_for_incident,
    dead_letter_list,
    integration_list,
)
from opsdesk.alerts.services import webhook_receive
from opsdesk.api.auth import request_user
from opsdesk.api.pagination import IdPage, paginate_by_id
from opsdesk.core.errors import NotFound

router = Router(tags=["integrations"])
log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


@router.post(
    "/{kind}/{token}/",
    auth=None,
    response={200: IngestOut},
    url_name="integration_webhook",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {}}}}},
)
def integration_webhook_api(
    request: HttpRequest, kind: str, token: str
) -> tuple[int, dict[str, Any]] | HttpResponse:
    """Receive alerts from a monitoring system (see docs/subsystems/alerts.md)."""
    try:
        outcome = webhook_receive(
            kind=kind, token=token, body=request.body, headers=dict(request.headers)
        )
    except OperationalError:
        log.warning("alert webhook refused: database overloaded", exc_info=True)
        response = JsonResponse({"detail": _("Overloaded; retry later.")}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    result = outcome.ingest
    return 200, {
        "created": result.created,
        "updated": result.updated,
        "incidents": result.incidents,
        "subscription": outcome.subscription,
    }


@router.get("", response=IntegrationPageOut, url_name="integration_list")
def integration_list_api(request: HttpRequest, params: Query[ListQuery]) -> IdPage[Integration]:
    qs = integration_list(user=request_user(request))
    return paginate_by_id(qs, cursor=params.cursor, limit=params.limit)


@router.get("/alert-groups", response=AlertGroupPageOut, url_name="alert_group_list")
def alert_group_list_api(
    request: HttpRequest, params: Query[AlertGroupQuery]
) -> IdPage[AlertGroup]:
    qs = alert_group_list(user=request_user(request), status=params.status)
    return paginate_by_id(qs, cursor=params.cursor, limit=params.limit)


@router.get("/dead-letters", response=DeadLetterPageOut, url_name="dead_letter_list")
def dead_letter_list_api(request: HttpRequest, params: Query[ListQuery]) -> IdPage[DeadLetter]:
    qs = dead_letter_list(user=request_user(request))
    return paginate_by_id(qs, cursor=params.cursor, limit=params.limit)


@router.get(
    "/incidents/{reference}/alerts", response=list[AlertOut], url_name="incident_alert_list"
)
def incident_alert_list_api(request: HttpRequest, reference: str) -> list[Alert]:
    """The alerts behind an incident, newest first (at most 200)."""
    if len(reference) > 40:
        raise NotFound(_("No such ticket."))
    return list(alert_list_for_incident(actor=request_user(request), reference=reference)[:200])
