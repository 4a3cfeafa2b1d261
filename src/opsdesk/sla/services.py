"""Writes for SLA calendars (docs/subsystems/sla.md)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from opsdesk.core.errors import InvalidInput
from opsdesk.sla import calendar as bt
from opsdesk.sla.enums import CalendarDayKind
from opsdesk.sla.models import CalendarDay
from opsdesk.sla.selectors import calendar_get


@transaction.atomic
def calendar_day_set(
    *,
    calendar_name: str,
    day: date,
    kind: str,
    name: str = "",
    hours: list[list[str]] | None = None,
) -> CalendarDay:
    """Add or replace an admin day: a temporary holiday, a company day off, a special
    working day (``hours`` blank = the calendar's Monday hours)."""
    if kind not in CalendarDayKind.values:
        raise InvalidInput(f"unknown calendar day kind {kind!r}", field="kind")
    if hours and kind != CalendarDayKind.WORKING_DAY:
        raise InvalidInput("only working days have hours", field="hours")
    try:
        bt.parse_day_hours(hours or [])
    except ValueError as error:
        raise InvalidInput(str(error), field="hours") from None
    row, _ = CalendarDay.objects.update_or_create(
        calendar=calendar_get(name=calendar_name),
        date=day,
        defaults={"kind": kind, "name": name.strip(), "hours": hours or []},
    )
    return row


@transaction.atomic
def calendar_day_remove(*, calendar_name: str, day: date) -> None:
    CalendarDay.objects.filter(calendar=calendar_get(name=calendar_name), date=day).delete()
