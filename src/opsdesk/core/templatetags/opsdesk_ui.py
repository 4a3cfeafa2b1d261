"""Display helpers for the agent UI: phone numbers, durations, people, timeline changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from opsdesk.core.people import display_name
from opsdesk.core.phones import format_phone_national
from opsdesk.notify.selectors import notice_latest_id
from opsdesk.tenancy.enums import ServiceLine
from opsdesk.tickets.enums import Channel, Priority, Severity, Status, TicketKind

register = template.Library()

# Field name -> (label, enum for raw values).
_FIELDS: dict[str, tuple[Any, Any]] = {
    "kind": (_("Kind"), TicketKind),
    "channel": (_("Channel"), Channel),
    "status": (_("Status"), Status),
    "priority": (_("Priority"), Priority),
    "severity": (_("Severity"), Severity),
    "service_line": (_("Service line"), ServiceLine),
    "subject": (_("Subject"), None),
    "description": (_("Description"), None),
    "organisation": (_("Organisation"), None),
    "contact": (_("Contact"), None),
    "contract": (_("Contract"), None),
    "team": (_("Team"), None),
    "technical_team": (_("Technical team"), None),
    "assignee": (_("Assignee"), None),
    "resolved_at": (_("Resolved at"), None),
    "first_response_at": (_("First response"), None),
}


@register.filter
def phone(value: str | None) -> str:
    return format_phone_national(value) if value else ""


@register.filter
def duration(seconds: int | None) -> str:
    if seconds is None or seconds == "":
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def staff_name(user: Any) -> str:
    return display_name(user)


@register.filter
def team_name(team: Any) -> str:
    if team is None:
        return ""
    return str(team.display_name(get_language() or "ko"))


def _display(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return str(value.get("label", value.get("id", "")))
    enum = _FIELDS.get(name, (None, None))[1]
    if enum is not None and value in enum.values:
        return str(enum(value).label)
    if name.endswith("_at") and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return date_format(timezone.localtime(moment), "Y-m-d H:i")
    return str(value)


@register.filter
def changes(event: Any) -> list[dict[str, str]]:
    """The event's field changes as [{'label', 'before', 'after'}], in a stable order."""
    rows = []
    for name, change in (event.changes or {}).items():
        label = _FIELDS.get(name, (name, None))[0]
        rows.append(
            {
                "name": name,
                "label": str(label),
                "before": _display(name, change.get("before")),
                "after": _display(name, change.get("after")),
            }
        )
    return rows


@register.filter
def choice_label(value: str, field: str) -> str:
    return _display(field, value)


@register.simple_tag
def notice_start_id() -> int:
    """Where a freshly opened screen starts polling: after the newest notice."""
    return notice_latest_id()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **kwargs: Any) -> str:
    """The current query string with some parameters replaced (empty values removed)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
