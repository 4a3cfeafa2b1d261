"""API schemas of the monitoring intake. See docs/subsystems/alerts.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from opsdesk.alerts.enums import SilenceKind, SilenceState
from opsdesk.alerts.matching import matchers_readable
from opsdesk.alerts.selectors import silence_state
from opsdesk.api.types import Code, Cursor, DbId, Limit, ShortText
from opsdesk.tickets.enums import Priority, Severity


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


# --- mapping rules and silences -------------------------------------------------------------

# Matchers in any form matching.matchers_parse reads: ['env="prod"', 'instance=~"web-.*"'],
# [{"name": "env", "op": "=", "value": "prod"}], Alertmanager's {"name", "value", "isRegex",
# "isEqual"} objects, or the text '{env="prod", instance=~"web-.*"}'. Checked by the service
# (422 with the position and reason).
MatchersIn = list[str | dict[str, Any]] | str
MATCHERS_HELP = (
    'Label matchers like Alertmanager\'s: ["env=\\"prod\\"", "instance=~\\"web-.*\\""] or '
    '[{"name": "env", "op": "=", "value": "prod"}]; operators =, !=, =~, !~.'
)


class MatcherOut(Schema):
    name: str
    op: str
    value: str


class MappingRuleIn(Schema):
    matchers: MatchersIn = Field(description=MATCHERS_HELP)
    organisation: Code = Field(description="Organisation code.")
    contract: Code | None = Field(None, description="Contract code.")
    integration_id: DbId | None = Field(None, description="Only alerts of this integration.")
    severity: Severity | Literal[""] = ""
    priority: Priority | Literal[""] = ""
    order: int = Field(100, ge=0, le=1_000_000)


class MappingRuleUpdateIn(Schema):
    """Only the fields sent change; send ``null`` for contract or integration_id to clear."""

    matchers: MatchersIn | None = Field(None, description=MATCHERS_HELP)
    organisation: Code | None = None
    contract: Code | None = None
    integration_id: DbId | None = None
    severity: Severity | Literal[""] | None = None
    priority: Priority | Literal[""] | None = None
    order: int | None = Field(None, ge=0, le=1_000_000)


class MappingRuleOut(Schema):
    id: int
    matchers: list[MatcherOut]
    organisation: str
    contract: str | None
    integration_id: int | None
    severity: str
    priority: str
    order: int

    @staticmethod
    def resolve_matchers(obj: Any) -> list[dict[str, str]]:
        return matchers_readable(obj.matchers)

    @staticmethod
    def resolve_organisation(obj: Any) -> str:
        return str(obj.organisation.code)

    @staticmethod
    def resolve_contract(obj: Any) -> str | None:
        return obj.contract.code if obj.contract is not None else None


class MappingRulePageOut(Schema):
    items: list[MappingRuleOut]
    next_cursor: str | None


class SilenceQuery(ListQuery):
    state: SilenceState | Literal[""] = ""


class SilenceIn(Schema):
    matchers: MatchersIn = Field(description=MATCHERS_HELP)
    ends_at: datetime
    starts_at: datetime | None = Field(None, description="Default: now.")
    kind: SilenceKind = SilenceKind.SILENCE
    integration_id: DbId | None = Field(None, description="Only alerts of this integration.")
    comment: ShortText = ""


class SilenceUpdateIn(Schema):
    matchers: MatchersIn | None = Field(None, description=MATCHERS_HELP)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    kind: SilenceKind | None = None
    comment: ShortText | None = None


class SilenceOut(Schema):
    id: int
    kind: str
    state: str
    matchers: list[MatcherOut]
    starts_at: datetime
    ends_at: datetime
    integration_id: int | None
    comment: str
    created_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_matchers(obj: Any) -> list[dict[str, str]]:
        return matchers_readable(obj.matchers)

    @staticmethod
    def resolve_state(obj: Any) -> str:
        return silence_state(obj)

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by is not None else None


class SilencePageOut(Schema):
    items: list[SilenceOut]
    next_cursor: str | None
