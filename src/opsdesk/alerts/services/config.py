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
from opsdesk.alerts.matching import MatcherError, matchers_parse, matches_everything
from opsdesk.alerts.models import (
    Integration,
    MappingRule,
    Silence,
)
from opsdesk.alerts.selectors import integration_cache_clear
from opsdesk.alerts.sources.base import (
    SourceError,
)
from opsdesk.alerts.sources.generic import mapping_resolve
from opsdesk.core.clock import now
from opsdesk.core.errors import Conflict, InvalidInput
from opsdesk.tenancy.models import Contract, Organisation
from opsdesk.tickets.enums import Priority, Severity

# Sentinel for "not given" in the update services (None is a value: "no integration").
UNSET: Any = object()


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


def integration_saved(*, integration: Integration) -> None:
    """After the admin changed an integration: webhook workers drop their cached copy (this
    process at once, the others within the cache's few seconds)."""
    integration_cache_clear()


def _matchers(raw: Any, *, silence: bool = False) -> list[dict[str, str]]:
    try:
        parsed = matchers_parse(raw)
    except MatcherError as exc:
        raise InvalidInput(str(exc), field="matchers") from exc
    if silence and matches_everything(parsed):
        raise InvalidInput(
            _(
                "At least one matcher must not match an empty label: this silence would "
                "hide every alert."
            ),
            field="matchers",
        )
    return [m.as_dict() for m in parsed]


def _rule_check(
    *, organisation: Organisation, contract: Contract | None, severity: str, priority: str
) -> None:
    if severity and severity not in Severity.values:
        raise InvalidInput(_("Unknown severity."), field="severity")
    if priority and priority not in Priority.values:
        raise InvalidInput(_("Unknown priority."), field="priority")
    if contract is not None and contract.organisation_id != organisation.pk:
        raise InvalidInput(_("The contract belongs to another organisation."), field="contract")


@transaction.atomic
def mapping_rule_create(
    *,
    matchers: Any,
    organisation: Organisation,
    integration: Integration | None = None,
    contract: Contract | None = None,
    severity: str = "",
    priority: str = "",
    order: int = 100,
) -> MappingRule:
    """``matchers`` in any form ``matching.matchers_parse`` reads; stored normalised."""
    stored = _matchers(matchers)
    _rule_check(organisation=organisation, contract=contract, severity=severity, priority=priority)
    return MappingRule.objects.create(
        integration=integration,
        matchers=stored,
        organisation=organisation,
        contract=contract,
        severity=severity,
        priority=priority,
        order=order,
    )


@transaction.atomic
def mapping_rule_update(
    *,
    rule: MappingRule,
    matchers: Any = UNSET,
    organisation: Organisation | None = None,
    integration: Integration | None = UNSET,
    contract: Contract | None = UNSET,
    severity: str | None = None,
    priority: str | None = None,
    order: int | None = None,
) -> MappingRule:
    """Change the given fields (the others stay); the contract must still belong to the
    organisation."""
    current = MappingRule.objects.select_for_update().get(pk=rule.pk)
    if matchers is not UNSET:
        current.matchers = _matchers(matchers)
    if organisation is not None:
        current.organisation = organisation
    if integration is not UNSET:
        current.integration = integration
    if contract is not UNSET:
        current.contract = contract
    if severity is not None:
        current.severity = severity
    if priority is not None:
        current.priority = priority
    if order is not None:
        current.order = order
    _rule_check(
        organisation=current.organisation,
        contract=current.contract,
        severity=current.severity,
        priority=current.priority,
    )
    current.save()
    return current


@transaction.atomic
def mapping_rule_delete(*, rule: MappingRule) -> None:
    """Rules only steer future incidents; groups keep the organisation they were given."""
    MappingRule.objects.filter(pk=rule.pk).delete()


def _silence_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput(_("A silence must end after it starts."), field="ends_at")


@transaction.atomic
def silence_create(
    *,
    matchers: Any,
    ends_at: datetime,
    starts_at: datetime | None = None,
    kind: str = SilenceKind.SILENCE,
    integration: Integration | None = None,
    created_by: User | None = None,
    comment: str = "",
) -> Silence:
    """A silence or maintenance window from ``starts_at`` (default: now) to ``ends_at``."""
    stored = _matchers(matchers, silence=True)
    starts_at = starts_at or now()
    _silence_times(starts_at, ends_at)
    if kind not in SilenceKind.values:
        raise InvalidInput(_("Unknown silence kind."), field="kind")
    return Silence.objects.create(
        kind=kind,
        integration=integration,
        matchers=stored,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by,
        comment=comment.strip(),
    )


@transaction.atomic
def silence_update(
    *,
    silence: Silence,
    matchers: Any = UNSET,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    kind: str | None = None,
    comment: str | None = None,
) -> Silence:
    """Change a silence that has not ended; an expired one is history (make a new one)."""
    current = Silence.objects.select_for_update().get(pk=silence.pk)
    if current.ends_at <= now():
        raise Conflict(_("This silence has expired; create a new one."))
    if matchers is not UNSET:
        current.matchers = _matchers(matchers, silence=True)
    if kind is not None:
        if kind not in SilenceKind.values:
            raise InvalidInput(_("Unknown silence kind."), field="kind")
        current.kind = kind
    if comment is not None:
        current.comment = comment.strip()
    current.starts_at = starts_at or current.starts_at
    current.ends_at = ends_at or current.ends_at
    _silence_times(current.starts_at, current.ends_at)
    current.save()
    return current


@transaction.atomic
def silence_expire(*, silence: Silence) -> Silence:
    """End a silence now (Alertmanager's "expire"); a pending one never starts. Kept as
    history; expiring twice changes nothing."""
    current = Silence.objects.select_for_update().get(pk=silence.pk)
    at = now()
    if current.ends_at <= at:
        return current
    current.ends_at = at
    current.starts_at = min(current.starts_at, at)
    current.save(update_fields=["starts_at", "ends_at", "updated_at"])
    return current
