"""Pure business-time arithmetic (docs/subsystems/sla.md). No ORM, no Django.

A :class:`BusinessCalendar` says, for every local date in its time zone, which local
time intervals are business time. Every function works on aware instants and answers in
aware instants (UTC for computed results). A day's intervals are converted to UTC once per
calendar and date and cached; a per-calendar index of prefix sums over local dates (grown on
demand, ~400 days at a time) makes a span's business time O(1) and adding time a bisect,
so the arithmetic never walks minutes, and long spans do not walk days either.

Conventions (the contract the SLA clocks and the CLI rely on):

* Intervals are half-open: ``[start, end)``. 18:00 is not business time in a 09:00-18:00 day.
* Hours are minutes after local midnight, ``0 <= start < end <= 1440`` (1440 = 24:00).
* Precedence for a local date: a special working day's hours > a holiday (no hours) >
  the weekday's hours. The lunch break (if any) is cut out of every day's hours.
* Daylight saving time: local times are converted with ``zoneinfo`` using PEP 495
  ``fold=0``. A nonexistent local time (inside a spring-forward gap) therefore moves
  forward by the gap (02:30 -> 03:30 in Europe/Berlin); an ambiguous one (fall-back
  overlap) means its first occurrence. An interval that collapses is dropped. A
  00:00-24:00 day is 23 h long on the spring-forward date and 25 h on the fall-back date.
* ``business_minutes_between`` counts whole minutes (floor of business seconds / 60) and is
  antisymmetric: ``f(a, b) == -f(b, a)``.
* ``add_business_minutes(t, 0) == t``; for ``m > 0`` it answers the earliest instant at which
  ``m`` business minutes have elapsed since ``t``; an end of interval is a valid answer
  (Friday 17:00 + 60 min = Friday 18:00). Counting from outside business hours starts at
  the next opening. Negative minutes raise ``ValueError``.
* 24x7 calendars: every instant is business time; arithmetic is elapsed (UTC) time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import cast
from zoneinfo import ZoneInfo

Interval = tuple[int, int]
DayHours = tuple[Interval, ...]
Window = tuple[datetime, datetime]

MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)
DAY_MINUTES = 1440
# A calendar with no business time for this many consecutive days is treated as broken.
MAX_EMPTY_DAYS = 3700

OFFICE_HOURS: DayHours = ((9 * 60, 18 * 60),)
DEFAULT_WEEK: tuple[DayHours, ...] = (OFFICE_HOURS,) * 5 + ((), ())
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hhmm(text: str) -> int:
    """'09:30' -> 570; '24:00' is allowed as an end of day."""
    if not isinstance(text, str):
        raise ValueError(f"not a HH:MM time: {text!r}")
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not a HH:MM time: {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > DAY_MINUTES:
        raise ValueError(f"not a HH:MM time: {text!r}")
    return value


def format_hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def parse_day_hours(pairs: Iterable[Iterable[str]]) -> DayHours:
    """[["09:00", "12:00"], ["13:00", "18:00"]] -> ((540, 720), (780, 1080))."""
    result: list[Interval] = []
    for pair in pairs:
        parts = [parse_hhmm(part) for part in pair]
        if len(parts) != 2:
            raise ValueError(f"an interval needs a start and an end: {pair!r}")
        result.append((parts[0], parts[1]))
    return normalise_hours(result)


def normalise_hours(intervals: Iterable[Interval]) -> DayHours:
    """Validate, sort and merge overlapping or touching intervals."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if not 0 <= start < end <= DAY_MINUTES:
            raise ValueError(f"bad business hours interval: {start}-{end}")
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def cut_break(hours: DayHours, pause: Interval | None) -> DayHours:
    """Remove a break (e.g. lunch 12:00-13:00) from a day's hours."""
    if pause is None:
        return hours
    pause_start, pause_end = pause
    result: list[Interval] = []
    for start, end in hours:
        if start < pause_start:
            result.append((start, min(end, pause_start)))
        if end > pause_end:
            result.append((max(start, pause_end), end))
    return tuple(result)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
INDEX_DAYS = 400  # days indexed at once; the index grows on demand


