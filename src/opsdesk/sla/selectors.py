"""Reads for SLA calendars and policies (docs/subsystems/sla.md).

``calendar_load`` builds the pure ``calendar.BusinessCalendar`` from the database. Results are
cached per process; the cache key includes the calendar row's and its days' ``updated_at`` and
the number of days, so an admin's change is seen on the next load without signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from opsdesk.core import clock
from opsdesk.core.errors import NotFound
from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import Clock, PolicySnapshot, TargetSnapshot, TicketFacts, compute_clocks
from opsdesk.sla.enums import CalendarDayKind, Metric
from opsdesk.sla.holiday_names import country_holidays
from opsdesk.sla.models import BusinessCalendar, CalendarDay, SlaPolicy
from opsdesk.tickets.models import Ticket, TimelineEvent

DEFAULT_CALENDAR = "default"
# Years of public holidays loaded around the current year (before, after).
YEARS_BEFORE, YEARS_AFTER = 3, 5

_cache: dict[tuple[Any, ...], bt.BusinessCalendar] = {}


def calendar_get(*, name: str) -> BusinessCalendar:
    try:
        return BusinessCalendar.objects.get(name=name)
    except BusinessCalendar.DoesNotExist:
        raise NotFound(f"no business calendar named {name!r}") from None


def _default_years() -> range:
    year = clock.now().year
    return range(year - YEARS_BEFORE, year + YEARS_AFTER + 1)


def _weekly(row: BusinessCalendar) -> tuple[bt.DayHours, ...]:
    hours: Mapping[str, Any] = row.weekly_hours or {}
    return tuple(bt.parse_day_hours(hours.get(key, [])) for key in bt.WEEKDAY_KEYS)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _lunch(row: BusinessCalendar) -> bt.Interval | None:
    if row.lunch_start is None or row.lunch_end is None:
        return None
    return (_minutes(row.lunch_start), _minutes(row.lunch_end))


def calendar_holidays(*, row: BusinessCalendar, years: range) -> dict[date, str]:
    """Days off of a calendar in ``years``: public holidays plus admin days, minus special
    working days; an admin day's name replaces the library's name for the same date."""
    table = country_holidays(row.country_holidays, years)
    for day in CalendarDay.objects.filter(calendar=row, date__year__in=list(years)):
        if day.kind == CalendarDayKind.WORKING_DAY:
            table.pop(day.date, None)
        else:
            table[day.date] = day.name or table.get(day.date, "")
    return dict(sorted(table.items()))


def _special_days(row: BusinessCalendar, weekly: tuple[bt.DayHours, ...]) -> dict[date, Any]:
    special: dict[date, bt.DayHours] = {}
    days = CalendarDay.objects.filter(calendar=row, kind=CalendarDayKind.WORKING_DAY)
    for day in days:
        special[day.date] = bt.parse_day_hours(day.hours) if day.hours else weekly[0]
    return special


def calendar_build(*, row: BusinessCalendar, years: range | None = None) -> bt.BusinessCalendar:
    """The pure calendar of a row (no caching)."""
    years = years or _default_years()
    weekly = _weekly(row)
    return bt.BusinessCalendar(
        tz=row.time_zone,
        weekly=weekly,
        holidays=frozenset(calendar_holidays(row=row, years=years)),
        special_days=_special_days(row, weekly),
        lunch=_lunch(row),
        is_24x7=row.is_24x7,
        name=row.name,
    )


def calendar_load(
    name: str = DEFAULT_CALENDAR, *, years: range | None = None
) -> bt.BusinessCalendar:
    """The pure calendar named ``name``, cached per process until its rows change."""
    row = calendar_get(name=name)
    years = years or _default_years()
    stats = CalendarDay.objects.filter(calendar=row).aggregate(
        n=Count("id"), last=Max("updated_at")
    )
    key = (row.pk, row.updated_at, stats["n"], stats["last"], years.start, years.stop)
    cached = _cache.get(key)
    if cached is None:
        cached = calendar_build(row=row, years=years)
        for stale in [k for k in _cache if k[0] == row.pk and k[4:] == key[4:]]:
            del _cache[stale]
        _cache[key] = cached
    return cached


def _fallback_targets(policy: SlaPolicy) -> tuple[TargetSnapshot, ...]:
    return (
        TargetSnapshot(metric=Metric.FIRST_RESPONSE, minutes=policy.first_response_minutes),
        TargetSnapshot(
            metric=Metric.RECOVERY,
            minutes=policy.recovery_minutes,
            kind="incident",
            severity="complex",
        ),
        TargetSnapshot(metric=Metric.RESOLUTION, minutes=policy.resolution_minutes),
    )


def policy_snapshot(*, policy: SlaPolicy) -> PolicySnapshot:
    """Freeze a policy, its targets and its calendar into plain dataclasses for ``clocks``."""
    calendar_name = policy.calendar.name if policy.calendar is not None else DEFAULT_CALENDAR
    targets = tuple(
        TargetSnapshot(
            metric=target.metric,
            minutes=target.minutes,
            kind=target.kind,
            priority=target.priority,
            severity=target.severity,
            business_time=target.business_time,
            after_hours_minutes=target.after_hours_minutes,
            pause_on_customer=target.pause_on_customer,
            pause_on_vendor=target.pause_on_vendor,
        )
        for target in policy.targets.order_by("id")
    )
    return PolicySnapshot(
        name=policy.name,
        calendar=calendar_load(calendar_name),
        targets=targets or _fallback_targets(policy),
        warn_at_percent=policy.warn_at_percent,
    )


def policy_for_contract(*, contract_policy_id: int | None) -> SlaPolicy | None:
    """The contract's policy, else the site default (settings OPSDESK DEFAULT_SLA_POLICY)."""
    qs = SlaPolicy.objects.select_related("calendar")
    if contract_policy_id is not None:
        found = qs.filter(pk=contract_policy_id).first()
        if found is not None:
            return found
    return qs.filter(name=settings.OPSDESK["DEFAULT_SLA_POLICY"]).first()


def ticket_facts(*, ticket: Ticket) -> TicketFacts:
    """The timeline, reduced to what the clocks need: every status change with its time."""
    changes: list[tuple[datetime, str]] = []
    rows = (
        TimelineEvent.objects.filter(ticket=ticket)
        .exclude(changes={})
        .order_by("created_at", "id")
        .values_list("created_at", "changes")
    )
    for at, change in rows:
        status = change.get("status") if isinstance(change, dict) else None
        if isinstance(status, dict) and status.get("after"):
            changes.append((at, str(status["after"])))
    return TicketFacts(
        kind=ticket.kind,
        priority=ticket.priority,
        severity=ticket.severity,
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        status_changes=tuple(changes),
    )


def ticket_clocks(*, ticket: Ticket, now: datetime | None = None) -> dict[str, Clock]:
    """Every SLA clock of the ticket, recomputed from its timeline."""
    policy = policy_for_contract(
        contract_policy_id=ticket.contract.sla_policy_id if ticket.contract else None
    )
    if policy is None:
        return {}
    return compute_clocks(
        policy_snapshot(policy=policy), ticket_facts(ticket=ticket), now or clock.now()
    )
