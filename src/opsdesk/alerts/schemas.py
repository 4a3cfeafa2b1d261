"""API schemas of the monitoring intake. See docs/subsystems/alerts.md."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema

from opsdesk.api.types import Cursor, Limit


class ListQuery(Schema):
    limit: Limit = 50
    cursor: Cursor | None = None


class AlertGroupQuery(ListQuery):
    status: str = ""


class IngestOut(Schema):
    created: int
    updated: int
    incidents: list[str]
    subscription: bool = False


class IntegrationOut(Schema):
    id: int
    kind: str
    name: str
    organisation_id: int | None
    resolve_mode: str
    group_by: list[str]
    is_active: bool


class IntegrationPageOut(Schema):
    items: list[IntegrationOut]
    next_cursor: str | None


class AlertGroupOut(Schema):
    id: int
    integration_id: int
    group_key: str
    status: str
    summary: str
    incident_reference: str | None
    organisation_id: int | None
    alert_count: int
    firing_count: int
    created_at: datetime
    resolved_at: datetime | None

    @staticmethod
    def resolve_incident_reference(obj: object) -> str | None:
        incident = getattr(obj, "incident", None)
        return incident.reference if incident is not None else None


class AlertGroupPageOut(Schema):
    items: list[AlertGroupOut]
    next_cursor: str | None


class DeadLetterOut(Schema):
    id: int
    integration_id: int | None
    kind: str
    reason: str
    detail: str
    headers: dict[str, str]
    body: str
    received_at: datetime


class DeadLetterPageOut(Schema):
    items: list[DeadLetterOut]
    next_cursor: str | None


class AlertOut(Schema):
    fingerprint: str
    status: str
    severity: str
    summary: str
    labels: dict[str, str]
    count: int
    first_seen: datetime
    last_seen: datetime
    is_flapping: bool
    is_silenced: bool