def _micros(instant: datetime) -> int:
    return (instant - EPOCH) // MICROSECOND


def _instant(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class _Index:
    """Per local date, in microseconds since the epoch: ``midnights[i]`` is the start of day
    ``lo + i``; ``cum[i]`` the business time of days ``lo .. lo+i-1``; ``days[i]`` the windows."""

    __slots__ = ("cum", "days", "lo", "midnights")

    def __init__(self, cal: BusinessCalendar, lo: int, hi: int) -> None:
        self.lo = lo
        self.days = [
            tuple((_micros(a), _micros(b)) for a, b in cal.windows_on(ordinal))
            for ordinal in range(lo, hi)
        ]
        self.midnights = [
            _micros(_local_instant(date.fromordinal(ordinal), 0, cal.zone))
            for ordinal in range(lo, hi + 1)
        ]
        self.cum = [0]
        for windows in self.days:
            self.cum.append(self.cum[-1] + sum(end - start for start, end in windows))

    @property
    def hi(self) -> int:
        return self.lo + len(self.days)

    def ordinal_of(self, micros: int) -> int | None:
        """The local date (ordinal) of an instant, or None outside the index."""
        i = bisect_right(self.midnights, micros) - 1
        return self.lo + i if 0 <= i < len(self.days) else None


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """Business hours in one time zone, with holidays and special working days."""

    tz: str = "Asia/Seoul"
    weekly: tuple[DayHours, ...] = DEFAULT_WEEK
    holidays: frozenset[date] = frozenset()
    special_days: Mapping[date, DayHours] = field(default_factory=dict)
    lunch: Interval | None = None
    is_24x7: bool = False
    name: str = ""
    _zone: ZoneInfo = field(init=False, repr=False)
    _cache: dict[int, tuple[Window, ...]] = field(init=False, repr=False)
    _index: list[_Index] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly hours need 7 days, Monday first")
        weekly = tuple(cut_break(normalise_hours(day), self.lunch) for day in self.weekly)
        if not self.is_24x7 and not any(weekly):
            raise ValueError("a calendar needs business hours on at least one weekday")
        special = {
            day: cut_break(normalise_hours(hours), self.lunch)
            for day, hours in self.special_days.items()
        }
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "special_days", MappingProxyType(special))
        object.__setattr__(self, "_zone", ZoneInfo(self.tz))
        object.__setattr__(self, "_cache", {})
        object.__setattr__(self, "_index", [])

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def hours_on(self, day: date) -> DayHours:
        """Local business hours of one date after holidays and special days."""
        if self.is_24x7:
            return ((0, DAY_MINUTES),)
        special = self.special_days.get(day)
        if special is not None:
            return special
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]

    def windows_on(self, ordinal: int) -> tuple[Window, ...]:
        """The UTC windows of the local date with this proleptic ordinal (cached)."""
        cached = self._cache.get(ordinal)
        if cached is None:
            day = date.fromordinal(ordinal)
            cached = tuple(_to_utc_windows(day, self.hours_on(day), self._zone))
            self._cache[ordinal] = cached
        return cached

    def index_covering(self, first: int, last: int) -> _Index:
        """The prefix-sum index, grown to cover local dates ``first .. last`` (ordinals)."""
        current = self._index[0] if self._index else None
        if current is not None and current.lo <= first and last < current.hi:
            return current
        lo = first - 7 if current is None else min(current.lo, first - 7)
        hi = last + INDEX_DAYS if current is None else max(current.hi, last + INDEX_DAYS)
        built = _Index(self, lo, hi)
        self._index[:] = [built]
        return built

    def locate(self, micros: int, instant: datetime) -> tuple[_Index, int]:
        """The index covering ``instant`` and the instant's local date (ordinal)."""
        if self._index:
            ordinal = self._index[0].ordinal_of(micros)
            if ordinal is not None:
                return self._index[0], ordinal
        ordinal = instant.astimezone(self._zone).date().toordinal()
        return self.index_covering(ordinal, ordinal), ordinal


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute == DAY_MINUTES:
        day, minute = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _to_utc_windows(day: date, hours: DayHours, zone: ZoneInfo) -> Iterator[Window]:
    last_end: datetime | None = None
    for start_minute, end_minute in hours:
        start = _local_instant(day, start_minute, zone)
        end = _local_instant(day, end_minute, zone)
        if last_end is not None and start < last_end:
            start = last_end
        if start < end:
            yield start, end
            last_end = end


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")


