"""Business-time arithmetic (opsdesk.sla.calendar): edges, DST, and properties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.sla import calendar as bt
from tests.sla.calendars import (
    ALWAYS,
    BASE,
    BERLIN,
    BERLIN_ALL_DAY,
    BERLIN_OFFICE,
    CALENDARS,
    KR,
    KR_LUNCH,
    NEW_YORK,
    NEW_YORK_OFFICE,
    SEOUL,
    at,
    naive_business_minutes,
)

# Any instant in 2024-2026, to the microsecond.
instants = st.integers(0, 3 * 365 * 86_400 * 10**6).map(
    lambda us: BASE + timedelta(microseconds=us)
)
minute_instants = st.integers(0, 3 * 365 * 1440).map(lambda m: BASE + timedelta(minutes=m))
amounts = st.integers(0, 30_000)
calendars = st.sampled_from(CALENDARS)


def add(cal: bt.BusinessCalendar, start, minutes: int):
    return bt.add_business_minutes(cal, start, minutes)


# --- Korean office calendar: the edges -------------------------------------------------------


def test_friday_afternoon_spills_over_chuseok_2024():
    # Friday 2024-09-13 17:00, Chuseok 09-16..18: 60 min on Friday, 180 on Thursday 09-19.
    due = add(KR, at(SEOUL, 2024, 9, 13, 17, 0), 240)
    assert due == at(SEOUL, 2024, 9, 19, 12, 0)


def test_the_friday_before_chuseok_2025_is_itself_a_holiday():
    # 2025-10-03 (Fri) 개천절, weekend, 10-05..07 추석, 10-08 대체, 10-09 한글날: opens 10-10.
    start = at(SEOUL, 2025, 10, 3, 17, 0)
    assert not bt.is_business_time(KR, start)
    assert bt.next_business_start(KR, start) == at(SEOUL, 2025, 10, 10, 9, 0)
    assert add(KR, start, 240) == at(SEOUL, 2025, 10, 10, 13, 0)


def test_holiday_eve_and_end_of_window():
    assert add(KR, at(SEOUL, 2025, 10, 2, 17, 30), 30) == at(SEOUL, 2025, 10, 2, 18, 0)
    assert add(KR, at(SEOUL, 2025, 10, 2, 17, 30), 31) == at(SEOUL, 2025, 10, 10, 9, 1)
    assert not bt.is_business_time(KR, at(SEOUL, 2025, 10, 2, 18, 0))
    assert bt.is_business_time(KR, at(SEOUL, 2025, 10, 2, 17, 59))


def test_year_end_and_new_year():
    assert add(KR, at(SEOUL, 2025, 12, 31, 17, 0), 120) == at(SEOUL, 2026, 1, 2, 10, 0)
    assert (
        bt.business_minutes_between(KR, at(SEOUL, 2024, 12, 31, 0, 0), at(SEOUL, 2025, 1, 3, 0, 0))
        == 2 * 540
    )  # 12-31 and 01-02; 01-01 is 신정


def test_start_at_23_59_counts_from_next_opening():
    start = at(SEOUL, 2025, 12, 30, 23, 59)
    assert add(KR, start, 1) == at(SEOUL, 2025, 12, 31, 9, 1)
    assert bt.business_minutes_between(KR, start, at(SEOUL, 2025, 12, 31, 9, 0)) == 0


def test_temporary_and_substitute_holidays_are_off():
    assert not bt.is_business_time(KR, at(SEOUL, 2025, 1, 27, 10, 0))  # 임시공휴일
    assert not bt.is_business_time(KR, at(SEOUL, 2026, 8, 17, 10, 0))  # 대체공휴일(광복절)
    assert bt.is_business_time(KR, at(SEOUL, 2026, 8, 18, 10, 0))


def test_lunch_break_is_excluded_only_when_configured():
    start = at(SEOUL, 2025, 11, 3, 11, 30)
    assert add(KR, start, 60) == at(SEOUL, 2025, 11, 3, 12, 30)
    assert add(KR_LUNCH, start, 60) == at(SEOUL, 2025, 11, 3, 13, 30)
    assert not bt.is_business_time(KR_LUNCH, at(SEOUL, 2025, 11, 3, 12, 30))
    day = (at(SEOUL, 2025, 11, 3, 0, 0), at(SEOUL, 2025, 11, 4, 0, 0))
    assert bt.business_minutes_between(KR_LUNCH, *day) == 480


def test_zero_negative_and_naive_inputs():
    start = at(SEOUL, 2025, 11, 1, 3, 0)  # Saturday night
    assert add(KR, start, 0) == start
    end = at(SEOUL, 2025, 11, 3, 10, 0)
    assert bt.business_minutes_between(KR, start, end) == 60
    assert bt.business_minutes_between(KR, end, start) == -60
    with pytest.raises(ValueError, match="negative"):
        add(KR, start, -1)
    with pytest.raises(ValueError, match="aware"):
        bt.is_business_time(KR, start.replace(tzinfo=None))


def test_business_windows_lists_the_open_intervals():
    windows = list(
        bt.business_windows(KR_LUNCH, at(SEOUL, 2025, 10, 2, 10, 0), at(SEOUL, 2025, 10, 10, 14, 0))
    )
    assert windows == [
        (at(SEOUL, 2025, 10, 2, 10, 0), at(SEOUL, 2025, 10, 2, 12, 0)),
        (at(SEOUL, 2025, 10, 2, 13, 0), at(SEOUL, 2025, 10, 2, 18, 0)),
        (at(SEOUL, 2025, 10, 10, 9, 0), at(SEOUL, 2025, 10, 10, 12, 0)),
        (at(SEOUL, 2025, 10, 10, 13, 0), at(SEOUL, 2025, 10, 10, 14, 0)),
    ]


def test_special_working_day_overrides_weekend_and_holiday():
    saturday = at(SEOUL, 2025, 10, 4, 0, 0).date()
    cal = bt.BusinessCalendar(
        holidays=KR.holidays, special_days={saturday: ((600, 720),)}, name="special"
    )
    assert bt.is_business_time(cal, at(SEOUL, 2025, 10, 4, 10, 0))
    assert add(cal, at(SEOUL, 2025, 10, 3, 17, 0), 150) == at(SEOUL, 2025, 10, 10, 9, 30)


def test_bad_calendars_are_refused():
    with pytest.raises(ValueError):
        bt.BusinessCalendar(weekly=((),) * 7)
    with pytest.raises(ValueError):
        bt.BusinessCalendar(weekly=(((600, 540),),) * 7)
    with pytest.raises(ValueError):
        bt.parse_day_hours([["09:00", "25:00"]])
    assert bt.parse_day_hours([["13:00", "18:00"], ["09:00", "13:00"]]) == ((540, 1080),)


# --- Daylight saving time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [(BERLIN, (2025, 3, 30), (2025, 10, 26)), (NEW_YORK, (2025, 3, 9), (2025, 11, 2))],
)
def test_dst_days_are_23_and_25_hours_long(zone, spring, autumn):
    cal = bt.BusinessCalendar(tz=zone.key, weekly=(((0, bt.DAY_MINUTES),),) * 7)
    for day, hours in ((spring, 23), (autumn, 25)):
        start = at(zone, *day, 0, 0)
        end = (start + timedelta(days=1, hours=3)).astimezone(zone).replace(hour=0)
        assert bt.business_minutes_between(cal, start, end) == hours * 60


def test_office_hours_across_the_dst_weekends():
    # Friday 17:00 CET to Monday 10:00 CEST: one hour each side, offsets differ.
    friday, monday = at(BERLIN, 2025, 3, 28, 17, 0), at(BERLIN, 2025, 3, 31, 10, 0)
    assert friday.utcoffset() != monday.utcoffset()
    assert bt.business_minutes_between(BERLIN_OFFICE, friday, monday) == 120
    assert add(BERLIN_OFFICE, friday, 120) == monday
    assert add(NEW_YORK_OFFICE, at(NEW_YORK, 2025, 10, 31, 17, 30), 60) == at(
        NEW_YORK, 2025, 11, 3, 9, 30
    )


def test_nonexistent_and_ambiguous_local_times():
    # Sunday hours 02:30-05:00 local. Spring forward: 02:30 does not exist and moves to 03:30
    # (PEP 495 fold=0), leaving 90 minutes. Fall back: 02:30 is its first occurrence (CEST),
    # so the window is 3.5 hours of real time.
    sunday = ((150, 300),)
    cal = bt.BusinessCalendar(tz="Europe/Berlin", weekly=((),) * 6 + (sunday,), name="sun")
    for day, minutes in (((2025, 3, 30), 90), ((2025, 10, 26), 210)):
        start = at(BERLIN, *day, 0, 0)
        assert bt.business_minutes_between(cal, start, start + timedelta(hours=12)) == minutes


# --- Properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts, amounts)
def test_additivity(cal, start, a, b):
    assert add(cal, add(cal, start, a), b) == add(cal, start, a + b)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts)
def test_minutes_between_inverts_add(cal, start, minutes):
    assert bt.business_minutes_between(cal, start, add(cal, start, minutes)) == minutes


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants, amounts)
def test_monotonic(cal, t1, t2, minutes):
    t1, t2 = min(t1, t2), max(t1, t2)
    assert add(cal, t1, minutes) <= add(cal, t2, minutes)
    assert add(cal, t1, minutes) <= add(cal, t1, minutes + 1)
    later = t2 + timedelta(days=3)
    assert bt.business_minutes_between(cal, t1, later) >= bt.business_minutes_between(
        cal, t2, later
    )


@settings(max_examples=200, deadline=None)
@given(instants, instants)
def test_24x7_is_wall_clock(t1, t2):
    assert bt.business_minutes_between(ALWAYS, t1, t2) == int((t2 - t1) / timedelta(minutes=1))
    assert bt.business_minutes_between(BERLIN_ALL_DAY, min(t1, t2), max(t1, t2)) == (
        max(t1, t2) - min(t1, t2)
    ) // timedelta(minutes=1)
    assert bt.is_business_time(ALWAYS, t1)


@settings(max_examples=60, deadline=None)
@given(calendars, minute_instants, st.integers(0, 4 * 1440))
def test_matches_a_minute_by_minute_reference(cal, start, span):
    end = start + timedelta(minutes=span)
    assert bt.business_minutes_between(cal, start, end) == naive_business_minutes(cal, start, end)


@settings(max_examples=300, deadline=None)
@given(calendars, minute_instants)
def test_is_business_time_matches_the_reference(cal, instant):
    expected = naive_business_minutes(cal, instant, instant + timedelta(minutes=1)) == 1
    assert bt.is_business_time(cal, instant) is expected
    opening = bt.next_business_start(cal, instant)
    assert opening >= instant
    assert bt.is_business_time(cal, opening)
    assert bt.business_minutes_between(cal, instant, opening) == 0


@settings(max_examples=200, deadline=None)
@given(calendars, st.lists(instants, min_size=1, max_size=6))
def test_positions_agree_with_business_time_between(cal, moments):
    positions = bt.business_positions(cal, moments)
    first = moments[0]
    for moment, position in zip(moments, positions, strict=True):
        if moment >= first:
            expected = bt.business_time_between(cal, first, moment)
        else:
            expected = -bt.business_time_between(cal, moment, first)
        assert timedelta(microseconds=position - positions[0]) == expected
