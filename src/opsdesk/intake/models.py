"""Intake records. Phone calls live here; email and monitoring intake add theirs.

See docs/subsystems/intake.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallSource(models.TextChoices):
    CTI = "cti", _("Telephony (CTI)")
    AGENT = "agent", _("Logged by an agent")


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class PhoneCall(models.Model):
    """A call to or from the support line, matched to a contact or organisation by number."""

    number_raw = models.CharField(_("number as given"), max_length=40)
    number = models.CharField(_("number (E.164)"), max_length=20, db_index=True, blank=True)
    direction = models.CharField(
        max_length=10, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    source = models.CharField(max_length=10, choices=CallSource.choices)
    contact = models.ForeignKey(
        "tenancy.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    organisation = models.ForeignKey(
        "tenancy.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at", "-id"], name="call_recent")]

    def __str__(self) -> str:
        return f"call {self.pk} {self.started_at:%Y-%m-%d %H:%M}"
