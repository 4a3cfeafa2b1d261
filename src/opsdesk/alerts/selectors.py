"""Reads of the monitoring intake. See docs/subsystems/alerts.md."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import AlertStatus, GroupStatus, SilenceState
from opsdesk.alerts.matching import Matcher, matchers_parsed, parsed_match
from opsdesk.alerts.models import Alert, AlertGroup, DeadLetter, Integration, MappingRule, Silence
from opsdesk.core.clock import now
from opsdesk.core.configcache import config_cached, config_stamp
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


# --- rules and silences as the ingest reads them ---------------------------------------------
# Every new firing alert asks whether a silence matches it and every new incident which
# mapping rule does. Both are kept per process under the configuration stamp
# (core.configcache: MappingRule and Silence are registered in AlertsConfig.ready and bump
# updated_at on every save), with their matchers parsed once; inside the ingest's
# config_scope the stamp is one query shared with routing and the SLA refresh.


@dataclass(frozen=True)
class _SilenceWindow:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class _Silences:
    built_at: datetime  # silences that had ended by then are left out
    windows: tuple[_SilenceWindow, ...]


def _integration_or_global(integration_id: int) -> Q:
    return Q(integration_id=integration_id) | Q(integration__isnull=True)


def _silence_windows(integration_id: int, at: datetime) -> tuple[_SilenceWindow, ...]:
    rows = Silence.objects.filter(_integration_or_global(integration_id), ends_at__gt=at)
    return tuple(
        _SilenceWindow(matchers=matchers_parsed(m), starts_at=s, ends_at=e)
        for m, s, e in rows.order_by().values_list("matchers", "starts_at", "ends_at")
    )


def silence_matches(*, integration_id: int, labels: Mapping[str, str], at: datetime) -> bool:
    """Whether a silence or maintenance window of the integration (or a global one) active
    at ``at`` matches ``labels``."""
    config_stamp()
    cached: _Silences = config_cached(
        ("alerts", "silences", integration_id),
        lambda: _Silences(built_at=at, windows=_silence_windows(integration_id, at)),
    )
    # A clock that went back past the cache's start: ask the database.
    windows = cached.windows if at >= cached.built_at else _silence_windows(integration_id, at)
    return any(w.starts_at <= at < w.ends_at and parsed_match(w.matchers, labels) for w in windows)


def mapping_rule_for_labels(
    *, integration_id: int, labels: Mapping[str, str]
) -> MappingRule | None:
    """The first mapping rule (lowest ``order``; the integration's and global ones) whose
    matchers match ``labels``, with its organisation and contract read fresh (they decide
    where an incident opens and whether it may); None when none matches."""
    config_stamp()
    rules: tuple[tuple[int, tuple[Matcher, ...]], ...] = config_cached(
        ("alerts", "rules", integration_id),
        lambda: tuple(
            (pk, matchers_parsed(m))
            for pk, m in MappingRule.objects.filter(_integration_or_global(integration_id))
            .order_by("order", "id")
            .values_list("id", "matchers")
        ),
    )
    for pk, parsed in rules:
        if parsed_match(parsed, labels):
            rule = MappingRule.objects.select_related("organisation", "contract")
            found = rule.filter(pk=pk).first()
            if found is not None:  # else deleted a moment ago: the next one
                return found
    return None


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
