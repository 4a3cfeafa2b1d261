"""Import a rotation from an iCal file or URL as overrides (docs/subsystems/oncall.md#ical).

Each VEVENT names who is on call for its interval: the ``X-OPSDESK-USERNAME`` of our own
feeds, else its attendees (``mailto:`` address, else the attendee's CN as a username), else its
summary (an email address in it, the whole summary or the part after its last colon as a
username, email or display name, else exactly one word that is a username). Each named staff
member becomes an override of the schedule for that interval. Recurring events (RRULE, EXDATE,
moved instances with RECURRENCE-ID) are expanded up to the horizon; cancelled events and
intervals already over are skipped; an identical override already on the schedule is kept,
not duplicated, so importing the same file twice changes nothing.

All or nothing: if any event names someone we do not know, names nobody, or cannot be read,
the report lists every problem and nothing is imported.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.oncall.models import Override, Schedule
from opsdesk.oncall.services import override_add

HORIZON_DAYS = 366
MAX_OCCURRENCES = 1000
MAX_FETCH_BYTES = 5 * 1024 * 1024
FETCH_TIMEOUT = 20
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORD = re.compile(r"[^\s:;,()\[\]<>\"'/|]+")


@dataclass(frozen=True)
class Cover:
    user: User
    starts_at: datetime
    ends_at: datetime
    summary: str


@dataclass
class IcalImportReport:
    created: list[Cover] = field(default_factory=list)
    existing: int = 0
    past: int = 0
    cancelled: int = 0
    problems: list[str] = field(default_factory=list)


class IcalImportError(InvalidInput):
    """Nothing was imported; ``problems`` says why, one line per event."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            _("Nothing imported: %(count)d problem(s). %(first)s")
            % {"count": len(problems), "first": problems[0]},
            field="file",
        )
        self.problems = problems


# --- who an event names ----------------------------------------------------------------


class Directory:
    """Active staff by username, email and display name (lower-case); ambiguous keys are
    kept as None so they never match silently."""

    def __init__(self) -> None:
        self.by_name: dict[str, User | None] = {}
        self.by_email: dict[str, User | None] = {}
        self.by_display: dict[str, User | None] = {}
        people = User.objects.filter(
            is_active=True, staff_profile__isnull=False, staff_profile__is_active=True
        ).select_related("staff_profile")
        for person in people:
            self._add(self.by_name, person.get_username(), person)
            self._add(self.by_email, person.email, person)
            self._add(self.by_display, person.staff_profile.display_name, person)

    @staticmethod
    def _add(index: dict[str, User | None], key: str, person: User) -> None:
        key = (key or "").strip().lower()
        if key:
            index[key] = None if key in index and index[key] != person else person

    def lookup(self, text: str, *, display: bool = False) -> User | None:
        key = text.strip().lower()
        found = self.by_name.get(key) or self.by_email.get(key)
        if found is None and display:
            found = self.by_display.get(key)
        return found


def _attendees(event: Event) -> list[Any]:
    value = event.get("ATTENDEE")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _named(event: Event, directory: Directory) -> tuple[list[User], list[str]]:
    """(people the event names, names we could not match)."""
    own = str(event.get("X-OPSDESK-USERNAME") or "").strip()
    if own:
        person = directory.lookup(own)
        return ([person], []) if person else ([], [own])
    attendees = _attendees(event)
    if attendees:
        people, unknown = [], []
        for attendee in attendees:
            address = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:")
            cn = str(attendee.params.get("CN") or "")
            person = directory.lookup(address) or (directory.lookup(cn) if cn else None)
            if person is None:
                unknown.append(address or cn)
            elif person not in people:
                people.append(person)
        return people, unknown
    return _named_in_summary(str(event.get("SUMMARY") or ""), directory)


def _named_in_summary(summary: str, directory: Directory) -> tuple[list[User], list[str]]:
    emails = _EMAIL.findall(summary)
    if emails:
        people = [p for p in (directory.lookup(e) for e in emails) if p is not None]
        unknown = [e for e in emails if directory.lookup(e) is None]
        return list(dict.fromkeys(people)), unknown
    for whole in (summary, summary.rsplit(":", 1)[-1]):
        person = directory.lookup(whole, display=True)
        if person is not None:
            return [person], []
    words = {p for p in (directory.lookup(w) for w in _WORD.findall(summary)) if p is not None}
    if len(words) == 1:
        return list(words), []
    return [], [summary or "?"]


# --- when ------------------------------------------------------------------------------


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time(0), tzinfo=zone)


def _span(event: Event, zone: ZoneInfo) -> tuple[datetime, timedelta]:
    start = event.decoded("DTSTART")
    if "DTEND" in event:
        length = _instant(event.decoded("DTEND"), zone) - _instant(start, zone)
    elif "DURATION" in event:
        length = event.decoded("DURATION")
    else:  # RFC 5545: a date lasts a day; a date-time without an end is an instant
        length = timedelta(days=1) if not isinstance(start, datetime) else timedelta(0)
    return _instant(start, zone), length


def _exdates(event: Event, zone: ZoneInfo) -> set[datetime]:
    value = event.get("EXDATE")
    if value is None:
        return set()
    lists = value if isinstance(value, list) else [value]
    return {_instant(item.dt, zone) for group in lists for item in group.dts}


