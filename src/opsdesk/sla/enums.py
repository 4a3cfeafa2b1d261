from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Day off")
    WORKING_DAY = "working_day", _("Special working day")


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RECOVERY = "recovery", _("Recovery")
    RESOLUTION = "resolution", _("Resolution")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    WARNING = "warning", _("Warning")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
