"""Reads of staff notices. See docs/subsystems/notifications.md."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Max, Q

from opsdesk.core.clock import now
from opsdesk.notify.models import AgentNotice

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
