"""SLA policies, targets and business calendars (docs/subsystems/sla.md).

The arithmetic lives in the pure modules ``calendar.py`` and ``clocks.py``; these models only
store what an admin configures. ``selectors.calendar_load`` turns a ``BusinessCalendar`` row
and its ``CalendarDay`` rows into the pure value object.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.core.models import TimeStampedModel
from opsdesk.sla.enums import CalendarDayKind, Metric
from opsdesk.tickets.enums import Priority, Severity, TicketKind


def default_weekly_hours() -> dict[str, list[list[str]]]:
    office = [["09:00", "18:00"]]
    return {"mon": office, "tue": office, "wed": office, "thu": office, "fri": office}


class BusinessCalendar(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")
    # {"mon": [["09:00", "18:00"]], ...}; a missing weekday has no business hours.
    weekly_hours = models.JSONField(_("weekly hours"), default=default_weekly_hours)
    lunch_start = models.TimeField(_("lunch break starts"), null=True, blank=True)
    lunch_end = models.TimeField(_("lunch break ends"), null=True, blank=True)
    # ISO 3166 code understood by the `holidays` package ("KR"), or blank for none.
    country_holidays = models.CharField(_("public holidays of"), max_length=8, blank=True)
    is_24x7 = models.BooleanField(_("24x7"), default=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class CalendarDay(TimeStampedModel):
    """An admin-managed day: a temporary public holiday, a company day off, a special
    working day, or the official name of a public holiday (overrides the library's)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    # Working days only: [["09:00", "18:00"]]; empty = the calendar's Monday hours.
    hours = models.JSONField(_("hours"), default=list, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ("date",)
        constraints = [
            models.UniqueConstraint(fields=("calendar", "date"), name="sla_calendarday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Legacy summary targets: used as fallback targets when a policy has no SlaTarget rows.
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), default=60)
    # The procedure's 4-hour recovery target for complex incidents.
    recovery_minutes = models.PositiveIntegerField(_("recovery (minutes)"), default=240)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), default=2880)
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warning share of target (percent)"), default=75
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        verbose_name=_("business calendar"),
        help_text=_("Blank means the calendar named 'default'."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaTarget(TimeStampedModel):
    """One target of a policy; blank kind/priority/severity match any ticket. The most
    specific matching target of a metric wins."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices, blank=True)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, blank=True)
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    minutes = models.PositiveIntegerField(_("target (minutes)"))
    business_time = models.BooleanField(_("counted in business time"), default=True)
    after_hours_minutes = models.PositiveIntegerField(
        _("target when started after hours (minutes)"), null=True, blank=True
    )
    pause_on_customer = models.BooleanField(_("pause while waiting on customer"), default=True)
    pause_on_vendor = models.BooleanField(_("pause while waiting on vendor"), default=False)

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ("policy", "metric", "id")

    def __str__(self) -> str:
        scope = "/".join(v for v in (self.kind, self.priority, self.severity) if v) or "*"
        return f"{self.policy} {self.metric} {scope}: {self.minutes} min"


class SlaAlert(models.Model):
    """A warning or breach that was announced for one deadline of a ticket. Unique per
    (ticket, kind, deadline) so a timer that runs twice announces once."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)  # warning | breach
    due_at = models.DateTimeField()
    metric = models.CharField(max_length=16, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "due_at"], name="uniq_sla_alert")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ticket_id} {self.due_at:%Y-%m-%d %H:%M}"
