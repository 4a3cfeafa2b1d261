from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "opsdesk.sla"
    label = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        # Registers the SLA timer handlers with jobs.timers (a registry, not an import
        # of sla from jobs).
        from opsdesk.core.configcache import config_models_register
        from opsdesk.sla import timers  # noqa: F401
        from opsdesk.sla.models import BusinessCalendar, CalendarDay, SlaPolicy, SlaTarget

        config_models_register(SlaPolicy, SlaTarget, BusinessCalendar, CalendarDay)
