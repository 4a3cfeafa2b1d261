from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "opsdesk.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Registers the periodic-job timer handler (jobs/periodic.py) with jobs.timers.
        from opsdesk.jobs import periodic  # noqa: F401