def _occurrences(
    event: Event, zone: ZoneInfo, since: datetime, until: datetime, moved: set[datetime]
) -> Iterator[tuple[datetime, datetime]]:
    """The event's intervals; of a recurring one only those still running after ``since``
    and starting before ``until`` (a rule that began years ago is not walked from then)."""
    start, length = _span(event, zone)
    if "RRULE" not in event:
        yield start, start + length
        return
    raw = event["RRULE"].to_ical()
    rule = rrulestr(raw.decode() if isinstance(raw, bytes) else raw, dtstart=start)
    skip = _exdates(event, zone) | moved
    for begin in rule.xafter(since - length, count=MAX_OCCURRENCES):
        if begin > until:
            return
        if begin not in skip:
            yield begin, begin + length


def _label(event: Event, zone: ZoneInfo) -> str:
    summary = str(event.get("SUMMARY") or "").strip() or str(event.get("UID") or "?")
    try:
        start = _instant(event.decoded("DTSTART"), zone)
    except (KeyError, ValueError):
        return summary
    return f"{summary!r} ({start.astimezone(zone):%Y-%m-%d %H:%M})"


# --- the import ------------------------------------------------------------------------


def _calendar(data: bytes) -> Calendar:
    try:
        return Calendar.from_ical(data)
    except (ValueError, IndexError) as exc:
        raise InvalidInput(_("This is not an iCalendar file."), field="file") from exc


def _moved_instances(events: Iterable[Event], zone: ZoneInfo) -> dict[str, set[datetime]]:
    moved: dict[str, set[datetime]] = {}
    for event in events:
        if "RECURRENCE-ID" not in event:
            continue
        try:
            instant = _instant(event.decoded("RECURRENCE-ID"), zone)
        except (ValueError, TypeError):
            continue  # reported with the event's own dates if those are unreadable too
        moved.setdefault(str(event.get("UID") or ""), set()).add(instant)
    return moved


def _covers(
    events: list[Event], zone: ZoneInfo, report: IcalImportReport, horizon: datetime
) -> list[Cover]:
    directory = Directory()
    moved = _moved_instances(events, zone)
    moment = now()
    covers: list[Cover] = []
    for event in events:
        label = _label(event, zone)
        if str(event.get("STATUS") or "").upper() == "CANCELLED":
            report.cancelled += 1
            continue
        try:
            recurring_moved = (
                set() if "RECURRENCE-ID" in event else moved.get(str(event.get("UID") or ""), set())
            )
            spans = list(_occurrences(event, zone, moment, horizon, recurring_moved))
        except (KeyError, ValueError, TypeError) as exc:
            report.problems.append(
                _("%(event)s: cannot read its dates (%(error)s).") % {"event": label, "error": exc}
            )
            continue
        if any(ends_at <= starts_at for starts_at, ends_at in spans):
            report.problems.append(_("%(event)s: ends before it starts.") % {"event": label})
            continue
        live = [(b, e) for b, e in spans if e > moment]
        report.past += len(spans) - len(live)
        if not live:
            continue  # who a past event names does not matter (people who left, say)
        people, unknown = _named(event, directory)
        for name in unknown:
            report.problems.append(
                _("%(event)s: nobody on the staff matches %(name)r.")
                % {"event": label, "name": name}
            )
        if not people and not unknown:
            report.problems.append(_("%(event)s: names nobody.") % {"event": label})
        summary = str(event.get("SUMMARY") or "")
        covers.extend(Cover(p, b, e, summary) for b, e in live for p in people)
    return covers


def schedule_ical_import(
    *, schedule: Schedule, data: bytes, dry_run: bool = False, horizon_days: int = HORIZON_DAYS
) -> IcalImportReport:
    """Turn the calendar's events into overrides of ``schedule``; all or nothing."""
    zone = ZoneInfo(schedule.timezone)
    report = IcalImportReport()
    events = [e for e in _calendar(data).walk("VEVENT") if isinstance(e, Event)]
    covers = _covers(events, zone, report, now() + timedelta(days=horizon_days))
    if report.problems:
        raise IcalImportError(report.problems)
    existing = set(
        Override.objects.filter(schedule=schedule).values_list("user_id", "starts_at", "ends_at")
    )
    with transaction.atomic():
        for cover in covers:
            key = (cover.user.pk, cover.starts_at, cover.ends_at)
            if key in existing:
                report.existing += 1
                continue
            existing.add(key)
            report.created.append(cover)
            if not dry_run:
                override_add(
                    schedule=schedule,
                    user=cover.user,
                    starts_at=cover.starts_at,
                    ends_at=cover.ends_at,
                    reason=(_("iCal: %(summary)s") % {"summary": cover.summary})[:200],
                )
    return report


def ical_fetch(url: str) -> bytes:
    """Read a calendar from an http(s) or webcal URL (the CLI only: an API upload never makes
    the server fetch a URL someone else chose)."""
    if url.startswith("webcal://"):
        url = "https://" + url.removeprefix("webcal://")
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(_("Only http, https and webcal URLs can be imported."), field="url")
    request = urllib.request.Request(url, headers={"Accept": "text/calendar"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        data: bytes = response.read(MAX_FETCH_BYTES + 1)
    if len(data) > MAX_FETCH_BYTES:
        raise InvalidInput(_("The calendar is larger than 5 MB."), field="url")
    return data
