"""Quiet hours and urgency, pure (docs/subsystems/notifications.md#quiet-hours).

Urgent notices always go through: pages for urgent or major incidents and SLA breaches. Other
notices to a person in their quiet window wait until it ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# "urgent" severity mobilises everyone; "complex" is the 4-hour-recovery class (major).
URGENT_SEVERITIES = frozenset({"urgent", "complex"})
URGENT_PRIORITIES = frozenset({"urgent"})


def notice_is_urgent(*, severity: str, priority: str, sla_breach: bool = False) -> bool:
    """Whether a notice about a ticket with this severity/priority must ignore quiet hours."""
    return sla_breach or severity in URGENT_SEVERITIES or priority in URGENT_PRIORITIES


def quiet_window_end(*, at: datetime, starts: time, ends: time, zone: str) -> datetime | None:
    """The end (aware, UTC) of the quiet window that contains ``at``, or None when ``at`` is
    outside it. ``starts``–``ends`` is wall-clock time in ``zone`` and may cross midnight
    (22:00–07:00); equal times mean no window."""
    if starts == ends:
        return None
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    day = local.date()
    if starts < ends:  # the same day: 13:00–14:00
        inside = starts <= clock < ends
        end_day = day
    elif clock >= starts:  # crosses midnight, evening part: ends tomorrow
        inside, end_day = True, day + timedelta(days=1)
    else:  # crosses midnight, morning part
        inside, end_day = clock < ends, day
    if not inside:
        return None
    return datetime.combine(end_day, ends, tzinfo=tz).astimezone(UTC)
