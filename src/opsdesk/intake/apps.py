from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "opsdesk.intake"
    label = "intake"
