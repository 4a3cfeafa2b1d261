from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "opsdesk.intake"
    label = "intake"

    def ready(self) -> None:
        from opsdesk.core.configcache import config_models_register
        from opsdesk.intake.models import Mailbox

        # Every mail checks its sender against our own addresses (the mailboxes' among
        # them) through the process cache (intake/email/selectors.own_addresses).
        config_models_register(Mailbox)
