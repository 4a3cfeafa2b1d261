from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "opsdesk.notify"
    label = "notify"
