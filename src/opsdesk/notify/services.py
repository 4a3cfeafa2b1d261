"""Notices to staff screens and people's quiet hours. See docs/subsystems/notifications.md."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.notify.models import AgentNotice, QuietHours


def notice_broadcast(
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    data: dict[str, Any] | None = None,
    recipient: User | None = None,
) -> AgentNotice:
    """Put a notice on every logged-in agent's screen (or one person's, with ``recipient``)."""
    return AgentNotice.objects.create(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        url=url,
        data=data or {},
        created_at=now(),
    )


def quiet_hours_set(
    *, user: User, starts: time, ends: time, timezone: str = "Asia/Seoul"
) -> QuietHours:
    """Keep non-urgent notices away from ``user`` between ``starts`` and ``ends`` (their wall
    clock in ``timezone``; 22:00–07:00 crosses midnight). Urgent pages still go through."""
    if starts == ends:
        raise InvalidInput(_("Quiet hours must start and end at different times."), field="ends")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(_("Unknown time zone."), field="timezone") from exc
    quiet, _created = QuietHours.objects.update_or_create(
        user=user, defaults={"starts": starts, "ends": ends, "timezone": timezone}
    )
    return quiet


def quiet_hours_clear(*, user: User) -> None:
    QuietHours.objects.filter(user=user).delete()