def _windows_from(cal: BusinessCalendar, instant: datetime) -> Iterator[Window]:
    """Business windows that end after ``instant``, clipped to start no earlier than it."""
    ordinal = instant.astimezone(cal.zone).date().toordinal() - 1
    empty_days = 0
    while empty_days < MAX_EMPTY_DAYS:
        windows = cal.windows_on(ordinal)
        empty_days = 0 if windows else empty_days + 1
        for start, end in windows:
            if end > instant:
                yield max(start, instant), end
        ordinal += 1
    raise ValueError(f"calendar {cal.name!r} has no business time for {MAX_EMPTY_DAYS} days")


def business_windows(cal: BusinessCalendar, start: datetime, end: datetime) -> Iterator[Window]:
    """The business windows inside ``[start, end)``, in order, as UTC instants."""
    _require_aware(start)
    _require_aware(end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return
    if cal.is_24x7:
        yield start, end
        return
    for window_start, window_end in _windows_from(cal, start):
        if window_start >= end:
            return
        yield window_start, min(window_end, end)


def _position(index: _Index, ordinal: int, micros: int) -> int:
    """Business microseconds from the start of the index to the instant ``micros``."""
    i = ordinal - index.lo
    total = index.cum[i]
    for start, end in index.days[i]:
        if micros <= start:
            break
        total += min(micros, end) - start
    return total


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Exact business time in ``[start, end)`` (zero when ``end <= start``)."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return ZERO
    if cal.is_24x7:
        return end - start
    start_us, end_us = _micros(start), _micros(end)
    _, first = cal.locate(start_us, start)
    _, last = cal.locate(end_us, end)
    index = cal.index_covering(first, last)
    business = _position(index, last, end_us) - _position(index, first, start_us)
    return timedelta(microseconds=business)


def business_positions(cal: BusinessCalendar, instants: list[datetime]) -> list[int]:
    """Business microseconds from a common origin to each instant, so that
    ``positions[j] - positions[i]`` is the business time between ``instants[i]`` and
    ``instants[j]``. The origin is only stable within one call."""
    if not instants:
        return []
    micros = [_micros(instant) for instant in instants]
    if cal.is_24x7:
        return micros
    return positions_us(cal, micros)[1]


def positions_us(cal: BusinessCalendar, micros: Sequence[int]) -> tuple[_Index, list[int]]:
    """Business positions (as :func:`business_positions`) of instants given in microseconds
    since the epoch, and the index they refer to: :func:`instant_at_position` on that index
    inverts them. For the hot loops of the clocks: no datetimes, one bisect per instant while
    the calendar's index covers the instants. Not for 24x7 calendars (positions = micros)."""
    if cal._index:
        index = cal._index[0]
        midnights, days, cum, count = index.midnights, index.days, index.cum, len(index.days)
        positions: list[int] = []
        for us in micros:
            i = bisect_right(midnights, us) - 1
            if not 0 <= i < count:
                break
            total = cum[i]
            for start, end in days[i]:
                if us <= start:
                    break
                total += (us if us < end else end) - start
            positions.append(total)
        else:
            return index, positions
    ordinals = [cal.locate(us, _instant(us))[1] for us in micros]
    index = cal.index_covering(min(ordinals), max(ordinals))
    return index, [_position(index, o, us) for o, us in zip(ordinals, micros, strict=True)]


def instant_at_position(index: _Index, position: int) -> int | None:
    """The earliest instant (µs) at business ``position`` (> 0) of ``index``, or None when the
    index does not reach that far (grow it and recompute the position)."""
    cum = index.cum
    if position > cum[-1]:
        return None
    i = bisect_left(cum, position) - 1
    left = position - cum[i]
    for start, end in index.days[i]:
        if end - start >= left:
            return start + left
        left -= end - start
    raise AssertionError("unreachable: the prefix sums cover the position")


def is_business_us(cal: BusinessCalendar, micros: int) -> bool:
    """:func:`is_business_time` for an instant in microseconds since the epoch."""
    if cal.is_24x7:
        return True
    if cal._index:
        index = cal._index[0]
        i = bisect_right(index.midnights, micros) - 1
        if 0 <= i < len(index.days):
            return any(start <= micros < end for start, end in index.days[i])
    index, ordinal = cal.locate(micros, _instant(micros))
    return any(start <= micros < end for start, end in index.days[ordinal - index.lo])


def business_minutes_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Whole business minutes from ``start`` to ``end``; negative when ``end < start``."""
    if end < start:
        return -business_minutes_between(cal, end, start)
    return business_time_between(cal, start, end) // MINUTE


def add_business_time(cal: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The earliest instant at which ``amount`` of business time has elapsed since ``start``."""
    _require_aware(start)
    if amount < ZERO:
        raise ValueError("cannot add a negative amount of business time")
    start = start.astimezone(UTC)
    if amount == ZERO:
        return start
    if cal.is_24x7:
        return start + amount
    micros = _micros(start)
    _, ordinal = cal.locate(micros, start)
    return _instant(_find(cal, ordinal, micros, amount // MICROSECOND))


def _find(cal: BusinessCalendar, ordinal: int, micros: int, amount: int) -> int:
    """The earliest instant (µs) with ``amount`` µs of business time after ``micros``."""
    index = cal.index_covering(ordinal, ordinal)
    grown = 0
    while True:
        found = instant_at_position(index, _position(index, ordinal, micros) + amount)
        if found is not None:
            return found
        grown += 1
        if grown * INDEX_DAYS > MAX_EMPTY_DAYS * 10:
            raise ValueError(f"calendar {cal.name!r}: business time out of range")
        index = cal.index_covering(ordinal, index.hi + INDEX_DAYS)


def subtract_business_time(cal: BusinessCalendar, end: datetime, amount: timedelta) -> datetime:
    """The earliest instant ``t`` with exactly ``amount`` of business time in ``[t, end)``;
    ``end`` itself for zero (so Monday 09:15 minus 15 minutes is Friday 18:00, as Friday
    18:00 plus 15 minutes is Monday 09:15). Negative amounts raise ``ValueError``."""
    _require_aware(end)
    if amount < ZERO:
        raise ValueError("cannot subtract a negative amount of business time")
    end = end.astimezone(UTC)
    if amount == ZERO:
        return end
    if cal.is_24x7:
        return end - amount
    micros = _micros(end)
    _, ordinal = cal.locate(micros, end)
    index = cal.index_covering(ordinal, ordinal)
    grown = 0
    while True:
        position = _position(index, ordinal, micros) - amount // MICROSECOND
        if position > 0:
            return _instant(cast(int, instant_at_position(index, position)))
        grown += 1
        if grown * INDEX_DAYS > MAX_EMPTY_DAYS * 10:
            raise ValueError(f"calendar {cal.name!r}: business time out of range")
        index = cal.index_covering(index.lo - INDEX_DAYS, ordinal)


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """``start`` plus ``minutes`` business minutes (see the module docstring)."""
    return add_business_time(cal, start, minutes * MINUTE)


def is_business_time(cal: BusinessCalendar, instant: datetime) -> bool:
    _require_aware(instant)
    if cal.is_24x7:
        return True
    micros = _micros(instant)
    index, ordinal = cal.locate(micros, instant)
    return any(start <= micros < end for start, end in index.days[ordinal - index.lo])


def next_business_start(cal: BusinessCalendar, instant: datetime) -> datetime:
    """``instant`` itself during business hours, else the next opening (UTC)."""
    _require_aware(instant)
    instant = instant.astimezone(UTC)
    if cal.is_24x7 or is_business_time(cal, instant):
        return instant
    micros = _micros(instant)
    _, ordinal = cal.locate(micros, instant)
    # The first business microsecond after the instant ends one microsecond after the opening.
    return _instant(_find(cal, ordinal, micros, 1) - 1)


def to_local(cal: BusinessCalendar, instant: datetime) -> datetime:
    return instant.astimezone(cal.zone)
