"""SLA policies. This is the placeholder the foundation needs; calendars and clocks come
with the SLA capability (docs/architecture.md, "Where the next capabilities plug in")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.core.models import TimeStampedModel


class SlaPolicy(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), default=60)
    # The procedure's 4-hour recovery target for complex incidents.
    recovery_minutes = models.PositiveIntegerField(_("recovery (minutes)"), default=240)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), default=2880)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name
