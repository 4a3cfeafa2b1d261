from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "opsdesk.jobs"
    label = "jobs"
