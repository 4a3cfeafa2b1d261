"""Reads of the monitoring intake. See docs/subsystems/alerts.md."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import GroupStatus
from opsdesk.alerts.models import Alert, AlertGroup, DeadLetter, Integration
from opsdesk.core.errors import PermissionDenied
from opsdesk.tenancy.selectors import staff_scope
from opsdesk.tickets.selectors import access_ticket, ticket_visible


def integration_url(*, integration: Integration) -> str:
    """The full URL a monitoring system posts to; it contains the secret token."""
    base = str(getattr(settings, "OPSDESK_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
    return f"{base}/api/v1/integrations/{integration.kind}/{integration.token}/"


def integration_list(*, user: User | AnonymousUser) -> QuerySet[Integration]:
    staff_scope(user=user)
    return Integration.objects.select_related("organisation", "contract")


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


def dead_letter_list(*, user: User | AnonymousUser) -> QuerySet[DeadLetter]:
    """Dead letters hold raw payloads: only staff who see everything may read them."""
    scope = staff_scope(user=user)
    if not scope.sees_everything:
        raise PermissionDenied(_("Only supervisors and administrators see dead letters."))
    return DeadLetter.objects.select_related("integration")
