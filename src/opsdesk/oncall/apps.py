from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OncallConfig(AppConfig):
    name = "opsdesk.oncall"
    label = "oncall"
    verbose_name = _("On call")

    def ready(self) -> None:
        # Plug into other apps' registries (they never import us): escalation timer handlers,
        # periodic jobs (jobs.timers, jobs.periodic) and the ticket page's escalation panel.
        from opsdesk.core.configcache import config_models_register
        from opsdesk.core.masking import secret_paths_register
        from opsdesk.oncall import timers  # noqa: F401
        from opsdesk.oncall.models import (
            EscalationPolicy,
            EscalationStep,
            Override,
            Rotation,
            Schedule,
        )
        from opsdesk.oncall.panels import PANEL_TEMPLATE, escalation_panel_context
        from opsdesk.tickets.panels import panel_register

        panel_register(key="escalation", template=PANEL_TEMPLATE, context=escalation_panel_context)
        # Who is on call and which policy applies are read per new ticket from the process
        # cache (oncall.selectors).
        config_models_register(Schedule, Rotation, Override, EscalationPolicy, EscalationStep)
        # Signed acknowledgement links and calendar feeds work for whoever holds them.
        secret_paths_register(r"/oncall/ack/", r"/oncall/feeds/\d+/")
