"""Template helpers for ticket pages: SLA state colours."""

from __future__ import annotations

from django import template

from opsdesk.core.clock import now
from opsdesk.tickets.models import Ticket

register = template.Library()


@register.filter
def sla_state(ticket: Ticket) -> str:
    """'breached', 'warning', 'running', or '' when no clock runs (paused, met, none)."""
    if ticket.due_at is None:
        return ""
    moment = now()
    if ticket.due_at <= moment:
        return "breached"
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= moment:
        return "warning"
    return "running"
