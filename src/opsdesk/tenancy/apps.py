from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "opsdesk.tenancy"
    label = "tenancy"
    verbose_name = _("Customers and staff")

    def ready(self) -> None:
        from opsdesk.core.configcache import config_models_register
        from opsdesk.tenancy.models import RoutingRule, Team

        # Routing reads these per new ticket from the process cache (tickets/routing.py).
        config_models_register(RoutingRule, Team)
