"""Schedules, rotations, overrides, escalation policies and escalations.

See docs/subsystems/oncall.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opsdesk.oncall.enums import (
    EscalationState,
    MobiliseResponse,
    PolicyMode,
    ScheduleKind,
    StepKind,
)


class Schedule(models.Model):
    team = models.ForeignKey("tenancy.Team", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=ScheduleKind.choices)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")
    # Schedules, rotations and overrides are cached per process for routing; this lets the
    # cache notice edits (core.configcache).
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Rotation(models.Model):
    """One layer of a schedule. Participants take turns of ``length_hours`` from the handoff
    on ``start_date``; a higher ``order`` wins where it has someone."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="rotations")
    order = models.PositiveIntegerField(_("layer"), default=0)
    # User ids in turn order.
    participants = models.JSONField(_("participants"), default=list)
    length_hours = models.PositiveIntegerField(_("turn length (hours)"), default=24 * 7)
    handoff_time = models.TimeField(_("handoff time"))
    start_date = models.DateField(_("start date"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["schedule", "order"]

    def __str__(self) -> str:
        return f"{self.schedule} layer {self.order}"


class Override(models.Model):
    """Someone covers ``starts_at``–``ends_at``; a swap is two overrides."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.schedule}: {self.user_id} {self.starts_at:%Y-%m-%d %H:%M}"


class EscalationPolicy(models.Model):
    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(
        "tenancy.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contract = models.ForeignKey(
        "tenancy.Contract", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    mode = models.CharField(
        _("mode"), max_length=12, choices=PolicyMode.choices, default=PolicyMode.ANY
    )
    repeat_count = models.PositiveIntegerField(_("repeat"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Policies and steps are cached per process (core.configcache); this lets it see edits.
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "tenancy.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Minutes to wait after the previous step (or the start) before this step runs.
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["policy", "order"]

    def __str__(self) -> str:
        return f"{self.policy} #{self.order} {self.kind}"


class Escalation(models.Model):
    """A running chain for one ticket. ``snapshot`` is the policy frozen at start;
    ``run_token`` changes when the chain stops, so queued step timers exit."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="escalations"
    )
    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snapshot = models.JSONField(default=dict)
    reason = models.CharField(max_length=200, blank=True)
    state = models.CharField(
        max_length=12, choices=EscalationState.choices, default=EscalationState.ACTIVE
    )
    step_index = models.PositiveIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=0)
    run_token = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Conference link or phone number for everyone mobilised (incident_mobilise).
    bridge = models.CharField(_("bridge"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(state="active"),
                name="oncall_one_active_escalation_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"escalation {self.pk} ({self.state})"

    @property
    def acknowledgeable(self) -> bool:
        """Running, or run out with nobody answering: someone may still take the incident
        (non-urgent pages held for quiet hours go out after the chain has run through)."""
        return self.state in (EscalationState.ACTIVE, EscalationState.EXHAUSTED)


class MobilisationResponse(models.Model):
    """One person mobilised for an urgent incident and what they answered."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    response = models.CharField(
        max_length=12, choices=MobiliseResponse.choices, default=MobiliseResponse.NOTIFIED
    )
    notified_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["escalation", "user"], name="oncall_one_response_each")
        ]

    def __str__(self) -> str:
        return f"{self.escalation_id} {self.user_id} {self.response}"


class ContactMethod(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    channel = models.CharField(_("notification channel"), max_length=20)
    address = models.CharField(_("address"), max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="oncall_contact_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel}"


class NotificationRule(models.Model):
    """ "SMS at once, a call after 5 minutes unacknowledged": one row per channel."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    urgent = models.BooleanField(_("urgent"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    channel = models.CharField(_("notification channel"), max_length=20)
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=0)

    class Meta:
        ordering = ["user", "urgent", "order"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel} +{self.delay_minutes}m"


class FeedKey(models.Model):
    """A person's secret for signed calendar-feed links (oncall/feeds.py). Rotating it
    revokes every feed link the person has handed to a calendar app."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_feed_key"
    )
    secret = models.CharField(max_length=64)
    rotated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"feed key of {self.user_id}"
