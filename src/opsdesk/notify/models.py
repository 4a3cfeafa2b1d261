"""Notices on agents' screens, delivery records of the channels, people's quiet hours.

See docs/subsystems/notifications.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentNotice(models.Model):
    """A notice shown on staff screens. ``recipient`` null means every logged-in agent.

    Screens poll for notices newer than the last id they showed (docs/decisions/0003).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    # Withdrawn before it went out (a deferred notice whose ticket was resolved meanwhile).
    CANCELLED = "cancelled", "cancelled"


class Delivery(models.Model):
    """One message to one person through one channel (notify/channels), with its attempts.

    ``source`` names what sent it (``escalation:12``) without notify depending on that app.
    A non-urgent delivery waits for the end of its person's quiet hours (``not_before``);
    urgent ones always go out at once.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=60, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20)
    address = models.CharField(max_length=300)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=9, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    urgent = models.BooleanField(default=True)
    not_before = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address} ({self.status})"


class QuietHours(models.Model):
    """A person's daily quiet window (``starts``–``ends`` wall-clock in ``timezone``, may
    cross midnight): non-urgent deliveries to them wait until it ends."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiet_hours"
    )
    starts = models.TimeField(_("quiet from"))
    ends = models.TimeField(_("quiet until"))
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")

    class Meta:
        verbose_name = _("quiet hours")
        verbose_name_plural = _("quiet hours")

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts:%H:%M}-{self.ends:%H:%M} {self.timezone}"
