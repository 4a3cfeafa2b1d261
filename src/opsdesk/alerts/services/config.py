"""Integrations, mapping rules and silences. See docs/subsystems/alerts.md."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import (
    ResolveMode,
    SilenceKind,
    SourceKind,
)
from opsdesk.alerts.models import (
    Integration,
    MappingRule,
    Silence,
)
from opsdesk.alerts.sources.base import (
    SourceError,
)
from opsdesk.alerts.sources.generic import mapping_resolve
from opsdesk.core.errors import InvalidInput
from opsdesk.tenancy.models import Contract, Organisation
from opsdesk.tickets.enums import Priority, Severity


def integration_token_new() -> str:
    return secrets.token_urlsafe(24)


@transaction.atomic
def integration_create(
    *,
    kind: str,
    name: str,
    organisation: Organisation | None = None,
    contract: Contract | None = None,
    resolve_mode: str = ResolveMode.RESOLVE,
    group_by: list[str] | None = None,
    field_mapping: Mapping[str, Any] | None = None,
    hmac_secret: str = "",
    verify_signature: bool = True,
) -> Integration:
    if kind not in SourceKind.values:
        raise InvalidInput(_("Unknown integration kind %(kind)r.") % {"kind": kind}, field="kind")
    if not name.strip():
        raise InvalidInput(_("An integration needs a name."), field="name")
    if resolve_mode not in ResolveMode.values:
        raise InvalidInput(_("Unknown resolve mode."), field="resolve_mode")
    if (
        contract is not None
        and organisation is not None
        and contract.organisation_id != organisation.pk
    ):
        raise InvalidInput(_("The contract belongs to another organisation."), field="contract")
    if field_mapping:
        try:
            mapping_resolve(field_mapping)
        except SourceError as exc:
            raise InvalidInput(str(exc), field="field_mapping") from exc
    return Integration.objects.create(
        kind=kind,
        name=name.strip(),
        token=integration_token_new(),
        organisation=organisation,
        contract=contract or None,
        resolve_mode=resolve_mode,
        group_by=list(group_by) if group_by is not None else ["alertname"],
        field_mapping=dict(field_mapping or {}),
        hmac_secret=hmac_secret,
        verify_signature=verify_signature,
    )


@transaction.atomic
def mapping_rule_create(
    *,
    matchers: Mapping[str, Any],
    organisation: Organisation,
    integration: Integration | None = None,
    contract: Contract | None = None,
    severity: str = "",
    priority: str = "",
    order: int = 100,
) -> MappingRule:
    if not matchers:
        raise InvalidInput(_("A rule needs at least one label matcher."), field="matchers")
    if severity and severity not in Severity.values:
        raise InvalidInput(_("Unknown severity."), field="severity")
    if priority and priority not in Priority.values:
        raise InvalidInput(_("Unknown priority."), field="priority")
    if contract is not None and contract.organisation_id != organisation.pk:
        raise InvalidInput(_("The contract belongs to another organisation."), field="contract")
    return MappingRule.objects.create(
        integration=integration,
        matchers=dict(matchers),
        organisation=organisation,
        contract=contract,
        severity=severity,
        priority=priority,
        order=order,
    )


@transaction.atomic
def silence_create(
    *,
    matchers: Mapping[str, Any],
    starts_at: datetime,
    ends_at: datetime,
    kind: str = SilenceKind.SILENCE,
    integration: Integration | None = None,
    created_by: User | None = None,
    comment: str = "",
) -> Silence:
    if not matchers:
        raise InvalidInput(_("A silence needs at least one label matcher."), field="matchers")
    if ends_at <= starts_at:
        raise InvalidInput(_("A silence must end after it starts."), field="ends_at")
    if kind not in SilenceKind.values:
        raise InvalidInput(_("Unknown silence kind."), field="kind")
    return Silence.objects.create(
        kind=kind,
        integration=integration,
        matchers=dict(matchers),
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by,
        comment=comment,
    )
