from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "opsdesk.alerts"
    label = "alerts"
    verbose_name = _("Monitoring alerts")

    def ready(self) -> None:
        # The ticket page shows an incident's alerts; tickets cannot import alerts, so the
        # panel is registered from here (tickets/panels.py).
        from opsdesk.alerts.selectors import alert_panel_context
        from opsdesk.tickets.panels import panel_register

        panel_register(
            key="alerts", template="alerts/_ticket_panel.html", context=alert_panel_context
        )
