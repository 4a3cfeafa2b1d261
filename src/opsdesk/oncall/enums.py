"""On-call choices (docs/subsystems/oncall.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduleKind(models.TextChoices):
    ON_SITE = "on_site", _("On-site roster (business hours)")
    ON_CALL = "on_call", _("On-call rotation (after hours)")


class PolicyMode(models.TextChoices):
    ANY = "any", _("Any time")
    BUSINESS = "business", _("Business hours")
    AFTER_HOURS = "after_hours", _("After hours")


class StepKind(models.TextChoices):
    NOTIFY_ONCALL = "notify_oncall", _("Notify the team's on-call")
    NOTIFY_USER = "notify_user", _("Notify a person")
    NOTIFY_TEAM = "notify_team", _("Notify the whole team")
    NOTIFY_TEAM_LEAD = "notify_team_lead", _("Notify the team lead")
    NOTIFY_CENTRE_HEAD = "notify_centre_head", _("Notify the centre head")


class EscalationState(models.TextChoices):
    ACTIVE = "active", _("Escalating")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    EXHAUSTED = "exhausted", _("Exhausted")


class MobiliseResponse(models.TextChoices):
    NOTIFIED = "notified", _("Notified")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    COMING_IN = "coming_in", _("Coming in")
