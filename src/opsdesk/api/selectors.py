"""Token look-up for API authentication."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet

from opsdesk.api.models import ApiToken
from opsdesk.api.services import token_hash
from opsdesk.core.clock import now
from opsdesk.core.rows import RowReader
from opsdesk.tenancy.selectors import (
    STAFF_USER,
    staff_profile_join_sql,
    staff_user_from_row,
    team_ids_column_sql,
    team_ids_preload,
)

# Touching last_used_at on every request would turn every read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


# Every API request runs this read, so it is written out (core.rows), not built by the ORM.
_TOKEN = RowReader((ApiToken, "t"))


def _token_sql() -> str:
    return (
        f"SELECT {_TOKEN.columns()}, {STAFF_USER.columns()}, {team_ids_column_sql('u')} "  # noqa: S608 - names from models
        f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        f"{staff_profile_join_sql()} "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )


def api_token_user(*, raw: str) -> User | None:
    """The active user of an unrevoked token, with their staff profile; one query (and an
    UPDATE of ``last_used_at`` at most every few minutes)."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [token_hash(raw)])
        row = cursor.fetchone()
    if row is None:
        return None
    (token,) = _TOKEN.instances(row)
    assert isinstance(token, ApiToken)  # noqa: S101 - matched on its key, so never NULL
    moment = now()
    if token.last_used_at is None or moment - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
    user = staff_user_from_row(row[:-1], start=len(ApiToken._meta.concrete_fields))
    team_ids_preload(user, row[-1])  # staff_scope needs no query of its own
    return user


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
