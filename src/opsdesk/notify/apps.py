from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "opsdesk.notify"
    label = "notify"

    def ready(self) -> None:
        # Registers the delivery timer handler with jobs.timers (a registry).
        from opsdesk.notify import timers  # noqa: F401
