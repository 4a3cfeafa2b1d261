"""Reads of the monitoring intake. See docs/subsystems/alerts.md."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import AlertStatus, GroupStatus, SilenceState
from opsdesk.alerts.models import Alert, AlertGroup, DeadLetter, Integration, MappingRule, Silence
from opsdesk.core.clock import now
from opsdesk.core.errors import NotFound, PermissionDenied
from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tenancy.selectors import staff_scope
from opsdesk.tickets.enums import TicketKind
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import access_ticket, ticket_visible

# The webhook looks integrations up by token on every call; each worker process keeps them
# this long (a deactivated or edited integration takes effect within this time; the admin
# and the services clear the cache of their own process at once).
INTEGRATION_CACHE_SECONDS = 5.0
INTEGRATION_CACHE_SIZE = 1_000
_integrations: dict[tuple[str, str], tuple[float, Integration]] = {}
# Alerts listed in the ticket page's panel (the API lists up to 200).
PANEL_ALERTS = 50


def integration_url(*, integration: Integration) -> str:
    """The full URL a monitoring system posts to; it contains the secret token."""
    base = str(getattr(settings, "OPSDESK_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
    return f"{base}/api/v1/integrations/{integration.kind}/{integration.token}/"


def integration_for_token(*, kind: str, token: str) -> Integration | None:
    """The active integration of ``kind`` with ``token`` (its organisation and contract
    loaded), from this process's short-lived cache. Unknown tokens are never cached, so a
    new integration works at once."""
    key = (kind, token)
    clock = time.monotonic()
    cached = _integrations.get(key)
    if cached is not None and cached[0] > clock:
        return cached[1]
    integration = (
        Integration.objects.select_related("organisation", "contract")
        .filter(token=token, kind=kind, is_active=True)
        .order_by()
        .first()
    )
    if integration is None:
        _integrations.pop(key, None)
        return None
    if len(_integrations) >= INTEGRATION_CACHE_SIZE:
        _integrations.clear()
    _integrations[key] = (clock + INTEGRATION_CACHE_SECONDS, integration)
    return integration


def integration_cache_clear() -> None:
    _integrations.clear()


def integration_list(*, user: User | AnonymousUser) -> QuerySet[Integration]:
    staff_scope(user=user)
    return Integration.objects.select_related("organisation", "contract")


def integration_get(*, integration_id: int) -> Integration:
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        raise NotFound(_("No integration %(id)s.") % {"id": integration_id})
    return integration


def alert_config_editable(*, user: User | AnonymousUser) -> bool:
    """Administrators and team leads edit mapping rules and silences; every staff member
    may read them."""
    staff_scope(user=user)
    if not isinstance(user, User):
        return False
    if user.is_superuser:
        return True
    profile = getattr(user, "staff_profile", None)
    if profile is not None and profile.role == StaffRole.ADMIN:
        return True
    return user.memberships.filter(role=MemberRole.TEAM_LEAD).exists()


def alert_config_check(*, user: User | AnonymousUser) -> None:
    if not alert_config_editable(user=user):
        raise PermissionDenied(
            _("Only administrators and team leads change alert rules and silences.")
        )


def mapping_rule_list(*, user: User | AnonymousUser) -> QuerySet[MappingRule]:
    staff_scope(user=user)
    return MappingRule.objects.select_related("organisation", "contract", "integration")


def mapping_rule_get(*, rule_id: int) -> MappingRule:
    rule = MappingRule.objects.select_related("organisation", "contract").filter(pk=rule_id)
    found = rule.first()
    if found is None:
        raise NotFound(_("No mapping rule %(id)s.") % {"id": rule_id})
    return found


def silence_state(silence: Silence) -> str:
    at = now()
    if silence.ends_at <= at:
        return SilenceState.EXPIRED
    return SilenceState.PENDING if silence.starts_at > at else SilenceState.ACTIVE


def silence_list(*, user: User | AnonymousUser, state: str = "") -> QuerySet[Silence]:
    """Silences and maintenance windows, optionally only ``active``, ``pending`` or
    ``expired`` ones."""
    staff_scope(user=user)
    qs = Silence.objects.select_related("integration", "created_by")
    at = now()
    if state == SilenceState.ACTIVE:
        qs = qs.filter(starts_at__lte=at, ends_at__gt=at)
    elif state == SilenceState.PENDING:
        qs = qs.filter(starts_at__gt=at)
    elif state == SilenceState.EXPIRED:
        qs = qs.filter(ends_at__lte=at)
    return qs


def silence_get(*, silence_id: int) -> Silence:
    silence = Silence.objects.select_related("integration", "created_by").filter(pk=silence_id)
    found = silence.first()
    if found is None:
        raise NotFound(_("No silence %(id)s.") % {"id": silence_id})
    return found


def alert_group_list(*, user: User | AnonymousUser, status: str = "") -> QuerySet[AlertGroup]:
    """Groups whose incident the user may see, plus every group without an incident
    (triage and silenced groups are everyone's to look at)."""
    scope = staff_scope(user=user)
    qs = AlertGroup.objects.select_related("integration", "incident", "organisation")
    if status:
        qs = qs.filter(status=status)
    if scope.sees_everything:
        return qs
    visible = ticket_visible(scope=scope).values("pk")
    return qs.filter(Q(incident__isnull=True) | Q(incident__in=visible))


def alert_triage_list(*, user: User | AnonymousUser) -> QuerySet[AlertGroup]:
    return alert_group_list(user=user, status=GroupStatus.TRIAGE)


def alert_list_for_group(*, group: AlertGroup) -> QuerySet[Alert]:
    return group.alerts.order_by("-last_seen")


def alert_list_for_incident(*, actor: User | AnonymousUser, reference: str) -> QuerySet[Alert]:
    """The alerts behind an incident (every group it owns), for the ticket page: counts,
    states and last-seen times. NotFound for tickets outside the actor's teams."""
    ticket = access_ticket(actor=actor, reference=reference)
    return Alert.objects.filter(group__incident=ticket).order_by("-last_seen")


def alert_panel_context(ticket: Ticket, actor: User | AnonymousUser) -> dict[str, Any] | None:
    """The ticket page's "Alerts" panel (tickets.panels): the incident's alerts with their
    source, newest first, in one query. The page has checked access already. None for
    tickets that are not incidents or have no alerts."""
    if ticket.kind != TicketKind.INCIDENT:
        return None
    alerts = list(
        Alert.objects.filter(group__incident=ticket)
        .select_related("integration")
        .only(
            "fingerprint",
            "status",
            "severity",
            "summary",
            "count",
            "first_seen",
            "last_seen",
            "is_flapping",
            "is_silenced",
            "source_url",
            "integration__name",
            "integration__kind",
        )
        .order_by("-last_seen", "-id")[: PANEL_ALERTS + 1]
    )
    if not alerts:
        return None
    return {
        "alerts": alerts[:PANEL_ALERTS],
        "more": len(alerts) > PANEL_ALERTS,
        "firing": sum(1 for a in alerts[:PANEL_ALERTS] if a.status == AlertStatus.FIRING),
    }


def dead_letter_list(*, user: User | AnonymousUser) -> QuerySet[DeadLetter]:
    """Dead letters hold raw payloads: only staff who see everything may read them."""
    scope = staff_scope(user=user)
    if not scope.sees_everything:
        raise PermissionDenied(_("Only supervisors and administrators see dead letters."))
    return DeadLetter.objects.select_related("integration")
