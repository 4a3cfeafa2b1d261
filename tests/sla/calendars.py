"""Pure calendars shared by the SLA tests (built without the database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from opsdesk.sla import calendar as bt
from opsdesk.sla.holiday_names import country_holidays

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KR_HOLIDAYS = frozenset(country_holidays("KR", range(2023, 2029)))
ALL_DAY = ((0, bt.DAY_MINUTES),)

KR = bt.BusinessCalendar(holidays=KR_HOLIDAYS, name="kr")
KR_LUNCH = bt.BusinessCalendar(holidays=KR_HOLIDAYS, lunch=(12 * 60, 13 * 60), name="kr-lunch")
BERLIN_OFFICE = bt.BusinessCalendar(tz="Europe/Berlin", name="berlin")
BERLIN_ALL_DAY = bt.BusinessCalendar(tz="Europe/Berlin", weekly=(ALL_DAY,) * 7, name="berlin-all")
NEW_YORK_OFFICE = bt.BusinessCalendar(tz="America/New_York", name="new-york")
ALWAYS = bt.BusinessCalendar(is_24x7=True, name="24x7")
CALENDARS = (KR, KR_LUNCH, BERLIN_OFFICE, BERLIN_ALL_DAY, NEW_YORK_OFFICE, ALWAYS)


def naive_business_minutes(cal: bt.BusinessCalendar, start: datetime, end: datetime) -> int:
    """Reference: look at every whole minute's local wall time (minute-aligned inputs)."""
    count = 0
    moment = start
    while moment < end:
        local = moment.astimezone(cal.zone)
        minute = local.hour * 60 + local.minute
        if any(a <= minute < b for a, b in cal.hours_on(local.date())):
            count += 1
        moment += timedelta(minutes=1)
    return count


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc, arg-type]


BASE = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_END = date(2026, 12, 31)
