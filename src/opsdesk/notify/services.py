"""Notices to staff screens. See docs/subsystems/notifications.md."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from opsdesk.core.clock import now
from opsdesk.notify.models import AgentNotice


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
