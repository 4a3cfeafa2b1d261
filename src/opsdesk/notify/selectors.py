"""Reads of staff notices and quiet hours. See docs/subsystems/notifications.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Max, Q

from opsdesk.core.clock import now
from opsdesk.notify.models import AgentNotice, QuietHours
from opsdesk.notify.quiet import quiet_window_end

# A screen that opens late should not flood the agent with yesterday's calls.
NOTICE_MAX_AGE = timedelta(minutes=10)


def notice_list_since(*, user: User, after_id: int, limit: int = 20) -> list[AgentNotice]:
    return list(
        AgentNotice.objects.filter(
            Q(recipient__isnull=True) | Q(recipient=user),
            id__gt=after_id,
            created_at__gte=now() - NOTICE_MAX_AGE,
        ).order_by("id")[:limit]
    )


def notice_latest_id() -> int:
    return AgentNotice.objects.aggregate(m=Max("id"))["m"] or 0


def quiet_hours_end(*, user: User, at: datetime) -> datetime | None:
    """When the person's quiet window that contains ``at`` ends; None when they are not in
    one (or keep no quiet hours)."""
    quiet = QuietHours.objects.filter(user=user).first()
    if quiet is None:
        return None
    return quiet_window_end(at=at, starts=quiet.starts, ends=quiet.ends, zone=quiet.timezone)
