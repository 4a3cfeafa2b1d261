from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "opsdesk.core"
    label = "core"
    verbose_name = "OpsDesk core"

    def ready(self) -> None:
        from opsdesk.core.rows import psycopg_query_cache_widen

        psycopg_query_cache_widen()
