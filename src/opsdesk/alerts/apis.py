"""Monitoring intake API (/api/v1/integrations). See docs/subsystems/alerts.md.

``POST /{kind}/{token}/`` is the webhook every monitoring system calls: no staff login,
the secret token in the URL is the credential. It answers 200 only after the alerts are
committed, 401/404/422 (kept as dead letters) when it cannot take them, and 503 with
Retry-After when the database is overloaded (or SNS could not be reached to confirm a
subscription), so senders retry instead of losing alerts.

The rest is for staff: read-only lists, and mapping rules and silences, which every staff
member reads and administrators and team leads change:

| operation | who |
|---|---|
| GET integrations, alert-groups, incidents/{ref}/alerts, rules, silences | staff |
| GET dead-letters | supervisors and administrators |
| POST/PATCH/DELETE rules and silences, POST silences/{id}/expire | administrators, team leads |
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from opsdesk.alerts.models import Alert, AlertGroup, DeadLetter, Integration, MappingRule, Silence
from opsdesk.alerts.schemas import (
    AlertGroupPageOut,
    AlertGroupQuery,
    AlertOut,
    DeadLetterPageOut,
    IngestOut,
    IntegrationPageOut,
    ListQuery,
    MappingRuleIn,
    MappingRuleOut,
    MappingRulePageOut,
    MappingRuleUpdateIn,
    SilenceIn,
    SilenceOut,
    SilencePageOut,
    SilenceQuery,
    SilenceUpdateIn,
)
from opsdesk.alerts.selectors import (
    alert_config_check,
    alert_group_list,
    alert_list_for_incident,
    dead_letter_list,
    integration_get,
    integration_list,
    mapping_rule_get,
    mapping_rule_list,
    silence_get,
    silence_list,
)
from opsdesk.alerts.services import (
    SubscriptionUnconfirmed,
    WebhookResult,
    mapping_rule_create,
    mapping_rule_delete,
    mapping_rule_update,
    silence_create,
    silence_expire,
    silence_update,
    webhook_receive,
)
from opsdesk.api.auth import request_user
from opsdesk.api.lookups import resolve
from opsdesk.api.pagination import IdPage, paginate_by_id
from opsdesk.core.errors import NotFound
from opsdesk.tenancy.models import Contract, Organisation
from opsdesk.tenancy.selectors import contract_get_by_code, organisation_get

router = Router(tags=["integrations"])
log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def _retry_later(detail: str) -> HttpResponse:
    response = JsonResponse({"detail": detail}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@router.post(
    "/{kind}/{token}/",
    auth=None,
    response={200: IngestOut},
    url_name="integration_webhook",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {}}}}},
)
def integration_webhook_api(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """Receive alerts from a monitoring system (see docs/subsystems/alerts.md)."""
    try:
        outcome = webhook_receive(
            kind=kind, token=token, body=request.body, headers=request.headers
        )
    except OperationalError:
        log.warning("alert webhook refused: database overloaded", exc_info=True)
        return _retry_later(_("Overloaded; retry later."))
    except SubscriptionUnconfirmed as exc:
        log.warning("SNS subscription not confirmed: %s", exc.message)
        return _retry_later(exc.message)
    # Built directly: this is the hot path, and the shape is fixed (IngestOut documents it).
    return JsonResponse(ingest_answer(outcome))


def ingest_answer(outcome: WebhookResult) -> dict[str, Any]:
    """The webhook's 200 body (IngestOut), also written by alerts/fastpath.py."""
    result = outcome.ingest
    return {
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


# --- mapping rules -------------------------------------------------------------------------


def _organisation(code: str) -> Organisation:
    return resolve("organisation", lambda: organisation_get(code=code))


def _contract(code: str | None) -> Contract | None:
    return None if code is None else resolve("contract", lambda: contract_get_by_code(code=code))


def _integration(integration_id: int | None) -> Integration | None:
    if integration_id is None:
        return None
    return resolve("integration_id", lambda: integration_get(integration_id=integration_id))


@router.get("/rules", response=MappingRulePageOut, url_name="mapping_rule_list")
def mapping_rule_list_api(request: HttpRequest, params: Query[ListQuery]) -> IdPage[MappingRule]:
    qs = mapping_rule_list(user=request_user(request))
    return paginate_by_id(qs, cursor=params.cursor, limit=params.limit)


@router.post("/rules", response={201: MappingRuleOut}, url_name="mapping_rule_create")
def mapping_rule_create_api(
    request: HttpRequest, payload: MappingRuleIn
) -> tuple[int, MappingRule]:
    alert_config_check(user=request_user(request))
    rule = mapping_rule_create(
        matchers=payload.matchers,
        organisation=_organisation(payload.organisation),
        contract=_contract(payload.contract),
        integration=_integration(payload.integration_id),
        severity=payload.severity,
        priority=payload.priority,
        order=payload.order,
    )
    return 201, rule


@router.get("/rules/{rule_id}", response=MappingRuleOut, url_name="mapping_rule_get")
def mapping_rule_get_api(request: HttpRequest, rule_id: int) -> MappingRule:
    mapping_rule_list(user=request_user(request))  # the staff check
    return mapping_rule_get(rule_id=rule_id)


@router.patch("/rules/{rule_id}", response=MappingRuleOut, url_name="mapping_rule_update")
def mapping_rule_update_api(
    request: HttpRequest, rule_id: int, payload: MappingRuleUpdateIn
) -> MappingRule:
    alert_config_check(user=request_user(request))
    rule = mapping_rule_get(rule_id=rule_id)
    data = payload.dict(exclude_unset=True)
    changes: dict[str, Any] = {}
    if data.get("matchers") is not None:
        changes["matchers"] = data["matchers"]
    if data.get("organisation") is not None:
        changes["organisation"] = _organisation(data["organisation"])
    if "contract" in data:
        changes["contract"] = _contract(data["contract"])
    if "integration_id" in data:
        changes["integration"] = _integration(data["integration_id"])
    for name in ("severity", "priority", "order"):
        if data.get(name) is not None:
            changes[name] = data[name]
    return mapping_rule_update(rule=rule, **changes)


@router.delete("/rules/{rule_id}", response={204: None}, url_name="mapping_rule_delete")
def mapping_rule_delete_api(request: HttpRequest, rule_id: int) -> tuple[int, None]:
    alert_config_check(user=request_user(request))
    mapping_rule_delete(rule=mapping_rule_get(rule_id=rule_id))
    return 204, None


# --- silences and maintenance windows ------------------------------------------------------


@router.get("/silences", response=SilencePageOut, url_name="silence_list")
def silence_list_api(request: HttpRequest, params: Query[SilenceQuery]) -> IdPage[Silence]:
    qs = silence_list(user=request_user(request), state=params.state)
    return paginate_by_id(qs, cursor=params.cursor, limit=params.limit)


@router.post("/silences", response={201: SilenceOut}, url_name="silence_create")
def silence_create_api(request: HttpRequest, payload: SilenceIn) -> tuple[int, Silence]:
    user = request_user(request)
    alert_config_check(user=user)
    silence = silence_create(
        matchers=payload.matchers,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        kind=payload.kind,
        integration=_integration(payload.integration_id),
        created_by=user,
        comment=payload.comment,
    )
    return 201, silence


@router.get("/silences/{silence_id}", response=SilenceOut, url_name="silence_get")
def silence_get_api(request: HttpRequest, silence_id: int) -> Silence:
    silence_list(user=request_user(request))  # the staff check
    return silence_get(silence_id=silence_id)


@router.patch("/silences/{silence_id}", response=SilenceOut, url_name="silence_update")
def silence_update_api(request: HttpRequest, silence_id: int, payload: SilenceUpdateIn) -> Silence:
    alert_config_check(user=request_user(request))
    silence = silence_get(silence_id=silence_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return silence_update(silence=silence, **data)


@router.post("/silences/{silence_id}/expire", response=SilenceOut, url_name="silence_expire")
def silence_expire_api(request: HttpRequest, silence_id: int) -> Silence:
    """End the silence now; it stays listed as expired."""
    alert_config_check(user=request_user(request))
    silence_expire(silence=silence_get(silence_id=silence_id))
    return silence_get(silence_id=silence_id)


@router.delete("/silences/{silence_id}", response={204: None}, url_name="silence_delete")
def silence_delete_api(request: HttpRequest, silence_id: int) -> tuple[int, None]:
    """As in Alertmanager, deleting a silence expires it (it stays as history)."""
    alert_config_check(user=request_user(request))
    silence_expire(silence=silence_get(silence_id=silence_id))
    return 204, None
