"""The holiday table against the corpus, admin days, and `opsdesk calendar` (real database)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opsdesk.core.errors import InvalidInput
from opsdesk.sla import calendar as bt
from opsdesk.sla.models import BusinessCalendar, SlaPolicy
from opsdesk.sla.selectors import calendar_load
from opsdesk.sla.services import calendar_day_remove, calendar_day_set
from tests.conftest import require_server
from tests.sla.calendars import SEOUL, at

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[2].parent / "shared/corpus/calendar"
CORPUS_CSV = CORPUS / "kr_holidays_2024_2027.csv"


def run(*args: str) -> str:
    out = StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


def corpus_years() -> dict[int, list[str]]:
    require_server(CORPUS_CSV.exists(), f"holiday corpus missing: {CORPUS_CSV}")
    by_year: dict[int, list[str]] = defaultdict(list)
    with CORPUS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_year[int(row["date"][:4])].append(f"{row['date']},{row['name_ko']}")
    return by_year


def test_holiday_table_matches_the_corpus_for_every_covered_year():
    by_year = corpus_years()
    assert set(by_year) == {2024, 2025, 2026}  # the file name says 2027; the rows stop at 2026
    for year, expected in by_year.items():
        assert run("holidays", str(year)).splitlines() == expected, year


def test_holidays_of_the_24x7_calendar_are_only_admin_days():
    assert run("holidays", "2025", "--calendar", "24x7") == ""
    calendar_day_set(calendar_name="24x7", day=date(2025, 12, 31), kind="holiday", name="종무식")
    assert run("holidays", "2025", "--calendar", "24x7") == "2025-12-31,종무식\n"


def test_admin_days_change_the_calendar_at_once():
    friday = at(SEOUL, 2026, 11, 27, 10, 0)
    assert bt.is_business_time(calendar_load("default"), friday)
    calendar_day_set(
        calendar_name="default", day=date(2026, 11, 27), kind="holiday", name="창립기념일"
    )
    assert not bt.is_business_time(calendar_load("default"), friday)
    assert "2026-11-27,창립기념일" in run("holidays", "2026").splitlines()
    # A special working day on a Saturday, and one that cancels a public holiday.
    calendar_day_set(
        calendar_name="default",
        day=date(2026, 11, 28),
        kind="working_day",
        hours=[["10:00", "14:00"]],
    )
    calendar_day_set(calendar_name="default", day=date(2026, 10, 9), kind="working_day")
    cal = calendar_load("default")
    assert bt.is_business_time(cal, at(SEOUL, 2026, 11, 28, 13, 59))
    assert not bt.is_business_time(cal, at(SEOUL, 2026, 11, 28, 14, 0))
    assert bt.is_business_time(cal, at(SEOUL, 2026, 10, 9, 9, 0))
    assert "2026-10-09,한글날" not in run("holidays", "2026").splitlines()
    calendar_day_remove(calendar_name="default", day=date(2026, 11, 27))
    assert bt.is_business_time(calendar_load("default"), friday)


def test_admin_day_validation():
    with pytest.raises(InvalidInput):
        calendar_day_set(calendar_name="default", day=date(2026, 1, 2), kind="vacation")
    with pytest.raises(InvalidInput):
        calendar_day_set(
            calendar_name="default", day=date(2026, 1, 3), kind="working_day", hours=[["9", "x"]]
        )
    with pytest.raises(InvalidInput):
        calendar_day_set(
            calendar_name="default",
            day=date(2026, 1, 2),
            kind="holiday",
            hours=[["09:00", "18:00"]],
        )


def test_cli_add_and_business_minutes_in_the_calendar_zone():
    assert run("add", "2025-10-03T17:00", "240") == "2025-10-10T13:00:00+09:00\n"
    assert run("add", "2025-10-03T08:00:00Z", "240") == "2025-10-10T13:00:00+09:00\n"
    assert run("add", "2024-09-13T17:00:00+09:00", "240") == "2024-09-19T12:00:00+09:00\n"
    assert run("add", "2025-12-31T17:00+09:00", "0") == "2025-12-31T17:00:00+09:00\n"
    assert run("business-minutes", "2025-10-02T17:00", "2025-10-10T10:00+09:00") == "120\n"
    assert run("business-minutes", "2025-10-10T10:00", "2025-10-02T17:00") == "-120\n"
    assert run("add", "2025-10-03T17:00", "240", "--calendar", "24x7") == (
        "2025-10-03T21:00:00+09:00\n"
    )


def test_cli_is_business_time():
    assert run("is-business-time", "2025-10-02T17:59") == "true\n"
    assert run("is-business-time", "2025-10-02T18:00") == "false\n"
    assert run("is-business-time", "2025-10-06T10:00+09:00") == "false\n"
    assert run("is-business-time", "2025-10-06T10:00+09:00", "--calendar", "24x7") == "true\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("holidays", "20x5"), "whole number"),
        (("holidays", "1800"), "between"),
        (("holidays",), "takes 1 argument"),
        (("add", "yesterday", "5"), "ISO 8601"),
        (("add", "2025-10-03T17:00", "-5"), "between"),
        (("add", "2025-10-03T17:00", "ten"), "whole number"),
        (("business-minutes", "2025-10-03T17:00"), "takes 2 argument"),
        (("is-business-time", "2025-13-01T10:00"), "ISO 8601"),
        (("holidays", "2025", "--calendar", "nope"), "no business calendar"),
    ],
)
def test_cli_bad_input_is_a_command_error_with_no_output(args, message):
    out = StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("calendar", *args, stdout=out)
    assert out.getvalue() == ""


def test_seeded_calendars_and_standard_policy():
    default = BusinessCalendar.objects.get(name="default")
    assert (default.time_zone, default.country_holidays, default.is_24x7) == (
        "Asia/Seoul",
        "KR",
        False,
    )
    assert BusinessCalendar.objects.get(name="24x7").is_24x7
    standard = SlaPolicy.objects.get(name="Standard")
    assert standard.calendar == default
    assert standard.warn_at_percent == 75
    complex_recovery = standard.targets.get(metric="recovery", severity="complex")
    assert (complex_recovery.minutes, complex_recovery.kind) == (240, "incident")
