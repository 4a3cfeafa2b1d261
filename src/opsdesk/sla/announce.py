"""Announcing SLA warnings and breaches (docs/subsystems/sla.md).

Separate from sla/services.py because it writes to the ticket's timeline through
tickets.services, which itself calls sla.services after every write.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.notify.services import notice_broadcast
from opsdesk.oncall.services import escalation_start
from opsdesk.sla.enums import Metric
from opsdesk.sla.models import SlaAlert
from opsdesk.sla.selectors import ticket_clocks
from opsdesk.tenancy.enums import MemberRole
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_system_event_add

logger = logging.getLogger("opsdesk.sla")


def _local(moment: datetime) -> str:
    """A deadline as the support centre reads it: local time with its zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _still_due(ticket: Ticket, due_at: datetime) -> str | None:
    """The metric whose running clock still has this deadline, or None if it moved/stopped."""
    for metric, clock_ in ticket_clocks(ticket=ticket).items():
        if clock_.stopped_at is None and clock_.state != "paused" and clock_.due_at == due_at:
            return metric
    return None


def sla_escalation_recipients(*, ticket: Ticket) -> list[User]:
    """The assignee and the leads of the ticket's teams, the procedure's first escalation."""
    team_ids = [t for t in (ticket.team_id, ticket.technical_team_id) if t]
    leads = User.objects.filter(
        memberships__team_id__in=team_ids,
        memberships__role=MemberRole.TEAM_LEAD,
        is_active=True,
    )
    people = {u.pk: u for u in leads}
    if ticket.assignee is not None and ticket.assignee.is_active:
        people[ticket.assignee.pk] = ticket.assignee
    return list(people.values())


def sla_escalate(*, ticket: Ticket, kind: str, metric: str, due_at: datetime) -> int:
    """Start (or continue) the ticket's escalation through its on-call policy; without a
    policy, tell the assignee and team leads by screen notice and email."""
    reason = (_("SLA breached") if kind == "breach" else _("SLA warning")) + f": {metric}"
    escalation = escalation_start(ticket=ticket, reason=reason, sla_breach=(kind == "breach"))
    if escalation is not None:
        return 1
    people = sla_escalation_recipients(ticket=ticket)
    title = (_("SLA breached: %(ref)s") if kind == "breach" else _("SLA due soon: %(ref)s")) % {
        "ref": ticket.reference
    }
    body = _("%(metric)s due %(due)s — %(subject)s") % {
        "metric": Metric(metric).label,
        "due": _local(due_at),
        "subject": ticket.subject,
    }
    url = reverse("tickets:detail", args=[ticket.reference])
    for person in people:
        notice_broadcast(kind=f"sla_{kind}", title=title, body=body, url=url, recipient=person)
    addresses = [p.email for p in people if p.email]
    if addresses:
        _mail_staff(
            ticket, subject=f"[{ticket.reference}] {title}", body=body, url=url, to=addresses
        )
    return len(people)


def _mail_staff(ticket: Ticket, *, subject: str, body: str, url: str, to: list[str]) -> None:
    """Email is the second channel after the screen notice: when the mail server is down,
    the announcement stands and the failure is written on the ticket instead of the timer
    retrying (which would repeat the screen notices)."""
    try:
        send_mail(
            subject=subject,
            message=f"{body}\n\n{settings.OPSDESK_BASE_URL.rstrip('/')}{url}",
            from_email=None,
            recipient_list=to,
        )
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("sla mail failed", extra={"ticket": ticket.reference, "error": str(exc)})
        ticket_system_event_add(
            ticket=ticket,
            actor_label=_("SLA"),
            body=_("The SLA email to staff could not be sent: %(error)s") % {"error": exc},
            data={"sla_mail_failed": True},
        )


def sla_announce(*, ticket: Ticket, kind: str, due_at: datetime) -> bool:
    """Announce a warning or breach once per deadline, if that deadline still stands."""
    metric = _still_due(ticket, due_at)
    if metric is None:
        return False
    try:
        with transaction.atomic():
            SlaAlert.objects.create(
                ticket=ticket, kind=kind, due_at=due_at, metric=metric, sent_at=now()
            )
    except IntegrityError:
        return False  # announced already (a timer that ran twice)
    label = _("SLA breached") if kind == "breach" else _("SLA warning")
    ticket_system_event_add(
        ticket=ticket,
        actor_label=label,
        body=(
            _("%(metric)s was due at %(due)s.")
            if kind == "breach"
            else _("%(metric)s is due at %(due)s.")
        )
        % {"metric": Metric(metric).label, "due": _local(due_at)},
        data={"sla": kind, "metric": metric, "due_at": due_at.isoformat()},
    )
    sla_escalate(ticket=ticket, kind=kind, metric=metric, due_at=due_at)
    logger.info("sla %s", kind, extra={"ticket": ticket.reference, "metric": metric})
    return True
