"""Subject search that stays indexed at a million tickets on PostgreSQL.

The queue search is ``UPPER(subject) LIKE UPPER('%term%')`` (Django's icontains); a trigram
GIN index on that expression answers it without reading every row. PostgreSQL only, and
only where pg_trgm can be installed (a trusted extension since PostgreSQL 13, so the
database owner may); elsewhere the search still works, unindexed. SQLite has no such index.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

INDEX = "tkt_subject_trgm"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON tickets_ticket "
                "USING gin (UPPER(subject) gin_trgm_ops)"
            )
    except DatabaseError as exc:
        logger.warning("subject search index not created (pg_trgm unavailable): %s", exc)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_sla_due")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
