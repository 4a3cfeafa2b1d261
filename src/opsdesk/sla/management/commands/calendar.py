"""`opsdesk calendar ...`: business calendars from the command line (docs/subsystems/sla.md).

    opsdesk calendar holidays YEAR [--calendar NAME]           -> "date,name" CSV lines
    opsdesk calendar business-minutes START END [--calendar NAME] -> whole business minutes
    opsdesk calendar add START MINUTES [--calendar NAME]          -> ISO instant, calendar's zone
    opsdesk calendar is-business-time INSTANT [--calendar NAME]   -> true / false

Instants are ISO 8601; one without an offset is read as local time in the calendar's zone
(so `2025-10-03T17:00` means 17:00 in Seoul for the default calendar).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.core.errors import NotFound
from opsdesk.sla import calendar as bt
from opsdesk.sla import selectors
from opsdesk.sla.models import BusinessCalendar

ARITY = {"holidays": 1, "business-minutes": 2, "add": 2, "is-business-time": 1}
MIN_YEAR, MAX_YEAR = 1950, 2100
# `add` loads holidays for ADD_YEARS after the start; MAX_MINUTES (~7 years of 9-hour
# business days) keeps the answer inside that span.
ADD_YEARS = 10
MAX_MINUTES = 1_000_000


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"not an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value


def parse_int(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"{what} must be a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise CommandError(f"{what} must be between {low} and {high}, got {value}")
    return value


def years_around(*instants: datetime, ahead: int = 1) -> range:
    """Years of holidays to load: one before the earliest instant to ``ahead`` after the last."""
    years = [instant.year for instant in instants]
    return range(min(years) - 1, max(years) + ahead + 1)


class Command(BaseCommand):
    help = "Business calendars: holidays, business minutes, adding business time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=sorted(ARITY))
        parser.add_argument("values", nargs="*")
        parser.add_argument("--calendar", default=selectors.DEFAULT_CALENDAR)

    def handle(self, *args: Any, **options: Any) -> None:
        action, values, name = options["action"], options["values"], options["calendar"]
        if len(values) != ARITY[action]:
            raise CommandError(f"'{action}' takes {ARITY[action]} argument(s), got {len(values)}")
        try:
            row = selectors.calendar_get(name=name)
        except NotFound as error:
            raise CommandError(str(error)) from None
        handler = getattr(self, "do_" + action.replace("-", "_"))
        output = handler(row, ZoneInfo(row.time_zone), *values)
        if output:
            self.stdout.write(output)

    def do_holidays(self, row: BusinessCalendar, zone: ZoneInfo, year_text: str) -> str:
        year = parse_int(year_text, "YEAR", MIN_YEAR, MAX_YEAR)
        table = selectors.calendar_holidays(row=row, years=range(year, year + 1))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows((day.isoformat(), day_name) for day, day_name in table.items())
        return buffer.getvalue().rstrip("\n")

    def do_business_minutes(
        self, row: BusinessCalendar, zone: ZoneInfo, start_text: str, end_text: str
    ) -> str:
        start, end = parse_instant(start_text, zone), parse_instant(end_text, zone)
        cal = selectors.calendar_load(row.name, years=years_around(start, end))
        return str(bt.business_minutes_between(cal, start, end))

    def do_add(
        self, row: BusinessCalendar, zone: ZoneInfo, start_text: str, minutes_text: str
    ) -> str:
        start = parse_instant(start_text, zone)
        minutes = parse_int(minutes_text, "MINUTES", 0, MAX_MINUTES)
        cal = selectors.calendar_load(row.name, years=years_around(start, ahead=ADD_YEARS))
        return bt.to_local(cal, bt.add_business_minutes(cal, start, minutes)).isoformat()

    def do_is_business_time(self, row: BusinessCalendar, zone: ZoneInfo, instant_text: str) -> str:
        instant = parse_instant(instant_text, zone)
        cal = selectors.calendar_load(row.name, years=years_around(instant))
        return "true" if bt.is_business_time(cal, instant) else "false"
