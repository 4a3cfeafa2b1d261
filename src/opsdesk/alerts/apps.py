from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "opsdesk.alerts"
    label = "alerts"
    verbose_name = _("Monitoring alerts")

    def ready(self) -> None:
        # The ticket page shows an incident's alerts; tickets cannot import alerts, so the
        # panel is registered from here (tickets/panels.py).
        from opsdesk.alerts.models import MappingRule, Silence
        from opsdesk.alerts.selectors import alert_panel_context
        from opsdesk.core.configcache import config_models_register
        from opsdesk.core.masking import secret_paths_register
        from opsdesk.tickets.panels import panel_register

        panel_register(
            key="alerts", template="alerts/_ticket_panel.html", context=alert_panel_context
        )
        # The ingest keeps rules and silences per process under the configuration stamp
        # (selectors.silence_matches, mapping_rule_for_labels).
        config_models_register(MappingRule, Silence)
        # An integration's URL is its credential: never in a log line.
        secret_paths_register(r"/api/v1/integrations/[^/\s]+/")
