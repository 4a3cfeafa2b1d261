"""Seed the 'default' (Mon-Fri 09:00-18:00 Asia/Seoul, KR holidays) and '24x7' calendars,
the official names of year-specific Korean holidays the `holidays` package labels
generically, and the Standard policy's targets."""

import datetime

from django.db import migrations

OFFICE = [["09:00", "18:00"]]
WEEKDAYS = {day: OFFICE for day in ("mon", "tue", "wed", "thu", "fri")}
ALL_DAY = [["00:00", "24:00"]]
ALL_WEEK = {day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

# Checked against ../shared/corpus/calendar/kr_holidays_2024_2027.csv: the package has every
# date for 2024-2026, these names only carry details it cannot know.
OFFICIAL_NAMES = [
    (datetime.date(2024, 4, 10), "제22대 국회의원선거일"),
    (datetime.date(2024, 10, 1), "임시공휴일(국군의 날)"),
    (datetime.date(2025, 6, 3), "제21대 대통령선거일"),
    (datetime.date(2026, 6, 3), "제9회 전국동시지방선거일"),
]

# metric, kind, priority, severity, minutes, business_time, after_hours, pause_customer, pause_vendor
STANDARD_TARGETS = [
    ("first_response", "", "", "", 60, True, None, False, False),
    ("first_response", "", "urgent", "", 15, False, None, False, False),
    ("first_response", "incident", "", "urgent", 15, False, None, False, False),
    ("recovery", "incident", "", "simple", 480, True, None, True, True),
    ("recovery", "incident", "", "complex", 240, True, None, True, False),
    ("recovery", "incident", "", "urgent", 120, False, None, True, False),
    ("resolution", "", "", "", 2880, True, None, True, True),
]


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    CalendarDay = apps.get_model("sla", "CalendarDay")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaTarget = apps.get_model("sla", "SlaTarget")
    default, _ = BusinessCalendar.objects.get_or_create(
        name="default",
        defaults={"time_zone": "Asia/Seoul", "weekly_hours": WEEKDAYS, "country_holidays": "KR"},
    )
    BusinessCalendar.objects.get_or_create(
        name="24x7",
        defaults={"time_zone": "Asia/Seoul", "weekly_hours": ALL_WEEK, "is_24x7": True},
    )
    for day, name in OFFICIAL_NAMES:
        CalendarDay.objects.get_or_create(
            calendar=default, date=day, defaults={"kind": "holiday", "name": name}
        )
    standard = SlaPolicy.objects.filter(name="Standard").first()
    if standard is None:
        return
    if standard.calendar_id is None:
        standard.calendar = default
        standard.save(update_fields=["calendar"])
    if standard.targets.exists():
        return
    for (
        metric,
        kind,
        priority,
        severity,
        minutes,
        business,
        after,
        customer,
        vendor,
    ) in STANDARD_TARGETS:
        SlaTarget.objects.create(
            policy=standard,
            metric=metric,
            kind=kind,
            priority=priority,
            severity=severity,
            minutes=minutes,
            business_time=business,
            after_hours_minutes=after,
            pause_on_customer=customer,
            pause_on_vendor=vendor,
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_calendars_targets")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
